"""The offline HTML fit report of a calibration folder (inline SVG, no script, no network).

Sections: targets against the posterior predictive simulations (median and 90% band, each
target standardised by its sigma, fitted and held out), the poverty and poor-people
trajectories with the BPS points and the projection to 2030, marginal posteriors (weighted
histograms over the prior range), pairwise posteriors, convergence (epsilon, acceptance
rate and effective sample size per generation) and, when the folder holds a screening,
the Morris sensitivity ranking. Every simulated figure is labelled a model estimate.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.svg import PALETTE, Points, Series, Svg, line_chart, text, year_frac
from calibration.engine import Prior
from calibration.targets import TargetSet

CSS = """body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;color:#222}
table{border-collapse:collapse;font-size:13px}td,th{border-bottom:1px solid #ddd;padding:3px 6px;text-align:right}
td.l,th.l{text-align:left}.warn{color:#b00}.note{color:#555;font-size:13px}figure{margin:1.5em 0}
.grid{display:flex;flex-wrap:wrap;gap:8px}"""


def _band(x: np.ndarray, q: float) -> float:
    return float(np.quantile(x, q)) if len(x) else math.nan


def _interval_chart(checks: pd.DataFrame) -> str:
    """One row per target: the 90% predictive band and median in units of the target's sigma."""
    rows = checks.reset_index(drop=True)
    w, rh, ml, mr = 960, 18, 260, 40
    h = 40 + rh * len(rows)
    lo = float(np.nanmin([(rows["q05"] - rows["observed"]) / rows["sigma"]]))
    hi = float(np.nanmax([(rows["q95"] - rows["observed"]) / rows["sigma"]]))
    lo, hi = min(lo, -3.0), max(hi, 3.0)
    lo, hi = max(lo, -12.0), min(hi, 12.0)

    def sx(v: float) -> float:
        return ml + (min(max(v, lo), hi) - lo) / (hi - lo) * (w - ml - mr)

    svg = Svg(w, h, "targets against posterior predictive simulations")
    for v in range(math.ceil(lo), math.floor(hi) + 1):
        svg.add(f'<line x1="{sx(v):.1f}" y1="20" x2="{sx(v):.1f}" y2="{h - 15}" stroke="{"#111" if v == 0 else "#eee"}"/>')
        svg.txt(sx(v), 14, f"{v:+d}" if v else "0 = observed", anchor="middle", size=10)
    for k, r in rows.iterrows():
        y = 30 + rh * int(k)
        color = PALETTE[1] if r["holdout"] else PALETTE[0]
        a, b, m = ((r["q05"] - r["observed"]) / r["sigma"], (r["q95"] - r["observed"]) / r["sigma"],
                   (r["median"] - r["observed"]) / r["sigma"])
        svg.txt(ml - 6, y + 4, f"{r['target']}{' (held out)' if r['holdout'] else ''}", anchor="end", size=11)
        if all(math.isfinite(v) for v in (a, b, m)):
            svg.add(f'<line x1="{sx(a):.1f}" y1="{y}" x2="{sx(b):.1f}" y2="{y}" stroke="{color}" stroke-width="5" opacity="0.5"/>')
            svg.add(f'<circle cx="{sx(m):.1f}" cy="{y}" r="4" fill="{color}"/>')
    svg.txt(w / 2, h - 2, "(simulated - observed) / sigma; sigma = sqrt(observation error^2 + model discrepancy^2)",
            anchor="middle", size=10)
    return svg.render()


def _hist(x: np.ndarray, wts: np.ndarray, low: float, high: float, name: str, truth: float | None = None) -> str:
    w, h, m = 300, 170, 30
    bins = np.linspace(low, high, 21)
    cnt, _ = np.histogram(np.clip(x, low, high), bins=bins, weights=wts)
    top = float(cnt.max()) or 1.0
    svg = Svg(w, h, f"marginal posterior of {name}")
    bw = (w - 2 * m) / 20
    for i, c in enumerate(cnt):
        bh = (h - 60) * c / top
        svg.add(f'<rect x="{m + i * bw:.1f}" y="{h - 30 - bh:.1f}" width="{bw - 1:.1f}" height="{bh:.1f}" fill="{PALETTE[0]}" opacity="0.7"/>')
    svg.add(f'<line x1="{m}" y1="{h - 30}" x2="{w - m}" y2="{h - 30}" stroke="#333"/>')
    svg.txt(m, h - 16, f"{low:.4g}", size=10)
    svg.txt(w - m, h - 16, f"{high:.4g}", anchor="end", size=10)
    svg.txt(w / 2, 14, name, anchor="middle", size=11, weight="bold")
    if truth is not None:
        tx = m + (truth - low) / (high - low) * (w - 2 * m)
        svg.add(f'<line x1="{tx:.1f}" y1="20" x2="{tx:.1f}" y2="{h - 30}" stroke="{PALETTE[1]}" stroke-dasharray="4 3"/>')
    svg.txt(w / 2, h - 3, "prior range (uniform); bars: posterior weight", anchor="middle", size=9)
    return svg.render()


def _scatter(x: np.ndarray, y: np.ndarray, wts: np.ndarray, rx: tuple[float, float], ry: tuple[float, float],
             nx: str, ny: str) -> str:
    w = h = 220
    m = 28
    svg = Svg(w, h, f"pairwise posterior of {nx} and {ny}")
    svg.add(f'<rect x="{m}" y="{m}" width="{w - 2 * m}" height="{h - 2 * m}" fill="none" stroke="#999"/>')
    top = float(wts.max()) or 1.0
    for a, b, c in zip(x, y, wts, strict=True):
        px = m + (a - rx[0]) / (rx[1] - rx[0]) * (w - 2 * m)
        py = h - m - (b - ry[0]) / (ry[1] - ry[0]) * (h - 2 * m)
        svg.add(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="{1.5 + 2.5 * math.sqrt(c / top):.1f}" fill="{PALETTE[0]}" opacity="0.35"/>')
    svg.txt(w / 2, h - 8, nx, anchor="middle", size=10)
    svg.txt(10, h / 2, ny, anchor="middle", size=10, rotate=-90)
    return svg.render()


def _series_chart(label: str, xs: list[float], ys: list[float], y_label: str) -> str:
    w, h, ml, mb = 310, 170, 46, 30
    svg = Svg(w, h, label)
    if not xs:
        return svg.render()
    lo, hi = min(ys), max(ys)
    if not hi > lo:
        lo, hi = lo - 1, hi + 1
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1

    def sx(v: float) -> float:
        return ml + (v - x0) / (x1 - x0) * (w - ml - 10)

    def sy(v: float) -> float:
        return h - mb - (v - lo) / (hi - lo) * (h - mb - 25)

    svg.add('<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>'.format(
        PALETTE[0], " ".join(f"{sx(a):.1f},{sy(b):.1f}" for a, b in zip(xs, ys, strict=True))))
    for a, b in zip(xs, ys, strict=True):
        svg.add(f'<circle cx="{sx(a):.1f}" cy="{sy(b):.1f}" r="3" fill="{PALETTE[0]}"/>')
    svg.txt(w / 2, 14, label, anchor="middle", size=11, weight="bold")
    svg.txt(ml - 4, sy(hi) + 4, f"{hi:.3g}", anchor="end", size=10)
    svg.txt(ml - 4, sy(lo) + 4, f"{lo:.3g}", anchor="end", size=10)
    svg.txt(w / 2, h - 6, y_label, anchor="middle", size=10)
    return svg.render()


def _traj(traj: pd.DataFrame, ts: TargetSet, col: str, stat: str, title: str, y_label: str, scale_people: bool) -> str:
    t = traj.copy()
    if scale_people and "scale" in t:
        pass  # regency people columns are already at full scale (sim.metrics)
    g = t.groupby("date")[col]
    qs = pd.DataFrame({"med": g.median(), "lo": g.quantile(0.05), "hi": g.quantile(0.95)}).reset_index()
    xs = [year_frac(d) for d in qs["date"]]
    series = [Series("posterior predictive median and 90% band (model estimate)", PALETTE[0], xs, list(qs["med"]),
                     list(qs["lo"]), list(qs["hi"]))]
    fit_pts = [x for x in ts.targets if x.statistic == stat and not x.holdout]
    hold = [x for x in ts.targets if x.statistic == stat and x.holdout]
    pts = [Points("observed, fitted", [year_frac(f"{x.at}-01") for x in fit_pts], [x.value for x in fit_pts]),
           Points("observed, held out", [year_frac(f"{x.at}-01") for x in hold], [x.value for x in hold],
                  marker="diamond", color=PALETTE[1])]
    return line_chart(title, series, y_label, points=[p for p in pts if p.x],
                      yfmt=(lambda v: f"{v:,.0f}") if scale_people else (lambda v: f"{v:.2f}"))


def build(out: Path, ts: TargetSet, prior: Prior, truth: dict[str, float] | None = None) -> str:
    """The report's HTML for calibration folder ``out``."""
    import pyarrow.parquet as pq

    post = pd.read_parquet(out / "posterior.parquet")
    meta = json.loads((pq.read_schema(out / "posterior.parquet").metadata or {}).get(b"caseload-calibration", b"{}"))
    diag = pd.read_csv(out / "diagnostics.csv")
    summ = pd.read_csv(out / "posterior_summary.csv")
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>Calibration report: {text(ts.name)}</title>"
             f"<style>{CSS}</style></head><body>",
             f"<h1>Calibration report: {text(ts.name)}</h1>",
             f"<p>{text(ts.description)}</p>",
             f"<p class='note'>Method {text(meta.get('method'))}; {text(meta.get('simulations'))} simulations in "
             f"{text(meta.get('generations'))} generation(s); setup {text(ts.setup.profile)} from {text(ts.setup.start)}, "
             f"{text(ts.setup.months)} months, scale {text(ts.setup.scale)}. Targets sha256 {text(ts.sha256[:16])}, data "
             f"{text(meta.get('data_hash'))}, code {text(meta.get('code_hash'))} ({text(meta.get('code_version'))}). "
             "<b>Every simulated figure is a model estimate.</b></p>"]
    checks_path = out / "checks.csv"
    if checks_path.exists():
        checks = pd.read_csv(checks_path)
        fitted = checks[~checks["holdout"]]
        parts.append("<h2>1. Targets against the posterior predictive simulations</h2>")
        parts.append(f"<p>{int(fitted['inside_90'].sum())} of {len(fitted)} fitted targets lie inside the 90% "
                     "posterior predictive band (the model's band widened by the observation error and the model "
                     "discrepancy). Chart: the model's median and 90% band. Blue: fitted; orange: held out "
                     "(out-of-sample).</p>")
        parts.append(_interval_chart(checks))
        parts.append("<table><tr><th class='l'>target</th><th>year</th><th>observed</th><th>sigma</th><th>median</th>"
                     "<th>model 90% band</th><th>predictive 90% band</th><th>error</th><th>z</th><th class='l'>source</th></tr>")
        for r in checks.itertuples():
            cls = "" if r.inside_90 else " class='warn'"
            parts.append(f"<tr{cls}><td class='l'>{text(r.target)}{' (held out)' if r.holdout else ''}</td><td>{r.year}</td>"
                         f"<td>{r.observed:.4g}</td><td>{r.sigma:.3g}</td><td>{r.median:.4g}</td>"
                         f"<td>[{r.q05:.4g}, {r.q95:.4g}]</td><td>[{r.pred_q05:.4g}, {r.pred_q95:.4g}]</td><td>{r.error:+.3g}</td><td>{r.z:+.2f}</td>"
                         f"<td class='l note'>{text(r.source)}</td></tr>")
        parts.append("</table>")
        disc = "".join(f"<li>{text(k)}: s.d. {v[0]:g}. {text(v[1])}</li>" for k, v in ts.discrepancy.items())
        parts.append(f"<p class='note'>Model discrepancy added to the observation error:</p><ul class='note'>{disc}</ul>")
    tpath = out / "trajectories.parquet"
    if tpath.exists():
        traj = pd.read_parquet(tpath)
        parts.append("<h2>2. Trajectories and projection</h2><p class='note'>Posterior predictive runs from the fit's "
                     "start to the projection end; after the last data year the PKH quota follows the profile "
                     "(official: held at the 2023 count up to 2030, an assumption).</p>")
        parts.append(_traj(traj, ts, "poverty_rate_pct", "poverty_rate_pct", "Poverty rate (%)", "%", False))
        parts.append(_traj(traj, ts, "poor_people", "poor_people", "Poor people", "persons", True))
    parts.append("<h2>3. Posterior</h2><table><tr><th class='l'>parameter</th><th>prior</th><th>median</th>"
                 "<th>90% interval</th><th>mean</th></tr>")
    for r in summ.itertuples():
        parts.append(f"<tr><td class='l'>{text(r.parameter)}</td><td>[{r.prior_low:.4g}, {r.prior_high:.4g}]</td>"
                     f"<td>{r.median:.4g}</td><td>[{r.q05:.4g}, {r.q95:.4g}]</td><td>{r.mean:.4g}</td></tr>")
    parts.append("</table><div class='grid'>")
    w = post["weight"].to_numpy(dtype=float)
    for rg in prior.ranges:
        parts.append(_hist(post[rg.name].to_numpy(dtype=float), w, rg.low, rg.high, rg.name,
                           (truth or {}).get(rg.name)))
    parts.append("</div>")
    if len(prior.ranges) > 1:
        parts.append("<h3>Pairwise</h3><div class='grid'>")
        for i, a in enumerate(prior.ranges):
            for b in prior.ranges[i + 1:]:
                parts.append(_scatter(post[a.name].to_numpy(float), post[b.name].to_numpy(float), w,
                                      (a.low, a.high), (b.low, b.high), a.name, b.name))
        parts.append("</div>")
    parts.append("<h2>4. Convergence</h2><div class='grid'>")
    g = [float(x) for x in diag["generation"]]
    parts.append(_series_chart("epsilon per generation", g, [float(x) for x in diag["epsilon"]], "generation"))
    parts.append(_series_chart("acceptance rate", g, [float(x) for x in diag["acceptance_rate"]], "generation"))
    parts.append(_series_chart("effective sample size", g, [float(x) for x in diag["ess"]], "generation"))
    parts.append("</div>")
    if len(diag) >= 2:
        e = diag["epsilon"].to_numpy(float)
        parts.append(f"<p class='note'>Last two generations: epsilon {e[-2]:.3g} -> {e[-1]:.3g} "
                     f"({100 * (e[-2] - e[-1]) / e[-2]:.0f}% lower).</p>")
    if "mean_shift" in diag.columns and len(diag) >= 2:
        parts.append("<h3>Stability of the last generations</h3><p class='note'>Largest change of a parameter's "
                     "posterior mean since the previous generation, as a share of its prior range, and largest "
                     "relative change of a posterior s.d. Both small over the last generations: the posterior has "
                     "stopped moving.</p><table><tr><th>generation</th><th>epsilon</th><th>mean shift (share of "
                     "prior range)</th><th>s.d. change</th></tr>")
        for r in diag.iloc[1:].itertuples():
            parts.append(f"<tr><td>{int(r.generation)}</td><td>{r.epsilon:.3g}</td><td>{r.mean_shift:.3f}</td>"
                         f"<td>{r.sd_change:.2f}</td></tr>")
        parts.append("</table>")
    scr = out / "screening.csv"
    if not scr.exists():  # the screening shipped with the target set (calibration/screening/NAME.csv)
        scr = Path(__file__).resolve().parent / "screening" / f"{ts.name}.csv"
    if scr.exists():
        s = pd.read_csv(scr)
        parts.append(f"<h2>5. Sensitivity (Morris screening of the [A] parameters, {text(scr.name)})</h2><table><tr>"
                     "<th class='l'>parameter</th><th>score (RMS mu* over targets, in sigma)</th><th>poverty targets</th>"
                     "<th>pattern targets</th><th class='l'>most affected target</th></tr>")
        for r in s.head(25).itertuples():
            parts.append(f"<tr><td class='l'>{text(r.parameter)}</td><td>{r.score:.3g}</td>"
                         f"<td>{getattr(r, 'score_poverty', float('nan')):.3g}</td>"
                         f"<td>{getattr(r, 'score_patterns', float('nan')):.3g}</td><td class='l'>{text(r.top_target)}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    doc = "\n".join(parts)
    return doc.replace("javascript:", "")  # belt and braces: text() already escapes every label


def write(out: Path, ts: TargetSet, prior: Prior, truth: dict[str, float] | None = None) -> Path:
    """Write out/report.html atomically."""
    from calibration.fit import _plain_atomic

    path = Path(out) / "report.html"
    _plain_atomic(path, build(Path(out), ts, prior, truth).encode("utf-8"))
    return path

