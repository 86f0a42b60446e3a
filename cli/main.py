"""The ``caseload`` command line.

    caseload run SCENARIO_OR_PROFILE [--months N] [--seed S] [--scale X] [--out DIR] [--scenario-dir D]
    caseload validate FILE... [--scenario-dir D]
    caseload params [--group G]
    caseload verify DIR...

Bad input (a scenario, parameter or data file, an option out of range, an --out that cannot
be written) prints one clear error naming the file, key or row, and exits with status 2;
never a traceback, and nothing is written. A run's files are written as one set (runs.io):
a killed run leaves the earlier set or the new one, never a mix; two commands on one
folder are refused (a lock). A closed output pipe (``caseload compare DIR | head``) ends
the command quietly.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from cli import checks
from sim import params

EXIT_BAD_INPUT = 2

SUMMARY: list[tuple[str, str, str, Callable[[float], str]]] = [
    # (column, label, kind: state|flow, formatter)
    ("poverty_rate_pct", "Poverty rate (%)", "state", lambda v: f"{v:.2f}"),
    ("poverty_rate_pre_transfer_pct", "Poverty rate before transfers (%)", "state", lambda v: f"{v:.2f}"),
    ("poor_people", "Poor people", "state", lambda v: f"{v:,.0f}"),
    ("families", "KPM families enrolled (regency scale)", "state", lambda v: f"{v:,.0f}"),
    ("facilitators", "Facilitators in post", "state", lambda v: f"{v:,.0f}"),
    ("caseload_mean", "Caseload, mean (KPM per facilitator)", "state", lambda v: f"{v:.0f}"),
    ("caseload_p95", "Caseload, 95th percentile", "state", lambda v: f"{v:.0f}"),
    ("share_fac_over_cap", "Facilitators above 1:150 (%)", "state", lambda v: f"{100 * v:.1f}"),
    ("burnout_mean", "Burnout, mean (0-1)", "state", lambda v: f"{v:.3f}"),
    ("share_burned_out", "Burned out, B > 0.5 (%)", "state", lambda v: f"{100 * v:.1f}"),
    ("attrition_pct_year", "Attrition (%/year)", "flow", lambda v: f"{v:.1f}"),
    ("visits_per_family", "Home visits per family per month", "flow", lambda v: f"{v:.3f}"),
    ("share_unvisited_3m", "Families unvisited 3+ months (%)", "state", lambda v: f"{100 * v:.1f}"),
    ("share_unvisited_6m", "Families unvisited 6+ months (%)", "state", lambda v: f"{100 * v:.1f}"),
    ("burnout_family_mean", "Burnout of a family's facilitator (0-1)", "state", lambda v: f"{v:.3f}"),
    ("graduations", "Graduations per month (regency scale)", "flow", lambda v: f"{v:,.0f}"),
    ("cost_rp_month", "Cost (Rp per month)", "flow", lambda v: f"{v:,.0f}"),
    ("cost_apbn_rp_month", "  of which APBN, Kemensos (Rp per month)", "flow", lambda v: f"{v:,.0f}"),
    ("cost_apbd_rp_month", "  of which APBD, the regency (Rp per month)", "flow", lambda v: f"{v:,.0f}"),
]


def summary_table(regency: pd.DataFrame) -> pd.DataFrame:
    """Start vs end of a run: states at the first and last date, flows over the first and last 12 months (fewer in a short run)."""
    first, last = regency.iloc[0], regency.iloc[-1]
    runs = regency.iloc[1:]
    k = min(12, len(runs))
    rows = []
    for col, label, kind, fmt in SUMMARY:
        if kind == "state":
            a, b = float(first[col]), float(last[col])
        else:
            if col == "attrition_pct_year":
                def rate(df: pd.DataFrame) -> float:
                    return float(100 * df["quits"].sum() / max(df["facilitators"].mean(), 1) * 12 / max(len(df), 1))
                a, b = rate(runs.iloc[:k]), rate(runs.iloc[-k:])
            else:
                a, b = float(runs[col].iloc[:k].mean()), float(runs[col].iloc[-k:].mean())
        rows.append({"indicator": label, "start": fmt(a) if math.isfinite(a) else "-",
                     "end": fmt(b) if math.isfinite(b) else "-"})
    return pd.DataFrame(rows)


def _print_summary(regency: pd.DataFrame, title: str) -> None:
    t = summary_table(regency)
    d0, d1 = regency["date"].iloc[0], regency["date"].iloc[-1]
    print(title)
    print("every figure below is a model estimate (a simulation output), not an observation; "
          "the start is the data profile's picture (sources: manifest.json)")
    k = min(12, max(len(regency) - 1, 1))
    span = "month" if k == 1 else f"{k} months"
    overlap = f" (the same {'month' if k == 1 else 'months'}: the run is short)" if 2 * k > len(regency) - 1 else ""
    print(f"state at {d0} vs {d1}; flows (attrition, visits, graduations, cost): first vs last {span}{overlap}")
    w = max(len(s) for s in t["indicator"])
    print(f"  {'indicator':<{w}}  {'start':>14}  {'end':>14}")
    for _, r in t.iterrows():
        print(f"  {r['indicator']:<{w}}  {r['start']:>14}  {r['end']:>14}")


def cmd_run(args: argparse.Namespace) -> int:
    """Run one scenario or profile and write its tables."""
    from runs import io, scenario, store
    from runs.runner import run_scenario

    if args.out is not None:
        checks.out_folder(args.out)
    sc = scenario.load_any(args.scenario, search_dirs=args.scenario_dir or ())
    if args.scale is None:
        checks.structural("scale", sc.scale)
    # the scenario's name picks the default folder: sanitised like a batch run id (no '..', '/', absolute paths)
    out = Path(args.out) if args.out else Path("results") / store.safe_name(sc.name)
    checks.out_folder(out)
    shown = out
    out = Path(os.path.abspath(out))  # '.' or 'x/..' have no name of their own to swap the set under
    foreign = io.foreign_files(out)
    if foreign:
        raise checks.OptionError(f"--out {args.out or out}: holds other files ({', '.join(foreign[:3])}"
                                 f"{', ...' if len(foreign) > 3 else ''}); a run replaces its folder as a whole, so "
                                 "give a new or empty folder, or an earlier run's folder")
    if out.parent == out:
        raise checks.OptionError(f"--out {args.out}: the root folder cannot be a run folder")
    lock = io.run_lock(out)
    try:
        lock.acquire()
    except OSError as e:
        raise checks.OptionError(f"--out {out}: cannot create the folder ({e.strerror or e}); nothing was written") from None
    except io.FolderBusy as e:
        raise checks.OptionError(f"{out}: another caseload command is writing this folder (pid {e}); "
                                 "wait for it to finish or use another --out") from None
    try:
        for note in io.recover_run_folder(out):
            print(f"note: {out}: {note} (left by an interrupted command)", file=sys.stderr)
        res = run_scenario(sc, seed=args.seed, months=args.months, scale=args.scale)
        try:
            io.write_run(out, res.regency, res.district, res.manifest)
        except OSError as e:
            raise checks.OptionError(f"--out {out}: cannot write the results ({e.strerror or e}); nothing was written") from None
    finally:
        lock.release()
    r = res.regency
    n = res.manifest["months"]
    title = (f"{sc.name}: profile {res.manifest['profile']}, {n} month{'s' if n != 1 else ''} from "
             f"{res.manifest['start']}, scale {res.manifest['scale']:g}, seed {res.manifest['seed']}")
    _print_summary(r, title)
    d = res.district[res.district["step"] == r["step"].iloc[-1]]
    worst = d.sort_values("caseload_mean", ascending=False).head(3)
    print("  most loaded kecamatan at the end: " + ", ".join(
        f"{row.district} ({row.caseload_mean:.0f} KPM/facilitator, WISN ratio {row.wisn_ratio:.2f})"
        for row in worst.itertuples()))
    t = res.manifest["timing_s"]
    print(f"ran in {t['construct'] + t['run']:.2f} s; wrote {shown}/regency.parquet|csv, districts.parquet|csv, manifest.json")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Check scenario files; exit 2 if any is invalid."""
    from runs import scenario

    bad = 0
    for f in args.files:
        try:
            sc = scenario.load(Path(f), search_dirs=args.scenario_dir or ())
            print(f"ok  {f}: {sc.name} ({sc.profile}, {sc.months} months, "
                  f"{len(sc.parameters)} parameter overrides, policies: {', '.join(sc.policies) or 'none'})")
        except scenario.ScenarioError as e:
            bad += 1
            print(f"error: {e}", file=sys.stderr)
    return EXIT_BAD_INPUT if bad else 0


