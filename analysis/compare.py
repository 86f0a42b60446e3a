"""Compare the scenarios of a batch: end-of-run indicators, intervals, paired differences.

For every indicator and scenario: the mean over replicates and its 95% **t-interval**
(mean +- t(0.975, n-1) x sd / sqrt(n): an interval for the mean, not for one run; the CSV
also gives the 2.5 and 97.5 percentiles of the replicates). The paired difference to the
baseline takes, for each replicate index i present in both, x(scenario, i) - x(baseline, i)
(the same seed: common random numbers), and gives its mean and 95% t-interval. A scenario
identical to the baseline has every difference exactly 0, hence a zero mean and a [0, 0]
interval.

Indicators are read at the end of the run (the last recorded month): states at the last
month; flows (attrition, visits) over the last 12 months (or all months if fewer);
graduations and cost cumulated over the run. Every count and cost in a regency table is at
regency scale whatever the run's scale (sim.metrics).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from runs import io as sio
from runs import store

FLOW_MONTHS = 12


def _num(d: int) -> Callable[[float], str]:
    return lambda v: f"{v:,.{d}f}"


def _pct(d: int) -> Callable[[float], str]:
    return lambda v: f"{100 * v:.{d}f}%"


def _pp(d: int) -> Callable[[float], str]:
    return lambda v: f"{100 * v:.{d}f} pp"


def _rp(v: float) -> str:
    a, sign = abs(v), "-" if v < 0 else ""
    if a >= 1e12:
        return f"{sign}Rp{a / 1e12:.2f} tn"
    if a >= 1e9:
        return f"{sign}Rp{a / 1e9:.2f} bn"
    if a >= 1e6:
        return f"{sign}Rp{a / 1e6:.2f} m"
    return f"{sign}Rp{a:,.0f}"


@dataclass(frozen=True)
class Indicator:
    """An end-of-run indicator."""

    name: str
    label: str
    unit: str
    how: str  # state (last month) | flow (mean of the last 12 months) | attrition | count (cumulative)
    fmt: Callable[[float], str]
    dfmt: Callable[[float], str] | None = None  # differences (shares: percentage points)

    def diff(self, v: float) -> str:
        """A difference in this indicator's units."""
        return (self.dfmt or self.fmt)(v)


INDICATORS: tuple[Indicator, ...] = (
    Indicator("poverty_rate_pct", "Poverty rate", "% of population", "state", _num(2)),
    Indicator("caseload_mean", "Caseload, mean", "KPM families per facilitator", "state", _num(1)),
    Indicator("caseload_p95", "Caseload, 95th percentile", "KPM families per facilitator", "state", _num(1)),
    Indicator("share_fac_over_cap", "Facilitators above 1:150", "share of facilitators (0-1)", "state", _pct(1), _pp(1)),
    Indicator("burnout_mean", "Burnout, mean", "0-1", "state", _num(3)),
    Indicator("share_burned_out", "Burned out (B > 0.5)", "share of facilitators (0-1)", "state", _pct(1), _pp(1)),
    Indicator("attrition", "Attrition", "quits per facilitator-year, last 12 months", "attrition", _num(3)),
    Indicator("visits_per_family", "Home visits per family", "visits per family per month, last 12 months", "flow", _num(3)),
    Indicator("share_unvisited_3m", "Families unvisited 3+ months", "share of families (0-1)", "state", _pct(1), _pp(1)),
    Indicator("graduations_cum", "Graduations, cumulative", "families over the run (regency scale)", "count", _num(0)),
    Indicator("cost_rp_cum", "Cost, cumulative", "Rp over the run (regency scale)", "state", _rp),
    Indicator("cost_per_graduation_rp", "Cost per graduated family", "Rp per graduation", "state", _rp),
)
BY_NAME: dict[str, Indicator] = {i.name: i for i in INDICATORS}


