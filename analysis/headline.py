"""The headline of a comparison: what each scenario costs and buys against the baseline, in one sentence.

    cap-150 costs Rp 12.3 bn a year more than baseline (last 12 months of the run; 95% interval
    Rp 12.1 bn to Rp 12.5 bn; APBN Rp 12.3 bn, APBD Rp 0.00 bn, Rp 61.5 bn over 5 years,
    extrapolated past the run) (posts 354 -> 640), and buys 1,234 more graduations
    (95% interval 1,100 to 1,350) and 2,345 fewer poor people (95% interval -500 to 5,000)
    over the 36-month run.

The yearly cost is the paired difference of the facilitation cost over the last 12 months
of the run (sim.processes.cost), split by funder, and over the comparison's horizon
(analysis.costeff.budget_table); posts are the baseline's funded posts at the start and
the scenario's at the end (regency scale, whole posts); graduations are cumulated over the
run and poor people counted at its end, paired by replicate. Counts are rounded to whole
people and posts. Caveats come first: a model with no posterior in its manifest is
*uncalibrated*, and fewer than ``MIN_REPLICATES`` replicates make the intervals unreliable.
"""

from __future__ import annotations

import math
from typing import Any

from analysis.compare import Comparison, format_table
from analysis.costeff import MIN_REPLICATES, paired
from analysis.intervals import t_interval


def rp_bn(v: float) -> str:
    """Rupiah in billions (miliar), two decimals below 10 bn, one above."""
    if not math.isfinite(v):
        return "-"
    b = v / 1e9
    return f"Rp {b:,.2f} bn" if abs(b) < 10 else f"Rp {b:,.1f} bn"


def _count(v: float) -> str:
    return f"{v:,.0f}" if math.isfinite(v) else "-"


def calibrated(manifest: dict[str, Any]) -> bool:
    """Whether the batch ran from a calibrated parameter set: a ``posterior`` in its manifest.

    A calibrated scenario names the posterior file that ``caseload calibrate`` wrote
    (scenario key ``posterior``; replicate i runs draw i), and the batch manifest records it
    with each scenario; every scenario of the batch must have one. A top-level
    ``posterior`` (or ``calibration.posterior``) counts too. A batch without one ran on the
    defaults of sim.params, whose [A] parameters are assumptions.
    """
    if manifest.get("posterior"):
        return True
    cal = manifest.get("calibration")
    if isinstance(cal, dict) and cal.get("posterior"):
        return True
    scen = manifest.get("scenarios", {})
    return bool(scen) and all(isinstance(v, dict) and v.get("posterior") for v in scen.values())


def caveats(c: Comparison) -> list[str]:
    """Warnings that belong above the numbers."""
    out = []
    if not calibrated(c.manifest):
        out.append("Model estimate from an UNCALIBRATED model (no posterior in the batch manifest): the parameters "
                   "tagged [A] are assumptions, so the sizes below are illustrative, not forecasts.")
    reps = [c.replicates(n) for n in c.scenarios if c.replicates(n)]
    n = min(reps) if reps else 0
    if n < MIN_REPLICATES:
        out.append(f"Only {n} replicate(s) per scenario: too few for the 95% intervals to be relied on "
                   f"(use at least {MIN_REPLICATES}: caseload batch ... --replicates {max(MIN_REPLICATES, 20)}).")
    return out


def _diff(c: Comparison, name: str, column: str, sign: float = 1.0) -> tuple[int, float, float, float]:
    if column not in c.ends:
        return 0, math.nan, math.nan, math.nan
    d = sign * paired(c.ends, name, c.baseline, column).to_numpy()
    n, mean, _, lo, hi = t_interval(d)
    return n, mean, lo, hi


def _interval(lo: float, hi: float, fmt: Any) -> str:
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "no interval"
    zero = " (includes 0)" if lo <= 0 <= hi else ""
    return f"95% interval {fmt(lo)} to {fmt(hi)}{zero}"


def _mean_end(c: Comparison, name: str, column: str) -> float:
    e = c.ends[c.ends["scenario"] == name]
    return float(e[column].mean()) if column in e and len(e) else math.nan


