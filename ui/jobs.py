"""Compare jobs: scenarios x replicates through the batch runner, in worker processes, cancellable.

A ``CompareJob`` starts one child process (``_run_batch``) that plans the batch
(``runs.batch.plan_batch``) and runs it (``runs.batch.run_plan``, local process pool) into
a private temporary folder. The web server's process never runs a model of the batch, so
the page stays responsive. Progress is the number of finished result files
(``runs/*.regency.parquet``; files are written atomically, so a file present is complete).
Cancel terminates the child; its pool workers exit on their own within a second when
their parent is gone (runs.executors), and the folder is removed. The child exits too
when the web server dies (it watches its parent). Results are read back with
``analysis.compare.load`` and the HTML report is ``analysis.report.build``.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import shutil
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runs.scenario import Scenario

_ERROR_FILE = "ui-error.txt"

# Server-wide limit on comparisons running at once (each takes ``jobs`` processes): sessions
# share the machine, so the n+1-th is refused with a message until one ends. This is a
# resource of the server, not state of a session: it holds no results.
MAX_RUNNING = int(os.environ.get("CASELOAD_UI_MAX_COMPARISONS", "2"))
_LIVE: list[CompareJob] = []
_LIVE_LOCK = threading.Lock()


class ServerBusy(RuntimeError):
    """The server already runs MAX_RUNNING comparisons (``limit``)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"comparisons are running on this server up to its limit of {limit}")
        self.limit = limit


def _watch_parent(parent: int) -> None:  # pragma: no cover - runs in the child
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(0)


def _run_batch(scenarios: list[Scenario], replicates: int, months: int, scale: float, seed: int, out: str,
               jobs: int, parent: int) -> None:  # pragma: no cover - runs in the child (tested through CompareJob)
    """Child process: plan and run the batch into ``out``; an error goes to ``out/ui-error.txt``."""
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    try:
        from runs.batch import plan_batch, run_plan

        plan = plan_batch(scenarios, replicates, master_seed=seed, months=months, scale=scale)
        with open(os.devnull, "w", encoding="utf-8") as devnull:
            res = run_plan(plan, Path(out), jobs=jobs, bar=False, stream=devnull)
        if not res.ok:
            Path(out, _ERROR_FILE).write_text(
                "runs failed: " + "; ".join(f"{k}: {v}" for k, v in sorted(res.failed.items())), encoding="utf-8")
    except Exception as e:
        msg = str(e) or type(e).__name__
        Path(out, _ERROR_FILE).write_text(msg + "\n\n" + traceback.format_exc(), encoding="utf-8")
        raise SystemExit(2) from None


@dataclass
class CompareJob:
    """One comparison batch running in a child process."""

    scenarios: list[Scenario]
    replicates: int
    months: int
    scale: float
    seed: int = 20210101
    jobs: int = 2
    out: Path = field(init=False)
    proc: Any = field(init=False, default=None)
    cancelled: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.out = Path(tempfile.mkdtemp(prefix="caseload-ui-compare-"))

    @property
    def total(self) -> int:
        """Number of runs in the batch."""
        return len(self.scenarios) * self.replicates

    def start(self) -> None:
        """Start the child process; ServerBusy when MAX_RUNNING comparisons run already."""
        ctx = mp.get_context("spawn")
        with _LIVE_LOCK:
            _LIVE[:] = [j for j in _LIVE if j.running()]
            if len(_LIVE) >= MAX_RUNNING:
                self.cleanup()
                raise ServerBusy(MAX_RUNNING)
            self.proc = ctx.Process(
                target=_run_batch,
                args=(self.scenarios, self.replicates, self.months, self.scale, self.seed, str(self.out), self.jobs,
                      os.getpid()),
                name="caseload-ui-compare",
            )
            self.proc.start()
            _LIVE.append(self)

    def done_runs(self) -> int:
        """Runs whose result files are complete."""
        d = self.out / "runs"
        return sum(1 for _ in d.glob("*.regency.parquet")) if d.is_dir() else 0

    def running(self) -> bool:
        """True while the child process runs."""
        return self.proc is not None and self.proc.is_alive()

    def error(self) -> str | None:
        """The child's error message (first line of it), or None."""
        p = self.out / _ERROR_FILE
        if p.exists():
            return p.read_text(encoding="utf-8").split("\n\n", 1)[0].strip()
        if self.proc is not None and not self.proc.is_alive() and self.proc.exitcode not in (0, None) and not self.cancelled:
            return f"the comparison process ended with exit code {self.proc.exitcode}"
        return None

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the child; True when it has ended."""
        if self.proc is None:
            return True
        self.proc.join(timeout)
        return not self.proc.is_alive()

    def cancel(self) -> None:
        """Stop the batch now: terminate the child (its workers follow) and remove the folder."""
        self.cancelled = True
        if self.proc is not None and self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(5)
            if self.proc.is_alive():  # pragma: no cover - terminate is enough on Linux
                self.proc.kill()
                self.proc.join(5)
        self.cleanup()

    def comparison(self, baseline: str | None = None) -> Any:
        """The finished batch as an ``analysis.compare.Comparison``."""
        from analysis import compare

        return compare.load(self.out, baseline=baseline)

    def cleanup(self) -> None:
        """Remove the batch folder (results must have been read first)."""
        with contextlib.suppress(OSError):
            shutil.rmtree(self.out)