def end_values(reg: pd.DataFrame, scale: float = 1.0) -> dict[str, float]:
    """End-of-run indicators of one run's regency table.

    Every count in a regency table is already at regency scale (sim.metrics), so ``scale``
    is not used; it is kept so that callers need not change.
    """
    reg = reg.sort_values("step")
    last = reg.iloc[-1]
    flows = reg[reg["step"] > 0].tail(FLOW_MONTHS)
    if flows.empty:
        flows = reg.tail(1)
    out: dict[str, float] = {}
    for ind in INDICATORS:
        if ind.how == "attrition":
            fac = float(flows["facilitators"].mean())
            out[ind.name] = float(flows["quits"].sum()) / max(fac, 1.0) * 12.0 / len(flows)
        elif ind.how == "flow":
            out[ind.name] = float(flows[ind.name].mean())
        elif ind.how == "count":
            out[ind.name] = float(last[ind.name])
        else:
            out[ind.name] = float(last[ind.name])
    return out


def t_interval(x: np.ndarray | list[float], level: float = 0.95) -> tuple[int, float, float, float, float]:
    """(n, mean, sd, low, high): mean and t-interval of the mean; an all-equal sample gives [x, x]."""
    from scipy import stats

    a = np.asarray(x, dtype=np.float64)
    a = a[np.isfinite(a)]
    n = int(a.size)
    if n == 0:
        return 0, math.nan, math.nan, math.nan, math.nan
    mean = float(a.mean())
    if n == 1:
        return 1, mean, math.nan, math.nan, math.nan
    sd = float(a.std(ddof=1))
    if np.all(a == a[0]):
        return n, float(a[0]), 0.0, float(a[0]), float(a[0])
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return n, mean, sd, mean - half, mean + half


@dataclass
class Comparison:
    """The end-of-run values of every run and the per-indicator summary."""

    out: Path
    manifest: dict[str, Any]
    scenarios: list[str]
    baseline: str
    ends: pd.DataFrame     # one row per run: run_id, scenario, replicate, seed, end step/date, indicators
    table: pd.DataFrame    # one row per indicator and scenario
    regency: pd.DataFrame  # every run's regency table

    def replicates(self, scenario: str) -> int:
        """Finished replicates of a scenario."""
        return int((self.ends["scenario"] == scenario).sum())


def scenario_order(manifest: dict[str, Any]) -> list[str]:
    """Scenario names in the order the batch was given."""
    ident = manifest.get("identity", {}).get("scenarios", {})
    return list(manifest.get("scenario_order") or ident or manifest.get("scenarios", {}))


def load(out: Path, baseline: str | None = None) -> Comparison:
    """Read a batch folder and compute the comparison."""
    out = Path(out)
    m = store.load_manifest(out)
    assert m is not None
    if m.get("kind") == "sweep":
        raise store.BatchError(f"{out} holds a sweep; its results are in {out}/samples.csv and {out}/sensitivity.csv")
    names = scenario_order(m)
    if baseline is None:
        baseline = "baseline" if "baseline" in names else names[0]
    elif baseline not in names:
        raise store.BatchError(f"--baseline {baseline}: not a scenario of this batch; scenarios: {', '.join(names)}")
    reg = store.read_table(out, "regency", m)
    scales = {k: float(e.get("scale", 1.0)) for k, e in m.get("runs", {}).items()}
    rows = []
    for run_id, g in reg.groupby("run_id", sort=False):
        g = g.sort_values("step")
        last = g.iloc[-1]
        rows.append({"run_id": run_id, "scenario": last["scenario"], "replicate": int(last["replicate"]),
                     "seed": int(last["seed"]), "step": int(last["step"]), "date": str(last["date"]),
                     **end_values(g, scales.get(str(run_id), 1.0))})
    ends = pd.DataFrame(rows).sort_values(["scenario", "replicate"], kind="stable").reset_index(drop=True)
    table = summarize(ends, names, baseline)
    missing = [n for n in names if not (ends["scenario"] == n).any()]
    if missing:
        print(f"warning: no finished runs for {', '.join(missing)}", file=sys.stderr)
    return Comparison(out, m, names, baseline, ends, table, reg)


