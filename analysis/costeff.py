"""Cost-effectiveness of a scenario against the baseline, paired by replicate, and its budget.

Incremental cost-effectiveness ratio (ICER). For replicate i (the same seed in both
scenarios: common random numbers) the incremental cost is
``dC_i = cost(scenario, i) - cost(baseline, i)`` (facilitation cost over the run, regency
scale; transfers are not in it, sim.processes.cost) and the incremental effect ``dE_i``
is, per outcome:

    graduation           extra graduations over the run          graduations_cum
    person out of poverty fewer poor people at the end of the run  -poor_people
    home visit           extra home visits over the run           visits_cum
    pp of poverty        lower poverty rate at the end, in pp    -poverty_rate_pct

A second set of rows (``basis`` "facilitation + transfers") adds the paired difference of
the PKH and Sembako transfers paid over the run (APBN): a lever that raises PKH
compliance pays out more PKH, and part of its effect on poverty after transfers comes
from that money, not from facilitation.

The ICER is mean(dC) / mean(dE) (a ratio of means). Its 95% interval is Fieller's
(Fieller 1954; Willan & O'Brien 1996, Health Economics 5: 297-305), from the means,
variances and covariance of the paired differences with a t quantile (n - 1 degrees of
freedom): the set of R for which mean(dC) - R mean(dE) is not significantly different
from 0. When mean(dE) itself is not significantly different from 0 the set is unbounded
(the whole line or two half-lines): the model cannot tell what one unit of the effect
costs, and the table says so instead of printing a number. A percentile bootstrap over
replicate pairs (seeded) is given beside it as a check; it is flagged unbounded when more
than 2.5% of the resampled mean effects have the other sign or are 0.

Budget. Per cost line and funder (APBN: the national budget through Kemensos; APBD: the
regency's budget through Dinas Sosial; rules and sources in sim.processes.cost), the
yearly cost is the mean over the run's months x 12 and over its last 12 months x 12; over
a horizon of H years it is the sum of the first 12 H months of the run, and when the run
is shorter, the run's total plus the last-12-month rate for the missing months (marked
``extrapolated``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.intervals import t_interval

BOOT_SEED = 20250601     # fixed seed of the bootstrap over replicate pairs (results are reproducible)
BOOT_DRAWS = 2000
MIN_REPLICATES = 10      # below this, intervals over replicates are too unreliable to act on


@dataclass(frozen=True)
class Effect:
    """An outcome of the ICER: the end-of-run column and the sign that makes a gain positive."""

    name: str
    label: str        # "per extra graduation"
    unit: str         # "graduations"
    column: str
    sign: float


EFFECTS: tuple[Effect, ...] = (
    Effect("graduation", "per extra graduation", "graduations", "graduations_cum", 1.0),
    Effect("out_of_poverty", "per person out of poverty", "fewer poor people", "poor_people", -1.0),
    Effect("home_visit", "per extra home visit", "home visits", "visits_cum", 1.0),
    Effect("poverty_pp", "per pp of poverty", "pp of poverty", "poverty_rate_pct", -1.0),
)

#: budget lines: (column of the regency table, label, funder)
BUDGET_LINES: tuple[tuple[str, str, str], ...] = (
    ("cost_honoraria_rp_month", "Facilitator honoraria (Kemensos)", "APBN"),
    ("cost_operational_rp_month", "Operational allowance (Kemensos)", "APBN"),
    ("cost_supervision_apbn_rp_month", "Programme supervisors (Kemensos)", "APBN"),
    ("cost_training_rp_month", "Training courses (Kemensos, BBPPKS / platform)", "APBN"),
    ("cost_topup_rp_month", "Regional incentive top-ups (Dinsos)", "APBD"),
    ("cost_supervision_apbd_rp_month", "Extra supervision (Dinsos)", "APBD"),
    ("cost_policy_apbd_rp_month", "Lever running costs charged to the regency", "APBD"),
    ("cost_local_posts_apbd_rp_month", "Posts the regency funds (local hires: pay, operations)", "APBD"),
    ("cost_apbn_rp_month", "Facilitation cost paid from APBN", "APBN"),
    ("cost_apbd_rp_month", "Facilitation cost paid from APBD", "APBD"),
    ("cost_rp_month", "Facilitation cost, total", "APBN+APBD"),
    ("transfers_pkh_rp_month", "PKH transfers to families (Kemensos)", "APBN"),
    ("transfers_sembako_rp_month", "Sembako transfers to families (Kemensos)", "APBN"),
)


def fieller(dc: np.ndarray, de: np.ndarray, level: float = 0.95) -> tuple[float, float, str]:
    """Fieller interval of mean(dc) / mean(de) for paired samples: (low, high, status).

    status: ``bounded``; ``unbounded`` (mean(de) is not significantly different from 0:
    low/high are nan); ``too few`` (n < 2).
    """
    from scipy import stats

    c, e = _finite_pairs(dc, de)
    n = c.size
    if n < 2:
        return math.nan, math.nan, "too few"
    mc, me = float(c.mean()), float(e.mean())
    v11 = float(c.var(ddof=1)) / n
    v22 = float(e.var(ddof=1)) / n
    v12 = float(np.cov(c, e, ddof=1)[0, 1]) / n
    t2 = float(stats.t.ppf(0.5 + level / 2, n - 1)) ** 2
    a = me * me - t2 * v22
    b = -2.0 * (mc * me - t2 * v12)
    cc = mc * mc - t2 * v11
    if a <= 0 or me == 0:
        return math.nan, math.nan, "unbounded"
    disc = b * b - 4 * a * cc
    if disc < 0:  # only by rounding when a > 0 (the Cauchy-Schwarz bound): a point interval
        r = -b / (2 * a)
        return r, r, "bounded"
    sq = math.sqrt(disc)
    lo, hi = (-b - sq) / (2 * a), (-b + sq) / (2 * a)
    return min(lo, hi), max(lo, hi), "bounded"


def _finite_pairs(dc: np.ndarray, de: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The replicate pairs (cost difference, effect difference) where both are finite."""
    c = np.asarray(dc, dtype=np.float64)
    e = np.asarray(de, dtype=np.float64)
    ok = np.isfinite(c) & np.isfinite(e)
    return c[ok], e[ok]


