"""Sub-commands for batches, comparisons and sweeps: ``caseload batch|compare|sweep``.

    caseload batch SCENARIO... --replicates R [--months N] [--seed S] [--scale X] [--jobs J]
                   [--executor local|dask] [--scheduler ADDRESS] [--retries K] --out DIR
    caseload compare DIR [--baseline NAME] [--report FILE.html] [--csv FILE] [--horizon YEARS] [--no-verify]
    caseload sweep BASE.toml --param NAME=LOW:HIGH ... --samples N [--method lhs|sobol|morris]
                   [--seed S] [--replicates R] [--sensitivity --outputs a,b] --out DIR

Exit status: 0 when every run is done; 1 when some runs kept failing (listed by id; the
others are finished and kept); 2 on bad input (unknown scenario or parameter, an option
out of range, an --out that cannot be written, a folder holding another batch, a folder
that fails verification, ...); 130 when interrupted (finished runs are kept: re-run the
same command to resume). Every option is checked before anything is written (cli.checks).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cli import checks
from runs import batch, executors, store

EXIT_FAILED_RUNS = 1
EXIT_BAD_INPUT = 2


def _guard(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def wrapped(args: argparse.Namespace) -> int:
        try:
            return fn(args)
        except (store.BatchError, checks.OptionError) as e:
            print(f"error: {' '.join(str(e).splitlines())}", file=sys.stderr)
            return EXIT_BAD_INPUT
        except BrokenPipeError:
            raise  # handled by cli.main (a closed pipe ends the command quietly)
        except OSError as e:  # the folder cannot be written (disk full, permissions): finished runs are kept
            print(f"error: {e}; finished runs are kept, re-run the same command to resume", file=sys.stderr)
            return EXIT_FAILED_RUNS

    wrapped.__doc__ = fn.__doc__
    return wrapped


def _progress_flag(value: str) -> bool | None:
    return {"auto": None, "bar": True, "log": False}[value]


def _run_plan(kind: str, plan: Any, args: argparse.Namespace) -> Any:
    """Probe the scheduler, run (or resume) ``plan`` into ``args.out``, print the summary and failures."""
    _probe(args)
    print(f"{kind} {args.out}: {plan.describe}; {len(plan.specs)} runs", file=sys.stderr, flush=True)
    res = batch.run_plan(plan, Path(args.out), jobs=args.jobs, executor=args.executor, scheduler=args.scheduler,
                         retries=args.retries, argv=sys.argv[1:], bar=_progress_flag(args.progress))
    print(_summary_line(kind, res))
    _report_failures(res)
    return res


def _report_failures(res: batch.BatchResult) -> None:
    if res.failed:
        print(f"{len(res.failed)} run(s) kept failing after every attempt; the other runs are finished:", file=sys.stderr)
        for rid, err in sorted(res.failed.items()):
            print(f"  failed: {rid}: {err}", file=sys.stderr)


def _summary_line(kind: str, res: batch.BatchResult) -> str:
    done = res.total - len(res.failed)
    return (f"{kind} {res.out}: {done}/{res.total} runs done ({res.skipped} already finished, {res.ran} ran now, "
            f"{len(res.failed)} failed) in {executors.fmt_duration(res.elapsed_s)} on {res.executor} with {res.jobs} worker(s)")


def _check_runner_args(args: argparse.Namespace) -> None:
    checks.count("replicates", args.replicates, 1, checks.MAX_REPLICATES)
    checks.count("jobs", args.jobs, 1, checks.MAX_JOBS)
    checks.count("retries", args.retries, 0, checks.MAX_RETRIES)
    checks.out_folder(args.out)
    if args.scheduler is not None:
        if args.executor != "dask":
            raise checks.OptionError("--scheduler needs --executor dask")
        executors.split_address(args.scheduler)


def _probe(args: argparse.Namespace) -> None:
    """Check a --scheduler before anything is written (within the connect timeout)."""
    if args.scheduler:
        from dask.utils import parse_timedelta

        executors.probe_scheduler(args.scheduler, float(parse_timedelta(batch.DASK_CONNECT_TIMEOUT, default="s") or 15))


def _check_scenarios(scs: list[Any], args: argparse.Namespace) -> None:
    """Structural bounds of each scenario's own settings (when not overridden) and the size of the command."""
    months = scale = 0.0
    for sc in scs:
        if args.scale is None:
            checks.structural("scale", sc.scale)
        months = max(months, float(args.months or sc.months))
        scale = max(scale, float(args.scale if args.scale is not None else sc.scale))
    checks.run_budget(len(scs) * args.replicates, int(months), scale, args.jobs, f"{len(scs)} scenario(s) x --replicates {args.replicates:,}")


