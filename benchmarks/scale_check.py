"""Scale check: how well reduced-scale runs estimate full-scale ones (prints ratios; not a test).

``--scale`` is the share of KPM families simulated (each standing for 1 / scale families);
facilitators are never scaled (docs/ODD.md 2.5). For each scenario this runs the model at
scales 0.1, 0.25, 0.5 and 1.0 with the same seeds, averages each regency indicator over the
last 12 months and the seeds, and prints the ratio of each reduced scale to full scale.
tests/test_scale.py holds scale 0.25 to within 5% of full scale on the same indicators.

    python benchmarks/scale_check.py [--scenarios baseline cap-150] [--seeds 3] [--months 36]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from runs.runner import run_scenario
from runs.scenario import load_any

SCALES = (0.1, 0.25, 0.5, 1.0)
INDICATORS = ("poverty_rate_pct", "caseload_mean", "share_fac_over_cap", "burnout_mean", "share_burned_out",
              "visits_per_family", "share_unvisited_3m", "behaviour_mean", "graduations", "vacancies",
              "facilitators", "cost_rp_month", "families")


def tail_means(scenario: str, scale: float, seeds: int, months: int) -> pd.Series:
    """Indicators averaged over the last 12 months and over seeds 1..seeds."""
    sc = load_any(scenario)
    rows = []
    for seed in range(1, seeds + 1):
        reg = run_scenario(sc, seed=seed, months=months, scale=scale).regency
        rows.append(reg[reg["step"] > max(0, months - 12)][list(INDICATORS)].mean())
    return pd.concat(rows, axis=1).mean(axis=1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenarios", nargs="+", default=["baseline", "cap-150", "local-redistribution"])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--months", type=int, default=36)
    args = ap.parse_args(argv)
    for name in args.scenarios:
        t0 = time.perf_counter()
        table = pd.DataFrame({s: tail_means(name, s, args.seeds, args.months) for s in SCALES})
        for s in SCALES[:-1]:
            table[f"ratio {s:g}"] = table[s] / table[1.0]
        print(f"\n{name}: means of the last 12 of {args.months} months over seeds 1-{args.seeds}; "
              f"ratio = reduced scale / full scale ({time.perf_counter() - t0:.0f} s)")
        with pd.option_context("display.width", 160, "display.float_format", "{:,.4g}".format):
            print(table.to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
