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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis import costeff
from analysis.intervals import clip
from analysis.intervals import t_interval as t_interval  # re-exported (analysis.compare.t_interval)
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


SHARE = (0.0, 1.0)
PCT = (0.0, 100.0)


@dataclass(frozen=True)
class Indicator:
    """An end-of-run indicator.

    ``how``: state (last month) | scaled (last month / scale: a count of agents) | transfers
    (PKH + Sembako transfers summed over the run, Rp) | flow
    (mean of the last 12 months) | attrition (leavers per 100 facilitator-years, last 12
    months) | count (cumulative column / scale) | sum (sum over the months of the column
    / scale) | visits (home visits over the run, regency scale) | year (mean of the last
    12 months x 12: a yearly amount). ``bounds``: the range of the quantity (intervals are
    cut at it). ``optional``: shown only when the batch's tables have the column (older
    batches, or columns another part of the model adds).
    """

    name: str
    label: str
    unit: str
    how: str
    fmt: Callable[[float], str]
    dfmt: Callable[[float], str] | None = None  # differences (shares: percentage points)
    bounds: tuple[float, float] | None = None
    optional: bool = False
    column: str = ""  # source column when it differs from ``name``

    def diff(self, v: float) -> str:
        """A difference in this indicator's units."""
        return (self.dfmt or self.fmt)(v)

    @property
    def source(self) -> str:
        """The regency-table column this indicator is computed from."""
        if self.column:
            return self.column
        return {"attrition": "quits", "visits": "visits_per_family"}.get(self.how, self.name)


INDICATORS: tuple[Indicator, ...] = (
    Indicator("poverty_rate_pct", "Poverty rate", "% of population", "state", _num(2), bounds=PCT),
    Indicator("poor_people", "Poor people", "persons (regency scale)", "state", _num(0)),
    Indicator("poverty_rate_pre_transfer_pct", "Poverty rate before transfers", "% of population, welfare without PKH and "
              "Sembako", "state", _num(2), bounds=PCT, optional=True),
    Indicator("caseload_mean", "Caseload, mean", "KPM families per facilitator", "state", _num(1)),
    Indicator("caseload_p95", "Caseload, 95th percentile", "KPM families per facilitator", "state", _num(1)),
    Indicator("share_fac_over_cap", "Facilitators above 1:150", "share of facilitators (0-1)", "state", _pct(1), _pp(1),
              SHARE),
    Indicator("posts", "Funded posts", "posts (regency scale)", "scaled", _num(0), optional=True),
    Indicator("vacancy_months", "Vacancy-months", "vacant post-months over the run (regency scale)", "sum", _num(0),
              optional=True, column="vacancies"),
    Indicator("burnout_mean", "Burnout, mean over facilitators", "0-1", "state", _num(3), bounds=SHARE),
    Indicator("burnout_family_mean", "Burnout of the family's facilitator", "0-1, mean over families with one",
              "state", _num(3), bounds=SHARE, optional=True),
    Indicator("share_burned_out", "Burned out (B > 0.5)", "share of facilitators (0-1)", "state", _pct(1), _pp(1), SHARE),
    Indicator("attrition_pct_year", "Attrition", "% of facilitators per year, last 12 months", "attrition", _num(1)),
    Indicator("visits_per_family", "Home visits per family", "visits per family per month, last 12 months", "flow", _num(3)),
    Indicator("visits_cum", "Home visits, cumulative", "visits over the run (regency scale)", "visits", _num(0),
              optional=True, column="families"),
    Indicator("share_unvisited_3m", "Families unvisited 3+ months", "share of families (0-1)", "state", _pct(1), _pp(1),
              SHARE),
    Indicator("share_unvisited_6m", "Families unvisited 6+ months", "share of families (0-1)", "state", _pct(1), _pp(1),
              SHARE, optional=True),
    Indicator("share_unvisited_3m_kec_worst10", "Unvisited 3+ months, worst-off 10% of families",
              "share, families of the worst kecamatan (0-1)", "state", _pct(1), _pp(1), SHARE, optional=True),
    Indicator("poverty_rate_pct_kec_spread", "Poverty rate, spread across kecamatan",
              "pp, p90 - p10 (population-weighted)", "state", _num(2), optional=True),
    Indicator("p2k2_coverage", "P2K2 coverage", "share of sessions held, family-weighted (0-1)", "flow", _pct(1),
              _pp(1), SHARE, optional=True),
    # recorded by the time budget (sim/processes/timebudget.py) when it keeps an admin backlog
    Indicator("admin_backlog_months", "Admin backlog", "months of data entry outstanding per family (mean)", "state",
              _num(2), optional=True),
    Indicator("admin_backlog_h_per_facilitator", "Admin backlog per facilitator", "hours outstanding per filled post",
              "state", _num(1), optional=True),
    Indicator("share_payments_held", "PKH payments withheld", "share of PKH families (0-1), late verification data",
              "state", _pct(1), _pp(1), SHARE, optional=True),
    Indicator("graduations_cum", "Graduations, cumulative", "families over the run (regency scale)", "count", _num(0)),
    Indicator("cost_rp_cum", "Cost, cumulative", "Rp over the run (regency scale)", "state", _rp),
    Indicator("cost_year", "Cost per year", "Rp a year, last 12 months (regency scale)", "year", _rp,
              optional=True, column="cost_rp_month"),
    Indicator("cost_apbn_year", "Cost per year, APBN", "Rp a year, last 12 months: Kemensos", "year", _rp,
              optional=True, column="cost_apbn_rp_month"),
    Indicator("cost_apbd_year", "Cost per year, APBD", "Rp a year, last 12 months: the regency", "year", _rp,
              optional=True, column="cost_apbd_rp_month"),
    Indicator("cost_per_graduation_rp", "Cost per graduated family", "Rp per graduation", "state", _rp),
    Indicator("transfers_cum", "Transfers to families, cumulative", "Rp over the run: PKH and Sembako (APBN)",
              "transfers", _rp, optional=True, column="transfers_pkh_rp_month"),
)
BY_NAME: dict[str, Indicator] = {i.name: i for i in INDICATORS}


