"""A self-contained HTML report of a batch: inline SVG charts (drawn by analysis.svg), inline CSS.

The file opens with no network: no script, no font, no image, no style sheet and no
http(s) address anywhere (a URL inside a source text is shown without its scheme, as plain
text). Every figure says where its numbers come from: 'model estimate' for the simulator's
output, 'BPS' or 'paper' (with the source the data profile gives) for the observed
poverty figures of sim.profiles.poverty_targets.

Bands and whiskers are 95% t-intervals of the mean over replicates (as in analysis.compare).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.compare import BY_NAME, Comparison, Indicator, count_scales
from analysis.svg import PALETTE, REF_COLOR, Points, Series, bar_chart, line_chart, strip_chart, text, year_frac
from analysis.svg import nice_ticks as nice_ticks  # re-exported (analysis.report.nice_ticks)
from runs import io as sio
from runs.store import read_table
from sim import params

CAP = params.IDEAL_CASELOAD  # the Kemensos 1:150 reporting line
PROFILES = ("paper-2023", "official")  # Figure 1 shows one panel per data profile, whichever the batch ran
PROFILE_NOTE = {"paper-2023": "the paper's picture", "official": "BPS and Dinsos statistics"}
REF_NAMES = {"BPS": "BPS (via Open Data Jabar)", "paper": "the paper (Levianto & Warsidi 2025)"}


# ---------------------------------------------------------------------------- data for the figures


FLOWS = {"visits_per_family", "graduations", "quits", "attrition_pct_year", "cost_rp_month", "hires", "trained",
         "p2k2_coverage"}


def bounds_of(column: str) -> tuple[float, float] | None:
    """The range of a regency column (shares 0-1, percentages 0-100), or None when unbounded."""
    if column.startswith("share_") or column.startswith("burnout") or column in ("p2k2_coverage", "compliance_rate"):
        return (0.0, 1.0)
    if column == "poverty_rate_pct":
        return (0.0, 100.0)
    return None


def trajectories(reg: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per scenario and date: mean, 95% t-interval of the mean over replicates (flows from month 1).

    Bands of shares and percentages are cut at their bounds (analysis.intervals.clip).
    """
    from scipy import stats

    if column in FLOWS:
        reg = reg[reg["step"] > 0]
    g = reg.groupby(["scenario", "date"], sort=True)[column]
    df = g.agg(["mean", "std", "count"]).reset_index()
    n = df["count"].to_numpy(dtype=np.float64)
    sd = df["std"].fillna(0.0).to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        tq = np.where(n > 1, stats.t.ppf(0.975, np.maximum(n - 1, 1)), np.nan)
        half = np.where(sd > 0, tq * sd / np.sqrt(n), 0.0)
    half = np.where(n > 1, half, np.nan)
    df["lo"] = df["mean"] - half
    df["hi"] = df["mean"] + half
    b = bounds_of(column)
    if b is not None:
        df["lo"] = df["lo"].clip(lower=b[0])
        df["hi"] = df["hi"].clip(upper=b[1])
    df["x"] = [year_frac(d) for d in df["date"]]
    return df


def _ref_label(source: str) -> str:
    s = source.strip().lower()
    if s.startswith("paper"):
        return "paper"
    if "bps" in s:
        return "BPS"
    return "reference"


def _targets(profiles: list[str]) -> list[tuple[str, pd.DataFrame]]:
    from sim.profiles import load_profile, poverty_targets

    out = []
    for p in profiles:
        try:
            out.append((p, poverty_targets(load_profile(p))))
        except Exception:  # a profile without targets: nothing to plot next to the model
            continue
    return out


@dataclass
class _Ctx:
    c: Comparison
    names: list[str]
    colors: dict[str, str]
    figures: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    n_fig: int = 0

    def figure(self, title: str, body: str, source: str) -> None:
        self.n_fig += 1
        self.titles.append(title)
        self.figures.append(
            f'<figure id="fig{self.n_fig}"><h3>Figure {self.n_fig}. {text(title)}</h3>{body}'
            f'<figcaption>{source}</figcaption></figure>'
        )


