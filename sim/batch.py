"""Batch runs: scenarios x replicates in parallel, resumable, with a manifest of everything.

A batch is a list of run specifications (``RunSpec``): one scenario, one replicate seed,
the months and scale to run, and (for sweeps) parameter overrides. Replicate i of every
scenario gets the same seed, ``sim.rng.replicate_seeds(master_seed, R)[i]``, so the
differences between scenarios are paired (common random numbers). Each run is
``sim.runner.run_scenario``: the same function on every executor, so the same seeds give
bitwise identical result files on a local process pool and on Dask.

Layout of a batch folder ``DIR``::

    DIR/manifest.json                     what was asked and what ran (see below)
    DIR/runs/<run_id>.regency.parquet     one row per month, step 0 = the initial state
    DIR/runs/<run_id>.districts.parquet   one row per month and kecamatan
    DIR/.lock                             held (flock) by the command working on DIR

Result files: the columns of sim.metrics plus ``run_id``, ``replicate`` (and ``sample``
in a sweep) ahead of them. The Parquet schema metadata key ``caseload`` holds the run's
id, spec hash, table name, scenario, replicate and seed, so a file can be recognised
without the manifest. Each file is written atomically (temporary file, fsync, rename, via
sim.io) by the parent process, from bytes the worker returns, so a file is either absent
or complete, and a remote Dask worker needs no shared file system.

A run id is ``<scenario>__r<replicate>__s<seed>__<hash>``: the hash (10 hex digits of
sha256) covers the resolved scenario (profile, start, parameters, policies), the months,
the scale, the seed and any overrides. A run is *done* iff both result files exist and
verify: their sha256 matches the manifest or, when the manifest was not updated yet (a
batch killed between the rename and the manifest write), their metadata names this run
id and spec hash. Re-running the same command skips done runs, so a batch killed at any
moment (SIGKILL included) and re-run ends with every run present exactly once, bitwise
identical to an uninterrupted batch.

Manifest (``manifest.json``, written atomically, at the start, at most every second as
runs finish, and at the end): format, kind, identity (what must match to resume), code
version, package versions, sha256 of every scenario file (the whole ``extends`` chain)
and every data file, master seed, replicates and per-replicate seeds, the scenarios as
resolved, the run list with status, attempts, elapsed time, error (for failed runs) and
the sha256 of every result file, and one entry per command that worked on the folder.
A folder holding a different batch (other scenarios, seed, months or scale) is refused;
asking for more replicates of the same batch extends it.

Failures: a run that raises is retried (``retries`` more times, default 2); a local
worker that dies (BrokenProcessPool) is replaced and the run it was running is retried
(the run is found by a marker file each worker keeps while running; the other runs in
flight are resubmitted without being charged an attempt); a run that keeps failing is
reported by id at the end while the others finish.

Test hook (tests only, documented here): the environment variable
``CASELOAD_BATCH_FAULT`` makes chosen runs fail inside the worker. Its value is a
comma-separated list of ``GLOB:MODE[:N]``: runs whose id matches GLOB (fnmatch) either
raise ``RuntimeError`` (MODE ``raise``) or kill their worker process with ``os._exit(70)``
(MODE ``crash``), on their first N attempts (every attempt when N is omitted). The model
itself never reads it and no run is affected when it is unset.
"""

from __future__ import annotations

import contextlib
import fcntl
import fnmatch
import hashlib
import io
import json
import logging
import math
import multiprocessing as mp
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from sim import io as sio
from sim.rng import replicate_seeds
from sim.scenario import Scenario

FORMAT = "caseload-batch/1"
TABLES: tuple[str, ...] = ("regency", "districts")
META_KEY = b"caseload"
FAULT_ENV = "CASELOAD_BATCH_FAULT"
DEFAULT_SEED = 20210101
DEFAULT_RETRIES = 2
MANIFEST_EVERY_S = 1.0
DASK_CONNECT_TIMEOUT = "15s"
ROOT = Path(__file__).resolve().parent.parent

RESULT_FORMAT = (
    "two Parquet files per run: runs/<run_id>.regency.parquet (one row per month, step 0 = initial state) "
    "and runs/<run_id>.districts.parquet (one row per month and kecamatan); columns of sim.metrics plus "
    "run_id, replicate (and sample in a sweep); schema metadata key 'caseload' = run id, spec hash, table"
)

log = logging.getLogger(__name__)


class BatchError(ValueError):
    """Bad batch input or a batch folder that cannot be used; the message says why (exit 2)."""


# ---------------------------------------------------------------------------- specs


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def _sha(obj: Any) -> str:
    return hashlib.sha256(_canonical(obj).encode("utf-8")).hexdigest()