def cmd_batch(args: argparse.Namespace) -> int:
    """Run scenarios x replicates into --out (resumable)."""
    from runs import scenario

    _check_runner_args(args)
    scs = [scenario.load_any(ref, search_dirs=args.scenario_dir or ()) for ref in args.scenarios]
    _check_scenarios(scs, args)
    plan = batch.plan_batch(scs, args.replicates, master_seed=args.seed, months=args.months, scale=args.scale)
    res = _run_plan("batch", plan, args)
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

    d = Path(args.dir)
    if args.csv:
        checks.out_folder(Path(args.csv).parent if Path(args.csv).parent != Path("") else Path("."), "--csv")
        if Path(args.csv).is_dir():
            raise checks.OptionError(f"--csv {args.csv}: is a folder; give a file name")
    if args.report:
        checks.out_folder(Path(args.report).parent, "--report")
        if Path(args.report).is_dir():
            raise checks.OptionError(f"--report {args.report}: is a folder; give a file name such as report.html")
    store.load_manifest(d)  # a clear error for a folder that is not a batch
    if not args.no_verify:
        _kind, problems, _notes = store.verify_folder(d)
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise store.BatchError(f"{d} fails verification: {problems[0]}{more}; 'caseload verify {d}' lists every "
                                   "problem; re-run the batch command to redo changed runs, or pass --no-verify to "
                                   "compare the files that still match")
    c = compare.load(d, baseline=args.baseline, horizon_years=args.horizon)
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

    _check_runner_args(args)
    checks.count("samples", args.samples, 2, checks.MAX_SAMPLES)
    base = scenario.load_any(args.base, search_dirs=args.scenario_dir or ())
    ranges = [sweep.parse_range(p) for p in args.param or []]
    outputs = sweep.check_outputs(args.outputs)
    d = len(ranges)
    points = {"morris": args.samples * (d + 1)}.get(args.method, args.samples * (d + 2) if (args.method == "sobol" and args.sensitivity) else args.samples)
    _check_scenarios([base], argparse.Namespace(**{**vars(args), "replicates": points * args.replicates}))
    _warn_small_sample(args.method, args.sensitivity, args.samples, d)
    if args.outputs and not args.sensitivity:
        print("note: --outputs is used with --sensitivity; samples.csv holds every indicator", file=sys.stderr)
    plan = sweep.plan_sweep(base, ranges, args.samples, method=args.method, seed=args.seed, replicates=args.replicates,
                            months=args.months, scale=args.scale, sensitivity=args.sensitivity)
    res = _run_plan("sweep", plan, args)
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


def _warn_small_sample(method: str, sensitivity: bool, samples: int, d: int) -> None:
    """Warn when a sensitivity design is far too small for its indices to mean anything."""
    if not sensitivity:
        return
    # Saltelli (2010) and SALib's documentation: Sobol indices need a base sample of hundreds to thousands
    # (a power of 2); Morris 10-50 trajectories (Campolongo et al. 2007); delta a few hundred points
    need = {"sobol": 512, "morris": 10, "lhs": 200}[method]
    if samples < need:
        print(f"warning: --samples {samples} is far too small for {'Sobol' if method == 'sobol' else method} sensitivity "
              f"indices over {d} parameter(s): expect confidence intervals wider than the indices (use {need} or more)",
              file=sys.stderr)
    elif method == "sobol" and 2 ** round(math.log2(samples)) != samples:
        print(f"warning: --samples {samples} is not a power of 2; Sobol sequences are balanced only at powers of 2",
              file=sys.stderr)


