"""ECharts options for the pages' charts (plain dicts: solara.FigureEcharts draws them offline).

ECharts ships inside solara's front-end assets, so no chart loads anything by URL. Every
chart's subtitle says where its numbers come from: 'model estimate' for the simulator's
output, and the data profile's source for the BPS or paper poverty figures drawn next to
it. Values are JSON-safe (NaN and inf become None: JSON has no NaN).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ui.i18n import indicator_label, text

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]


def clean(v: Any) -> Any:
    """A JSON-safe number (None for NaN/inf) or the value's string form."""
    if v is None:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return f if math.isfinite(f) else None
    return str(v)


def _dates(df: pd.DataFrame) -> list[str]:
    return [str(d)[:10] for d in df["date"]]


def _base(title: str, subtitle: str) -> dict[str, Any]:
    return {
        "animation": False,
        "title": {"text": title, "subtext": subtitle, "textStyle": {"fontSize": 13}, "subtextStyle": {"fontSize": 11}},
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0, "type": "scroll"},
        "grid": {"left": 60, "right": 20, "top": 60, "bottom": 50},
    }


def line_chart(reg: pd.DataFrame, columns: Sequence[str], title: str, lang: str = "en", hline: float | None = None,
               hline_label: str = "", skip_start: bool = False, source: str | None = None) -> dict[str, Any]:
    """Lines of regency-table ``columns`` over time (``skip_start``: flows have no value at step 0)."""
    df = reg[reg["step"] > 0] if skip_start and "step" in reg else reg
    opt = _base(title, source or text("model_estimate", lang))
    opt["xAxis"] = {"type": "category", "data": _dates(df) if len(df) else []}
    opt["yAxis"] = {"type": "value", "scale": True}
    series = []
    for i, c in enumerate(columns):
        if c not in df.columns:
            continue
        s: dict[str, Any] = {"name": indicator_label(c, lang), "type": "line", "showSymbol": False,
                             "data": [clean(v) for v in df[c]], "color": PALETTE[i % len(PALETTE)]}
        series.append(s)
    if hline is not None and series:
        series[0]["markLine"] = {"symbol": "none", "silent": True, "lineStyle": {"type": "dashed", "color": "#555"},
                                 "label": {"formatter": hline_label or str(hline)}, "data": [{"yAxis": hline}]}
    opt["series"] = series
    return opt


def poverty_chart(reg: pd.DataFrame, references: Sequence[tuple[str, pd.DataFrame]], lang: str = "en") -> dict[str, Any]:
    """Model poverty rate over time with observed figures (BPS, the paper) as points.

    ``references`` are (label, table with year, poverty_rate_pct, source). An observed yearly
    figure is drawn at the April row of its year: the row dated YYYY-04-01 is the state after
    March, the month of BPS's Susenas poverty survey (as in the HTML report).
    """
    src = text("model_estimate", lang)
    for label, tg in references:
        src += f"; {label}: " + "; ".join(sorted({str(s)[:60] for s in tg["source"]}))
    opt = line_chart(reg, ["poverty_rate_pct"], text("chart.poverty", lang), lang, source=src)
    dates = opt["xAxis"]["data"]
    for i, (label, tg) in enumerate(references):
        pts = [[f"{int(r.year)}-04-01", clean(r.poverty_rate_pct)] for r in tg.itertuples()
               if f"{int(r.year)}-04-01" in dates]
        opt["series"].append({"name": label, "type": "scatter", "symbolSize": 10, "data": pts,
                              "symbol": ("circle", "diamond", "triangle")[i % 3], "color": ("#000", "#d62728", "#2ca02c")[i % 3]})
    opt["yAxis"]["name"] = "%"
    return opt


