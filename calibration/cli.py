"""``caseload calibrate``: the command (registered by cli/main.py; the work is in calibration.calibrate).

    caseload calibrate TARGETS --params NAME=LOW:HIGH ... [--method abc-smc|rejection|optimize]
        [--budget N] [--population P] [--generations G] [--jobs J] [--executor local|dask]
        [--scheduler ADDR] [--seed S] [--scale X] [--ppc N] [--project-to YYYY-MM]
        [--scenario NAME] --out DIR
    caseload calibrate TARGETS --screen R [--jobs J] --out DIR     # Morris screening first

Bad input (target file, --params, options, a folder holding another calibration) prints one
``error:`` line and exits 2. Re-running the same command resumes.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

EXIT_BAD_INPUT = 2


def add_commands(sub: Any) -> None:
    """Register ``calibrate`` on the ``caseload`` sub-parsers."""
    c = sub.add_parser(
        "calibrate", help="fit uncertain parameters to BPS trends and pattern targets (ABC-SMC, pyabc)",
        description="Calibrate parameters to a target file (calibration/targets/*.toml) by ABC-SMC (pyabc), "
                    "rejection ABC or a quick point estimate (optimize); write weighted posterior draws, "
                    "diagnostics, posterior predictive checks, a projection, an HTML report and a scenario "
                    "that draws each replicate's parameters from the posterior. Resumable.")
    c.add_argument("targets", metavar="TARGETS", help="a target file or a name in calibration/targets/ (official, paper)")
    c.add_argument("--params", nargs="+", default=[], metavar="NAME=LOW:HIGH",
                   help="parameters to calibrate with uniform priors (see --screen and `caseload params`)")
    c.add_argument("--method", default="abc-smc", help="abc-smc (default), rejection or optimize (point estimate only)")
    c.add_argument("--budget", type=int, default=1000, help="most simulations of the fit (default 1000)")
    c.add_argument("--population", type=int, default=100, help="particles per generation / draws kept (default 100)")
    c.add_argument("--generations", type=int, default=8, help="most ABC-SMC generations (default 8)")
    c.add_argument("--jobs", type=int, default=None, help="parallel processes (default: CPU count)")
    c.add_argument("--executor", default="local", help="local (process pool) or dask")
    c.add_argument("--scheduler", default=None, help="dask scheduler address (default: start a LocalCluster)")
    c.add_argument("--seed", type=int, default=None, help="master seed (default 20170301)")
    c.add_argument("--scale", type=float, default=None, help="override the target file's scale (quick looks, tests)")
    c.add_argument("--ppc", type=int, default=40, help="posterior predictive draws (default 40; 0: none)")
    c.add_argument("--project-to", default="2030-12", help="last month of the projection (default 2030-12)")
    c.add_argument("--scenario", default=None, metavar="NAME",
                   help="also publish scenarios/NAME.toml and calibration/posteriors/NAME.parquet")
    c.add_argument("--screen", type=int, default=None, metavar="R",
                   help="instead of fitting: Morris screening of every [A] parameter with R trajectories")
    c.add_argument("--no-report", action="store_true", help="skip report.html")
    c.add_argument("--out", required=True, help="output folder (resumable)")
    c.set_defaults(func=cmd_calibrate)


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Run the calibration or the screening; exit 2 on bad input."""
    from calibration import calibrate
    from calibration.engine import CalibrationError, Mapper
    from calibration.statistics import StatisticError
    from calibration.targets import TargetError
    from runs.scenario import ScenarioError
    from sim.districts import DataError
    from sim.params import ParameterError

    jobs = args.jobs if args.jobs is not None else (os.cpu_count() or 1)
    o = calibrate.Options(targets=args.targets, params=list(args.params), out=Path(args.out), method=args.method,
                          budget=args.budget, population=args.population, generations=args.generations, jobs=jobs,
                          executor=args.executor, scheduler=args.scheduler,
                          seed=calibrate.DEFAULT_SEED if args.seed is None else args.seed, scale=args.scale,
                          ppc=args.ppc, project_to=args.project_to, scenario=args.scenario, report=not args.no_report)
    try:
        if args.screen is not None:
            from calibration import screen, targets

            if args.screen < 2:
                raise CalibrationError(f"--screen: expected at least 2 trajectories, got {args.screen}")
            if args.params:
                raise CalibrationError("--screen screens every [A] parameter; give --params to the fit afterwards")
            ts, _ = targets.load(args.targets), None
            setup = ts.setup if args.scale is None else calibrate.replace(ts.setup, scale=float(args.scale))
            mapper = Mapper(o.executor, o.jobs, o.scheduler)
            try:
                rank = screen.screen(ts, o.out, args.screen, o.seed, mapper, setup=setup)
            finally:
                mapper.close()
            print("Morris screening (SALib): score = RMS over fitted targets of mu*, in target sigmas (model estimates)")
            print(rank.head(20).to_string(index=False, float_format=lambda v: f"{v:.4g}"))
            top = rank[rank["score"] > 0.1 * float(rank["score"].iloc[0])].head(6)
            print("suggested: --params " + " ".join(f"{r.parameter}={r.low:g}:{r.high:g}" for r in top.itertuples()))
            print(f"wrote {o.out}/screening.csv, screening_targets.csv, screening_points.parquet")
            return 0
        res = calibrate.run(o, argv=sys.argv)
        print(calibrate.summary_text(res))
        return 0
    except (CalibrationError, TargetError, StatisticError, ScenarioError, DataError, ParameterError) as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
