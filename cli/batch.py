"""Sub-commands for batches, comparisons and sweeps: ``caseload batch|compare|sweep``.

    caseload batch SCENARIO... --replicates R [--months N] [--seed S] [--scale X] [--jobs J]
                   [--executor local|dask] [--scheduler ADDRESS] [--retries K] --out DIR
    caseload compare DIR [--baseline NAME] [--report FILE.html] [--csv FILE] [--horizon YEARS]
    caseload sweep BASE.toml --param NAME=LOW:HIGH ... --samples N [--method lhs|sobol|morris]
                   [--seed S] [--replicates R] [--sensitivity --outputs a,b] --out DIR

Exit status: 0 when every run is done; 1 when some runs kept failing (listed by id; the
others are finished and kept); 2 on bad input (unknown scenario or parameter, a folder
holding another batch, ...); 130 when interrupted (finished runs are kept: re-run the
same command to resume).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runs import batch, executors, store

EXIT_FAILED_RUNS = 1
EXIT_BAD_INPUT = 2


def _guard(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def wrapped(args: argparse.Namespace) -> int:
        try:
            return fn(args)
        except store.BatchError as e:
            print(f"error: {e}", file=sys.stderr)
            return EXIT_BAD_INPUT
        except OSError as e:  # the folder cannot be written (disk full, permissions): finished runs are kept
            print(f"error: {e}; finished runs are kept, re-run the same command to resume", file=sys.stderr)
            return EXIT_FAILED_RUNS

    wrapped.__doc__ = fn.__doc__
    return wrapped


def _progress_flag(value: str) -> bool | None:
    return {"auto": None, "bar": True, "log": False}[value]


def _report_failures(res: batch.BatchResult) -> None:
    if res.failed:
        print(f"{len(res.failed)} run(s) kept failing after every attempt; the other runs are finished:", file=sys.stderr)
        for rid, err in sorted(res.failed.items()):
            print(f"  failed: {rid}: {err}", file=sys.stderr)


def _summary_line(kind: str, res: batch.BatchResult) -> str:
    done = res.total - len(res.failed)
    return (f"{kind} {res.out}: {done}/{res.total} runs done ({res.skipped} already finished, {res.ran} ran now, "
            f"{len(res.failed)} failed) in {executors.fmt_duration(res.elapsed_s)} on {res.executor} with {res.jobs} worker(s)")


def cmd_batch(args: argparse.Namespace) -> int:
    """Run scenarios x replicates into --out (resumable)."""
    from runs import scenario

    scs = [scenario.load_any(ref) for ref in args.scenarios]
    plan = batch.plan_batch(scs, args.replicates, master_seed=args.seed, months=args.months, scale=args.scale)
    print(f"batch {args.out}: {plan.describe}; {len(plan.specs)} runs", file=sys.stderr, flush=True)
    res = batch.run_plan(plan, Path(args.out), jobs=args.jobs, executor=args.executor, scheduler=args.scheduler,
                         retries=args.retries, argv=sys.argv[1:], bar=_progress_flag(args.progress))
    print(_summary_line("batch", res))
    _report_failures(res)
    if not res.failed:
        print(f"next: caseload compare {args.out} --report {Path(args.out) / 'report.html'}")
    return EXIT_FAILED_RUNS if res.failed else 0


def _positive_years(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of years such as 5, got {text!r}") from None
    if not (0 < v <= 50):
        raise argparse.ArgumentTypeError(f"expected a number of years in (0, 50], got {text!r}")
    return v


def cmd_compare(args: argparse.Namespace) -> int:
    """Compare the scenarios of a batch folder; write CSV and optionally the HTML report."""
    from analysis import compare, headline, report

    c = compare.load(Path(args.dir), baseline=args.baseline, horizon_years=args.horizon)
    print(headline.format_text(c))
    csv = Path(args.csv) if args.csv else Path(args.dir) / "compare.csv"
    written = compare.write_csv(c, csv)
    print(f"\nwrote {', '.join(str(p) for p in written)}")
    if args.report:
        t0 = time.perf_counter()
        path = report.write(c, Path(args.report))
        print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB, self-contained, {time.perf_counter() - t0:.1f} s)")
    n_failed = len(c.manifest.get("failed", []))
    pending = c.manifest.get("summary", {}).get("pending", 0)
    if n_failed or pending:
        print(f"note: the batch has {n_failed} failed and {pending} unfinished run(s); they are left out", file=sys.stderr)
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    """Sweep parameters of sim.params around a base scenario; optional sensitivity indices."""
    from runs import scenario, sweep

    base = scenario.load_any(args.base)
    ranges = [sweep.parse_range(p) for p in args.param or []]
    outputs = sweep.check_outputs(args.outputs)
    if args.outputs and not args.sensitivity:
        print("note: --outputs is used with --sensitivity; samples.csv holds every indicator", file=sys.stderr)
    plan = sweep.plan_sweep(base, ranges, args.samples, method=args.method, seed=args.seed, replicates=args.replicates,
                            months=args.months, scale=args.scale, sensitivity=args.sensitivity)
    print(f"sweep {args.out}: {plan.describe}; {len(plan.specs)} runs", file=sys.stderr, flush=True)
    res = batch.run_plan(plan, Path(args.out), jobs=args.jobs, executor=args.executor, scheduler=args.scheduler,
                         retries=args.retries, argv=sys.argv[1:], bar=_progress_flag(args.progress))
    print(_summary_line("sweep", res))
    _report_failures(res)
    samples_df, sens = sweep.write_outputs(Path(args.out), outputs, args.seed, args.sensitivity and not res.failed)
    names = [r.name for r in ranges]
    sweep.print_samples(samples_df, names, outputs)
    print(f"wrote {Path(args.out) / 'samples.csv'} ({len(samples_df)} design points)")
    if sens is not None:
        print()
        print(sweep.format_sensitivity(sens))
        print(f"wrote {Path(args.out) / 'sensitivity.csv'}")
    elif args.sensitivity:
        print("sensitivity skipped: some runs failed; re-run the same command to finish them", file=sys.stderr)
    return EXIT_FAILED_RUNS if res.failed else 0


def _runner_args(p: argparse.ArgumentParser, replicates_default: int | None) -> None:
    if replicates_default is None:
        p.add_argument("--replicates", type=int, required=True, metavar="R",
                       help="replicates per scenario; replicate i gets the same seed in every scenario")
    else:
        p.add_argument("--replicates", type=int, default=replicates_default, metavar="R",
                       help=f"replicates per design point (default {replicates_default}); common seeds across points")
    p.add_argument("--months", type=int, default=None, help="months to simulate (default: each scenario's own)")
    p.add_argument("--seed", type=int, default=batch.DEFAULT_SEED,
                   help=f"master seed; replicate seeds are derived from it by SeedSequence (default {batch.DEFAULT_SEED})")
    p.add_argument("--scale", type=float, default=None, help="share of families to simulate, each standing for 1/scale families; facilitators are never scaled (default: the scenario's)")
    p.add_argument("--jobs", type=int, default=None, help="parallel worker processes (default: CPU count)")
    p.add_argument("--executor", choices=("local", "dask"), default="local",
                   help="local: a process pool on this machine; dask: dask.distributed (a LocalCluster unless --scheduler)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS", help="address of a running Dask scheduler (tcp://host:8786)")
    p.add_argument("--retries", type=int, default=batch.DEFAULT_RETRIES,
                   help=f"extra attempts for a run that raises or whose worker dies (default {batch.DEFAULT_RETRIES})")
    p.add_argument("--progress", choices=("auto", "bar", "log"), default="auto",
                   help="a progress bar (default on a terminal) or plain log lines (default otherwise)")
    p.add_argument("--out", required=True, metavar="DIR", help="batch folder: results, manifest.json (resumable)")


def add_commands(sub: Any) -> None:
    """Register batch, compare and sweep sub-commands."""
    b = sub.add_parser(
        "batch", help="run scenarios x replicates in parallel (resumable; local pool or Dask)",
        description="Run every scenario with R replicates (replicate i has the same seed in every scenario, so "
                    "differences are paired). One pair of Parquet files per run in DIR/runs, and DIR/manifest.json. "
                    "Re-running the same command skips finished runs. Exit 1 if some runs kept failing, 2 on bad input.",
    )
    b.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="scenario files or names in scenarios/ (or a profile)")
    _runner_args(b, None)
    b.set_defaults(func=_guard(cmd_batch))

    c = sub.add_parser(
        "compare", help="compare the scenarios of a batch (table, CSV, HTML report)",
        description="Per indicator and scenario: mean and 95%% t-interval over replicates at the end of the run, and "
                    "the difference to the baseline paired by replicate with its 95%% t-interval.",
    )
    c.add_argument("dir", metavar="DIR", help="a batch folder written by 'caseload batch'")
    c.add_argument("--baseline", default=None, help="scenario to compare against (default: 'baseline' if present, else the first)")
    c.add_argument("--report", default=None, metavar="FILE.html", help="also write a self-contained HTML report")
    c.add_argument("--csv", default=None, metavar="FILE",
                   help="CSV output (default DIR/compare.csv; cost-effectiveness and budget in *_icer.csv, *_budget.csv)")
    c.add_argument("--horizon", type=_positive_years, default=5.0, metavar="YEARS",
                   help="budget horizon in years (default 5; beyond the run, the last 12 months' rate is extrapolated)")
    c.set_defaults(func=_guard(cmd_compare))

    s = sub.add_parser(
        "sweep", help="sweep parameters (LHS, Sobol or Morris design) with optional sensitivity indices",
        description="Draw design points over parameter ranges (scipy.stats.qmc / SALib), run each with replicates "
                    "like a batch (resumable), write DIR/samples.csv and, with --sensitivity, DIR/sensitivity.csv.",
    )
    s.add_argument("base", metavar="BASE", help="base scenario file or name")
    s.add_argument("--param", action="append", metavar="NAME=LOW:HIGH", required=True,
                   help="a parameter of sim.params and its range (repeat for more); see 'caseload params'")
    s.add_argument("--samples", type=int, required=True, metavar="N",
                   help="design points (lhs, sobol); Saltelli base sample with --sensitivity sobol (N x (D+2) points); "
                        "Morris trajectories (N x (D+1) points)")
    s.add_argument("--method", choices=("lhs", "sobol", "morris"), default="lhs", help="design (default lhs)")
    s.add_argument("--sensitivity", action="store_true",
                   help="compute sensitivity indices: Sobol (with --method sobol), Morris (morris) or delta (lhs)")
    s.add_argument("--outputs", default=None, metavar="A,B",
                   help="indicators for the sensitivity analysis (default poverty_rate_pct,burnout_mean)")
    _runner_args(s, 1)
    s.set_defaults(func=_guard(cmd_sweep))
