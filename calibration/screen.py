"""Screening: which [A]-tagged parameters the targets can identify (SALib Morris).

``screen(ts, out, trajectories=r)`` takes every numeric parameter tagged [A] (an
assumption) in sim.params, samples r Morris trajectories over its full valid range
(runs.sweep.design: SALib's Morris sample, r x (D + 1) simulations), simulates each point
once and computes, per fitted target, the elementary effects mu* (SALib) of every
parameter on the *standardised* residual (sim - observed) / sigma. A parameter's score is
the weighted root mean square of its mu* over the targets: how far (in target s.d.) moving
it across its range moves the fit. Parameters are ranked by score; the top ones are the
ones worth calibrating, the rest stay at their sourced or assumed defaults (documented as
fixed). Standardised residuals are clipped at +-5 sigma first, so that a parameter that
collapses one output (all facilitators quit) does not rank alone. Writes screening.csv (one
row per parameter: score over all targets, over the BPS poverty targets and over the
pattern targets) and screening_targets.csv (mu* per parameter and target).
"""

from __future__ import annotations

import re
import sys
import warnings
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd

from calibration.engine import Bar, Distance, Mapper, Prior, Range, Simulator
from calibration.fit import write_parquet
from calibration.targets import TargetSet
from sim import params


def tag_of(row: dict[str, Any]) -> str:
    """A parameter's source tag S, D or A (the registry's 'tag' key, else the leading [X] of its source)."""
    if row.get("tag") in ("S", "D", "A"):
        return str(row["tag"])
    m = re.match(r"\s*\[\s*([SDA])", str(row.get("source", "")))
    return m.group(1) if m else ""


def assumption_ranges(exclude: tuple[str, ...] = ()) -> list[Range]:
    """Every numeric [A] parameter over its full valid range (lever settings excluded)."""
    out = []
    for row in params.table():
        if tag_of(row) != "A" or row["kind"] not in ("float", "int") or row.get("lever"):
            continue
        if row["name"] in exclude or "." in row["name"] or row["low"] is None or row["high"] is None:
            continue
        if not row["low"] < row["high"]:
            continue
        out.append(Range(row["name"], float(row["low"]), float(row["high"]), row["kind"]))
    return out


class _Point:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def __call__(self, values: dict[str, Any]) -> dict[str, float]:
        try:
            return self.sim.run(values, self.sim.master_seed)[0]  # one seed for every point: common random numbers
        except params.ParameterError:
            return {w.key: float("nan") for w in self.sim.wanted}


def screen(ts: TargetSet, out: Path, trajectories: int, seed: int, mapper: Mapper, setup: Any = None,
           bar: bool | None = None, stream: TextIO | None = None, ranges: list[Range] | None = None) -> pd.DataFrame:
    """Morris screening of the [A] parameters against the fitted targets; returns the ranking."""

    from runs import sweep

    stream = stream or sys.stderr
    rs = ranges if ranges is not None else assumption_ranges()
    prior = Prior(tuple(rs))
    sim = Simulator(setup or ts.setup, ts.wanted(), prior, seed)
    x, _ = sweep.design(list(rs), trajectories, "morris", seed, True)
    b = Bar(len(x), "screening", stream, bar)
    try:
        stats = mapper.map(_Point(sim), [prior.values(list(row)) for row in x], done=b.update)
    finally:
        b.close()
    out.mkdir(parents=True, exist_ok=True)
    dist = Distance(ts)
    resid = np.array([dist.residuals(s) for s in stats])  # standardised and weighted, points x targets
    write_parquet(out / "screening_points.parquet",
                  pd.concat([pd.DataFrame(x, columns=prior.names), pd.DataFrame(resid, columns=dist.names)], axis=1))
    return analyze(out, x, resid, rs, dist.names, seed)


CLIP = 5.0  # standardised residuals are clipped at +-5 sigma: a collapse of one output must not rank alone


def analyze(out: Path, x: np.ndarray, resid: np.ndarray, rs: list[Range], target_names: list[str],
            seed: int) -> pd.DataFrame:
    """Morris mu* per parameter and target on clipped residuals; the ranking (screening.csv)."""
    from SALib.analyze import morris as morris_an

    from runs import sweep

    prob = sweep.problem_of(list(rs))
    rows = []
    mu = np.zeros((len(rs), len(target_names)))
    for j, name in enumerate(target_names):
        y = np.clip(np.nan_to_num(resid[:, j], nan=CLIP, posinf=CLIP, neginf=-CLIP), -CLIP, CLIP)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            si = morris_an.analyze(prob, x, y, num_levels=4, seed=seed % 2**32)
        mu[:, j] = np.asarray(si["mu_star"], dtype=float)
        for i, r in enumerate(rs):
            rows.append({"target": name, "parameter": r.name, "mu_star": mu[i, j], "sigma": float(si["sigma"][i])})
    pd.DataFrame(rows).to_csv(out / "screening_targets.csv", index=False)
    bps = np.array([n.startswith(("poverty_rate", "poor_people")) for n in target_names])

    def rms(m: np.ndarray) -> np.ndarray:
        return np.sqrt(np.mean(m**2, axis=1)) if m.shape[1] else np.zeros(m.shape[0])

    rank = pd.DataFrame({"parameter": [r.name for r in rs], "low": [r.low for r in rs], "high": [r.high for r in rs],
                         "score": rms(mu), "score_poverty": rms(mu[:, bps]), "score_patterns": rms(mu[:, ~bps]),
                         "top_target": [target_names[int(np.argmax(mu[i]))] for i in range(len(rs))],
                         "top_mu_star": mu.max(axis=1)})
    rank = rank.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)
    rank.to_csv(out / "screening.csv", index=False)
    return rank