def summarize(ends: pd.DataFrame, names: list[str], baseline: str) -> pd.DataFrame:
    """Per indicator and scenario: mean, t-interval, percentiles, paired difference to the baseline."""
    base = ends[ends["scenario"] == baseline].set_index("replicate")
    rows = []
    for ind in INDICATORS:
        for name in names:
            g = ends[ends["scenario"] == name].set_index("replicate")
            x = g[ind.name].to_numpy(dtype=np.float64)
            n, mean, sd, lo, hi = t_interval(x)
            fin = x[np.isfinite(x)]
            common = g.index.intersection(base.index)
            d = (g.loc[common, ind.name] - base.loc[common, ind.name]).to_numpy(dtype=np.float64)
            dn, dmean, dsd, dlo, dhi = t_interval(d)
            rows.append({
                "indicator": ind.name, "label": ind.label, "unit": ind.unit, "scenario": name, "baseline": baseline,
                "n": n, "mean": mean, "sd": sd, "ci_low": lo, "ci_high": hi,
                "p2_5": float(np.percentile(fin, 2.5)) if fin.size else math.nan,
                "p97_5": float(np.percentile(fin, 97.5)) if fin.size else math.nan,
                "diff_n": dn, "diff_mean": dmean, "diff_sd": dsd, "diff_ci_low": dlo, "diff_ci_high": dhi,
                "interval": "95% t-interval of the mean over replicates; diff paired by replicate",
                "at_step": int(g["step"].max()) if len(g) else -1,
                "at_date": str(g["date"].max()) if len(g) else "",
            })
    return pd.DataFrame(rows)


def _cell(fmt: Callable[[float], str], v: float) -> str:
    return fmt(v) if math.isfinite(v) else "-"


def format_table(c: Comparison) -> str:
    """The comparison as plain text, one block per indicator."""
    t = c.table
    w = max(8, *(len(n) for n in c.scenarios))
    lines = [
        f"{c.out}: {len(c.ends)} runs; mean and 95% t-interval of the mean over replicates at the end of the run; "
        f"difference to '{c.baseline}' paired by replicate (same seed); * = interval excludes 0",
    ]
    for ind in INDICATORS:
        sub = t[t["indicator"] == ind.name]
        if sub.empty:
            continue
        at = sorted(set(sub["at_date"]) - {""})
        lines.append("")
        lines.append(f"{ind.label} ({ind.unit}) [{ind.name}], end of run {', '.join(at)}")
        lines.append(f"  {'scenario':<{w}}  {'n':>3}  {'mean':>12}  {'95% interval':>29}  {'diff':>12}  {'95% interval':>29}")
        for r in sub.itertuples():
            f = ind.fmt
            ci = f"[{_cell(f, r.ci_low)}, {_cell(f, r.ci_high)}]" if math.isfinite(r.ci_low) else "-"
            if r.scenario == c.baseline:
                dpart = f"{'(baseline)':>12}"
            else:
                g = ind.diff
                dci = f"[{_cell(g, r.diff_ci_low)}, {_cell(g, r.diff_ci_high)}]" if math.isfinite(r.diff_ci_low) else "-"
                star = " *" if math.isfinite(r.diff_ci_low) and (r.diff_ci_low > 0 or r.diff_ci_high < 0) else ""
                dpart = f"{_cell(g, r.diff_mean):>12}  {dci:>29}{star}"
            lines.append(f"  {r.scenario:<{w}}  {r.n:>3}  {_cell(f, r.mean):>12}  {ci:>29}  {dpart}")
    return "\n".join(lines)


def write_csv(c: Comparison, path: Path) -> None:
    """Write the comparison table (raw numbers) as CSV, atomically."""
    sio.write_csv(c.table, Path(path))