def bootstrap_ratio(dc: np.ndarray, de: np.ndarray, level: float = 0.95, draws: int = BOOT_DRAWS,
                    seed: int = BOOT_SEED) -> tuple[float, float, str]:
    """Percentile bootstrap over replicate pairs of mean(dc) / mean(de): (low, high, status)."""
    c, e = _finite_pairs(dc, de)
    n = c.size
    if n < 2:
        return math.nan, math.nan, "too few"
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(draws, n))
    mc, me = c[idx].mean(axis=1), e[idx].mean(axis=1)
    alpha = (1 - level) / 2
    sign = np.sign(e.mean())
    if sign == 0 or float(np.mean(np.sign(me) != sign)) > alpha:
        return math.nan, math.nan, "unbounded"
    r = mc / me
    return float(np.quantile(r, alpha)), float(np.quantile(r, 1 - alpha)), "bounded"


def paired(ends: pd.DataFrame, scenario: str, baseline: str, column: str) -> pd.Series:
    """x(scenario, i) - x(baseline, i) over the replicates i present in both."""
    a = ends[ends["scenario"] == scenario].set_index("replicate")[column]
    b = ends[ends["scenario"] == baseline].set_index("replicate")[column]
    common = a.index.intersection(b.index)
    return (a.loc[common] - b.loc[common]).astype(np.float64)


