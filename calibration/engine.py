"""The pieces every calibration method shares: prior, simulator, distance, parallel map, progress.

- ``Prior``: named uniform ranges over parameters of sim.params (``NAME=LOW:HIGH``, checked
  like ``caseload sweep --param``); integer parameters are drawn uniformly and rounded.
- ``Simulator``: a picklable callable, parameters -> {target name: statistic}. Its seed is
  a hash of the master seed and the parameter values, so the same parameters always give
  the same simulation (one seed per run, named streams inside the model; sim/rng.py).
- ``Distance``: sqrt(sum_k w_k r_k^2) with r_k = (sim_k - obs_k) / sqrt(obs_sd_k^2 +
  discrepancy_k^2) over the fitted targets (for ``at_least`` targets only a shortfall
  counts). Fixed, stated weights: the distance is a Gaussian log-likelihood up to a constant,
  so an ABC threshold has a meaning and the distance does not drift between generations.
- ``Mapper``: an order-preserving parallel map on a local process pool or a Dask cluster.
- ``Bar``: a tqdm progress bar on a terminal, log lines otherwise.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

import numpy as np

from calibration.statistics import Setup, Wanted, simulate
from calibration.targets import TargetSet
from runs.sweep import Range  # a calibrated parameter and its uniform prior range: the sweep's type
from sim import params

# A shared counter of finished simulations (a multiprocessing.Value set by the driver before
# pyabc forks its workers), read by a thread that drives the progress bar; None: not counted.
COUNTER: Any = None


class CalibrationError(ValueError):
    """Bad calibration input or an unusable output folder (exit 2)."""


def parse_range(spec: str) -> Range:
    """``NAME=LOW:HIGH`` checked against sim.params (name, numeric kind, bounds)."""
    from runs import store, sweep

    try:
        r = sweep.parse_range(spec)
    except store.BatchError as e:
        raise CalibrationError(str(e).replace("--param", "--params", 1)) from None
    return r


@dataclass(frozen=True)
class Prior:
    """Independent uniform priors over the calibrated parameters."""

    ranges: tuple[Range, ...]

    @property
    def names(self) -> list[str]:
        """Parameter names in order."""
        return [r.name for r in self.ranges]

    def values(self, x: Sequence[float] | dict[str, float]) -> dict[str, float | int]:
        """Model overrides from a draw (a sequence in order, or a dict by name)."""
        if isinstance(x, dict):
            return {r.name: r.value(x[r.name]) for r in self.ranges}
        return {r.name: r.value(v) for r, v in zip(self.ranges, x, strict=True)}

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n draws (rows) from the prior."""
        lo = np.array([r.low for r in self.ranges])
        hi = np.array([r.high for r in self.ranges])
        return lo + (hi - lo) * rng.random((n, len(self.ranges)))

    def as_list(self) -> list[list[Any]]:
        """[[name, low, high], ...] for manifests."""
        return [[r.name, r.low, r.high] for r in self.ranges]


def make_prior(specs: Sequence[str]) -> Prior:
    """The prior of ``--params NAME=LOW:HIGH ...``; at least one, each once."""
    if not specs:
        raise CalibrationError("give at least one --params NAME=LOW:HIGH (see `caseload calibrate --screen`)")
    ranges = tuple(parse_range(s) for s in specs)
    names = [r.name for r in ranges]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise CalibrationError(f"--params given more than once: {', '.join(dup)}")
    return Prior(ranges)


def seed_for(master: int, values: dict[str, Any], salt: str = "") -> int:
    """A seed that is a function of the master seed and the parameter values."""
    text = json.dumps([int(master), salt, sorted((k, float(v)) for k, v in values.items())])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1


@dataclass(frozen=True)
class Simulator:
    """Parameters -> {target name: statistic}; picklable (sent to worker processes)."""

    setup: Setup
    wanted: tuple[Wanted, ...]
    prior: Prior
    master_seed: int

    def run(self, values: dict[str, Any], seed: int, keep_table: bool = False) -> tuple[dict[str, float], Any]:
        """One simulation at model overrides ``values``."""
        return simulate(self.setup, self.wanted, values, seed, keep_table)

    def __call__(self, par: Any) -> dict[str, float]:
        values = self.prior.values(dict(par))
        try:
            stats, _ = self.run(values, seed_for(self.master_seed, values))
        except (params.ParameterError, FloatingPointError, ZeroDivisionError):
            # a parameter corner the model rejects counts as infinitely far from the data
            stats = {w.key: math.nan for w in self.wanted}
        if COUNTER is not None:
            with COUNTER.get_lock():
                COUNTER.value += 1
        return stats


