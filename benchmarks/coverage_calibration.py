"""Coverage of the calibration's 90% intervals: simulation-based calibration (Talts et al. 2018).

For each of N truths drawn from the prior, the model generates synthetic targets
(calibration.synthetic: the statistics simulated at the truth plus Gaussian noise of each
target's sigma), ABC-SMC fits them at a reduced budget, and we record whether each
parameter's 90% interval covers its truth and the truth's rank among the posterior draws
(uniform ranks = calibrated posteriors). Prints the coverage rate per parameter and over
all (nominal 0.90; with N = 20 truths a binomial 95% range is about 0.70-1.00) and writes
coverage.csv. A slow test runs it (tests/test_calibration_slow.py).

    python benchmarks/coverage_calibration.py --truths 20
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from calibration import calibrate, targets
from calibration.engine import make_prior
from calibration.synthetic import synthetic_targets, to_toml

SETUP = """\
name = "coverage"
description = "a short window for the coverage check"

[setup]
profile = "official"
start = "2017-03"
months = 13
scale = 0.05

[discrepancy.poverty_rate_pct]
sd = 0.05
reason = "coverage check"
"""
TARGETS = [("pov_2017", "poverty_rate_pct", "2017-09", 0.1), ("pov_2018", "poverty_rate_pct", "2018-03", 0.1),
           ("exits_2017", "exit_rate_year", "2018-03", 0.01)]
PARAMS = ["welfare_growth_macro_year=-0.1:0.1", "natural_exit_rate_year=0.02:0.2"]


def base_targets(tmp: Path) -> Path:
    text = SETUP + "".join(
        f'\n[[target]]\nname = "{n}"\nstatistic = "{s}"\nat = "{at}"\nvalue = 0.0\nobs_sd = {sd}\n'
        f'weight = 1.0\nyear = {at[:4]}\nsource = "synthetic"\n' for n, s, at, sd in TARGETS)
    p = tmp / "base.toml"
    p.write_text(text, encoding="utf-8")
    return p


def coverage(n_truths: int, budget: int = 200, population: int = 40, jobs: int = 2, seed: int = 7,
             out: Path | None = None, verbose: bool = True) -> pd.DataFrame:
    """One row per truth and parameter: truth, 90% interval, covered, rank of the truth."""
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmpd:
        tmp = Path(tmpd)
        base = targets.load(base_targets(tmp))
        prior = make_prior(PARAMS)
        draws = prior.sample(n_truths, np.random.default_rng(np.random.SeedSequence([seed, 0xC0F])))
        for k, row in enumerate(draws):
            truth = prior.values(list(row))
            syn = to_toml(synthetic_targets(base, truth, seed=1000 + k), tmp / f"syn{k}.toml")
            o = calibrate.Options(targets=str(syn), params=PARAMS, out=tmp / f"fit{k}", budget=budget,
                                  population=population, generations=5, jobs=jobs, seed=seed + k, ppc=0,
                                  report=False, bar=False)
            t0 = time.perf_counter()
            import io

            res = calibrate.run(o, stream=io.StringIO())
            post = res["posterior"]
            w = post["weight"].to_numpy(float)
            for s in res["summary"].itertuples():
                v = float(truth[s.parameter])
                rank = float(np.sum(w * (post[s.parameter].to_numpy(float) < v)) / w.sum())
                rows.append({"truth_id": k, "parameter": s.parameter, "truth": v, "q05": s.q05, "q95": s.q95,
                             "covered": bool(s.q05 <= v <= s.q95), "rank": rank})
            if verbose:
                cov = np.mean([r["covered"] for r in rows])
                print(f"truth {k + 1}/{n_truths}: {truth}; covered so far {cov:.2f} ({time.perf_counter() - t0:.0f} s)",
                      flush=True)
    df = pd.DataFrame(rows)
    if out is not None:
        df.to_csv(out, index=False)
    return df


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--truths", type=int, default=20)
    ap.add_argument("--budget", type=int, default=200)
    ap.add_argument("--population", type=int, default=40)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default="coverage.csv")
    a = ap.parse_args()
    t0 = time.perf_counter()
    df = coverage(a.truths, a.budget, a.population, a.jobs, out=Path(a.out))
    print(df.groupby("parameter")["covered"].mean().rename("coverage of the 90% interval").to_string())
    print(f"overall coverage: {df['covered'].mean():.2f} over {a.truths} truths x {df['parameter'].nunique()} "
          f"parameters (nominal 0.90); {time.perf_counter() - t0:.0f} s; wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