def extra_indicators(columns: Sequence[str]) -> list[Indicator]:
    """Indicators for columns other parts of the model add (the admin backlog), when present."""
    out = []
    for col in columns:
        if col.startswith("admin_backlog") and col not in BY_NAME:
            rest = col.removeprefix("admin_backlog").strip("_").replace("_", " ")
            out.append(Indicator(col, "Admin backlog" + (f" ({rest})" if rest else ""),
                                 "as recorded by the model, end of run", "state", _num(1)))
    return out


#: a regency table with this column holds every count at regency scale already (the model
#: weighs sampled families by 1 / scale and never scales facilitators); older tables hold
#: counts in simulated units, which analysis divides by the run's scale
AT_REGENCY_SCALE = "families_simulated"


def count_scales(manifest: dict[str, Any], columns: Sequence[str]) -> dict[str, float]:
    """Per run id, the divisor that takes a table's counts to regency scale (1 when they already are)."""
    if AT_REGENCY_SCALE in set(columns):
        return {k: 1.0 for k in manifest.get("runs", {})}
    return {k: float(e.get("scale", 1.0)) for k, e in manifest.get("runs", {}).items()}


def available(columns: Sequence[str]) -> list[Indicator]:
    """The indicators a regency table with ``columns`` can give (optional ones need their column)."""
    cols = set(columns)
    return [i for i in INDICATORS if not i.optional or i.source in cols] + extra_indicators(list(columns))


def end_values(reg: pd.DataFrame, scale: float = 1.0, indicators: Sequence[Indicator] | None = None) -> dict[str, float]:
    """End-of-run indicators of one run's regency table (plus ``posts_start`` and ``months``).

    Counts are taken to regency scale by dividing by ``scale``, except in tables that hold
    them at regency scale already (``AT_REGENCY_SCALE``: every table the model writes now).
    """
    if AT_REGENCY_SCALE in reg.columns:
        scale = 1.0
    reg = reg.sort_values("step")
    last = reg.iloc[-1]
    months = reg[reg["step"] > 0]
    flows = months.tail(FLOW_MONTHS)
    if flows.empty:
        flows = reg.tail(1)
    out: dict[str, float] = {}
    for ind in indicators if indicators is not None else available(list(reg.columns)):
        col = ind.source
        if ind.how == "attrition":
            fac = float(flows["facilitators"].mean())
            out[ind.name] = 100.0 * float(flows["quits"].sum()) / max(fac, 1.0) * 12.0 / len(flows)
        elif ind.how == "flow":
            out[ind.name] = float(flows[col].mean())
        elif ind.how == "year":
            out[ind.name] = 12.0 * float(flows[col].mean())
        elif ind.how in ("count", "scaled"):
            out[ind.name] = float(last[col]) / scale
        elif ind.how == "sum":
            out[ind.name] = float(months[col].sum()) / scale
        elif ind.how == "transfers":
            out[ind.name] = float(months["transfers_pkh_rp_month"].sum() + months["transfers_sembako_rp_month"].sum())
        elif ind.how == "visits":
            out[ind.name] = float((months["visits_per_family"] * months["families"]).sum()) / scale
        else:
            out[ind.name] = float(last[col])
    if "posts" in reg:
        out["posts_start"] = float(reg.iloc[0]["posts"]) / scale
    out["months"] = float(len(months))
    return out


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
    indicators: list[Indicator] = field(default_factory=lambda: list(INDICATORS))  # those the tables can give
    icer: pd.DataFrame = field(default_factory=pd.DataFrame)    # analysis.costeff.icer_table
    budget: pd.DataFrame = field(default_factory=pd.DataFrame)  # analysis.costeff.budget_table
    horizon_years: float = 5.0

    def replicates(self, scenario: str) -> int:
        """Finished replicates of a scenario."""
        return int((self.ends["scenario"] == scenario).sum())


