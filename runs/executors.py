"""Executors of a batch: a local process pool or Dask, retries, worker failures, progress.

Both executors run ``execute`` (one RunSpec in, its result files out as Parquet bytes,
via runs.runner.run_scenario) in worker processes, and the parent process stores what
comes back (runs.store.BatchDir.store). ``execute`` and the pool initializer are
top-level functions of this module: they are pickled by reference, so spawned processes
and Dask workers import runs.executors to run them.

Local executor: a 'spawn' process pool of ``jobs`` workers (OMP_NUM_THREADS and the like
default to 1: one thread per worker); a worker ignores SIGINT, removes its marker file on
SIGTERM and exits at once when orphaned (the batch was killed). Dask executor: a
LocalCluster of ``jobs`` one-thread worker processes, or the scheduler given by address.

Failures: a run that raises is retried (``retries`` more times, default 2); a local
worker that dies (BrokenProcessPool) is replaced and the run it was running is retried
(the run is found by a marker file each worker keeps while running; the other runs in
flight are resubmitted without being charged an attempt); a Dask task that raises or
whose worker dies (KilledWorker) is charged an attempt and resubmitted; a run that keeps
failing is reported by id at the end while the others finish.

Test hook (tests only, documented here): the environment variable
``CASELOAD_BATCH_FAULT`` makes chosen runs fail inside the worker. Its value is a
comma-separated list of ``GLOB:MODE[:N]``: runs whose id matches GLOB (fnmatch) either
raise ``RuntimeError`` (MODE ``raise``) or kill their worker process with ``os._exit(70)``
(MODE ``crash``), on their first N attempts (every attempt when N is omitted). The model
itself never reads it and no run is affected when it is unset.

Progress: a tqdm bar with ETA on a terminal, plain log lines otherwise (``Progress``).
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import logging
import math
import multiprocessing as mp
import os
import shutil
import signal
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from runs.store import BatchDir, BatchError, RunSpec, code_hash, table_bytes

FAULT_ENV = "CASELOAD_BATCH_FAULT"
DASK_CONNECT_TIMEOUT = "15s"


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
    import runs.runner  # noqa: F401  (import once, not in the first run's time)


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


def execute(spec: RunSpec, attempt: int = 0) -> dict[str, Any]:
    """Run one spec and return its result files as bytes (runs in a worker process)."""
    marker = _STATE.marker
    if marker is not None:
        marker.write_text(spec.run_id, encoding="utf-8")
    try:
        from runs.runner import run_scenario

        _fault(spec.run_id, attempt)
        t0 = time.perf_counter()
        res = run_scenario(spec.scenario, seed=spec.seed, months=spec.months, scale=spec.scale,
                           overrides=spec.overrides or None, replicate=spec.replicate)
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


def _err_text(e: BaseException) -> str:
    msg = str(e).strip().splitlines()
    return f"{type(e).__name__}: {msg[-1] if msg else ''}".strip().rstrip(":")


class Driver:
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
        """Store a finished run; a result damaged in transfer counts as a failed attempt."""
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


def run_local(drv: Driver, jobs: int) -> None:
    """Run the queue on a spawn-context process pool; replace it when a worker dies."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")  # one thread per worker process
    # markers live in the batch folder, not in /tmp: a killed batch's are removed by the next command on the
    # folder (BatchDir.clean_temp, under the lock), so nothing is left behind in a shared temporary folder
    marker_dir = drv.bd.marker_dir
    shutil.rmtree(marker_dir, ignore_errors=True)
    marker_dir.mkdir(parents=True)
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


def split_address(address: str) -> tuple[str, str, int]:
    """(protocol, host, port) of a scheduler address such as tcp://host:8786, tls://[::1]:8786 or host:8786."""
    proto, _, rest = address.rpartition("://")
    proto = proto or "tcp"
    host, _, port = rest.rpartition(":")
    host = host.strip("[]")
    if proto not in ("tcp", "tls") or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise BatchError(f"--scheduler {address}: expected tcp://HOST:PORT or tls://HOST:PORT")
    return proto, host, int(port)


