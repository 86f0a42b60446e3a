"""Up-front checks of command-line options: every number in range and every --out usable before anything runs.

A bad option must fail at once with one ``error:`` line (exit 2), not after a long run
(a seed beyond 64 bits used to fail only when the manifest was written) and not by
allocating without bound (``--samples 1000000000``). The structural bounds of a run
(seed, months, scale, start) live in sim.params.STRUCTURAL (``check_structural``); the
bounds here are those of the command line itself (replicates, samples, jobs, runs).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from sim import params

MAX_REPLICATES = 10_000
MAX_SAMPLES = 100_000
MAX_RUNS = 200_000          # runs per command: about a day of computing on 2 cores at full scale
MAX_JOBS = 512
MAX_RETRIES = 20
SECONDS_PER_RUN = 0.57      # one full-scale 36-month run on one core (README, Performance: 1.76 runs/s)


class OptionError(ValueError):
    """A command-line option out of range (exit 2)."""


def structural(name: str, value: Any) -> None:
    """Check one structural setting (--seed, --months, --scale) against sim.params.STRUCTURAL."""
    try:
        params.check_structural(name, value, f"--{name}")
    except params.ParameterError as e:
        raise OptionError(str(e)) from None


def count(name: str, value: int | None, low: int, high: int) -> None:
    """Check an integer option such as --replicates or --jobs."""
    if value is not None and not low <= value <= high:
        raise OptionError(f"--{name}: expected {low}..{high:,}, got {value:,}")


def out_folder(out: str | Path, option: str = "--out") -> Path:
    """Check that ``out`` can be a result folder (a folder or creatable), without creating anything."""
    p = Path(out)
    if not str(out).strip():
        raise OptionError(f"{option}: an empty path")
    if p.exists() and not p.is_dir():
        raise OptionError(f"{option} {out}: exists and is not a folder")
    anc = p.absolute()
    while not anc.exists():
        if anc.parent == anc:
            break
        anc = anc.parent
    if anc.exists() and not anc.is_dir():
        raise OptionError(f"{option} {out}: {anc} is a file, not a folder")
    if anc.is_dir() and not os.access(anc, os.W_OK | os.X_OK):
        raise OptionError(f"{option} {out}: cannot write in {anc} (permission denied)")
    return p


def run_budget(runs: int, months: int, scale: float, jobs: int | None, what: str) -> None:
    """Refuse a command of more than MAX_RUNS runs, with a rough estimate of its computing time."""
    if runs <= MAX_RUNS:
        return
    workers = max(1, jobs or os.cpu_count() or 1)
    est = runs * SECONDS_PER_RUN * months / 36 * max(scale, 0.05) / workers
    raise OptionError(f"{what}: {runs:,} runs, about {_human(est)} of computing on {workers} worker(s) (rough "
                      f"estimate at {SECONDS_PER_RUN} s per full-scale 36-month run); at most {MAX_RUNS:,} runs per "
                      "command: split it into several --out folders")


def _human(s: float) -> str:
    for unit, size in (("years", 365 * 86400), ("days", 86400), ("hours", 3600), ("minutes", 60)):
        if s >= size:
            return f"{s / size:,.1f} {unit}"
    return f"{s:.0f} s"


def add_scenario_dir(p: argparse.ArgumentParser) -> None:
    """--scenario-dir: more folders an ``extends`` may read from."""
    p.add_argument("--scenario-dir", action="append", metavar="DIR", default=None,
                   help="a folder 'extends' may also read from (repeatable); by default only the scenario's own "
                        "folder and the shipped scenarios/")