def icer_table(ends: pd.DataFrame, names: list[str], baseline: str) -> pd.DataFrame:
    """One row per scenario (not the baseline) and effect: incremental cost, effect, ICER, intervals."""
    rows = []
    bases = [("facilitation", ["cost_rp_cum"])]
    if "transfers_cum" in ends:
        bases.append(("facilitation + transfers", ["cost_rp_cum", "transfers_cum"]))
    for name, (basis, cols) in ((n, b) for b in bases for n in names):
        if name == baseline or not (ends["scenario"] == name).any() or "cost_rp_cum" not in ends:
            continue
        dc = sum((paired(ends, name, baseline, col) for col in cols[1:]), paired(ends, name, baseline, cols[0]))
        for eff in EFFECTS:
            if eff.column not in ends:
                continue
            de = eff.sign * paired(ends, name, baseline, eff.column)
            c, e = dc.to_numpy(), de.reindex(dc.index).to_numpy()
            n, mc, _, clo, chi = t_interval(c)
            _, me, _, elo, ehi = t_interval(e)
            lo, hi, status = fieller(c, e)
            blo, bhi, bstatus = bootstrap_ratio(c, e)
            ratio = mc / me if me and math.isfinite(me) else math.nan
            if status == "bounded" and me < 0:
                status = "dominated" if mc > 0 else "bounded"
            rows.append({
                "scenario": name, "baseline": baseline, "basis": basis, "effect": eff.name, "label": eff.label,
                "unit": eff.unit,
                "n": n, "d_cost_mean": mc, "d_cost_low": clo, "d_cost_high": chi,
                "d_effect_mean": me, "d_effect_low": elo, "d_effect_high": ehi,
                "icer": ratio, "icer_low": lo, "icer_high": hi, "icer_interval": status,
                "boot_low": blo, "boot_high": bhi, "boot_interval": bstatus,
                "method": "ratio of mean paired differences; Fieller 95% interval (t, n-1 df); "
                          f"percentile bootstrap over replicate pairs ({BOOT_DRAWS} draws, seed {BOOT_SEED})",
            })
    return pd.DataFrame(rows)


def _yearly(g: pd.DataFrame, col: str, horizon_years: float) -> tuple[float, float, float, bool]:
    """(per year over the run, per year over the last 12 months, over the horizon, extrapolated?)."""
    m = g[g["step"] > 0].sort_values("step")
    if m.empty or col not in m:
        return math.nan, math.nan, math.nan, False
    x = m[col].to_numpy(dtype=np.float64)
    months = x.size
    run_year = float(x.mean()) * 12.0
    last_year = float(x[-12:].mean()) * 12.0
    hm = round(horizon_years * 12)
    if months >= hm:
        return run_year, last_year, float(x[:hm].sum()), False
    return run_year, last_year, float(x.sum()) + (hm - months) * float(x[-12:].mean()), True


def budget_table(reg: pd.DataFrame, names: list[str], baseline: str,
                 horizon_years: float = 5.0) -> pd.DataFrame:
    """Per scenario and cost line: yearly cost (run mean, last 12 months), horizon total, paired difference.

    Cost columns of sim.metrics are at regency scale already.
    """
    lines = [(c, lab, f) for c, lab, f in BUDGET_LINES if c in reg.columns]
    per_run = []
    for run_id, g in reg.groupby("run_id", sort=False):
        first = g.iloc[0]
        rec: dict[str, object] = {"run_id": run_id, "scenario": first["scenario"], "replicate": int(first["replicate"])}
        for col, _, _ in lines:
            a, b, h, ex = _yearly(g, col, horizon_years)
            rec[f"{col}|year"], rec[f"{col}|last12"], rec[f"{col}|horizon"] = a, b, h
            rec["extrapolated"] = ex
        per_run.append(rec)
    pr = pd.DataFrame(per_run)
    rows = []
    for name in names:
        sub = pr[pr["scenario"] == name]
        if sub.empty:
            continue
        for col, label, funder in lines:
            rec = {"scenario": name, "baseline": baseline, "line": col.removesuffix("_rp_month"), "label": label,
                   "funder": funder, "horizon_years": horizon_years,
                   "horizon_extrapolated": bool(sub["extrapolated"].any())}
            for kind in ("year", "last12", "horizon"):
                n, mean, _, lo, hi = t_interval(sub[f"{col}|{kind}"].to_numpy())
                d = paired(pr, name, baseline, f"{col}|{kind}").to_numpy()
                _, dmean, _, dlo, dhi = t_interval(d)
                rec |= {f"{kind}_mean": mean, f"{kind}_low": lo, f"{kind}_high": hi,
                        f"{kind}_diff_mean": dmean, f"{kind}_diff_low": dlo, f"{kind}_diff_high": dhi}
            rec["n"] = n
            rows.append(rec)
    return pd.DataFrame(rows)