def probe_scheduler(address: str, timeout_s: float) -> None:
    """Check within ``timeout_s`` that ``address`` is a Dask scheduler; BatchError (one line) when not.

    distributed's client trusts the first 8 bytes a server sends as a message length, so an
    HTTP server or a listener that never replies makes it allocate without bound or wait
    past its connect timeout. A Dask scheduler sends its handshake (8-byte little-endian
    length, then a small msgpack message naming the pickle protocol) as soon as a TCP
    connection opens; anything else is refused here. Over TLS the handshake is left to
    distributed (only the connection and the TLS greeting are checked here).
    """
    import ssl
    import struct

    proto, host, port = split_address(address)
    deadline = time.monotonic() + timeout_s

    def left() -> float:
        t = deadline - time.monotonic()
        if t <= 0:
            raise TimeoutError
        return t

    what = f"--scheduler {address}"
    try:
        sock = socket.create_connection((host, port), timeout=left())
    except TimeoutError:
        raise BatchError(f"{what}: cannot connect to a Dask scheduler (no answer within {timeout_s:g} s)") from None
    except OSError as e:
        raise BatchError(f"{what}: cannot connect to a Dask scheduler ({e.strerror or e})") from None
    try:
        if proto == "tls":
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE  # only checks that a TLS server answers; distributed verifies the certificate
            sock.settimeout(left())
            try:
                sock = ctx.wrap_socket(sock, server_hostname=host)
            except ssl.SSLError as e:
                if any(w in str(e).upper() for w in ("CERTIFICATE", "ALERT")):  # a TLS peer refusing us: it speaks TLS
                    return
                raise BatchError(f"{what}: not a TLS server ({e.reason or e})") from None
            return

        def read(n: int) -> bytes:
            buf = b""
            while len(buf) < n:
                sock.settimeout(left())
                chunk = sock.recv(n - len(buf))
                if not chunk:
                    raise ConnectionError("the server closed the connection")
                buf += chunk
            return buf

        (n,) = struct.unpack("<Q", read(8))
        if not 16 <= n <= 1 << 16:
            raise BatchError(f"{what}: the server there is not a Dask scheduler (its first message is not a Dask handshake)")
        if b"pickle-protocol" not in read(n):
            raise BatchError(f"{what}: the server there is not a Dask scheduler (its handshake is not Dask's)")
    except TimeoutError:
        raise BatchError(f"{what}: no Dask scheduler there (the server sent no handshake within {timeout_s:g} s)") from None
    except (OSError, ConnectionError) as e:
        raise BatchError(f"{what}: no Dask scheduler there ({e})") from None
    finally:
        with contextlib.suppress(OSError):
            sock.close()


def cluster_security() -> Any:
    """Temporary TLS credentials for a LocalCluster (distributed.Security.temporary); None without ``cryptography``."""
    try:
        from distributed.security import Security

        return Security.temporary()
    except ImportError:  # pragma: no cover - cryptography missing
        return None


@contextlib.contextmanager
def dask_client(jobs: int, scheduler: str | None, timeout: str = DASK_CONNECT_TIMEOUT) -> Iterator[Any]:
    """A dask.distributed Client: at ``scheduler`` (connecting within ``timeout``), or on a LocalCluster of ``jobs`` processes.

    The LocalCluster is started with TLS and temporary credentials (distributed's
    ``Security.temporary()``: a key pair kept in memory and handed to the workers), so no
    other local process can connect to it and run code as this user; it listens on
    127.0.0.1 only, with no dashboard and no HTTP routes (the scheduler's and workers' HTTP
    servers, which distributed always starts, get a random loopback port and serve nothing).
    For a real cluster (``--scheduler tls://host:port``), the client takes its credentials
    from the Dask configuration (README, "Dask cluster credentials").
    """
    try:
        import dask
        from dask.utils import parse_timedelta
        from distributed import Client, LocalCluster
    except ImportError as e:  # pragma: no cover
        raise BatchError(f"--executor dask needs dask.distributed ({e})") from None
    for name in ("distributed", "distributed.worker", "distributed.scheduler", "distributed.nanny", "tornado",
                 "distributed.http.proxy", "distributed.comm"):
        logging.getLogger(name).setLevel(logging.ERROR)
    timeout_s = float(parse_timedelta(timeout, default="s") or 15)
    if scheduler:
        probe_scheduler(scheduler, timeout_s)
        try:
            client = Client(scheduler, timeout=timeout)
        except Exception as e:  # distributed raises OSError, TimeoutError, ValueError, SSLError, CommClosedError...
            raise BatchError(f"--scheduler {scheduler}: cannot connect to a Dask scheduler ({_err_text(e)})") from None
        try:
            yield client
        finally:
            client.close()
        return
    sec = cluster_security()
    quiet_http: dict[str, Any] = {"distributed.scheduler.http.routes": [], "distributed.worker.http.routes": []}
    with dask.config.set(quiet_http), LocalCluster(
        n_workers=jobs, threads_per_worker=1, processes=True, host="127.0.0.1",
        protocol="tls://" if sec is not None else "tcp://", security=sec,
        dashboard_address=None, worker_dashboard_address=None,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}, silence_logs=logging.ERROR,
    ) as cluster, Client(cluster, security=sec) as client:
        yield client


def run_dask(drv: Driver, jobs: int, scheduler: str | None, timeout: str = DASK_CONNECT_TIMEOUT) -> None:
    """Run the queue on Dask; a task that errs or whose worker dies (KilledWorker) is resubmitted."""
    from distributed import as_completed

    with dask_client(jobs, scheduler, timeout) as client:
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