def resolved(scenario: Scenario, months: int, scale: float) -> dict[str, Any]:
    """What a run of ``scenario`` depends on (not its description or file path)."""
    return {
        "name": scenario.name,
        "profile": scenario.profile,
        "start": scenario.start,
        "parameters": dict(scenario.parameters),
        "policies": {k: dict(v) for k, v in scenario.policies.items()},
        "months": int(months),
        "scale": float(scale),
    }


def scenario_hash(scenario: Scenario, months: int, scale: float) -> str:
    """sha256 of the resolved scenario with its months and scale."""
    return _sha(resolved(scenario, months, scale))


def safe_name(name: str) -> str:
    """A scenario name usable in a file name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "scenario"


@dataclass(frozen=True)
class RunSpec:
    """One run: a scenario, a replicate seed, months, scale and (sweeps) overrides."""

    run_id: str
    scenario: Scenario
    replicate: int
    seed: int
    months: int
    scale: float
    spec_hash: str
    overrides: dict[str, Any] = field(default_factory=dict)
    sample: int | None = None

    @property
    def label(self) -> str:
        """Short name for progress lines."""
        if self.sample is not None:
            return f"p{self.sample} r{self.replicate}"
        return f"{self.scenario.name} r{self.replicate}"

    def files(self) -> dict[str, str]:
        """Result files relative to the batch folder, by table."""
        return {t: f"runs/{self.run_id}.{t}.parquet" for t in TABLES}

    def entry(self) -> dict[str, Any]:
        """The run's manifest entry before it has run."""
        e: dict[str, Any] = {
            "scenario": self.scenario.name,
            "replicate": self.replicate,
            "seed": self.seed,
            "months": self.months,
            "scale": self.scale,
            "spec_hash": self.spec_hash,
            "status": "pending",
            "attempts": 0,
        }
        if self.sample is not None:
            e["sample"] = self.sample
            e["overrides"] = dict(self.overrides)
        return e


def make_spec(scenario: Scenario, replicate: int, seed: int, months: int, scale: float,
              overrides: dict[str, Any] | None = None, sample: int | None = None) -> RunSpec:
    """A RunSpec with its stable id."""
    ov = dict(overrides or {})
    h = _sha({"scenario": resolved(scenario, months, scale), "seed": int(seed), "overrides": ov})
    parts = [safe_name(scenario.name)]
    if sample is not None:
        parts.append(f"p{sample:05d}")
    parts += [f"r{replicate:03d}", f"s{seed}", h[:10]]
    return RunSpec("__".join(parts), scenario, replicate, int(seed), int(months), float(scale), h, ov, sample)


@dataclass
class Plan:
    """Everything a batch command asks for: identity (to resume), runs, manifest extras."""

    kind: str
    identity: dict[str, Any]
    specs: list[RunSpec]
    scenarios: list[Scenario]
    master_seed: int
    replicates: int
    info: dict[str, Any] = field(default_factory=dict)
    describe: str = ""


def check_scale(scenario: Scenario, scale: float) -> None:
    """Raise BatchError when the profile cannot be run at ``scale``."""
    from sim.districts import load_profile

    try:
        load_profile(scenario.profile, scale=scale)
    except ValueError as e:
        raise BatchError(f"scenario '{scenario.name}': {e}") from None


def plan_batch(scenarios: Sequence[Scenario], replicates: int, master_seed: int = DEFAULT_SEED,
               months: int | None = None, scale: float | None = None) -> Plan:
    """The runs of ``scenarios`` x ``replicates`` (replicate i gets the same seed everywhere)."""
    if replicates < 1:
        raise BatchError(f"--replicates: expected at least 1, got {replicates}")
    if not scenarios:
        raise BatchError("no scenario given")
    names = [s.name for s in scenarios]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise BatchError(f"scenario name given more than once: {', '.join(dup)} (each scenario of a batch needs its own name)")
    seeds = replicate_seeds(master_seed, replicates)
    specs: list[RunSpec] = []
    ident: dict[str, Any] = {}
    for sc in scenarios:
        m = sc.months if months is None else months
        x = sc.scale if scale is None else scale
        check_scale(sc, x)
        ident[sc.name] = {"hash": scenario_hash(sc, m, x), "months": m, "scale": x, "profile": sc.profile}
        specs += [make_spec(sc, i, seeds[i], m, x) for i in range(replicates)]
    identity = {"kind": "batch", "master_seed": master_seed, "scenarios": ident}
    desc = (f"{len(scenarios)} scenario(s) ({', '.join(names)}) x {replicates} replicate(s), seed {master_seed}")
    return Plan("batch", identity, specs, list(scenarios), master_seed, replicates, describe=desc)


# ---------------------------------------------------------------------------- worker side


@dataclass
class _WorkerState:
    marker: Path | None = None


_STATE = _WorkerState()


def _on_sigterm(signum: int, frame: Any) -> None:  # pragma: no cover - runs in workers
    if _STATE.marker is not None:
        with contextlib.suppress(OSError):
            _STATE.marker.unlink()
    os._exit(143)


