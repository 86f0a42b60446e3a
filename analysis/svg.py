"""Generic SVG chart primitives for the HTML report (analysis.report): inline, self-contained.

A tiny SVG builder (``Svg``) and three charts that return an ``<svg>`` element as a string:
``line_chart`` (lines with shaded bands, reference points, horizontal reference lines; the
x axis is in fractional years, see ``year_frac``, with a tick per year and per July),
``bar_chart`` (bars with whiskers) and ``strip_chart`` (one row of dots per group, with a
mean bar and a vertical reference line). Every text goes through ``text``, which escapes it
for HTML and drops URL schemes, so a chart holds no script and no external reference.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#8C564B", "#7F7F7F",
           "#BCBD22", "#17BECF", "#9467BD", "#1F77B4")
REF_COLOR = "#111111"


def text(s: Any) -> str:
    """Escape for HTML; a URL scheme is dropped so that no external reference can appear."""
    return html.escape(re.sub(r"(?i)\b[a-z][a-z0-9+.-]*://", "", str(s)), quote=True)


def _f(v: float) -> str:
    return f"{v:.1f}"


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """Round tick values from at or below ``lo`` to at or above ``hi``."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0, 1.0]
    if hi <= lo:
        pad = abs(lo) * 0.05 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = 10 * mag
    for m in (1, 2, 2.5, 5, 10):
        if (hi - lo) / (m * mag) <= n:
            step = m * mag
            break
    k0, k1 = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    return [round(k * step, 10) for k in range(k0, k1 + 1)]


def year_frac(d: Any) -> float:
    """A date as a fractional year."""
    ts = pd.Timestamp(d)
    return ts.year + (ts.month - 1) / 12 + (ts.day - 1) / 365.0


@dataclass
class Series:
    """A line with an optional band."""

    label: str
    color: str
    x: Sequence[float]
    y: Sequence[float]
    lo: Sequence[float] | None = None
    hi: Sequence[float] | None = None
    dash: str = ""


@dataclass
class Points:
    """Reference points (observed figures)."""

    label: str
    x: Sequence[float]
    y: Sequence[float]
    marker: str = "circle"  # circle | diamond
    color: str = REF_COLOR
    notes: Sequence[str] = field(default_factory=list)


class Svg:
    """A tiny SVG builder (coordinates in px of the viewBox)."""

    def __init__(self, width: int, height: int, label: str) -> None:
        self.w, self.h = width, height
        self.parts: list[str] = [f"<title>{text(label)}</title>"]
        self.label = label

    def add(self, s: str) -> None:
        """Append raw SVG markup."""
        self.parts.append(s)

    def txt(self, x: float, y: float, s: str, anchor: str = "start", size: int = 11, cls: str = "", color: str = "#333",
            rotate: float | None = None, weight: str = "normal") -> None:
        """A text label."""
        tr = f' transform="rotate({rotate:.0f} {x:.1f} {y:.1f})"' if rotate is not None else ""
        c = f' class="{cls}"' if cls else ""
        self.add(f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{color}" '
                 f'font-weight="{weight}"{tr}{c}>{text(s)}</text>')

    def render(self) -> str:
        """The <svg> element."""
        return (f'<svg viewBox="0 0 {self.w} {self.h}" width="{self.w}" height="{self.h}" role="img" '
                f'aria-label="{text(self.label)}" class="chart">' + "".join(self.parts) + "</svg>")