def _model_note(c: Comparison, bands: str = "Shaded bands: 95% t-interval of the mean over replicates.") -> str:
    m = c.manifest
    reps = sorted({c.replicates(n) for n in c.scenarios})
    r = "/".join(str(x) for x in reps)
    return (f"<b>Source: model estimate</b> (caseload-sim, {r} replicate(s) per scenario, master seed "
            f"{text(m.get('master_seed'))}, code {text(m.get('code_version', '?'))}). {bands}")


def _traj_fig(ctx: _Ctx, column: str, title: str, y_label: str, yfmt: Callable[[float], str],
              extra: str = "", hlines: Sequence[tuple[float, str]] = (), y_zero: bool = False) -> None:
    reg = ctx.c.regency
    tr = trajectories(reg, column)
    series = []
    for n in ctx.names:
        d = tr[tr["scenario"] == n]
        if d.empty:
            continue
        series.append(Series(f"{n} (model estimate)", ctx.colors[n], list(d["x"]), list(d["mean"]),
                             list(d["lo"]), list(d["hi"])))
    body = line_chart(title, series, y_label, hlines=hlines, yfmt=yfmt, y_zero=y_zero)
    ctx.figure(title, body, _model_note(ctx.c) + extra)


def _bar_fig(ctx: _Ctx, ind_name: str, title: str, y_label: str, scale: float, yfmt: Callable[[float], str],
             extra: str = "") -> None:
    t = ctx.c.table[ctx.c.table["indicator"] == ind_name].set_index("scenario")
    names = [n for n in ctx.names if n in t.index]
    body = bar_chart(title, names, [ctx.colors[n] for n in names],
                     [float(t.loc[n, "mean"]) / scale for n in names],
                     [float(t.loc[n, "ci_low"]) / scale for n in names],
                     [float(t.loc[n, "ci_high"]) / scale for n in names], y_label, yfmt)
    ctx.figure(title, body, _model_note(ctx.c, "Bars: mean over replicates; whiskers: its 95% t-interval.") + extra)


def district_end(out: Path, manifest: dict[str, Any], regency_columns: Sequence[str] = ()) -> pd.DataFrame:
    """Per scenario and kecamatan: end-of-run means over replicates (counts at regency scale)."""
    d = read_table(out, "districts", manifest)
    scales = count_scales(manifest, [*regency_columns, *d.columns])
    d["_scale"] = d["run_id"].map(scales).fillna(1.0).astype(float)
    last = d.groupby("run_id")["step"].transform("max")
    end = d[d["step"] == last].copy()
    if "vacancies" in d:
        # vacancy-months per kecamatan: vacant posts summed over the simulated months (regency scale)
        m = d[d["step"] > 0]
        vm = (m["vacancies"] / m["_scale"]).groupby([m["run_id"], m["code"]]).sum().rename("vacancy_months")
        end = end.merge(vm.reset_index(), on=["run_id", "code"], how="left")
    end["families"] = end["families"] / end["_scale"]
    end["facilitators"] = end["facilitators"] / end["_scale"]
    cols = [c for c in DISTRICT_COLUMNS if c in end.columns]
    agg = end.groupby(["scenario", "code", "district"], sort=True)[cols].mean()
    return agg.reset_index()


def _fmt_cell(ind: Indicator | str, v: float, diff: bool = False) -> str:
    if isinstance(ind, str):
        ind = BY_NAME[ind]
    return (ind.diff(v) if diff else ind.fmt(v)) if math.isfinite(v) else "-"