def scenario_order(manifest: dict[str, Any]) -> list[str]:
    """Scenario names in the order the batch was given."""
    ident = manifest.get("identity", {}).get("scenarios", {})
    return list(manifest.get("scenario_order") or ident or manifest.get("scenarios", {}))


def load(out: Path, baseline: str | None = None, horizon_years: float = 5.0) -> Comparison:
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
    scales = count_scales(m, list(reg.columns))
    inds = available(list(reg.columns))
    rows = []
    for run_id, g in reg.groupby("run_id", sort=False):
        g = g.sort_values("step")
        last = g.iloc[-1]
        rows.append({"run_id": run_id, "scenario": last["scenario"], "replicate": int(last["replicate"]),
                     "seed": int(last["seed"]), "step": int(last["step"]), "date": str(last["date"]),
                     **end_values(g, scales.get(str(run_id), 1.0), inds)})
    ends = pd.DataFrame(rows).sort_values(["scenario", "replicate"], kind="stable").reset_index(drop=True)
    table = summarize(ends, names, baseline, inds)
    missing = [n for n in names if not (ends["scenario"] == n).any()]
    if missing:
        print(f"warning: no finished runs for {', '.join(missing)}", file=sys.stderr)
    icer = costeff.icer_table(ends, names, baseline)
    budget = costeff.budget_table(reg, names, baseline, horizon_years)
    return Comparison(out, m, names, baseline, ends, table, reg, inds, icer, budget, horizon_years)


def summarize(ends: pd.DataFrame, names: list[str], baseline: str,
              indicators: Sequence[Indicator] | None = None) -> pd.DataFrame:
    """Per indicator and scenario: mean, t-interval, percentiles, paired difference to the baseline.

    Intervals of bounded quantities (shares, percentages) are cut at their bounds
    (analysis.intervals.clip).
    """
    base = ends[ends["scenario"] == baseline].set_index("replicate")
    rows = []
    for ind in indicators if indicators is not None else INDICATORS:
        for name in names:
            g = ends[ends["scenario"] == name].set_index("replicate")
            x = g[ind.name].to_numpy(dtype=np.float64)
            n, mean, sd, lo, hi = t_interval(x)
            lo, hi = clip(lo, hi, ind.bounds)
            fin = x[np.isfinite(x)]
            common = g.index.intersection(base.index)
            d = (g.loc[common, ind.name] - base.loc[common, ind.name]).to_numpy(dtype=np.float64)
            dn, dmean, dsd, dlo, dhi = t_interval(d)
            dlo, dhi = clip(dlo, dhi, ind.bounds, diff=True)
            rows.append({
                "indicator": ind.name, "label": ind.label, "unit": ind.unit, "scenario": name, "baseline": baseline,
                "n": n, "mean": mean, "sd": sd, "ci_low": lo, "ci_high": hi,
                "p2_5": float(np.percentile(fin, 2.5)) if fin.size else math.nan,
                "p97_5": float(np.percentile(fin, 97.5)) if fin.size else math.nan,
                "diff_n": dn, "diff_mean": dmean, "diff_sd": dsd, "diff_ci_low": dlo, "diff_ci_high": dhi,
                "interval": "95% t-interval of the mean over replicates; diff paired by replicate"
                            + ("; cut at the bounds of the quantity" if ind.bounds else ""),
                "at_step": int(g["step"].max()) if len(g) else -1,
                "at_date": str(g["date"].max()) if len(g) else "",
            })
    return pd.DataFrame(rows)


def _cell(fmt: Callable[[float], str], v: float) -> str:
    return fmt(v) if math.isfinite(v) else "-"


