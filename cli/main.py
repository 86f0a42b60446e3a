"""The ``caseload`` command line.

    caseload run SCENARIO_OR_PROFILE [--months N] [--seed S] [--scale X] [--out DIR]
    caseload validate FILE...
    caseload params [--group G]

Bad input (a scenario, parameter or data file) prints one clear error naming the file, key
or row, and exits with status 2; never a traceback.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

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
    """Start vs end of a run: states at the first and last date, flows over the first and last 12 months."""
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
    print(f"state at {d0} vs {d1}; flows (attrition, visits, graduations, cost): first vs last 12 months")
    w = max(len(s) for s in t["indicator"])
    print(f"  {'indicator':<{w}}  {'start':>14}  {'end':>14}")
    for _, r in t.iterrows():
        print(f"  {r['indicator']:<{w}}  {r['start']:>14}  {r['end']:>14}")


def cmd_run(args: argparse.Namespace) -> int:
    """Run one scenario or profile and write its tables."""
    from runs import io, scenario
    from runs.runner import run_scenario

    sc = scenario.load_any(args.scenario)
    seed = args.seed
    res = run_scenario(sc, seed=seed, months=args.months, scale=args.scale)
    out = Path(args.out) if args.out else Path("results") / sc.name
    io.write_run(out, res.regency, res.district, res.manifest)
    r = res.regency
    title = (f"{sc.name}: profile {res.manifest['profile']}, {res.manifest['months']} months from "
             f"{res.manifest['start']}, scale {res.manifest['scale']:g}, seed {res.manifest['seed']}")
    _print_summary(r, title)
    d = res.district[res.district["step"] == r["step"].iloc[-1]]
    worst = d.sort_values("caseload_mean", ascending=False).head(3)
    print("  most loaded kecamatan at the end: " + ", ".join(
        f"{row.district} ({row.caseload_mean:.0f} KPM/facilitator, WISN ratio {row.wisn_ratio:.2f})"
        for row in worst.itertuples()))
    t = res.manifest["timing_s"]
    print(f"ran in {t['construct'] + t['run']:.2f} s; wrote {out}/regency.parquet|csv, districts.parquet|csv, manifest.json")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Check scenario files; exit 2 if any is invalid."""
    from runs import scenario

    bad = 0
    for f in args.files:
        try:
            sc = scenario.load(Path(f))
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
    r.add_argument("--months", type=int, default=None, help="months to simulate (default: the scenario's, 36)")
    r.add_argument("--seed", type=int, default=20210101, help="random seed, recorded in every output (default 20210101)")
    r.add_argument("--scale", type=float, default=None, help="share of the families to simulate, each standing for 1/scale families; facilitators are never scaled (default: the scenario's, 1.0)")
    r.add_argument("--out", default=None, help="output folder (default results/SCENARIO)")
    r.set_defaults(func=cmd_run)

    v = sub.add_parser("validate", help="check scenario files (exit 2 on error)",
                       description="Validate scenario files strictly; print each error with file, key and line.")
    v.add_argument("files", nargs="+", metavar="FILE")
    v.set_defaults(func=cmd_validate)

    p = sub.add_parser("params", help="list every parameter and lever setting with default, range, unit and source")
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
    from sim.districts import DataError
    from sim.policies import PolicyError

    ap = build_parser()
    args = ap.parse_args(argv)
    try:
        for name in ("months", "seed", "scale"):  # bounds: sim.params.STRUCTURAL
            if getattr(args, name, None) is not None:
                params.check_structural(name, getattr(args, name), f"--{name}")
        rc: Any = args.func(args)
        return int(rc or 0)
    except (ScenarioError, params.ParameterError, DataError, PolicyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted: finished results are kept; re-run the same command to resume", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