def summary_html(c: Comparison, colors: dict[str, str], names: list[str]) -> str:
    """Indicators x scenarios: mean [95% CI], and the paired difference to the baseline."""
    t = c.table
    head = "".join(f'<th><span class="sw" style="background:{colors[n]}"></span>{text(n)}</th>' for n in names)
    rows = []
    for ind in c.indicators:
        cells = []
        for n in names:
            r = t[(t["indicator"] == ind.name) & (t["scenario"] == n)]
            if r.empty or r.iloc[0]["n"] == 0:
                cells.append("<td>-</td>")
                continue
            r0 = r.iloc[0]
            ci = (f'<br><span class="ci">[{_fmt_cell(ind, r0["ci_low"])}, {_fmt_cell(ind, r0["ci_high"])}]</span>'
                  if math.isfinite(r0["ci_low"]) else "")
            if n == c.baseline:
                diff = '<span class="diff">baseline</span>'
            else:
                sig = math.isfinite(r0["diff_ci_low"]) and (r0["diff_ci_low"] > 0 or r0["diff_ci_high"] < 0)
                dci = (f'<br>[{_fmt_cell(ind, r0["diff_ci_low"], True)}, {_fmt_cell(ind, r0["diff_ci_high"], True)}]'
                       if math.isfinite(r0["diff_ci_low"]) else "")
                sign = "+" if math.isfinite(r0["diff_mean"]) and r0["diff_mean"] > 0 else ""
                diff = (f'<span class="diff{" sig" if sig else ""}">&Delta; {sign}{_fmt_cell(ind, r0["diff_mean"], True)}'
                        f'{dci}</span>')
            cells.append(f'<td><b>{_fmt_cell(ind, r0["mean"])}</b>{ci}<br>{diff}</td>')
        rows.append(f'<tr><th class="ind">{text(ind.label)}<br><span class="unit">{text(ind.unit)}</span></th>'
                    + "".join(cells) + "</tr>")
    return (f'<div class="wide"><table class="summary"><thead><tr><th>indicator (end of run)</th>{head}</tr></thead><tbody>'
            + "".join(rows) + "</tbody></table></div>")


#: district-table columns shown in the report: (column, header, format); optional ones only when present.
#: Counts of people and posts are whole numbers at regency scale (means over replicates, rounded).
DISTRICT_COLUMNS_FMT: tuple[tuple[str, str, Callable[[float], str]], ...] = (
    ("families", "KPM families", lambda v: f"{round(v):,d}"),
    ("facilitators", "Facilitators", lambda v: f"{round(v):,d}"),
    ("caseload_mean", "Caseload (KPM per facilitator)", lambda v: f"{v:,.0f}"),
    ("wisn_ratio", "WISN ratio", lambda v: f"{v:.2f}"),
    ("burnout_mean", "Burnout, facilitators (0-1)", lambda v: f"{v:.3f}"),
    ("burnout_family_mean", "Burnout of the family's facilitator (0-1)", lambda v: f"{v:.3f}"),
    ("share_unvisited_3m", "Unvisited 3+ months (%)", lambda v: f"{100 * v:.1f}"),
    ("share_unvisited_6m", "Unvisited 6+ months (%)", lambda v: f"{100 * v:.1f}"),
    ("p2k2_coverage", "P2K2 coverage (%)", lambda v: f"{100 * v:.0f}"),
    ("admin_backlog_months", "Admin backlog (months per family)", lambda v: f"{v:.2f}"),
    ("vacancy_months", "Vacancy-months over the run", lambda v: f"{round(v):,d}"),
    ("poverty_rate_pct", "Poverty rate (%)", lambda v: f"{v:.2f}"),
)
DISTRICT_COLUMNS: tuple[str, ...] = tuple(c for c, _, _ in DISTRICT_COLUMNS_FMT)


def district_html(de: pd.DataFrame, name: str, scale_note: str, open_: bool) -> str:
    """The district table of one scenario (columns the batch has; whole families, facilitators and posts)."""
    d = de[de["scenario"] == name].sort_values("caseload_mean", ascending=False)
    cols = [(c, h, f) for c, h, f in DISTRICT_COLUMNS_FMT if c in d.columns]
    rows = []
    for r in d.to_dict("records"):
        cells = []
        for c, _, f in cols:
            v = float(r[c])
            warn = (c == "caseload_mean" and math.isfinite(v) and v > CAP) or (c == "wisn_ratio" and math.isfinite(v) and v < 1)
            cells.append(f'<td{" class=\"warn\"" if warn else ""}>{f(v) if math.isfinite(v) else "-"}</td>')
        rows.append(f'<tr><td class="l">{text(r["district"])}</td><td class="l">{text(r["code"])}</td>{"".join(cells)}</tr>')
    head = "".join(f"<th>{text(h)}</th>" for _, h, _ in cols)
    return (f'<details{" open" if open_ else ""}><summary>{text(name)}: {len(d)} kecamatan (model estimate)</summary>'
            f'<table class="districts"><thead><tr><th>Kecamatan</th><th>code</th>{head}'
            f'</tr></thead><tbody>{"".join(rows)}</tbody></table><p class="note">{scale_note}</p></details>')