def _legend(svg: Svg, items: list[tuple[str, str, str]], top: float, left: float, width: float) -> float:
    """Legend rows (label, color, kind: line|dash|band|circle|diamond|hline); returns the height used."""
    col_w = _legend_col(items)
    cols = max(1, int(width // col_w))
    for k, (label, color, kind) in enumerate(items):
        r, c = divmod(k, cols)
        x, y = left + c * col_w, top + r * 18
        if kind in ("line", "dash", "hline"):
            dash = ' stroke-dasharray="5 3"' if kind in ("dash", "hline") else ""
            svg.add(f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{x + 22:.1f}" y2="{y:.1f}" stroke="{color}" stroke-width="2"{dash}/>')
        elif kind == "band":
            svg.add(f'<rect x="{x:.1f}" y="{y - 5:.1f}" width="22" height="10" fill="{color}" fill-opacity="0.2"/>')
            svg.add(f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{x + 22:.1f}" y2="{y:.1f}" stroke="{color}" stroke-width="2"/>')
        elif kind == "bar":
            svg.add(f'<rect x="{x + 4:.1f}" y="{y - 6:.1f}" width="14" height="12" fill="{color}"/>')
        else:
            svg.add(_marker(kind, x + 11, y, color))
        svg.txt(x + 28, y + 4, label, size=11)
    rows = math.ceil(len(items) / cols)
    return rows * 18


def _legend_col(items: list[tuple[str, str, str]]) -> int:
    return int(max((len(lab) for lab, _, _ in items), default=10) * 6.4 + 44)


def _marker(kind: str, x: float, y: float, color: str, size: float = 5.0) -> str:
    if kind == "diamond":
        s = size * 1.3
        return (f'<path d="M{x:.1f},{y - s:.1f} L{x + s:.1f},{y:.1f} L{x:.1f},{y + s:.1f} L{x - s:.1f},{y:.1f} Z" '
                f'fill="#fff" stroke="{color}" stroke-width="2"/>')
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{size:.1f}" fill="{color}" stroke="#fff" stroke-width="1"/>'


def _y_frame(svg: Svg, ml: float, mt: float, pw: float, ph: float, ticks: Sequence[float],
             sy: Callable[[float], float], yfmt: Callable[[float], str]) -> None:
    """The plot area, with a horizontal grid line and a label at every y tick."""
    svg.add(f'<rect x="{ml}" y="{mt}" width="{pw}" height="{ph}" fill="#fff" stroke="#ccc"/>')
    for t in ticks:
        svg.add(f'<line x1="{ml}" y1="{sy(t):.1f}" x2="{ml + pw}" y2="{sy(t):.1f}" stroke="#eee"/>')
        svg.txt(ml - 6, sy(t) + 4, yfmt(t), anchor="end", size=10)


def line_chart(label: str, series: list[Series], y_label: str, points: Sequence[Points] = (),
               hlines: Sequence[tuple[float, str]] = (), yfmt: Callable[[float], str] = _f,
               width: int = 960, height: int = 300, y_zero: bool = False,
               x_range: tuple[float, float] | None = None, y_range: tuple[float, float] | None = None) -> str:
    """A time chart: lines with bands, reference points and horizontal reference lines.

    ``x_range`` / ``y_range`` widen the axes to include them (charts side by side share axes).
    """
    ml, mr, mt, mb = 64, 44, 14, 34
    xs = [v for s in series for v in s.x] + [v for p in points for v in p.x] + list(x_range or ())
    ys: list[float] = []
    for s in series:
        ys += [v for v in s.y if math.isfinite(v)]
        for b in (s.lo, s.hi):
            if b is not None:
                ys += [v for v in b if math.isfinite(v)]
    ys += [v for p in points for v in p.y] + [h for h, _ in hlines] + list(y_range or ())
    if not xs or not ys:
        return "<p>(no data)</p>"
    x0, x1 = min(xs), max(xs)
    if x1 <= x0:
        x1 = x0 + 1
    y0, y1 = min(ys), max(ys)
    if y_zero:
        y0 = min(0.0, y0)
    pad = (y1 - y0) * 0.06 or abs(y1) * 0.05 or 1.0
    floor = 0.0 if (y_zero or y0 >= 0) and min(ys) >= -1e-12 else -math.inf
    yt = nice_ticks(max(y0 - pad, floor) if math.isfinite(floor) else y0 - pad, y1 + pad)
    y0, y1 = yt[0], yt[-1]
    items: list[tuple[str, str, str]] = [(s.label, s.color, "band" if s.lo is not None else ("dash" if s.dash else "line"))
                                         for s in series]
    items += [(p.label, p.color, p.marker) for p in points]
    items += [(lab, "#444", "hline") for _, lab in hlines]
    cols = max(1, int((width - ml) // _legend_col(items)))
    leg_h = math.ceil(len(items) / cols) * 18 + 8
    total_h = height + leg_h
    pw, ph = width - ml - mr, height - mt - mb
    svg = Svg(width, total_h, label)

    def sx(v: float) -> float:
        return ml + (v - x0) / (x1 - x0) * pw

    def sy(v: float) -> float:
        return mt + (1 - (min(max(v, y0), y1) - y0) / (y1 - y0)) * ph

    _y_frame(svg, ml, mt, pw, ph, yt, sy, yfmt)
    years = range(math.floor(x0), math.ceil(x1) + 1)
    for yv in years:
        for frac, major in ((0.0, True), (0.5, False)):
            xv = yv + frac
            if x0 - 1e-9 <= xv <= x1 + 1e-9:
                svg.add(f'<line x1="{sx(xv):.1f}" y1="{mt}" x2="{sx(xv):.1f}" y2="{mt + ph}" stroke="{"#e4e4e4" if major else "#f3f3f3"}"/>')
                svg.txt(sx(xv), mt + ph + 14, str(yv) if major else "Jul", anchor="middle", size=10,
                        color="#333" if major else "#888")
    svg.txt(14, mt + ph / 2, y_label, anchor="middle", size=11, rotate=-90)
    for h, _lab in hlines:
        svg.add(f'<line x1="{ml}" y1="{sy(h):.1f}" x2="{ml + pw}" y2="{sy(h):.1f}" stroke="#444" stroke-width="1.5" '
                'stroke-dasharray="6 4"/>')
    for s in series:
        if s.lo is not None and s.hi is not None:
            up = [(sx(a), sy(b)) for a, b in zip(s.x, s.hi) if math.isfinite(b)]
            dn = [(sx(a), sy(b)) for a, b in zip(s.x, s.lo) if math.isfinite(b)]
            if up and dn:
                poly = " ".join(f"{a:.1f},{b:.1f}" for a, b in up + dn[::-1])
                svg.add(f'<polygon points="{poly}" fill="{s.color}" fill-opacity="0.18" stroke="none"/>')
    for s in series:
        xy = [(sx(a), sy(b)) for a, b in zip(s.x, s.y) if math.isfinite(b)]
        if xy:
            d = "M" + " L".join(f"{a:.1f},{b:.1f}" for a, b in xy)
            dash = ' stroke-dasharray="6 3"' if s.dash else ""
            svg.add(f'<path d="{d}" fill="none" stroke="{s.color}" stroke-width="2"{dash}/>')
    for p in points:
        for px, py in zip(p.x, p.y):
            svg.add(_marker(p.marker, sx(px), sy(py), p.color))
            svg.txt(sx(px) + 8, sy(py) - 7, yfmt(py), size=10, color=p.color)
    _legend(svg, items, height + 4, ml, width - ml)
    return svg.render()


def bar_chart(label: str, names: list[str], colors: list[str], mean: list[float], lo: list[float], hi: list[float],
              y_label: str, yfmt: Callable[[float], str] = _f, width: int = 960, height: int = 260,
              hline: tuple[float, str] | None = None) -> str:
    """Vertical bars with 95% whiskers, one per scenario."""
    ml, mr, mt, mb = 64, 18, 14, 70
    vals = [v for v in [*mean, *lo, *hi] if math.isfinite(v)] + ([hline[0]] if hline else [])
    if not vals:
        return "<p>(no data)</p>"
    y0, y1 = min(0.0, *vals), max(0.0, *vals)
    yt = nice_ticks(y0, y1 + (y1 - y0) * 0.08)
    y0, y1 = yt[0], yt[-1]
    pw, ph = width - ml - mr, height - mt - mb
    svg = Svg(width, height, label)

    def sy(v: float) -> float:
        return mt + (1 - (v - y0) / (y1 - y0)) * ph

    _y_frame(svg, ml, mt, pw, ph, yt, sy, yfmt)
    svg.txt(14, mt + ph / 2, y_label, anchor="middle", size=11, rotate=-90)
    n = max(len(names), 1)
    slot = pw / n
    bw = min(64.0, slot * 0.6)
    for k, (nm, col, m, a, b) in enumerate(zip(names, colors, mean, lo, hi)):
        cx = ml + slot * (k + 0.5)
        if math.isfinite(m):
            top, bot = sy(max(m, 0.0)), sy(min(m, 0.0))
            svg.add(f'<rect x="{cx - bw / 2:.1f}" y="{top:.1f}" width="{bw:.1f}" height="{max(bot - top, 0.5):.1f}" '
                    f'fill="{col}" fill-opacity="0.85"/>')
            if math.isfinite(a) and math.isfinite(b):
                svg.add(f'<line x1="{cx:.1f}" y1="{sy(a):.1f}" x2="{cx:.1f}" y2="{sy(b):.1f}" stroke="#222" stroke-width="1.5"/>')
                for v in (a, b):
                    svg.add(f'<line x1="{cx - 6:.1f}" y1="{sy(v):.1f}" x2="{cx + 6:.1f}" y2="{sy(v):.1f}" stroke="#222" stroke-width="1.5"/>')
            svg.txt(cx, min(sy(max(b if math.isfinite(b) else m, m)), top) - 5, yfmt(m), anchor="middle", size=10)
        svg.txt(cx, mt + ph + 14, nm, anchor="end", size=11, rotate=-30)
    if hline:
        svg.add(f'<line x1="{ml}" y1="{sy(hline[0]):.1f}" x2="{ml + pw}" y2="{sy(hline[0]):.1f}" stroke="#444" '
                'stroke-dasharray="6 4" stroke-width="1.5"/>')
        svg.txt(ml + pw - 4, sy(hline[0]) - 5, hline[1], anchor="end", size=10)
    return svg.render()


def strip_chart(label: str, rows: list[tuple[str, str, list[tuple[str, float]], float]], x_label: str,
                vline: tuple[float, str], width: int = 960) -> str:
    """One row per scenario: a dot per kecamatan, a bar at the regency mean, a line at ``vline``."""
    ml, mr, mt, mb = 150, 18, 10, 40
    row_h = 30
    vals = [v for _, _, pts, _ in rows for _, v in pts if math.isfinite(v)] + [vline[0]]
    if not vals:
        return "<p>(no data)</p>"
    xt = nice_ticks(0.0, max(vals) * 1.05)
    x0, x1 = xt[0], xt[-1]
    ph = row_h * len(rows)
    height = mt + ph + mb
    pw = width - ml - mr
    svg = Svg(width, height, label)

    def sx(v: float) -> float:
        return ml + (v - x0) / (x1 - x0) * pw

    svg.add(f'<rect x="{ml}" y="{mt}" width="{pw}" height="{ph}" fill="#fff" stroke="#ccc"/>')
    for t in xt:
        svg.add(f'<line x1="{sx(t):.1f}" y1="{mt}" x2="{sx(t):.1f}" y2="{mt + ph}" stroke="#eee"/>')
        svg.txt(sx(t), mt + ph + 14, f"{t:,.0f}", anchor="middle", size=10)
    svg.txt(ml + pw / 2, mt + ph + 32, x_label, anchor="middle", size=11)
    for k, (name, col, pts, mean) in enumerate(rows):
        cy = mt + row_h * (k + 0.5)
        svg.txt(ml - 8, cy + 4, name, anchor="end", size=11)
        for dname, v in pts:
            if math.isfinite(v):
                svg.add(f'<circle cx="{sx(v):.1f}" cy="{cy:.1f}" r="4" fill="{col}" fill-opacity="0.55">'
                        f'<title>{text(dname)}: {v:.0f}</title></circle>')
        if math.isfinite(mean):
            svg.add(f'<line x1="{sx(mean):.1f}" y1="{cy - 10:.1f}" x2="{sx(mean):.1f}" y2="{cy + 10:.1f}" stroke="#111" stroke-width="2.5"/>')
    svg.add(f'<line x1="{sx(vline[0]):.1f}" y1="{mt}" x2="{sx(vline[0]):.1f}" y2="{mt + ph}" stroke="#444" '
            'stroke-dasharray="6 4" stroke-width="1.5"/>')
    svg.txt(sx(vline[0]) + 4, mt + 10, vline[1], size=10)
    return svg.render()