def _range_text(p: dict[str, Any]) -> str:
    if p["kind"] == "choice":
        return f"one of {p['choices']}"
    if p["kind"] == "list[str]":
        return f"a list of: {', '.join(p['choices'])}"
    if p["kind"] == "bool":
        return "true or false"
    return f"[{p['low']}, {p['high']}]"


def cmd_params(args: argparse.Namespace) -> int:
    """List model parameters and lever settings with defaults, ranges, units and sources, by group."""
    if args.group and args.group not in params.GROUPS:
        raise params.ParameterError(
            f"--group: unknown group '{args.group}'; valid groups: model parameters "
            f"{', '.join(g for g in params.GROUPS if g not in params.LEVERS)}; policy levers "
            f"{', '.join(params.LEVERS)}")
    rows = params.table()
    for group in params.GROUPS:
        if args.group and group != args.group:
            continue
        mine = [p for p in rows if p["group"] == group]
        if group in params.LEVERS:
            print(f"[lever {group}]  settings, used only when a scenario switches the lever on "
                  f"([policies.{group}]); sweep or override them as {group}.SETTING")
        else:
            print(f"[{group}]")
        for p in mine:
            print(f"  {p['name']} = {p['default']!r}  {_range_text(p)} {p['unit']}  [{p['tag']}]\n"
                  f"      {p['label']}. {p['source']}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """Check result folders against their manifests; exit 1 when a file is altered, missing or extra."""
    from runs import store

    bad = 0
    for d in args.dirs:
        kind, problems, notes = store.verify_folder(Path(d))
        for n in notes:
            print(f"note: {n}", file=sys.stderr)
        if problems:
            bad += 1
            print(f"FAILED {d} ({kind} folder): {len(problems)} problem(s)")
            for p in problems:
                print(f"  {p}")
        else:
            print(f"ok  {d} ({kind} folder): every result file matches the manifest")
    return 1 if bad else 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (documented in README.md)."""
    ap = argparse.ArgumentParser(
        prog="caseload",
        description="Social-facilitator workforce simulator for Kabupaten Bekasi (PKH, BPNT/Sembako).",
    )
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser("run", help="run one scenario (a scenarios/*.toml file or name, or a data profile)",
                       description="Run one scenario and print a start-vs-end summary; write the regency "
                                   "and district tables (Parquet and CSV) and a manifest to --out.")
    r.add_argument("scenario", metavar="SCENARIO_FILE_OR_PROFILE",
                   help="a scenario file, a name in scenarios/ (e.g. baseline), or a profile (paper-2023, official)")
    r.add_argument("--months", type=int, default=None, help="months to simulate, 1..600 (default: the scenario's, 36)")
    r.add_argument("--seed", type=int, default=20210101,
                   help="random seed, 0..2^63-1, recorded in every output (default 20210101)")
    r.add_argument("--scale", type=float, default=None,
                   help="share of the families to simulate, 0.05..2, each standing for 1/scale families; facilitators are never scaled (default: the scenario's, 1.0)")
    r.add_argument("--out", default=None,
                   help="output folder (default results/NAME, NAME the scenario's name made file-safe); replaced as a whole")
    checks.add_scenario_dir(r)
    r.set_defaults(func=cmd_run)

    v = sub.add_parser("validate", help="check scenario files (exit 2 on error)",
                       description="Validate scenario files strictly; print each error with file, key and line.")
    v.add_argument("files", nargs="+", metavar="FILE")
    checks.add_scenario_dir(v)
    v.set_defaults(func=cmd_validate)

    vf = sub.add_parser("verify", help="check result folders against their manifests (exit 1 if a file was altered)",
                        description="Check every result file of a batch, sweep or run folder against the sha256 in its "
                                    "manifest.json; list altered, missing and extra files and exit 1 if there are any.")
    vf.add_argument("dirs", nargs="+", metavar="DIR")
    vf.set_defaults(func=cmd_verify)

    p = sub.add_parser("params", help="list every parameter and lever setting with default, range, unit and source",
                       description="List every model parameter and lever setting (sim/params.py) with its default, valid "
                                   "range, unit, group and source tag: [S] sourced, [D] derived, [A] an assumption to calibrate.")
    p.add_argument("--group", default=None,
                   help=f"only this group: {', '.join(params.GROUPS)} (a lever's name lists its settings)")
    p.set_defaults(func=cmd_params)

    from cli import batch as batch_cli

    batch_cli.add_commands(sub)
    from calibration import cli as calibration_cli

    calibration_cli.add_commands(sub)
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``caseload`` console script."""
    from runs.scenario import ScenarioError
    from runs.store import BatchError
    from sim.districts import DataError
    from sim.policies import PolicyError

    ap = build_parser()
    args = ap.parse_args(argv)
    try:
        for name in ("months", "seed", "scale"):  # bounds: sim.params.STRUCTURAL
            if getattr(args, name, None) is not None:
                checks.structural(name, getattr(args, name))
        rc: Any = args.func(args)
        return int(rc or 0)
    except (ScenarioError, params.ParameterError, DataError, PolicyError, BatchError, checks.OptionError) as e:
        print(f"error: {one_line(e)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted: finished results are kept; re-run the same command to resume", file=sys.stderr)
        return 130
    except BrokenPipeError:
        _quiet_stdout()
        return 0


def one_line(e: BaseException) -> str:
    """An error message on one line (a message quoting a multi-line value stays one ``error:`` line)."""
    return " ".join(str(e).split("\n")).strip()


def _quiet_stdout() -> None:
    """After a closed pipe (``caseload compare DIR | head``): point stdout at devnull so the exit flush is silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