def _watch_parent(parent: int) -> None:  # pragma: no cover - runs in workers
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(0)  # orphaned (the batch was killed): stop at once


def _worker_init(marker_dir: str, parent: int) -> None:  # pragma: no cover - runs in workers
    """Initializer of local pool workers: markers, signal handling, orphan watch, imports."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _on_sigterm)
    _STATE.marker = Path(marker_dir) / str(os.getpid())
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    import sim.runner  # noqa: F401  (import once, not in the first run's time)


def _fault(run_id: str, attempt: int) -> None:
    """The documented test hook (CASELOAD_BATCH_FAULT); does nothing when unset."""
    spec = os.environ.get(FAULT_ENV, "")
    if not spec:
        return
    for item in spec.split(","):
        parts = item.strip().split(":")
        if len(parts) < 2:
            continue
        pattern, mode = parts[0], parts[1]
        limit = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else None
        if fnmatch.fnmatchcase(run_id, pattern) and (limit is None or attempt < limit):
            if mode == "crash":
                os._exit(70)
            if mode == "raise":
                raise RuntimeError(f"test fault injected by {FAULT_ENV}")


def table_bytes(df: pd.DataFrame, meta: dict[str, Any]) -> bytes:
    """Parquet bytes of ``df`` with ``meta`` under the schema metadata key 'caseload' (deterministic)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tab = pa.Table.from_pandas(df, preserve_index=False)
    md = dict(tab.schema.metadata or {})
    md[META_KEY] = _canonical(meta).encode("utf-8")
    tab = tab.replace_schema_metadata(md)
    buf = io.BytesIO()
    pq.write_table(tab, buf)
    return buf.getvalue()


def execute(spec: RunSpec, attempt: int = 0) -> dict[str, Any]:
    """Run one spec and return its result files as bytes (runs in a worker process)."""
    marker = _STATE.marker
    if marker is not None:
        marker.write_text(spec.run_id, encoding="utf-8")
    try:
        from sim.runner import run_scenario

        _fault(spec.run_id, attempt)
        t0 = time.perf_counter()
        res = run_scenario(spec.scenario, seed=spec.seed, months=spec.months, scale=spec.scale,
                           overrides=spec.overrides or None)
        files: dict[str, bytes] = {}
        for t, df in (("regency", res.regency), ("districts", res.district)):
            df.insert(0, "run_id", spec.run_id)
            at = df.columns.get_loc("scenario") + 1 if "scenario" in df.columns else 1
            df.insert(int(at), "replicate", spec.replicate)
            if spec.sample is not None:
                df.insert(int(at) + 1, "sample", spec.sample)
            meta = {"run_id": spec.run_id, "spec_hash": spec.spec_hash, "table": t, "scenario": spec.scenario.name,
                    "replicate": spec.replicate, "seed": spec.seed, "months": spec.months, "scale": spec.scale,
                    "sample": spec.sample, "overrides": spec.overrides}
            files[t] = table_bytes(df, meta)
        return {
            "run_id": spec.run_id,
            "files": files,
            "sha256": {t: hashlib.sha256(b).hexdigest() for t, b in files.items()},
            "elapsed_s": time.perf_counter() - t0,
            "timing_s": res.manifest["timing_s"],
            "worker": f"{socket.gethostname()}:{os.getpid()}",
            "code_hash": code_hash(),
        }
    finally:
        if marker is not None:
            with contextlib.suppress(OSError):
                marker.unlink()


# ---------------------------------------------------------------------------- batch folder


def read_meta(path: Path) -> dict[str, Any] | None:
    """The 'caseload' metadata of a result file, or None when it is unreadable."""
    import pyarrow.parquet as pq

    try:
        md = pq.read_schema(path).metadata or {}
        raw = md.get(META_KEY)
        return json.loads(raw) if raw else None
    except Exception:
        return None


_CODE_HASH: list[str] = []


def code_hash() -> str:
    """sha256 (16 hex digits) of the simulator's source (sim/**/*.py), computed once per process.

    Finer than sim.io.code_version ('<commit>+dirty'): two different uncommitted edits
    give two different hashes. Recorded per run and per command; a resumed batch whose
    code changed is warned about.
    """
    if not _CODE_HASH:
        h = hashlib.sha256()
        pkg = Path(__file__).resolve().parent
        for p in sorted(pkg.rglob("*.py")):
            h.update(str(p.relative_to(pkg)).encode("utf-8") + b"\0" + p.read_bytes() + b"\0")
        _CODE_HASH.append(h.hexdigest()[:16])
    return _CODE_HASH[0]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _rel(p: Path) -> str:
    p = p.resolve()
    return str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p)


