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

from analysis.compare import BY_NAME, INDICATORS, Comparison
from analysis.svg import PALETTE, Points, Series, bar_chart, line_chart, strip_chart, text, year_frac
from analysis.svg import nice_ticks as nice_ticks  # re-exported (analysis.report.nice_ticks)
from runs import io as sio
from runs.store import read_table
from sim import params

CAP = params.IDEAL_CASELOAD  # the Kemensos 1:150 reporting line


# ---------------------------------------------------------------------------- data for the figures


FLOWS = {"visits_per_family", "graduations", "quits", "attrition_rate_year", "cost_rp_month", "hires", "trained"}


def trajectories(reg: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per scenario and date: mean, 95% t-interval of the mean over replicates (flows from month 1)."""
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


def district_end(out: Path, manifest: dict[str, Any]) -> pd.DataFrame:
    """Per scenario and kecamatan: end-of-run means over replicates (counts at regency scale)."""
    cols = ["run_id", "scenario", "replicate", "step", "code", "district", "families", "facilitators", "caseload_mean",
            "wisn_ratio", "burnout_mean", "poverty_rate_pct"]
    d = read_table(out, "districts", manifest, columns=cols)
    last = d.groupby("run_id")["step"].transform("max")
    d = d[d["step"] == last].copy()
    scales = {k: float(e.get("scale", 1.0)) for k, e in manifest.get("runs", {}).items()}
    sc = d["run_id"].map(scales).fillna(1.0).astype(float)
    d["families"] = d["families"] / sc
    d["facilitators"] = d["facilitators"] / sc
    agg = d.groupby(["scenario", "code", "district"], sort=True)[
        ["families", "facilitators", "caseload_mean", "wisn_ratio", "burnout_mean", "poverty_rate_pct"]].mean()
    return agg.reset_index()


def _fmt_cell(ind_name: str, v: float, diff: bool = False) -> str:
    ind = BY_NAME[ind_name]
    return (ind.diff(v) if diff else ind.fmt(v)) if math.isfinite(v) else "-"


def summary_html(c: Comparison, colors: dict[str, str], names: list[str]) -> str:
    """Indicators x scenarios: mean [95% CI], and the paired difference to the baseline."""
    t = c.table
    head = "".join(f'<th><span class="sw" style="background:{colors[n]}"></span>{text(n)}</th>' for n in names)
    rows = []
    for ind in INDICATORS:
        cells = []
        for n in names:
            r = t[(t["indicator"] == ind.name) & (t["scenario"] == n)]
            if r.empty or r.iloc[0]["n"] == 0:
                cells.append("<td>-</td>")
                continue
            r0 = r.iloc[0]
            ci = (f'<br><span class="ci">[{_fmt_cell(ind.name, r0["ci_low"])}, {_fmt_cell(ind.name, r0["ci_high"])}]</span>'
                  if math.isfinite(r0["ci_low"]) else "")
            if n == c.baseline:
                diff = '<span class="diff">baseline</span>'
            else:
                sig = math.isfinite(r0["diff_ci_low"]) and (r0["diff_ci_low"] > 0 or r0["diff_ci_high"] < 0)
                dci = (f'<br>[{_fmt_cell(ind.name, r0["diff_ci_low"], True)}, {_fmt_cell(ind.name, r0["diff_ci_high"], True)}]'
                       if math.isfinite(r0["diff_ci_low"]) else "")
                sign = "+" if math.isfinite(r0["diff_mean"]) and r0["diff_mean"] > 0 else ""
                diff = (f'<span class="diff{" sig" if sig else ""}">&Delta; {sign}{_fmt_cell(ind.name, r0["diff_mean"], True)}'
                        f'{dci}</span>')
            cells.append(f'<td><b>{_fmt_cell(ind.name, r0["mean"])}</b>{ci}<br>{diff}</td>')
        rows.append(f'<tr><th class="ind">{text(ind.label)}<br><span class="unit">{text(ind.unit)}</span></th>'
                    + "".join(cells) + "</tr>")
    return (f'<div class="wide"><table class="summary"><thead><tr><th>indicator (end of run)</th>{head}</tr></thead><tbody>'
            + "".join(rows) + "</tbody></table></div>")


def district_html(de: pd.DataFrame, name: str, scale_note: str, open_: bool) -> str:
    """The district table of one scenario."""
    d = de[de["scenario"] == name].sort_values("caseload_mean", ascending=False)
    rows = []
    for r in d.itertuples():
        over = ' class="warn"' if math.isfinite(r.caseload_mean) and r.caseload_mean > CAP else ""
        short = ' class="warn"' if math.isfinite(r.wisn_ratio) and r.wisn_ratio < 1 else ""
        rows.append(
            f'<tr><td class="l">{text(r.district)}</td><td class="l">{text(r.code)}</td>'
            f"<td>{r.families:,.0f}</td><td>{r.facilitators:,.1f}</td>"
            f"<td{over}>{r.caseload_mean:,.0f}</td><td{short}>{r.wisn_ratio:.2f}</td><td>{r.burnout_mean:.3f}</td>"
            f"<td>{r.poverty_rate_pct:.2f}</td></tr>"
        )
    return (f'<details{" open" if open_ else ""}><summary>{text(name)}: {len(d)} kecamatan (model estimate)</summary>'
            '<table class="districts"><thead><tr><th>Kecamatan</th><th>code</th><th>KPM families</th><th>Facilitators</th>'
            '<th>Caseload (KPM per facilitator)</th><th>WISN ratio</th><th>Burnout (0-1)</th><th>Poverty rate (%)</th>'
            f'</tr></thead><tbody>{"".join(rows)}</tbody></table><p class="note">{scale_note}</p></details>')


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
"""


def build(c: Comparison) -> str:
    """The report's HTML."""
    m = c.manifest
    names = [c.baseline] + [n for n in c.scenarios if n != c.baseline]  # the baseline first, in blue
    colors = {n: PALETTE[k % len(PALETTE)] for k, n in enumerate(names)}
    ctx = _Ctx(c, names, colors)
    scen_meta = m.get("scenarios", {})
    ident = m.get("identity", {}).get("scenarios", {})

    # 1 poverty next to BPS / paper
    profiles = list(dict.fromkeys(ident.get(n, {}).get("profile") or scen_meta.get(n, {}).get("profile", "paper-2023")
                                  for n in names))
    tr = trajectories(c.regency, "poverty_rate_pct")
    series = [Series(f"{n} (model estimate)", colors[n], list(d["x"]), list(d["mean"]), list(d["lo"]), list(d["hi"]))
              for n in names if not (d := tr[tr["scenario"] == n]).empty]
    pts = []
    notes = []
    for prof, tg in _targets([p for p in profiles if p]):
        for lab in ("BPS", "paper", "reference"):
            sub = tg[[_ref_label(s) == lab for s in tg["source"]]]
            if sub.empty:
                continue
            # BPS measures poverty in March (Susenas): the model's state dated 1 April of that year
            xs = [y + 3 / 12 for y in sub["year"]]
            pts.append(Points(f"{lab} ({prof} profile)", xs, list(sub["poverty_rate_pct"]),
                              marker="circle" if lab == "BPS" else "diamond"))
            for r in sub.itertuples():
                notes.append(f"<b>{text(lab)}</b> {int(r.year)}: {r.poverty_rate_pct:.2f}% &mdash; {text(r.source)}")
    body = line_chart("Poverty rate", series, "poverty rate (% of population)", points=pts, yfmt=lambda v: f"{v:.2f}")
    ref_note = ("<br>Observed figures (profile targets, sim.profiles.poverty_targets; March survey, plotted at 1 April): "
                + "; ".join(notes)) if notes else ""
    ctx.figure("Poverty rate: model estimate next to the BPS or paper figures", body, _model_note(c) + ref_note)

    # 2 caseload
    cap_line = [(float(CAP), "1:150 norm (Kemensos, paper)")]
    _traj_fig(ctx, "caseload_mean", "Caseload per facilitator (mean) against the 1:150 line",
              "KPM families per facilitator", lambda v: f"{v:,.0f}", hlines=cap_line, y_zero=True,
              extra=" Mean caseload over facilitators in post. Dashed grey: the 1:150 reporting line (Kemensos norm "
                    "cited by the paper).")
    _traj_fig(ctx, "caseload_p95", "Caseload of the most loaded facilitators (95th percentile) against the 1:150 line",
              "KPM families per facilitator", lambda v: f"{v:,.0f}", hlines=cap_line, y_zero=True,
              extra=" 95th percentile of the caseload over facilitators in post (mean over replicates).")
    de = district_end(c.out, m)
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
    _bar_fig(ctx, "attrition", "Attrition: quits per facilitator-year (last 12 months)", "quits per facilitator-year", 1.0,
             lambda v: f"{v:.3f}")

    # 4 visits
    _traj_fig(ctx, "visits_per_family", "Home visits per family per month", "visits per family per month",
              lambda v: f"{v:.2f}", y_zero=True)
    _traj_fig(ctx, "share_unvisited_3m", "Families not visited for 3 months or more", "share of families (%)",
              lambda v: f"{100 * v:.0f}%", y_zero=True)

    # 5 cost
    _bar_fig(ctx, "cost_rp_cum", "Cost over the run (facilitator pay, operations, supervision, training, policies)",
             "Rp billion", 1e9, lambda v: f"{v:,.1f}", extra=" Regency scale (model cost / scale).")
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
                  + ("" if scales == [1.0] else f"Families and facilitators shown at regency scale (model count / scale "
                                                f"{'/'.join(f'{x:g}' for x in scales)}). ")
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
<h2>Scenarios</h2>
<table class="scen"><thead><tr><th>scenario</th><th>profile</th><th>months</th><th>scale</th><th>replicates</th>
<th>what it represents (English / Bahasa Indonesia)</th></tr></thead><tbody>{"".join(scen_rows)}</tbody></table>
<h2>Summary at the end of the run</h2>
<p class="note">Model estimate. Bold: mean over replicates, in brackets its 95% t-interval. &Delta;: difference to
<b>{text(c.baseline)}</b> paired by replicate (same seed), with its 95% t-interval; orange when the interval excludes 0.
States at the last month; attrition and visits over the last 12 months; graduations and cost over the whole run.</p>
{summary_html(c, colors, names)}
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