def format_icer(c: Comparison) -> list[str]:
    """The cost-effectiveness block: one line per scenario and effect."""
    t = c.icer
    if t.empty:
        return []
    w = max(8, *(len(n) for n in c.scenarios))
    lines = [f"Cost-effectiveness against '{c.baseline}': extra facilitation cost over the run / extra effect, "
             "paired by replicate; 95% interval by Fieller's method (bootstrap over replicate pairs as a check)",
             f"  {'scenario':<{w}}  {'n':>3}  {'cost':<13}  {'effect':<26}  {'extra effect [95%]':>32}  "
             f"{'cost per unit':>14}  {'95% interval (Fieller)':>30}  {'bootstrap':>30}"]
    for r in t.itertuples():
        d = 2 if r.effect == "poverty_pp" else 0
        eff = (f"{r.d_effect_mean:,.{d}f} [{r.d_effect_low:,.{d}f}, {r.d_effect_high:,.{d}f}]"
               if math.isfinite(r.d_effect_low) else f"{r.d_effect_mean:,.{d}f}")
        if r.icer_interval == "bounded":
            ci = f"[{_rp(r.icer_low)}, {_rp(r.icer_high)}]"
        elif r.icer_interval == "dominated":
            ci = "dominated (costs more, less effect)"
        else:
            ci = str(r.icer_interval)
        boot = f"[{_rp(r.boot_low)}, {_rp(r.boot_high)}]" if r.boot_interval == "bounded" else str(r.boot_interval)
        basis = "+ transfers" if r.basis != "facilitation" else "facilitation"
        lines.append(f"  {r.scenario:<{w}}  {r.n:>3}  {basis:<13}  {r.label:<26}  {eff:>32}  {_cell(_rp, r.icer):>14}  "
                     f"{ci:>30}  {boot:>30}")
    lines.append("  cost: facilitation (honoraria, operations, supervision, courses) or facilitation + the extra PKH and "
                 "Sembako transfers paid; extra effects are in graduations, persons, visits and pp of poverty (regency scale)"
                 + ("; unbounded: the extra effect is not distinguishable from 0, so no finite interval holds its "
                    "cost per unit" if (t["icer_interval"] == "unbounded").any() else ""))
    return lines


def format_budget(c: Comparison) -> list[str]:
    """The budget block: yearly cost by line and funder per scenario, and the paired difference."""
    b = c.budget
    if b.empty:
        return []
    h = c.horizon_years
    ex = " (extrapolated beyond the run at the last 12 months' rate)" if b["horizon_extrapolated"].any() else ""
    lines = [f"Budget by funder (Rp a year, regency scale; APBN: national budget via Kemensos, APBD: the regency's "
             f"via Dinas Sosial; sim.processes.cost): mean over the run, last 12 months, and over {h:g} years{ex}; "
             f"diff = paired difference to '{c.baseline}' (last 12 months)"]
    for name in c.scenarios:
        sub = b[b["scenario"] == name]
        if sub.empty:
            continue
        lines.append(f"  {name}")
        for r in sub.itertuples():
            if not any(abs(v) > 0 for v in (r.year_mean, r.last12_mean, r.last12_diff_mean) if math.isfinite(v)):
                continue
            diff = "" if name == c.baseline else \
                f"  diff {_cell(_rp, r.last12_diff_mean):>12} [{_cell(_rp, r.last12_diff_low)}, {_cell(_rp, r.last12_diff_high)}]"
            lines.append(f"    {r.label:<48} {r.funder:<9} {_cell(_rp, r.year_mean):>12}  {_cell(_rp, r.last12_mean):>12}  "
                         f"{h:g} y {_cell(_rp, r.horizon_mean):>12}{diff}")
    return lines


def format_table(c: Comparison) -> str:
    """The comparison as plain text: cost-effectiveness, budget, then one block per indicator.

    ``analysis.headline.format_text`` puts the headline above it (``caseload compare`` prints that).
    """
    t = c.table
    w = max(8, *(len(n) for n in c.scenarios))
    lines: list[str] = []
    for block in (format_icer(c), format_budget(c)):
        if block:
            lines += [*block, ""]
    lines += [
        f"{c.out}: {len(c.ends)} runs; mean and 95% t-interval of the mean over replicates at the end of the run "
        "(shares cut at [0, 1]); "
        f"difference to '{c.baseline}' paired by replicate (same seed); * = interval excludes 0",
    ]
    for ind in c.indicators:
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


def write_csv(c: Comparison, path: Path) -> list[Path]:
    """Write the comparison table (raw numbers) as CSV, atomically, with ``*_icer.csv`` and ``*_budget.csv`` beside it."""
    path = Path(path)
    out = [path]
    sio.write_csv(c.table, path)
    for kind, df in (("icer", c.icer), ("budget", c.budget)):
        if not df.empty:
            p = path.with_name(f"{path.stem}_{kind}{path.suffix or '.csv'}")
            sio.write_csv(df, p)
            out.append(p)
    return out