def _describe_identity(ident: dict[str, Any]) -> str:
    if ident.get("kind") == "sweep":
        return (f"a sweep of {ident.get('base', {}).get('name')} over {', '.join(p[0] for p in ident.get('params', []))} "
                f"({ident.get('method')}, {ident.get('samples')} samples, seed {ident.get('seed')})")
    sc = ident.get("scenarios", {})
    parts = [f"{n} (months {v.get('months')}, scale {v.get('scale'):g})" for n, v in sc.items()]
    return f"a batch of {', '.join(parts)} with seed {ident.get('master_seed')}"


def identity_differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Human-readable differences between two batch identities (empty when they match)."""
    if old == new:
        return []
    if old.get("kind") != new.get("kind"):
        return [f"the folder holds a {old.get('kind')}, this command runs a {new.get('kind')}"]
    out: list[str] = []
    if new.get("kind") == "batch":
        if old.get("master_seed") != new.get("master_seed"):
            out.append(f"seed {new.get('master_seed')} (folder: {old.get('master_seed')})")
        a, b = old.get("scenarios", {}), new.get("scenarios", {})
        only_old, only_new = sorted(set(a) - set(b)), sorted(set(b) - set(a))
        if only_old:
            out.append(f"scenarios only in the folder: {', '.join(only_old)}")
        if only_new:
            out.append(f"scenarios only in this command: {', '.join(only_new)}")
        for n in sorted(set(a) & set(b)):
            for k in ("months", "scale", "profile"):
                if a[n].get(k) != b[n].get(k):
                    out.append(f"scenario {n}: {k} {b[n].get(k)} (folder: {a[n].get(k)})")
            if a[n].get("hash") != b[n].get("hash") and not any(x.startswith(f"scenario {n}:") for x in out):
                out.append(f"scenario {n}: its resolved parameters or policies differ (was the file edited?)")
    else:
        for k in sorted(set(old) | set(new)):
            if old.get(k) != new.get(k):
                out.append(f"{k}: {new.get(k)!r} (folder: {old.get(k)!r})")
    return out or ["the batch settings differ"]


def _bytes_writer(data: bytes) -> Callable[[Path], None]:
    def w(tmp: Path) -> None:
        tmp.write_bytes(data)

    return w


class BatchDir:
    """A batch folder: lock, manifest, verification and atomic result writes."""

    def __init__(self, out: Path) -> None:
        self.out = Path(out)
        self.manifest: dict[str, Any] = {}
        self._lock_fh: TextIO | None = None
        self._last_write = 0.0

    # -- locking
    def lock(self) -> None:
        """Take the folder's lock or raise BatchError when another command holds it."""
        self.out.mkdir(parents=True, exist_ok=True)
        fh = open(self.out / ".lock", "a+", encoding="utf-8")  # held until unlock()
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            who = fh.read().strip() or "?"
            fh.close()
            raise BatchError(f"{self.out}: another caseload command is working on this folder (pid {who}); "
                             "wait for it to finish or use another --out") from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self._lock_fh = fh

    def unlock(self) -> None:
        """Release the lock."""
        if self._lock_fh is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock_fh.fileno(), fcntl.LOCK_UN)
            self._lock_fh.close()
            self._lock_fh = None

    def clean_temp(self) -> int:
        """Remove temporary files left by an interrupted write (only while the lock is held)."""
        n = 0
        for d in (self.out, self.out / "runs"):
            if d.is_dir():
                for p in d.glob(".*.tmp"):
                    p.unlink(missing_ok=True)
                    n += 1
        return n

    # -- manifest
    @property
    def manifest_path(self) -> Path:
        """DIR/manifest.json."""
        return self.out / "manifest.json"

    def read_manifest(self) -> dict[str, Any] | None:
        """The manifest, None when absent; BatchError when unreadable."""
        return load_manifest(self.out, missing_ok=True)

    def write_manifest(self, force: bool = True) -> None:
        """Write the manifest atomically (at most once a second unless ``force``)."""
        now = time.monotonic()
        if not force and now - self._last_write < MANIFEST_EVERY_S:
            return
        runs = self.manifest.get("runs", {})
        status = [r.get("status") for r in runs.values()]
        self.manifest["summary"] = {
            "runs": len(runs),
            "done": status.count("done"),
            "failed": status.count("failed"),
            "pending": status.count("pending"),
        }
        self.manifest["failed"] = sorted(k for k, r in runs.items() if r.get("status") == "failed")
        self.manifest["updated"] = _now()
        sio.write_json(self.manifest, self.manifest_path)
        self._last_write = now

    def open(self, plan: Plan, argv: Sequence[str] | None = None, executor: str = "local", jobs: int = 1) -> None:
        """Create or resume the manifest for ``plan``; refuse a folder holding another batch."""
        old = self.read_manifest()
        if old is None and (self.out / "runs").is_dir() and any((self.out / "runs").iterdir()):
            raise BatchError(f"{self.out}/runs holds files but {self.out} has no manifest.json: "
                             "not a folder this command wrote; use another --out")
        if old is not None:
            if old.get("format") != FORMAT:
                raise BatchError(f"{self.manifest_path}: not a caseload batch manifest (format {old.get('format')!r})")
            diff = identity_differences(old.get("identity", {}), plan.identity)
            if diff:
                raise BatchError(
                    f"{self.out} holds a different {old.get('kind', 'batch')} ({_describe_identity(old.get('identity', {}))}); "
                    f"this command differs: {'; '.join(diff)}. Refusing to mix results: use another --out folder, "
                    "or repeat the original command to resume it."
                )
            m = old
        else:
            m = {"format": FORMAT, "kind": plan.kind, "identity": plan.identity, "created": _now(),
                 "code_version": sio.code_version(), "code_hash": code_hash(), "runs": {}, "sessions": []}
        code = sio.code_version()
        if old is not None and old.get("code_hash") != code_hash():
            print(f"warning: {self.out} was started with other simulator code ({old.get('code_version')}, source hash "
                  f"{old.get('code_hash')}; now {code}, {code_hash()}): finished runs are kept as they are, so this "
                  "batch will mix results of two code versions (each run records its code hash in manifest.json); "
                  "use a new --out for a clean batch", file=sys.stderr)
        m["versions"] = sio.versions()
        scen_files: dict[str, str] = dict(m.get("scenario_files", {}))
        for sc in plan.scenarios:
            for f in sc.chain:
                p = Path(f)
                if p.is_file():
                    scen_files[_rel(p)] = sio.sha256_file(p)
        m["scenario_files"] = scen_files
        m["data_files"] = sio.hashes(sio.data_files(), ROOT)
        m["master_seed"] = plan.master_seed
        m["replicates"] = max(int(m.get("replicates", 0)), plan.replicates)
        m["seeds"] = replicate_seeds(plan.master_seed, m["replicates"])
        m["scenarios"] = {sc.name: {**sc.as_dict(), "hash": plan.identity.get("scenarios", {}).get(sc.name, {}).get("hash")}
                          for sc in plan.scenarios}
        m.setdefault("scenario_order", [sc.name for sc in plan.scenarios])  # JSON keys are sorted: keep the order given
        m["result_format"] = RESULT_FORMAT
        m.update(plan.info)
        runs: dict[str, Any] = m.setdefault("runs", {})
        for s in plan.specs:
            if s.run_id not in runs:
                runs[s.run_id] = s.entry()
        m.setdefault("sessions", []).append({
            "started": _now(), "code_version": code, "code_hash": code_hash(), "executor": executor, "jobs": jobs,
            "host": socket.gethostname(), "pid": os.getpid(), "argv": list(argv or sys.argv[1:]),
        })
        self.manifest = m
        self.write_manifest()

    # -- results
    def verify(self, spec: RunSpec) -> dict[str, Any] | None:
        """The run's file records if it is done (files exist and verify), else None."""
        entry = self.manifest.get("runs", {}).get(spec.run_id, {})
        recorded = entry.get("files", {}) if entry.get("status") == "done" else {}
        out: dict[str, Any] = {}
        for t, rel in spec.files().items():
            p = self.out / rel
            if not p.is_file():
                return None
            digest = sio.sha256_file(p)
            rec = recorded.get(t)
            if rec and rec.get("sha256"):
                if rec["sha256"] != digest:
                    return None
            else:
                meta = read_meta(p)
                if not meta or meta.get("run_id") != spec.run_id or meta.get("spec_hash") != spec.spec_hash or meta.get("table") != t:
                    return None
            out[t] = {"path": rel, "sha256": digest, "bytes": p.stat().st_size}
        return out

    def store(self, spec: RunSpec, res: dict[str, Any], attempts: int) -> None:
        """Write a run's result files atomically and record them in the manifest."""
        recs: dict[str, Any] = {}
        for t, rel in spec.files().items():
            data: bytes = res["files"][t]
            digest = hashlib.sha256(data).hexdigest()
            if digest != res["sha256"][t]:
                raise RuntimeError(f"run {spec.run_id}: {t} table corrupted in transfer")
            sio.atomic_write(self.out / rel, _bytes_writer(data))
            recs[t] = {"path": rel, "sha256": digest, "bytes": len(data)}
        e = self.manifest["runs"][spec.run_id]
        e.update(status="done", files=recs, attempts=attempts, elapsed_s=round(float(res["elapsed_s"]), 3),
                 timing_s=res.get("timing_s"), worker=res.get("worker"), code_hash=res.get("code_hash"),
                 finished=_now())
        e.pop("error", None)
        self.write_manifest(force=False)

    def mark_failed(self, spec: RunSpec, error: str, attempts: int) -> None:
        """Record a run that kept failing."""
        e = self.manifest["runs"][spec.run_id]
        e.update(status="failed", error=error, attempts=attempts, finished=_now())
        self.write_manifest(force=False)