def caseload_histogram(caseloads: np.ndarray, cap: float, lang: str = "en", width: int = 25) -> dict[str, Any]:
    """Facilitators by caseload band, with the 1:``cap`` line."""
    opt = _base(text("chart.caseload", lang), text("model_estimate", lang))
    hi = int(max(int(caseloads.max()) if caseloads.size else 0, cap) // width + 2) * width
    edges = np.arange(0, hi + width, width)
    counts, _ = np.histogram(caseloads, bins=edges)
    cats = [f"{int(a)}-{int(b) - 1}" for a, b in itertools.pairwise(edges)]
    cap_cat = cats[min(int(cap // width), len(cats) - 1)]
    opt["tooltip"] = {"trigger": "axis"}
    opt["xAxis"] = {"type": "category", "data": cats, "name": "KPM", "axisLabel": {"rotate": 45}}
    opt["yAxis"] = {"type": "value", "name": text("facilitators", lang)}
    opt["series"] = [{
        "name": text("facilitators", lang), "type": "bar", "data": [int(c) for c in counts], "color": PALETTE[0],
        "markLine": {"symbol": "none", "silent": True, "lineStyle": {"type": "dashed", "color": "#d62728"},
                     "label": {"formatter": f"1:{int(cap)}"}, "data": [{"xAxis": cap_cat}]},
    }]
    return opt


def tile_map(values: dict[str, float | None], layout: dict[str, tuple[int, int]], names: dict[str, str],
             title: str, subtitle: str, selected: str | None = None) -> dict[str, Any]:
    """A tile map: one square per kecamatan at its grid cell, coloured by ``values`` (by code)."""
    fin = [v for v in values.values() if v is not None and math.isfinite(v)]
    lo, hi = (min(fin), max(fin)) if fin else (0.0, 1.0)
    if hi <= lo:
        hi = lo + 1e-9
    cols = max(c for c, _ in layout.values()) + 1
    rows = max(r for _, r in layout.values()) + 1
    data = []
    for code, (c, r) in layout.items():
        v = values.get(code)
        short = names.get(code, code)
        data.append({"value": [c, rows - 1 - r, clean(v)], "name": short, "code": code,
                     "label": {"show": True, "formatter": short.replace(" ", "\n"), "fontSize": 10, "lineHeight": 13},
                     "itemStyle": {"borderColor": "#000" if code == selected else "#fff",
                                   "borderWidth": 3 if code == selected else 1}})
    return {
        "animation": False,
        "title": {"text": title, "subtext": subtitle, "textStyle": {"fontSize": 13}, "subtextStyle": {"fontSize": 11}},
        "tooltip": {"trigger": "item"},
        "grid": {"left": 10, "right": 80, "top": 60, "bottom": 10},
        "xAxis": {"type": "category", "data": list(range(cols)), "show": False},
        "yAxis": {"type": "category", "data": list(range(rows)), "show": False},
        "visualMap": {"min": lo, "max": hi, "calculable": True, "orient": "vertical", "right": 0, "top": "middle",
                      "dimension": 2, "inRange": {"color": ["#fff5eb", "#fd8d3c", "#7f2704"]}},
        "series": [{"type": "heatmap", "data": data, "label": {"show": True}}],
    }


def polygon_map(values: dict[str, float | None], names: dict[str, str], title: str, subtitle: str,
                map_name: str = "bekasi") -> dict[str, Any]:
    """A choropleth of the registered GeoJSON map ``map_name`` (features named by kecamatan)."""
    fin = [v for v in values.values() if v is not None and math.isfinite(v)]
    lo, hi = (min(fin), max(fin)) if fin else (0.0, 1.0)
    if hi <= lo:
        hi = lo + 1e-9
    return {
        "animation": False,
        "title": {"text": title, "subtext": subtitle, "textStyle": {"fontSize": 13}, "subtextStyle": {"fontSize": 11}},
        "tooltip": {"trigger": "item"},
        "visualMap": {"min": lo, "max": hi, "calculable": True, "right": 0, "top": "middle",
                      "inRange": {"color": ["#fff5eb", "#fd8d3c", "#7f2704"]}},
        "series": [{"type": "map", "map": map_name, "roam": True, "nameProperty": "name",
                    "label": {"show": True, "fontSize": 9},
                    "data": [{"name": names.get(code, code), "value": clean(v)} for code, v in values.items()]}],
    }


def band_chart(traj: pd.DataFrame, column: str, names: list[str], lang: str = "en") -> dict[str, Any]:
    """Per scenario: the mean over replicates and its 95% band (``analysis.report.trajectories`` output)."""
    opt = _base(indicator_label(column, lang), text("model_estimate", lang) + "; " + text("compare.bands", lang))
    dates = sorted({str(d)[:10] for d in traj["date"]})
    opt["xAxis"] = {"type": "category", "data": dates, "boundaryGap": False}
    opt["yAxis"] = {"type": "value", "scale": True}
    series: list[dict[str, Any]] = []
    for i, name in enumerate(names):
        g = traj[traj["scenario"] == name]
        by = {str(d)[:10]: r for d, r in zip(g["date"], g.itertuples())}
        color = PALETTE[i % len(PALETTE)]
        lo = [clean(by[d].lo) if d in by else None for d in dates]
        hi = [clean(by[d].hi) if d in by else None for d in dates]
        width = [None if (a is None or b is None) else b - a for a, b in zip(lo, hi)]
        stack = f"band{i}"
        series.append({"name": f"{name} low", "type": "line", "data": lo, "stack": stack, "showSymbol": False,
                       "lineStyle": {"opacity": 0}, "tooltip": {"show": False}, "legendHoverLink": False})
        series.append({"name": f"{name} 95%", "type": "line", "data": width, "stack": stack, "showSymbol": False,
                       "lineStyle": {"opacity": 0}, "areaStyle": {"color": color, "opacity": 0.2},
                       "tooltip": {"show": False}})
        series.append({"name": name, "type": "line", "showSymbol": False, "color": color,
                       "data": [clean(by[d].mean) if d in by else None for d in dates]})
    opt["series"] = series
    opt["legend"]["data"] = names
    return opt