def sentence(c: Comparison, name: str) -> str:
    """The headline sentence of one scenario against the baseline."""
    e = c.ends
    months = int(_mean_end(c, name, "months")) if "months" in e else 0
    if "cost_year" in e:
        _, dc, clo, chi = _diff(c, name, "cost_year")
        when = "last 12 months of the run"
    else:
        _, dc, clo, chi = _diff(c, name, "cost_rp_cum")
        dc, clo, chi = (x * 12.0 / max(months, 1) for x in (dc, clo, chi))
        when = "mean over the run"
    more = "more" if not math.isfinite(dc) or dc >= 0 else "less"
    funders = []
    for col, who in (("cost_apbn_year", "APBN"), ("cost_apbd_year", "APBD")):
        if col in e:
            funders.append(f"{who} {rp_bn(_diff(c, name, col)[1])}")
    b = c.budget
    if not b.empty and "horizon_diff_mean" in b:
        row = b[(b["scenario"] == name) & (b["line"] == "cost")]
        if not row.empty and math.isfinite(float(row.iloc[0]["horizon_diff_mean"])):
            r0 = row.iloc[0]
            ex = ", extrapolated past the run" if r0["horizon_extrapolated"] else ""
            funders.append(f"{rp_bn(float(r0['horizon_diff_mean']))} over {c.horizon_years:g} years{ex}")
    posts = ""
    if "posts_start" in e and "posts" in e:
        posts = f" (posts {_count(round(_mean_end(c, c.baseline, 'posts_start')))} -> {_count(round(_mean_end(c, name, 'posts')))})"
    _, dg, glo, ghi = _diff(c, name, "graduations_cum")
    _, dp, plo, phi = _diff(c, name, "poor_people", -1.0)
    cost = (f"{name} costs {rp_bn(abs(dc))} a year {more} than {c.baseline} "
            f"({when}; {_interval(clo, chi, rp_bn)}{'; ' + ', '.join(funders) if funders else ''}){posts}")
    if not math.isfinite(dg):
        grads = "- graduations"
    elif dg < 0:
        grads = f"{_count(-dg)} fewer graduations"
    else:
        grads = f"{_count(dg)} more graduations"
    poor = (f"{_count(dp)} fewer poor people" if not math.isfinite(dp) or dp >= 0 else f"{_count(-dp)} more poor people")
    return (f"{cost}, and buys {grads} ({_interval(glo, ghi, _count)}) and {poor} "
            f"({_interval(plo, phi, _count)}) over the {months}-month run.")


def icer_sentence(c: Comparison, name: str) -> str:
    """Cost per unit of each effect, with its Fieller interval or the reason there is none."""
    t = c.icer
    if t.empty:
        return ""
    sub = t[(t["scenario"] == name) & (t["basis"] == "facilitation")] if "basis" in t else t[t["scenario"] == name]
    parts = []
    for r in sub.itertuples():
        if r.icer_interval == "bounded" and math.isfinite(r.icer):
            parts.append(f"{_rp_short(r.icer)} {r.label} (95% interval {_rp_short(r.icer_low)} to {_rp_short(r.icer_high)})")
        elif r.icer_interval == "dominated":
            parts.append(f"{r.label}: none (costs more and achieves less)")
        elif r.icer_interval == "unbounded":
            parts.append(f"{r.label}: interval unbounded (the effect is not distinguishable from 0)")
    out = ("Cost-effectiveness over the run: " + "; ".join(parts) + ".") if parts else ""
    if "basis" in t:
        tr = t[(t["scenario"] == name) & (t["basis"] != "facilitation") & (t["effect"] == "out_of_poverty")]
        if not tr.empty and tr.iloc[0]["icer_interval"] == "bounded":
            r = tr.iloc[0]
            out += (f" Counting the extra PKH and Sembako transfers it pays: {_rp_short(r.icer)} per person out of poverty "
                    f"(95% interval {_rp_short(r.icer_low)} to {_rp_short(r.icer_high)}).")
    return out


def _rp_short(v: float) -> str:
    if not math.isfinite(v):
        return "-"
    a, sign = abs(v), "-" if v < 0 else ""
    if a >= 1e9:
        return f"{sign}Rp {a / 1e9:,.2f} bn"
    if a >= 1e6:
        return f"{sign}Rp {a / 1e6:,.2f} m"
    return f"{sign}Rp {a:,.0f}"


def headline(c: Comparison) -> list[str]:
    """Caveats, then one sentence (and its cost-effectiveness) per scenario other than the baseline."""
    lines = caveats(c)
    for name in c.scenarios:
        if name == c.baseline or not c.replicates(name):
            continue
        lines.append(sentence(c, name))
        ic = icer_sentence(c, name)
        if ic:
            lines.append("  " + ic)
    return lines


def format_text(c: Comparison) -> str:
    """The comparison as plain text, headline first (what ``caseload compare`` prints)."""
    return "\n".join(["HEADLINE", *(f"  {x}" for x in headline(c)), "", format_table(c)])