def load_manifest(out: Path, missing_ok: bool = False) -> dict[str, Any] | None:
    """Read DIR/manifest.json (BatchError if it is missing and not ``missing_ok``, or unreadable)."""
    p = Path(out) / "manifest.json"
    if not p.exists():
        if missing_ok:
            return None
        raise BatchError(f"{out}: no manifest.json here; is this a folder written by 'caseload batch' or 'caseload sweep'?")
    try:
        m = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise BatchError(f"{p}: cannot read the batch manifest ({e})") from None
    if not isinstance(m, dict):
        raise BatchError(f"{p}: not a batch manifest")
    return m


# ---------------------------------------------------------------------------- progress


def fmt_duration(s: float) -> str:
    """'3m10s', '45s', '1h02m'."""
    if not math.isfinite(s):
        return "?"
    s = max(0, round(s))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


class Progress:
    """A tqdm bar with ETA on a terminal, plain log lines otherwise (both on stderr)."""

    def __init__(self, total: int, already: int, stream: TextIO | None = None, bar: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.total = total
        self.already = already
        self.count = 0
        self.todo = total - already
        self.t0 = time.monotonic()
        use_bar = self.stream.isatty() if bar is None else bar
        self.bar: Any = None
        if use_bar and self.todo > 0:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=already, unit="run", file=self.stream, dynamic_ncols=True,
                            smoothing=0.1)

    def eta(self) -> float:
        """Seconds left at this command's pace."""
        el = time.monotonic() - self.t0
        if self.count == 0:
            return math.nan
        return el / self.count * max(self.todo - self.count, 0)

    def message(self, text: str) -> None:
        """A line that does not break the bar."""
        if self.bar is not None:
            self.bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)

    def step(self, label: str, elapsed: float, ok: bool = True, error: str = "") -> None:
        """One run finished (done, or failed for good)."""
        self.count += 1
        if self.bar is not None:
            self.bar.set_postfix_str(f"{label} {'done' if ok else 'FAILED'}", refresh=False)
            self.bar.update(1)
            if not ok:
                self.bar.write(f"{label} failed: {error}", file=self.stream)
            return
        what = f"done in {elapsed:.1f} s" if ok else f"FAILED ({error})"
        print(f"[{self.already + self.count}/{self.total}] {label} {what}, ETA {fmt_duration(self.eta())}",
              file=self.stream, flush=True)

    def close(self) -> None:
        """Close the bar."""
        if self.bar is not None:
            self.bar.close()


