"""The batch folder on disk: run specifications, result files, manifest, lock, resuming.

A batch is a list of run specifications (``RunSpec``): one scenario, one replicate seed,
the months and scale to run, and (for sweeps) parameter overrides; a ``Plan`` holds them
with the batch's identity (what must match to resume). runs.batch plans a batch and
runs.sweep a sweep; runs.executors runs the specs; this module owns the folder they share.

Layout of a batch folder ``DIR``::

    DIR/manifest.json                     what was asked and what ran (see below)
    DIR/runs/<run_id>.regency.parquet     one row per month, step 0 = the initial state
    DIR/runs/<run_id>.districts.parquet   one row per month and kecamatan
    DIR/runs/<run_id>.<table>.parquet.sha256  its sha256, written before the file is renamed into place
    DIR/.lock                             held by the command working on DIR (runs.io.FolderLock; removed at the end)
    DIR/.workers/                         marker files of the local pool's workers while a command runs

Result files: the columns of sim.metrics plus ``run_id``, ``replicate`` (and ``sample``
in a sweep) ahead of them. The Parquet schema metadata key ``caseload`` holds the run's
id, spec hash, table name, scenario, replicate and seed, so a file can be recognised
without the manifest. Each file is written atomically (temporary file, fsync, rename, via
runs.io; ``BatchDir.store``) by the parent process, from bytes the worker returns
(runs.executors.execute, via ``table_bytes``), so a file is either absent or complete, and
a remote Dask worker needs no shared file system.

A run id is ``<scenario>__r<replicate>__s<seed>__<hash>``: the hash (10 hex digits of
sha256) covers the resolved scenario (profile, start, parameters, policies), the months,
the scale, the seed and any overrides. A run is *done* iff both result files exist and
verify: their sha256 matches the manifest or, when the manifest was not updated yet (a
batch killed between the rename and the manifest write), it matches the ``.sha256`` file
written beside the result before its rename and the file's metadata names this run id
and spec hash. A file that matches neither (a changed value, a flipped bit) is never
adopted: the run is run again. Re-running the same command skips done runs, so a batch killed at any
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

Reading results: ``done_runs`` and ``read_table`` (one table concatenated over the done
runs, sha256 checked), used by analysis.compare, analysis.report and runs.sweep;
``verify_folder`` (``caseload verify``) lists altered, missing and extra files.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import socket
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from runs import io as sio
from runs.scenario import Scenario
from sim.rng import replicate_seeds

FORMAT = "caseload-batch/1"
TABLES: tuple[str, ...] = ("regency", "districts")
META_KEY = b"caseload"
MANIFEST_EVERY_S = 1.0
ROOT = Path(__file__).resolve().parent.parent

RESULT_FORMAT = (
    "two Parquet files per run: runs/<run_id>.regency.parquet (one row per month, step 0 = initial state) "
    "and runs/<run_id>.districts.parquet (one row per month and kecamatan); columns of sim.metrics plus "
    "run_id, replicate (and sample in a sweep); schema metadata key 'caseload' = run id, spec hash, table"
)


class BatchError(ValueError):
    """Bad batch input or a batch folder that cannot be used; the message says why (exit 2)."""


SIDECAR = ".sha256"
MARKER_DIR = ".workers"


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


# ---------------------------------------------------------------------------- result files


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


def read_meta(path: Path) -> dict[str, Any] | None:
    """The 'caseload' metadata of a result file, or None when it is unreadable."""
    import pyarrow.parquet as pq

    try:
        md = pq.read_schema(path).metadata or {}
        raw = md.get(META_KEY)
        return json.loads(raw) if raw else None
    except Exception:
        return None


# ---------------------------------------------------------------------------- batch folder


_CODE_HASH: list[str] = []


def code_hash() -> str:
    """sha256 (16 hex digits) of the code and data that make a run's numbers, computed once per process.

    Covers the model package (sim/**/*.py and its data files) and the two modules of this
    package that turn a scenario into a model (runs/scenario.py, runs/runner.py); not the
    storage, executors, analysis, report or command line, whose changes cannot change a
    result. Finer than runs.io.code_version ('<commit>+dirty'): two different uncommitted
    edits give two different hashes. Recorded per run and per command; a resumed batch whose
    model changed is flagged as mixed code.
    """
    if not _CODE_HASH:
        import sim

        h = hashlib.sha256()
        model_pkg = Path(sim.__file__).resolve().parent
        here = Path(__file__).resolve().parent
        files = [p for p in sorted(model_pkg.rglob("*")) if p.is_file() and p.suffix in {".py", ".csv", ".toml"}]
        files += [here / "scenario.py", here / "runner.py"]
        for p in files:
            h.update(p.relative_to(model_pkg.parent).as_posix().encode("utf-8") + b"\0" + p.read_bytes() + b"\0")
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
        self._lock: sio.FolderLock | None = None
        self._last_write = 0.0

    # -- locking
    def lock(self) -> None:
        """Take the folder's lock or raise BatchError when another command holds it."""
        try:
            self.out.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise BatchError(f"--out {self.out}: cannot create the folder ({e.strerror or e}); nothing was written") from None
        lk = sio.FolderLock(self.out / ".lock")
        try:
            lk.acquire()
        except OSError as e:
            raise BatchError(f"--out {self.out}: cannot lock the folder ({e.strerror or e})") from None
        except sio.FolderBusy as e:
            raise BatchError(f"{self.out}: another caseload command is working on this folder (pid {e}); "
                             "wait for it to finish or use another --out") from None
        self._lock = lk

    def unlock(self) -> None:
        """Release the lock (and remove the lock file)."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    @property
    def marker_dir(self) -> Path:
        """Where local pool workers keep their marker files (inside the folder: removed with the lock held)."""
        return self.out / MARKER_DIR

    def clean_temp(self) -> int:
        """Remove temporary files and worker markers left by an interrupted command (only while the lock is held)."""
        n = 0
        for d in (self.out, self.out / "runs"):
            if d.is_dir():
                for p in d.glob(".*.tmp"):
                    p.unlink(missing_ok=True)
                    n += 1
        if self.marker_dir.is_dir():
            import shutil

            shutil.rmtree(self.marker_dir, ignore_errors=True)
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
                # not recorded yet: adopt the file only if it matches the checksum written before its rename
                if _read_sidecar(p) != digest:
                    return None
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
            # the checksum first: a result file in place always has one to be verified against
            sio.atomic_write(_sidecar(self.out / rel), _bytes_writer(f"{digest}\n".encode("ascii")))
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

    def end_session(self, **fields: Any) -> None:
        """Record how this command ended (``finished`` and ``fields``) in its session entry; write the manifest."""
        self.manifest["sessions"][-1].update(finished=_now(), **fields)
        self.write_manifest()


def _sidecar(p: Path) -> Path:
    return p.with_name(p.name + SIDECAR)


def _read_sidecar(p: Path) -> str | None:
    try:
        text = _sidecar(p).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text if re.fullmatch(r"[0-9a-f]{64}", text) else None


def load_manifest(out: Path, missing_ok: bool = False) -> dict[str, Any] | None:
    """Read DIR/manifest.json (BatchError if it is missing and not ``missing_ok``, or unreadable)."""
    p = Path(out) / "manifest.json"
    if Path(out).exists() and not Path(out).is_dir():
        raise BatchError(f"{out}: not a folder (expected a folder written by 'caseload batch' or 'caseload sweep')")
    if not p.exists():
        if missing_ok:
            return None
        raise BatchError(f"{out}: no manifest.json here; is this a folder written by 'caseload batch' or 'caseload sweep'?")
    if not p.is_file():
        raise BatchError(f"{p}: not a regular file")
    if p.stat().st_size > MAX_MANIFEST_BYTES:
        raise BatchError(f"{p}: {p.stat().st_size:,} bytes, larger than any batch manifest ({MAX_MANIFEST_BYTES:,})")
    try:
        m = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as e:
        raise BatchError(f"{p}: cannot read the batch manifest ({type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''})") from None
    check_manifest(m, p)
    return m


MAX_MANIFEST_BYTES = 512 << 20


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_pos(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v < float("inf")


_RUN_FIELDS: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
    ("status", lambda v: v in ("pending", "done", "failed"), "pending, done or failed"),
    ("scenario", lambda v: isinstance(v, str), "a scenario name"),
    ("replicate", lambda v: _is_int(v) and v >= 0, "a replicate number"),
    ("seed", lambda v: _is_int(v) and v >= 0, "a seed"),
    ("months", lambda v: _is_int(v) and v >= 1, "a number of months"),
    ("scale", _is_pos, "a positive number"),
    ("sample", lambda v: v is None or (_is_int(v) and v >= 0), "a design point number"),
    ("attempts", lambda v: _is_int(v) and v >= 0, "a count"),
)


def check_manifest(m: Any, p: Path) -> None:
    """Raise BatchError unless ``m`` has the shape of a batch manifest (what readers index into)."""
    if not isinstance(m, dict):
        raise BatchError(f"{p}: not a batch manifest (a JSON object expected, got {type(m).__name__})")
    if "result_files" in m and "runs" not in m:
        raise BatchError(f"{p}: this is the manifest of a single 'caseload run' folder, not of a batch; "
                         "compare works on folders written by 'caseload batch' (check it with 'caseload verify')")
    if "format" in m and m.get("format") != FORMAT:  # absent in hand-made (test) manifests: their shape is checked below
        raise BatchError(f"{p}: not a caseload batch manifest (key 'format': expected {FORMAT!r}, got {m.get('format')!r})")
    runs = m.get("runs")
    if not isinstance(runs, dict):
        raise BatchError(f"{p}: key 'runs': expected an object of runs by id, got {type(runs).__name__}")
    for rid, e in runs.items():
        if not isinstance(e, dict):
            raise BatchError(f"{p}: key 'runs.{rid}': expected an object, got {type(e).__name__}")
        for k, ok, want in _RUN_FIELDS:
            if k in e and not ok(e[k]):
                raise BatchError(f"{p}: key 'runs.{rid}.{k}': expected {want}, got {e[k]!r:.60}")
        files = e.get("files", {})
        if not isinstance(files, dict) or not all(isinstance(v, dict) for v in files.values()):
            raise BatchError(f"{p}: key 'runs.{rid}.files': expected an object of file records")
        for t, rec in files.items():
            rel = rec.get("path", "")
            if not isinstance(rel, str) or not re.fullmatch(r"runs/[A-Za-z0-9._-]+\.parquet", rel):
                raise BatchError(f"{p}: key 'runs.{rid}.files.{t}.path': expected runs/<file>.parquet, got {rel!r}")
    for k, kind in (("scenarios", dict), ("identity", dict), ("sessions", list), ("failed", list), ("summary", dict),
                    ("scenario_order", list), ("seeds", list)):
        if k in m and not isinstance(m[k], kind):
            raise BatchError(f"{p}: key '{k}': expected {'an object' if kind is dict else 'a list'}")
    if not all(isinstance(x, str) for x in m.get("scenario_order", [])):
        raise BatchError(f"{p}: key 'scenario_order': expected a list of scenario names")



# ---------------------------------------------------------------------------- reading results


def verify_folder(out: Path) -> tuple[str, list[str], list[str]]:
    """Check a batch/sweep folder or a ``caseload run`` folder against its manifest.

    Returns (kind, problems, notes): kind is 'batch', 'sweep' or 'run'; problems lists
    altered, missing and extra files (empty when the folder is sound); notes lists result
    files of runs the manifest does not record as finished yet (a batch killed before it
    recorded them: re-running the command checks and adopts them). BatchError when ``out``
    is not a result folder at all.
    """
    out = Path(out)
    if not out.is_dir():
        raise BatchError(f"{out}: not a folder")
    mp = out / "manifest.json"
    if not mp.is_file():
        raise BatchError(f"{out}: no manifest.json here; not a folder written by caseload run, batch or sweep")
    try:
        raw = json.loads(mp.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as e:
        return "unknown", [f"{mp}: unreadable ({type(e).__name__})"], []
    if isinstance(raw, dict) and "result_files" in raw and "runs" not in raw:
        return "run", sio.verify_run_folder(out), []
    try:
        m = load_manifest(out)
    except BatchError as e:
        return "unknown", [str(e)], []
    assert m is not None
    problems: list[str] = []
    notes: list[str] = []
    known: set[str] = set()
    for rid, entry in m["runs"].items():
        if entry.get("status") != "done":
            continue
        files = entry.get("files", {})
        for t in TABLES:
            rec = files.get(t)
            if not rec or not rec.get("sha256"):
                problems.append(f"{mp}: run {rid} is done but has no sha256 for its {t} table")
                continue
            p = out / rec["path"]
            known.add(rec["path"])
            known.add(rec["path"] + SIDECAR)
            if not p.is_file():
                problems.append(f"missing: {p}")
            elif sio.sha256_file(p) != rec["sha256"]:
                problems.append(f"altered: {p} (sha256 differs from the manifest)")
    runs_dir = out / "runs"
    pending = {f"runs/{rid}.{t}.parquet" for rid, e in m["runs"].items() if e.get("status") != "done" for t in TABLES}
    if runs_dir.is_dir():
        for p in sorted(runs_dir.iterdir()):
            rel = f"runs/{p.name}"
            if rel in known:
                continue
            base = rel[: -len(SIDECAR)] if rel.endswith(SIDECAR) else rel
            if base in pending:
                notes.append(f"unrecorded: {p} (its run is not recorded as finished; re-running the command checks it)")
            else:
                problems.append(f"extra: {p} (not in the manifest)")
    # besides the manifest and runs/: what compare and sweep write next to them, and a command's lock and markers
    allowed_top = {"manifest.json", "runs", "samples.csv", "sensitivity.csv", ".lock", MARKER_DIR}
    for p in sorted(out.iterdir()):
        if p.name not in allowed_top and not re.fullmatch(r"compare[\w.-]*\.csv|[\w.-]+\.html", p.name):
            problems.append(f"extra: {p} (not written by caseload)")
    return str(m.get("kind", "batch")), problems, notes


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
        try:
            frames.append(pd.read_parquet(p, columns=list(columns) if columns else None))
        except Exception as e:  # pyarrow raises many types (ArrowInvalid, OSError, KeyError for columns)
            raise BatchError(f"{p}: not a readable result table of this batch ({type(e).__name__}: "
                             f"{str(e).splitlines()[0][:200] if str(e) else ''})") from None
    if bad:
        print(f"warning: {len(bad)} result file(s) missing or changed since the batch wrote them, left out: "
              f"{', '.join(bad[:5])}{' ...' if len(bad) > 5 else ''}", file=sys.stderr)
    if not frames:
        raise BatchError(f"{out}: no finished runs to read")
    return pd.concat(frames, ignore_index=True)
