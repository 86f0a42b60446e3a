"""Benchmark of a calibration (a script that prints figures, not a test).

Default: ABC-SMC (pyabc, MulticoreEvalParallelSampler) on calibration/targets/official.toml
at full scale (every simulation runs the whole fit window, March 2017 -> March 2023, 72
months, about 33,000-78,000 families and 354 facilitators), the parameters of the README's
calibration, population 200, a budget of 1,000 simulations, 2 processes; no predictive
checks or report (they are timed separately by --ppc). Prints wall time, simulations per
second and the peak memory of the process tree (parent + workers, psutil every 200 ms).
Target: <= 15 minutes for >= 1,000 full-scale simulations on 2 cores.

    python benchmarks/bench_calibration.py
    python benchmarks/bench_calibration.py --budget 200 --scale 0.1      # a quick look
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_batch import PeakMemory

from calibration import calibrate

PARAMS = [  # the README's calibration (ODD 8.1 says why these seven)
    "welfare_growth_macro_year=-0.1:0.1",
    "nonkpm_poor_trend_year=-0.2:0.2",
    "share_poor_in_kpm=0.1:0.9",
    "burnout_overload=0.05:1.5",
    "quit_base_year=0.01:0.3",
    "welfare_shock_sd=0.02:0.3",
    "graduation_assessment_prob=0.05:1",
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--targets", default="official")
    ap.add_argument("--budget", type=int, default=1000)
    ap.add_argument("--population", type=int, default=200)
    ap.add_argument("--generations", type=int, default=8)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--scale", type=float, default=None, help="default: the target file's (1.0)")
    ap.add_argument("--ppc", type=int, default=0)
    ap.add_argument("--params", nargs="+", default=PARAMS)
    ap.add_argument("--out", default=None, help="keep the calibration folder here (default: a temporary folder)")
    ap.add_argument("--scenario", default=None, help="also publish scenarios/NAME.toml (see caseload calibrate)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(a.out) if a.out else Path(tmp) / "cal"
        o = calibrate.Options(targets=a.targets, params=a.params, out=out, budget=a.budget,
                              population=a.population, generations=a.generations, jobs=a.jobs, scale=a.scale,
                              ppc=a.ppc, report=a.ppc > 0, bar=False, scenario=a.scenario)
        log = io.StringIO()
        t0 = time.perf_counter()
        with PeakMemory() as mem:
            res = calibrate.run(o, argv=["bench_calibration"], stream=log)
        wall = time.perf_counter() - t0
        d = res["diagnostics"]
        sims = calibrate.total_sims(d)
        print(f"calibration benchmark: {a.targets}, scale {o.scale or 1.0:g}, {len(a.params)} parameters, "
              f"population {a.population}, {a.jobs} processes")
        print(d.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        print(f"simulations (with pyabc's calibration sample from the prior): {sims}; budget {a.budget}")
        fit_s = res["timing_s"]["fit"]
        print(f"wall time of the fit: {fit_s:.1f} s ({fit_s / 60:.1f} min; target <= 15 min); "
              f"with predictive checks ({a.ppc} draws to 2030) and report: {wall:.1f} s")
        print(f"simulations per second (fit): {sims / fit_s:.2f}")
        print(f"peak memory of the process tree: {mem.peak / 2**20:.0f} MiB")
        print(calibrate.summary_text(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