# ---------------------------------------------------------------------------- executors


@dataclass
class BatchResult:
    """What a batch command did."""

    out: Path
    total: int
    skipped: int
    ran: int
    failed: dict[str, str]
    elapsed_s: float
    executor: str
    jobs: int

    @property
    def ok(self) -> bool:
        """Every requested run is done."""
        return not self.failed


def _err_text(e: BaseException) -> str:
    msg = str(e).strip().splitlines()
    return f"{type(e).__name__}: {msg[-1] if msg else ''}".strip().rstrip(":")


class _Driver:
    """Shared bookkeeping of the executors: attempts, retries, storing, progress."""

    def __init__(self, bd: BatchDir, todo: list[RunSpec], retries: int, progress: Progress) -> None:
        self.bd = bd
        self.queue: deque[RunSpec] = deque(todo)
        self.attempts: dict[str, int] = {s.run_id: 0 for s in todo}
        self.retries = retries
        self.progress = progress
        self.failed: dict[str, str] = {}
        self.ran = 0
        self.workers: int | None = None  # worker slots actually used (Dask: the cluster's threads)

    def ok(self, spec: RunSpec, res: dict[str, Any]) -> None:
        try:
            self.bd.store(spec, res, self.attempts[spec.run_id] + 1)
        except RuntimeError as e:  # result damaged in transfer: count it as a failed attempt
            self.charge(spec, _err_text(e))
            return
        self.attempts[spec.run_id] += 1
        self.ran += 1
        self.progress.step(spec.label, float(res["elapsed_s"]))

    def charge(self, spec: RunSpec, error: str, crashed: bool = False) -> None:
        """Count a failed attempt; requeue the run or give up on it."""
        self.attempts[spec.run_id] += 1
        n = self.attempts[spec.run_id]
        what = "its worker died" if crashed else f"failed: {error}"
        if n <= self.retries:
            self.progress.message(f"{spec.label} ({spec.run_id}) {what} (attempt {n} of {self.retries + 1}); retrying")
            self.queue.append(spec)
        else:
            self.failed[spec.run_id] = error
            self.bd.mark_failed(spec, error, n)
            self.progress.step(spec.label, 0.0, ok=False, error=error)