def _runner_args(p: argparse.ArgumentParser, replicates_default: int | None) -> None:
    if replicates_default is None:
        p.add_argument("--replicates", type=int, required=True, metavar="R",
                       help="replicates per scenario; replicate i gets the same seed in every scenario")
    else:
        p.add_argument("--replicates", type=int, default=replicates_default, metavar="R",
                       help=f"replicates per design point (default {replicates_default}); common seeds across points")
    p.add_argument("--months", type=int, default=None, help="months to simulate, 1..600 (default: each scenario's own)")
    p.add_argument("--seed", type=int, default=batch.DEFAULT_SEED,
                   help=f"master seed, 0..2^63-1; replicate seeds are derived from it by SeedSequence (default {batch.DEFAULT_SEED})")
    p.add_argument("--scale", type=float, default=None,
                   help="share of families to simulate, 0.05..2, each standing for 1/scale families; facilitators are never scaled (default: the scenario's)")
    p.add_argument("--jobs", type=int, default=None, help=f"parallel worker processes, 1..{checks.MAX_JOBS} (default: CPU count)")
    p.add_argument("--executor", choices=("local", "dask"), default="local",
                   help="local: a process pool on this machine; dask: dask.distributed (a LocalCluster unless --scheduler)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="address of a running Dask scheduler (tls://host:8786 or tcp://host:8786); credentials come "
                        "from the Dask configuration (README); refused within 15 s if nothing Dask answers")
    p.add_argument("--retries", type=int, default=batch.DEFAULT_RETRIES,
                   help=f"extra attempts for a run that raises or whose worker dies (default {batch.DEFAULT_RETRIES})")
    p.add_argument("--progress", choices=("auto", "bar", "log"), default="auto",
                   help="a progress bar (default on a terminal) or plain log lines (default otherwise)")
    p.add_argument("--out", required=True, metavar="DIR", help="batch folder: results, manifest.json (resumable)")
    checks.add_scenario_dir(p)


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
        description="Per indicator and scenario: mean and 95% t-interval over replicates at the end of the run, and "
                    "the difference to the baseline paired by replicate with its 95% t-interval. The folder is first "
                    "verified (caseload verify); one that fails is refused unless --no-verify.",
    )
    c.add_argument("dir", metavar="DIR", help="a batch folder written by 'caseload batch'")
    c.add_argument("--baseline", default=None, help="scenario to compare against (default: 'baseline' if present, else the first)")
    c.add_argument("--report", default=None, metavar="FILE.html", help="also write a self-contained HTML report")
    c.add_argument("--csv", default=None, metavar="FILE",
                   help="CSV output (default DIR/compare.csv; cost-effectiveness and budget in *_icer.csv, *_budget.csv)")
    c.add_argument("--horizon", type=_positive_years, default=5.0, metavar="YEARS",
                   help="budget horizon in years (default 5; beyond the run, the last 12 months' rate is extrapolated)")
    c.add_argument("--no-verify", action="store_true",
                   help="compare even if some result files fail verification (those are left out, with a warning)")
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
                   help=f"2..{checks.MAX_SAMPLES:,}: design points (lhs, sobol); Saltelli base sample with --sensitivity sobol (N x (D+2) points); "
                        "Morris trajectories (N x (D+1) points)")
    s.add_argument("--method", choices=("lhs", "sobol", "morris"), default="lhs", help="design (default lhs)")
    s.add_argument("--sensitivity", action="store_true",
                   help="compute sensitivity indices: Sobol (with --method sobol), Morris (morris) or delta (lhs)")
    s.add_argument("--outputs", default=None, metavar="A,B",
                   help="indicators for the sensitivity analysis (default poverty_rate_pct,burnout_mean)")
    _runner_args(s, 1)
    s.set_defaults(func=_guard(cmd_sweep))
