"""Posterior predictive checks, the out-of-sample error and the projection past the data.

``predictive`` resamples ``n`` draws from the weighted posterior (by weight, seeded) and
simulates each once with a fresh seed from the fit's start to ``project_to``: the same runs
give the posterior predictive distribution of every target (fitted and held out) and the
projected trajectories (poverty rate, poor people, families, burnout) up to 2030 and beyond.
``check_table`` compares each target with its predictive median and 90% band: the z-score
uses the same sigma (observation error and model discrepancy) as the fit.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from calibration.engine import Mapper, Prior, Simulator, seed_for
from calibration.fit import weighted_quantile
from calibration.targets import TargetSet

TRAJECTORY_COLUMNS = ("poverty_rate_pct", "poor_people", "families", "facilitators", "burnout_mean",
                      "share_burned_out", "attrition_rate_year", "graduations", "scale")


class _Draw:
    """Picklable: one predictive simulation (values, seed) -> (stats, trajectory)."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def __call__(self, job: tuple[int, dict[str, Any], int]) -> tuple[int, dict[str, float], pd.DataFrame]:
        k, values, seed = job
        stats, reg = self.sim.run(values, seed, keep_table=True)
        assert reg is not None
        cols = [c for c in ("date", "step", *TRAJECTORY_COLUMNS) if c in reg.columns]
        return k, stats, reg[cols].copy()


def months_to(start: str, end: str) -> int:
    """Months from ``start`` to ``end`` (both YYYY-MM)."""
    y0, m0 = (int(x) for x in start.split("-"))
    y1, m1 = (int(x) for x in end.split("-"))
    return (y1 * 12 + m1) - (y0 * 12 + m0)


def predictive(ts: TargetSet, prior: Prior, post: pd.DataFrame, sim: Simulator, n: int, seed: int,
               mapper: Mapper, project_to: str, done: Any = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(stats per draw, trajectories per draw): n posterior draws simulated to ``project_to``."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xBBC]))
    w = post["weight"].to_numpy(dtype=float)
    idx = rng.choice(len(post), size=n, p=w / w.sum())
    months = max(ts.setup.months, months_to(ts.setup.start, project_to))
    psim = replace(sim, setup=replace(sim.setup, months=months))
    jobs = []
    for k, i in enumerate(idx):
        values = prior.values({name: float(post[name].iloc[int(i)]) for name in prior.names})
        jobs.append((k, values, seed_for(seed, values, salt=f"ppc{k}")))
    res = mapper.map(_Draw(psim), jobs, done=done)
    stat_rows, trajs = [], []
    for (k, values, s), (_, stats, reg) in zip(jobs, res, strict=True):
        stat_rows.append({"draw": k, "seed": s, **{f"param:{n_}": v for n_, v in values.items()}, **stats})
        trajs.append(reg.assign(draw=k))
    return pd.DataFrame(stat_rows), pd.concat(trajs, ignore_index=True)


def check_table(ts: TargetSet, stats: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Per target: observed, sigma, model median and 90% band, predictive 90% band, error, z, inside.

    The model band (q05, q95) is that of the simulated statistic; the predictive band
    (pred_q05, pred_q95) adds the observation error and discrepancy (Gaussian, sigma), as
    a new observation would: the observed value is checked against it.
    """
    rows = []
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xC4EC]))
    for t in ts.targets:
        x = stats[t.name].to_numpy(dtype=float)
        x = x[np.isfinite(x)]
        ones = np.ones(len(x))
        med = weighted_quantile(x, ones, 0.5) if len(x) else np.nan
        lo = weighted_quantile(x, ones, 0.05) if len(x) else np.nan
        hi = weighted_quantile(x, ones, 0.95) if len(x) else np.nan
        sigma = ts.sigma(t)
        rep = np.repeat(x, 50) + rng.normal(0.0, sigma, 50 * len(x))
        plo = float(np.quantile(rep, 0.05)) if len(rep) else np.nan
        phi = float(np.quantile(rep, 0.95)) if len(rep) else np.nan
        err = med - t.value
        if t.kind == "at_least":
            err = min(err, 0.0)
        rows.append({"target": t.name, "statistic": t.statistic, "at": t.at, "year": t.year, "holdout": t.holdout,
                     "kind": t.kind, "observed": t.value, "obs_sd": t.obs_sd, "sigma": sigma, "weight": t.weight,
                     "median": med, "q05": lo, "q95": hi, "pred_q05": plo, "pred_q95": phi,
                     "error": err, "z": err / sigma,
                     "inside_90": bool(plo <= t.value <= phi) if t.kind == "value" else bool(phi >= t.value),
                     "source": t.source})
    return pd.DataFrame(rows)