def _run_local(drv: _Driver, jobs: int) -> None:
    """Run the queue on a spawn-context process pool; replace it when a worker dies."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")  # one thread per worker process
    marker_dir = Path(tempfile.mkdtemp(prefix="caseload-batch-"))
    ctx = mp.get_context("spawn")

    def new_pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_worker_init,
                                   initargs=(str(marker_dir), os.getpid()))

    pool = new_pool()
    inflight: dict[Future[dict[str, Any]], RunSpec] = {}
    window = max(2 * jobs, jobs + 2)
    quiet_breaks = 0
    try:
        while drv.queue or inflight:
            broken = False
            while drv.queue and len(inflight) < window:
                spec = drv.queue.popleft()
                try:
                    fut = pool.submit(execute, spec, drv.attempts[spec.run_id])
                except BrokenProcessPool:  # a worker died since the last wait
                    drv.queue.appendleft(spec)
                    broken = True
                    break
                inflight[fut] = spec
            if not broken:
                done, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
                for fut in done:
                    spec = inflight.pop(fut)
                    try:
                        res = fut.result()
                    except BrokenProcessPool:
                        broken = True
                        drv.queue.appendleft(spec)
                    except Exception as e:
                        drv.charge(spec, _err_text(e))
                    else:
                        drv.ok(spec, res)
            if not broken:
                continue
            # a worker died: every run in flight failed with BrokenProcessPool. The run the
            # dead worker was running left its marker (the others were terminated and removed
            # theirs): charge that one, resubmit the rest uncharged, start a fresh pool.
            pool.shutdown(wait=True, cancel_futures=True)
            for fut, spec in inflight.items():
                exc = fut.exception() if fut.done() and not fut.cancelled() else None
                if not fut.done() or fut.cancelled() or isinstance(exc, BrokenProcessPool):
                    drv.queue.appendleft(spec)
                elif exc is not None:
                    drv.charge(spec, _err_text(exc))
                else:
                    drv.ok(spec, fut.result())  # finished just before the break: keep it
            inflight.clear()
            culprits = set()
            for mk in marker_dir.iterdir():
                with contextlib.suppress(OSError):
                    culprits.add(mk.read_text(encoding="utf-8").strip())
                mk.unlink(missing_ok=True)
            requeued = list(drv.queue)
            if culprits:
                quiet_breaks = 0
            else:
                quiet_breaks += 1
                drv.progress.message("a worker process died while idle; replacing it")
                if quiet_breaks > 5:  # never attributable: charge what was in flight so the batch ends
                    culprits = {s.run_id for s in requeued[: jobs]}
            for spec in requeued:
                if spec.run_id in culprits:
                    drv.queue.remove(spec)
                    drv.charge(spec, "worker process died (BrokenProcessPool)", crashed=True)
            pool = new_pool()
    except BaseException:
        procs = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for p in procs:
            with contextlib.suppress(Exception):
                p.terminate()
        raise
    else:
        pool.shutdown(wait=True)
    finally:
        shutil.rmtree(marker_dir, ignore_errors=True)


@contextlib.contextmanager
def dask_client(jobs: int, scheduler: str | None) -> Iterator[Any]:
    """A dask.distributed Client: at ``scheduler``, or on a LocalCluster of ``jobs`` processes."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as e:  # pragma: no cover
        raise BatchError(f"--executor dask needs dask.distributed ({e})") from None
    for name in ("distributed", "distributed.worker", "distributed.scheduler", "distributed.nanny", "tornado"):
        logging.getLogger(name).setLevel(logging.ERROR)
    if scheduler:
        try:
            client = Client(scheduler, timeout=DASK_CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as e:
            raise BatchError(f"--scheduler {scheduler}: cannot connect to a Dask scheduler ({e})") from None
        try:
            yield client
        finally:
            client.close()
        return
    with LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        yield client


def _run_dask(drv: _Driver, jobs: int, scheduler: str | None) -> None:
    """Run the queue on Dask; a task that errs or whose worker dies (KilledWorker) is resubmitted."""
    from distributed import as_completed

    with dask_client(jobs, scheduler) as client:
        threads = sum(client.nthreads().values()) or jobs
        drv.workers = threads
        window = max(2 * threads, 4)
        ac = as_completed()
        inflight: dict[str, RunSpec] = {}
        token = os.urandom(4).hex()

        def submit() -> None:
            while drv.queue and len(inflight) < window:
                spec = drv.queue.popleft()
                a = drv.attempts[spec.run_id]
                fut = client.submit(execute, spec, a, key=f"caseload-{spec.run_id}-a{a}-{token}", pure=False, retries=0)
                inflight[fut.key] = spec
                ac.add(fut)

        submit()
        for fut in ac:
            spec = inflight.pop(fut.key)
            try:
                res = fut.result()
            except Exception as e:
                drv.charge(spec, _err_text(e), crashed=type(e).__name__ == "KilledWorker")
            else:
                drv.ok(spec, res)
            fut.release()
            submit()


def run_plan(plan: Plan, out: Path, jobs: int | None = None, executor: str = "local", scheduler: str | None = None,
             retries: int = DEFAULT_RETRIES, argv: Sequence[str] | None = None, bar: bool | None = None,
             stream: TextIO | None = None, on_start: Callable[[int, int], None] | None = None) -> BatchResult:
    """Run (or resume) ``plan`` into ``out``: skip runs already done, run the rest, record everything."""
    if executor not in ("local", "dask"):
        raise BatchError(f"--executor: expected local or dask, got {executor!r}")
    if scheduler and executor != "dask":
        raise BatchError("--scheduler needs --executor dask")
    n_jobs = jobs if jobs is not None else (os.cpu_count() or 1)
    if n_jobs < 1:
        raise BatchError(f"--jobs: expected at least 1, got {n_jobs}")
    if retries < 0:
        raise BatchError(f"--retries: expected 0 or more, got {retries}")
    stream = stream or sys.stderr
    t0 = time.monotonic()
    bd = BatchDir(out)
    bd.lock()
    try:
        bd.clean_temp()
        bd.open(plan, argv=argv, executor=executor, jobs=n_jobs)
        todo: list[RunSpec] = []
        for spec in plan.specs:
            recs = bd.verify(spec)
            entry = bd.manifest["runs"][spec.run_id]
            if recs is not None:
                if entry.get("status") != "done" or entry.get("files") != recs:
                    entry.update(status="done", files=recs)
                    entry.setdefault("attempts", 1)
                continue
            if entry.get("status") == "done":
                print(f"warning: {spec.run_id}: result files missing or not matching the manifest; running it again",
                      file=stream)
            for rel in spec.files().values():
                (bd.out / rel).unlink(missing_ok=True)
            entry.update(status="pending", attempts=0)
            for k in ("files", "error"):
                entry.pop(k, None)
            todo.append(spec)
        skipped = len(plan.specs) - len(todo)
        bd.write_manifest()
        if on_start:
            on_start(len(plan.specs), skipped)
        if skipped:
            print(f"resuming {out}: {skipped} of {len(plan.specs)} runs already finished and verified; "
                  f"running {len(todo)}", file=stream, flush=True)
        progress = Progress(len(plan.specs), skipped, stream=stream, bar=bar)
        drv = _Driver(bd, todo, retries, progress)
        try:
            if todo:
                if executor == "dask":
                    _run_dask(drv, n_jobs, scheduler)
                else:
                    _run_local(drv, n_jobs)
        finally:
            progress.close()
            sess = bd.manifest["sessions"][-1]
            sess.update(finished=_now(), ran=drv.ran, skipped=skipped, failed=sorted(drv.failed),
                        elapsed_s=round(time.monotonic() - t0, 3))
            bd.write_manifest()
        return BatchResult(Path(out), len(plan.specs), skipped, drv.ran, dict(drv.failed), time.monotonic() - t0,
                           executor, drv.workers or n_jobs)
    finally:
        bd.unlock()


# ---------------------------------------------------------------------------- reading results


def done_runs(out: Path, manifest: dict[str, Any] | None = None) -> list[tuple[str, dict[str, Any]]]:
    """(run_id, manifest entry) of every done run, in manifest order."""
    m = manifest or load_manifest(out)
    assert m is not None
    return [(k, e) for k, e in m.get("runs", {}).items() if e.get("status") == "done"]


def read_table(out: Path, table: str = "regency", manifest: dict[str, Any] | None = None,
               columns: Sequence[str] | None = None, verify: bool = True) -> pd.DataFrame:
    """Concatenate one table over the done runs of a batch folder (sha256 checked when ``verify``)."""
    if table not in TABLES:
        raise BatchError(f"unknown table {table!r}; tables: {', '.join(TABLES)}")
    frames = []
    bad = []
    for run_id, e in done_runs(out, manifest):
        rec = e.get("files", {}).get(table, {})
        p = Path(out) / rec.get("path", f"runs/{run_id}.{table}.parquet")
        if not p.is_file() or (verify and rec.get("sha256") and sio.sha256_file(p) != rec["sha256"]):
            bad.append(run_id)
            continue
        frames.append(pd.read_parquet(p, columns=list(columns) if columns else None))
    if bad:
        print(f"warning: {len(bad)} result file(s) missing or changed since the batch wrote them, left out: "
              f"{', '.join(bad[:5])}{' ...' if len(bad) > 5 else ''}", file=sys.stderr)
    if not frames:
        raise BatchError(f"{out}: no finished runs to read")
    return pd.concat(frames, ignore_index=True)