def headline_html(c: Comparison) -> str:
    """The headline: caveats in a box, then one sentence and its cost-effectiveness per scenario."""
    from analysis.headline import caveats, icer_sentence, sentence

    warn = "".join(f"<p>{text(x)}</p>" for x in caveats(c))
    parts = []
    for n in c.scenarios:
        if n == c.baseline or not c.replicates(n):
            continue
        ic = icer_sentence(c, n)
        parts.append(f'<p class="head">{text(sentence(c, n))}</p>' + (f'<p class="note">{text(ic)}</p>' if ic else ""))
    return (f'<div class="caveat">{warn}</div>' if warn else "") + "".join(parts)


def icer_html(c: Comparison) -> str:
    """Cost-effectiveness table: extra cost per extra unit of each effect, paired by replicate."""
    from analysis.compare import _rp

    t = c.icer
    if t.empty:
        return '<p class="note">No scenario besides the baseline.</p>'
    rows = []
    for r in t.itertuples():
        d = 2 if r.effect == "poverty_pp" else 0
        eff = f"{r.d_effect_mean:,.{d}f}"
        eci = (f"[{r.d_effect_low:,.{d}f}, {r.d_effect_high:,.{d}f}]" if math.isfinite(r.d_effect_low) else "-")
        if r.icer_interval == "bounded":
            ci = f"[{_rp(r.icer_low)}, {_rp(r.icer_high)}]"
        elif r.icer_interval == "dominated":
            ci = "dominated: costs more, achieves less"
        elif r.icer_interval == "unbounded":
            ci = "unbounded: the effect is not distinguishable from 0"
        else:
            ci = text(r.icer_interval)
        boot = f"[{_rp(r.boot_low)}, {_rp(r.boot_high)}]" if r.boot_interval == "bounded" else text(r.boot_interval)
        icer = _rp(r.icer) if math.isfinite(r.icer) and r.icer_interval in ("bounded", "unbounded") else "-"
        rows.append(f'<tr><td class="l">{text(r.scenario)}</td><td class="l">{text(r.basis)}</td>'
                    f'<td class="l">{text(r.label)}</td><td>{r.n}</td>'
                    f'<td>{_rp(r.d_cost_mean)}</td><td>{eff}<br><span class="ci">{eci}</span></td>'
                    f'<td><b>{icer}</b></td><td>{ci}</td><td class="ci">{boot}</td></tr>')
    return ('<table class="scen"><thead><tr><th>scenario</th><th>cost counted</th><th>effect</th><th>n</th>'
            '<th>extra cost over the run</th>'
            '<th>extra effect [95%]</th><th>cost per unit</th><th>95% interval (Fieller)</th><th>bootstrap check</th>'
            f'</tr></thead><tbody>{"".join(rows)}</tbody></table>')


