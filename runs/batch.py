"""Batch runs: scenarios x replicates in parallel, resumable, with a manifest of everything.

A batch is a list of run specifications (``RunSpec``): one scenario, one replicate seed,
the months and scale to run, and (for sweeps) parameter overrides. Replicate i of every
scenario gets the same seed, ``sim.rng.replicate_seeds(master_seed, R)[i]``, so the
differences between scenarios are paired (common random numbers). Each run is
``runs.runner.run_scenario``: the same function on every executor, so the same seeds give
bitwise identical result files on a local process pool and on Dask.

This module holds the entry points: ``plan_batch`` (the runs of scenarios x replicates),
``run_plan`` (run or resume a plan into a folder: skip the runs already done and verified,
run the rest, record everything) and ``BatchResult``; ``BatchError`` (bad input or an
unusable folder) is defined in runs.store, which raises it too. The rest lives in:

  runs.store   the batch folder: run specs and run ids, result files, the manifest,
                 the lock, verification and resuming, reading results back
  runs.executors  the local process pool and Dask drivers, retries and dead workers,
                 progress, and the ``CASELOAD_BATCH_FAULT`` test hook (documented there)

Other modules import those names from where they are defined; nothing is re-exported here.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from runs.executors import DASK_CONNECT_TIMEOUT, Driver, Progress, run_dask, run_local
from runs.scenario import Scenario
from runs.store import BatchDir, BatchError, Plan, RunSpec, make_spec, scenario_hash
from sim.rng import replicate_seeds

DEFAULT_SEED = 20210101
DEFAULT_RETRIES = 2

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------- planning


def check_scale(scenario: Scenario, scale: float) -> None:
    """Raise BatchError when the profile cannot be run at ``scale``."""
    from sim.profiles import load_profile

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
        specs += [make_spec(sc, i, seeds[i], m, x, overrides=_posterior_overrides(sc, i)) for i in range(replicates)]
    identity = {"kind": "batch", "master_seed": master_seed, "scenarios": ident}
    desc = (f"{len(scenarios)} scenario(s) ({', '.join(names)}) x {replicates} replicate(s), seed {master_seed}")
    return Plan("batch", identity, specs, list(scenarios), master_seed, replicates, describe=desc)


def _posterior_overrides(scenario: Scenario, replicate: int) -> dict[str, Any] | None:
    """A calibrated scenario's replicate i runs posterior draw i (the same in every scenario: paired).

    Kept in the run spec as overrides, so the run id covers the drawn values.
    """
    if not scenario.posterior:
        return None
    from runs.scenario import posterior_draw

    return posterior_draw(scenario.posterior, replicate)


# ---------------------------------------------------------------------------- running


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
        drv = Driver(bd, todo, retries, progress)
        try:
            if todo:
                if executor == "dask":
                    run_dask(drv, n_jobs, scheduler, DASK_CONNECT_TIMEOUT)  # runs.batch's, read per call (settable here)
                else:
                    run_local(drv, n_jobs)
        finally:
            progress.close()
            bd.end_session(ran=drv.ran, skipped=skipped, failed=sorted(drv.failed),
                           elapsed_s=round(time.monotonic() - t0, 3))
        return BatchResult(Path(out), len(plan.specs), skipped, drv.ran, dict(drv.failed), time.monotonic() - t0,
                           executor, drv.workers or n_jobs)
    finally:
        bd.unlock()