class Distance:
    """Weighted, standardised Euclidean distance over the fitted targets (see module docstring)."""

    def __init__(self, ts: TargetSet) -> None:
        fitted = [t for t in ts.fitted if t.weight > 0]
        self.names = [t.name for t in fitted]
        self.obs = np.array([t.value for t in fitted])
        self.scale = np.array([math.sqrt(t.weight) / ts.sigma(t) for t in fitted])
        self.one_sided = np.array([t.kind == "at_least" for t in fitted])

    def residuals(self, sim: dict[str, float]) -> np.ndarray:
        """Standardised, weighted residuals of the fitted targets."""
        x = np.array([sim.get(n, math.nan) for n in self.names], dtype=float)
        r = x - self.obs
        r = np.where(self.one_sided, np.minimum(r, 0.0), r)
        return r * self.scale

    def __call__(self, x: dict[str, float], x0: dict[str, float] | None = None, *_: Any, **__: Any) -> float:
        r = self.residuals(x)
        if not np.all(np.isfinite(r)):
            return math.inf
        return float(np.sqrt(np.sum(r * r)))


class Mapper:
    """Order-preserving parallel map: a local process pool or a Dask cluster."""

    def __init__(self, executor: str = "local", jobs: int = 1, scheduler: str | None = None) -> None:
        if executor not in ("local", "dask"):
            raise CalibrationError(f"--executor: expected local or dask, got {executor!r}")
        if scheduler and executor != "dask":
            raise CalibrationError("--scheduler needs --executor dask")
        if jobs < 1:
            raise CalibrationError(f"--jobs: expected at least 1, got {jobs}")
        self.executor, self.jobs, self.scheduler = executor, jobs, scheduler
        self._pool: Any = None
        self._client: Any = None
        self._cluster: Any = None

    def client(self) -> Any:
        """The Dask client (started on first use)."""
        if self._client is None:
            from distributed import Client, LocalCluster

            if self.scheduler:
                self._client = Client(self.scheduler, timeout=30)
            else:
                self._cluster = LocalCluster(n_workers=self.jobs, threads_per_worker=1, processes=True,
                                             dashboard_address=None)
                self._client = Client(self._cluster)
        return self._client

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any], done: Callable[[int], None] | None = None) -> list[Any]:
        """[fn(x) for x in items] in parallel; ``done(k)`` after each finished item."""
        items = list(items)
        if self.executor == "local" and self.jobs == 1:
            out = []
            for x in items:
                out.append(fn(x))
                if done:
                    done(1)
            return out
        if self.executor == "dask":
            from distributed import as_completed

            futs = self.client().map(fn, items, pure=False)
            for _ in as_completed(futs):
                if done:
                    done(1)
            return list(self.client().gather(futs))
        if self._pool is None:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(max_workers=self.jobs, mp_context=mp.get_context("fork"))
        from concurrent.futures import as_completed as cf_completed

        futures = [self._pool.submit(fn, x) for x in items]
        for _f in cf_completed(futures):
            if done:
                done(1)
        return [f.result() for f in futures]

    def close(self) -> None:
        """Stop the pool or the cluster this mapper started."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


class Bar:
    """Progress over simulations: tqdm on a terminal, a log line every few seconds otherwise."""

    def __init__(self, total: int, what: str, stream: TextIO | None = None, bar: bool | None = None,
                 initial: int = 0) -> None:
        self.stream = stream or sys.stderr
        self.total, self.n, self.what = total, initial, what
        self.t0 = self.last = time.monotonic()
        self.tq: Any = None
        if (self.stream.isatty() if bar is None else bar) and total > 0:
            from tqdm import tqdm

            self.tq = tqdm(total=total, initial=initial, unit="sim", desc=what, file=self.stream, dynamic_ncols=True)

    def update(self, k: int = 1, note: str = "") -> None:
        """k more simulations done."""
        if k <= 0 and not note:
            return
        self.n += k
        if self.tq is not None:
            if note:
                self.tq.set_postfix_str(note, refresh=False)
            self.tq.update(k)
            return
        now = time.monotonic()
        if note or now - self.last >= 5 or (k > 0 and self.n >= self.total):
            self.last = now
            print(f"{self.what}: {self.n}/{self.total} simulations, {now - self.t0:.0f} s" + (f"; {note}" if note else ""),
                  file=self.stream, flush=True)

    def close(self) -> None:
        """Close the bar."""
        if self.tq is not None:
            self.tq.close()