def budget_html(c: Comparison, colors: dict[str, str]) -> str:
    """Yearly budget by line and funder per scenario, with the paired difference to the baseline."""
    from analysis.compare import _rp

    b = c.budget
    if b.empty:
        return '<p class="note">The batch\'s tables have no cost lines by funder (written before they were added).</p>'
    h = c.horizon_years
    rows = []
    for r in b.itertuples():
        vals = [r.year_mean, r.last12_mean, r.horizon_mean]
        if not any(math.isfinite(v) and abs(v) > 0 for v in [*vals, r.last12_diff_mean]):
            continue
        diff = ("" if r.scenario == c.baseline else
                f"{_rp(r.last12_diff_mean)}<br><span class=\"ci\">[{_rp(r.last12_diff_low)}, {_rp(r.last12_diff_high)}]</span>"
                if math.isfinite(r.last12_diff_mean) else "-")
        total = ' style="font-weight:600"' if r.line in ("cost_apbn", "cost_apbd", "cost") else ""
        rows.append(f'<tr{total}><td class="l"><span class="sw" style="background:{colors.get(r.scenario, "#999")}"></span>'
                    f'{text(r.scenario)}</td><td class="l">{text(r.label)}</td><td class="l">{text(r.funder)}</td>'
                    + "".join(f"<td>{_rp(v) if math.isfinite(v) else '-'}</td>" for v in vals) + f"<td>{diff}</td></tr>")
    ex = (" Beyond the run, the horizon total extrapolates the last 12 months' rate."
          if b["horizon_extrapolated"].any() else "")
    return ('<table class="scen"><thead><tr><th>scenario</th><th>line</th><th>funder</th><th>per year, mean over the run</th>'
            f'<th>per year, last 12 months</th><th>over {h:g} years</th><th>difference to {text(c.baseline)} '
            f'(last 12 months, 95% interval)</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
            f'<p class="note">Model estimate, Rp at regency scale. APBN: the national budget, through Kemensos '
            '(facilitator honoraria and operational money, the programme\'s supervisors, courses, PKH and Sembako '
            'transfers); APBD: the regency\'s budget, through Dinas Sosial (regional incentive top-ups, extra '
            'supervision, lever costs charged to the regency), following Levianto &amp; Warsidi (2025) '
            'recommendations 4-5; rules and sources in sim/processes/cost.py. Transfers are shown beside the '
            f'facilitation cost, not in it.{ex}</p>')


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:24px auto;max-width:1100px;
color:#222;line-height:1.4;padding:0 16px}
h1{font-size:1.6em;margin-bottom:4px}h2{border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:36px}
h3{font-size:1.05em;margin:8px 0}
.meta{color:#555;font-size:.9em}
table{border-collapse:collapse;font-size:.86em;margin:8px 0}
th,td{border:1px solid #ddd;padding:4px 7px;vertical-align:top;text-align:right}
th{background:#f5f5f5;text-align:left}
table.scen td{text-align:left}
td.l{text-align:left}
.wide{overflow-x:auto}table.summary td{white-space:nowrap;font-size:.95em}
.ci{color:#666;font-size:.92em}.diff{color:#555;font-size:.9em}.diff.sig{color:#a40;font-weight:600}
.unit{font-weight:normal;color:#777;font-size:.85em}.ind{min-width:170px}
.sw{display:inline-block;width:10px;height:10px;margin-right:5px;border-radius:2px}
figure{margin:18px 0;padding:10px;border:1px solid #e3e3e3;border-radius:6px;background:#fcfcfc}
figcaption{font-size:.85em;color:#444;margin-top:6px}
svg.chart{max-width:100%;height:auto;font-family:inherit}
td.warn{background:#fde8e1}
details{margin:10px 0}summary{cursor:pointer;font-weight:600}
.note{font-size:.85em;color:#555}
.id{font-style:italic;color:#555}
.caveat{background:#fff4e5;border:1px solid #f0b26b;border-radius:6px;padding:2px 12px;margin:8px 0}
p.head{font-size:1.05em;font-weight:600}
.pair{display:flex;flex-wrap:wrap;gap:8px}.panel{flex:1 1 470px}h4{margin:4px 0;font-size:.95em}
"""


def build(c: Comparison) -> str:
    """The report's HTML."""
    m = c.manifest
    names = [c.baseline] + [n for n in c.scenarios if n != c.baseline]  # the baseline first, in blue
    colors = {n: PALETTE[k % len(PALETTE)] for k, n in enumerate(names)}
    ctx = _Ctx(c, names, colors)
    scen_meta = m.get("scenarios", {})
    ident = m.get("identity", {}).get("scenarios", {})

    # 1 poverty next to BPS and the paper, one panel per data profile
    profile_of = {n: ident.get(n, {}).get("profile") or scen_meta.get(n, {}).get("profile", "paper-2023") for n in names}
    tr = trajectories(c.regency, "poverty_rate_pct")
    observed = _targets(list(PROFILES))
    pts = []
    notes = []
    for prof, tg in observed:
        for lab in ("BPS", "paper", "reference"):
            sub = tg[[_ref_label(s) == lab for s in tg["source"]]]
            if sub.empty:
                continue
            # BPS measures poverty in March (Susenas): the model's state dated 1 April of that year
            xs = [y + 3 / 12 for y in sub["year"]]
            pts.append(Points(REF_NAMES.get(lab, lab), xs, list(sub["poverty_rate_pct"]),
                              marker="circle" if lab == "BPS" else "diamond",
                              color=REF_COLOR if lab == "BPS" else "#8B4513"))
            for r in sub.itertuples():
                notes.append(f"<b>{text(lab)}</b> {int(r.year)}: {r.poverty_rate_pct:.2f}% &mdash; {text(r.source)} "
                             f"(profile {text(prof)})")
    # both panels on the same axes, so the profiles can be read against each other
    xr = [v for v in tr["x"]] + [x for p in pts for x in p.x]
    yr = [v for col in ("lo", "hi", "mean") for v in tr[col] if math.isfinite(v)] + [y for p in pts for y in p.y]
    x_range = (min(xr), max(xr)) if xr else None
    y_range = (min(yr), max(yr)) if yr else None
    panels = []
    for prof in PROFILES:
        series = [Series(f"{n} (model estimate)", colors[n], list(d["x"]), list(d["mean"]), list(d["lo"]), list(d["hi"]))
                  for n in names if profile_of[n] == prof and not (d := tr[tr["scenario"] == n]).empty]
        chart = line_chart(f"Poverty rate, {prof} profile", series, "poverty rate (% of population)", points=pts,
                           yfmt=lambda v: f"{v:.2f}", width=470, height=280, x_range=x_range, y_range=y_range)
        empty = "" if series else '<p class="note">(no scenario of this batch uses this profile: observed figures only)</p>'
        panels.append(f'<div class="panel"><h4>{text(prof)} profile{" (" + PROFILE_NOTE[prof] + ")" if prof in PROFILE_NOTE else ""}'
                      f'</h4>{chart}{empty}</div>')
    body = f'<div class="pair">{"".join(panels)}</div>'
    ref_note = ("<br><b>Observed figures</b> (March survey, plotted at 1 April): BPS, Kabupaten Bekasi poverty, via "
                "Open Data Jabar; the paper: Levianto &amp; Warsidi (2025), Abstract and sec. 1 (profile targets, sim.profiles.poverty_targets). " + "; ".join(notes)
                ) if notes else ""
    ctx.figure("Poverty rate: model estimate next to BPS and the paper, for both data profiles", body,
               _model_note(c) + ref_note)

    # 2 caseload
    cap_line = [(float(CAP), "1:150 norm (Kemensos, paper)")]
    _traj_fig(ctx, "caseload_mean", "Caseload per facilitator (mean) against the 1:150 line",
              "KPM families per facilitator", lambda v: f"{v:,.0f}", hlines=cap_line, y_zero=True,
              extra=" Mean caseload over facilitators in post. Dashed grey: the 1:150 reporting line (Kemensos norm "
                    "cited by the paper).")
    _traj_fig(ctx, "caseload_p95", "Caseload of the most loaded facilitators (95th percentile) against the 1:150 line",
              "KPM families per facilitator", lambda v: f"{v:,.0f}", hlines=cap_line, y_zero=True,
              extra=" 95th percentile of the caseload over facilitators in post (mean over replicates).")
    de = district_end(c.out, m, list(c.regency.columns))
    reg_end = c.table[c.table["indicator"] == "caseload_mean"].set_index("scenario")
    rows = [(n, colors[n], [(r.district, float(r.caseload_mean)) for r in de[de["scenario"] == n].itertuples()],
             float(reg_end.loc[n, "mean"]) if n in reg_end.index else math.nan) for n in names]
    ctx.figure("Caseload by kecamatan at the end of the run",
               strip_chart("Caseload by kecamatan", rows, "KPM families per facilitator (end of run, mean over replicates)",
                           (float(CAP), "1:150")),
               _model_note(c, "Dots: kecamatan (mean over replicates); black bar: regency mean caseload.")
               + " Dashed: the 1:150 reporting line (Kemensos norm cited by the paper).")

    # 3 burnout and attrition
    _traj_fig(ctx, "burnout_mean", "Burnout of facilitators", "mean burnout (0-1)", lambda v: f"{v:.2f}")
    _traj_fig(ctx, "share_burned_out", "Share of facilitators burned out (B > 0.5)", "share burned out (%)",
              lambda v: f"{100 * v:.0f}%", y_zero=True)
    _bar_fig(ctx, "attrition_pct_year", "Attrition: leavers per 100 facilitators a year (last 12 months)",
             "% of facilitators per year", 1.0, lambda v: f"{v:.1f}")
    if "burnout_family_mean" in c.regency:
        _traj_fig(ctx, "burnout_family_mean", "Burnout of the facilitator a family has (family-weighted)",
                  "mean burnout over families (0-1)", lambda v: f"{v:.2f}", y_zero=True,
                  extra=" Each family counts once, with the burnout of her facilitator (families without one are left "
                        "out): overloaded facilitators carry more families, so this is above the mean over facilitators.")

    # 4 visits
    _traj_fig(ctx, "visits_per_family", "Home visits per family per month", "visits per family per month",
              lambda v: f"{v:.2f}", y_zero=True)
    _traj_fig(ctx, "share_unvisited_3m", "Families not visited for 3 months or more", "share of families (%)",
              lambda v: f"{100 * v:.0f}%", y_zero=True)
    if "share_unvisited_6m" in c.regency:
        _traj_fig(ctx, "share_unvisited_6m", "Families not visited for 6 months or more", "share of families (%)",
                  lambda v: f"{100 * v:.0f}%", y_zero=True, extra=" Contact = a home visit; P2K2 group sessions are shown "
                                                                 "separately.")
    if "share_unvisited_3m_kec_worst10" in c.regency:
        _traj_fig(ctx, "share_unvisited_3m_kec_worst10",
                  "Equity: families unvisited 3+ months among the worst-off 10% of families (by kecamatan)",
                  "share of families (%)", lambda v: f"{100 * v:.0f}%", y_zero=True,
                  extra=" Kecamatan ranked by their share unvisited; the worst are taken until they hold 10% of all "
                        "families (sim.metrics.worst_share_mean).")
    if "admin_backlog_months" in c.regency:
        _traj_fig(ctx, "admin_backlog_months", "Admin backlog: months of data entry outstanding per family",
                  "months per family (mean)", lambda v: f"{v:.2f}", y_zero=True,
                  extra=" e-PKH / SIKS-NG data the facilitators could not enter in time (sim/processes/timebudget.py).")
    if "p2k2_coverage" in c.regency:
        _traj_fig(ctx, "p2k2_coverage", "P2K2 coverage: share of the monthly group sessions held (family-weighted)",
                  "share of sessions (%)", lambda v: f"{100 * v:.0f}%", y_zero=True)

    # 5 cost
    _bar_fig(ctx, "cost_rp_cum", "Cost over the run (facilitator pay, operations, supervision, training, policies)",
             "Rp billion", 1e9, lambda v: f"{v:,.1f}", extra=" Regency scale.")
    if "cost_apbn_year" in set(c.table["indicator"]):
        _bar_fig(ctx, "cost_apbn_year", "Yearly cost paid from APBN (Kemensos), last 12 months", "Rp billion a year", 1e9,
                 lambda v: f"{v:,.1f}", extra=" Honoraria, operational money, programme supervisors, courses "
                                               "(sim/processes/cost.py). Transfers not included.")
        _bar_fig(ctx, "cost_apbd_year", "Yearly cost paid from APBD (the regency), last 12 months", "Rp billion a year", 1e9,
                 lambda v: f"{v:,.2f}", extra=" Regional incentive top-ups, extra supervision, lever costs charged to "
                                               "the regency (sim/processes/cost.py).")
    _bar_fig(ctx, "cost_per_graduation_rp", "Cost per graduated family", "Rp million per graduation", 1e6,
             lambda v: f"{v:,.2f}", extra=" Cumulative cost divided by cumulative graduations over the run.")

    # header and tables
    n_runs = len(c.ends)
    failed = m.get("failed", [])
    scen_rows = []
    for n in names:
        s = scen_meta.get(n, {})
        idn = ident.get(n, {})
        desc = text(s.get("description", ""))
        desc_id = text(s.get("description_id", ""))
        scen_rows.append(
            f'<tr><td class="l"><span class="sw" style="background:{colors[n]}"></span><b>{text(n)}</b>'
            f'{" (baseline)" if n == c.baseline else ""}</td><td class="l">{text(s.get("profile", ""))}</td>'
            f'<td>{text(idn.get("months", s.get("months", "")))}</td><td>{text(idn.get("scale", s.get("scale", "")))}</td>'
            f'<td>{c.replicates(n)}</td><td class="l">{desc}'
            + (f'<br><span class="id">{desc_id}</span>' if desc_id else "") + "</td></tr>"
        )
    scales = sorted({float(v.get("scale", 1.0)) for v in ident.values()}) or [1.0]
    scale_note = ("Model estimate, end of run, mean over replicates. "
                  + ("" if scales == [1.0] else f"Families and vacancy-months at regency scale, as whole numbers, estimated "
                                                f"from a sample of families (scale {'/'.join(f'{x:g}' for x in scales)}); "
                                                "facilitators are never scaled. ")
                  + "Red: caseload above 150, or WISN ratio below 1 (fewer facilitators than the WHO WISN workload "
                    "method says the kecamatan needs; sim.metrics).")
    districts = "".join(district_html(de, n, scale_note, open_=(n == c.baseline)) for n in names)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    fails = (f'<p class="note"><b>{len(failed)} run(s) failed</b> and are left out: {text(", ".join(failed))}</p>'
             if failed else "")
    toc = "".join(f'<li><a href="#fig{k + 1}">{text(t)}</a></li>' for k, t in enumerate(ctx.titles))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Caseload batch report: {text(c.out.name)}</title><style>{CSS}</style></head>
<body>
<h1>Social facilitators and KPM families in Kabupaten Bekasi: batch report</h1>
<p class="meta">Batch folder <b>{text(c.out.name)}</b> &middot; {n_runs} finished runs &middot; {len(names)} scenario(s)
&middot; master seed {text(m.get('master_seed'))} (replicate i has the same seed in every scenario) &middot;
code {text(m.get('code_version', '?'))} &middot; report generated {generated}.
Every number below is a <b>model estimate</b> of the caseload simulator unless it is labelled BPS or paper.</p>
{fails}
<h2>Headline</h2>
{headline_html(c)}
<h2>Scenarios</h2>
<table class="scen"><thead><tr><th>scenario</th><th>profile</th><th>months</th><th>scale</th><th>replicates</th>
<th>what it represents (English / Bahasa Indonesia)</th></tr></thead><tbody>{"".join(scen_rows)}</tbody></table>
<h2>Summary at the end of the run</h2>
<p class="note">Model estimate. Bold: mean over replicates, in brackets its 95% t-interval. &Delta;: difference to
<b>{text(c.baseline)}</b> paired by replicate (same seed), with its 95% t-interval; orange when the interval excludes 0.
States at the last month; attrition and visits over the last 12 months; graduations and cost over the whole run.</p>
{summary_html(c, colors, names)}
<h2>Cost-effectiveness</h2>
<p class="note">Model estimate. Extra facilitation cost over the run (regency scale) divided by the extra effect, both
paired by replicate against <b>{text(c.baseline)}</b>: ratio of the mean differences. The 95% interval is Fieller's (t with
n-1 degrees of freedom); when the extra effect is not distinguishable from 0 the interval is unbounded and no cost per
unit can be given. A percentile bootstrap over replicate pairs is shown as a check. Poverty effects are read at the
end of the run, graduations and home visits over it.</p>
{icer_html(c)}
<h2>Budget by funder</h2>
{budget_html(c, colors)}
<h2>Figures</h2><ol class="note">{toc}</ol>
{"".join(ctx.figures)}
<h2>Kecamatan at the end of the run</h2>
{districts}
<h2>Provenance</h2>
<p class="note">Scenario files and data files are hashed (sha256) in {text(c.out.name)}/manifest.json with the package
versions ({text(", ".join(f"{k} {v}" for k, v in m.get("versions", {}).items()))}) and the sha256 of every result file.
Comparison table as CSV: compare.csv. Sources of every parameter default: sim/params.py (caseload params).</p>
</body></html>
"""


def write(c: Comparison, path: Path) -> Path:
    """Write the report atomically and return its path."""
    path = Path(path)
    doc = build(c)
    def _w(tmp: Path) -> None:
        tmp.write_text(doc, encoding="utf-8")

    sio.atomic_write(path, _w)
    return path
