"""The Districts page: the 23 kecamatan coloured by an indicator, a district table, and drill-down.

The map is a tile map laid out from the kecamatan centroids (ui.geo) unless polygons are
available: a GeoJSON file named by ``CASELOAD_BOUNDARIES`` (``make run BOUNDARIES=path``)
or uploaded in the page (kept in this session's memory only). Clicking a tile or choosing a
district opens it: its facilitators (Mesa agents, largest caseload first), one
facilitator's state and families, one family's state. Everything shown is this session's
Explore model at its current month, a model estimate.
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np
import pandas as pd
import solara

from sim.model import CaseloadModel
from ui import charts, state
from ui.files import display_name
from ui.geo import MAX_GEOJSON_BYTES, GeoError, boundaries_from_env, kecamatan, parse_geojson, tile_layout
from ui.i18n import fact_label, indicator_label
from ui.session import ExploreRun
from ui.widgets import FileUpload, Heading

t = state.t
TABLE_COLUMNS = ("district", "families", "facilitators", "vacancies", "caseload_mean", "share_fac_over_cap",
                 "visits_per_family", "burnout_mean", "poverty_rate_pct", "wisn_required", "wisn_ratio")
MAX_LISTED = 200  # facilitators or families listed in a drill-down select


def latest(run: ExploreRun) -> pd.DataFrame:
    """The district rows of the current month."""
    dt = run.districts()
    return dt[dt["step"] == dt["step"].max()].reset_index(drop=True)


def indicator_columns(df: pd.DataFrame) -> list[str]:
    """Numeric district columns (whatever the model records), for the colour choice."""
    return [c for c in df.columns if c not in ("date", "step", "code", "district", "seed")
            and pd.api.types.is_numeric_dtype(df[c])]


def facilitators_in(model: CaseloadModel, code: str) -> list[Any]:
    """The facilitator agents holding a post in kecamatan ``code``, largest caseload first."""
    if code not in model.district_codes:
        return []
    d = model.district_codes.index(code)
    ps = model.posts
    posts = np.flatnonzero(ps.filled & (ps.district == d))
    posts = posts[np.argsort(-ps.caseload[posts], kind="stable")]
    out = [model.facilitator_at(int(p)) for p in posts]
    return [a for a in out if a is not None]


def families_of(model: CaseloadModel, post: int, limit: int = MAX_LISTED) -> list[Any]:
    """Family agents assigned to the facilitator of ``post`` (at most ``limit``)."""
    fam = model.families
    rows = np.flatnonzero(fam.active & (fam.fac == post))[:limit]
    return [a for a in (model.family_agents[int(r)] for r in rows) if a is not None]


def facilitator_facts(a: Any) -> dict[str, Any]:
    """What the drill-down shows of a facilitator."""
    return {"id": a.unique_id, "district": a.district, "caseload": a.caseload, "burnout": round(a.burnout, 3),
            "motivation": round(a.motivation, 3), "technical skill": round(a.technical_skill, 3),
            "psychosocial skill": round(a.psychosocial_skill, 3), "tenure (months)": a.tenure_months,
            "local": a.local, "pay (Rp/month)": round(a.incentive_rp_month)}


def family_facts(f: Any) -> dict[str, Any]:
    """What the drill-down shows of a family."""
    return {"id": f.unique_id, "district": f.district, "programmes": ", ".join(f.programmes),
            "welfare (x poverty line)": round(f.welfare, 3), "poor": f.poor,
            **{f"behaviour: {k}": round(v, 3) for k, v in f.behaviour.items()},
            "compliant": f.compliant, "months since visit": f.months_since_visit}


def _facts_table(facts: dict[str, Any]) -> None:
    lang = state.lang.value
    rows = "".join(f"<tr><th style='text-align:left;padding-right:12px'>{html.escape(fact_label(k, lang))}</th>"
                   f"<td>{html.escape(str(v))}</td></tr>" for k, v in facts.items())
    solara.HTML(tag="table", unsafe_innerHTML=rows, classes=["caseload-facts"])


@solara.component
def DrillDown(run: ExploreRun, code: str) -> None:
    """A district, one of its facilitators and one of that facilitator's families."""
    state.tick.use_value()
    fac_id, set_fac_id = solara.use_state(cast_none())
    fam_id, set_fam_id = solara.use_state(cast_none())
    with run.lock:  # a Play thread may be stepping the model
        names = {k.code: k.name for k in kecamatan()}
        Heading(f"{t('drill.district', name=names.get(code, code))}", 3)
        solara.Text(t("model_estimate") + f", {run.date}", style={"font-size": "85%"})
        facs = facilitators_in(run.model, code)
        if not facs:
            solara.Text(t("drill.none"))
            return
        labels = {f"#{a.unique_id}": a for a in facs[:MAX_LISTED]}  # by id: a step keeps the choice
        keys = list(labels)
        chosen = fac_id if fac_id in keys else keys[0]
        solara.Select(t("drill.facilitator"), value=chosen, values=keys, on_value=set_fac_id)
        fac = labels[chosen]
        _facts_table(facilitator_facts(fac))
        fams = families_of(run.model, fac.post)
        if not fams:
            return
        flabels = {f"#{f.unique_id}": f for f in fams}
        fkeys = list(flabels)
        fchosen = fam_id if fam_id in fkeys else fkeys[0]
        solara.Select(t("drill.family"), value=fchosen, values=fkeys, on_value=set_fam_id)
        _facts_table(family_facts(flabels[fchosen]))


def cast_none() -> str | None:
    """None, typed for use_state."""
    return None


@solara.component
def Districts() -> None:
    """The Districts page."""
    state.lang.use_value()
    state.tick.use_value()
    lang = state.lang.value
    env_geo = solara.use_memo(boundaries_from_env, [])
    column, set_column = solara.use_state("caseload_mean")
    use_polygons, set_use_polygons = solara.use_state(True)
    geo_error, set_geo_error = solara.use_state("")
    Heading(f"{t('districts.heading')}", 2)
    run = state.run.value
    if run is None:
        solara.Info(t("districts.no_model"))
        solara.Button(t("reset"), on_click=state.reset, classes=["caseload-reset"])
        return
    df = latest(run)
    cols = indicator_columns(df)
    col = column if column in cols else cols[0]
    places = kecamatan()
    names = {k.code: k.name for k in places}
    values = {str(c): (float(v) if v is not None and math.isfinite(float(v)) else None)
              for c, v in zip(df["code"], df[col])}
    poly = state.boundaries.value or ((env_geo[0], env_geo[1]) if env_geo[0] is not None else None)
    err = geo_error or (env_geo[2] or "")

    def on_geo(name: str, size: int, data: bytes | None) -> None:
        shown = display_name(name)
        if data is None:
            set_geo_error(f"error: {shown}: file is {size} bytes; at most {MAX_GEOJSON_BYTES} bytes are accepted")
            return
        try:
            geo = parse_geojson(data, shown)
        except GeoError as e:
            set_geo_error(f"error: {e}")
            return
        set_geo_error("")
        state.boundaries.set((geo, shown))
        set_use_polygons(True)

    def on_click(ev: Any) -> None:
        data = ev.get("data") if isinstance(ev, dict) else None
        code = data.get("code") if isinstance(data, dict) else None
        if code is None and isinstance(ev, dict):
            by_name = {v: k for k, v in names.items()}
            code = by_name.get(str(ev.get("name", "")))
        if code:
            state.selected_district.set(str(code))

    title = f"{indicator_label(col, lang)}, {run.date}"
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "center"}):
        by_label = {indicator_label(c, lang): c for c in cols}
        solara.Select(t("indicator"), value=indicator_label(col, lang), values=list(by_label),
                      on_value=lambda v: set_column(by_label.get(v, col)), style={"min-width": "260px"})
        solara.Select(t("district"), value=names.get(state.selected_district.value),
                      values=[k.name for k in places],
                      on_value=lambda v: state.selected_district.set({n: c for c, n in names.items()}.get(v, "")),
                      style={"min-width": "220px"}, classes=["caseload-district-select"])
        if poly is not None:
            solara.Switch(label=t("districts.polygons", src=poly[1]), value=use_polygons, on_value=set_use_polygons)
    if err:
        solara.Error(err, classes=["caseload-message"])
    with solara.Columns([3, 2]):
        with solara.Div(classes=["caseload-map"]):
            if poly is not None and use_polygons:
                opt = charts.polygon_map(values, names, title, t("model_estimate") + "; " +
                                         t("districts.polygons", src=poly[1]))
                solara.FigureEcharts(option=opt, maps={"bekasi": poly[0]}, on_click=on_click,
                                     attributes={"style": "height: 520px;"})
            else:
                opt = charts.tile_map(values, tile_layout(places), names, title,
                                      t("model_estimate") + "; " + t("districts.tiles"),
                                      selected=state.selected_district.value or None)
                solara.FigureEcharts(option=opt, on_click=on_click, attributes={"style": "height: 520px;"})
            FileUpload(t("districts.upload_geo", mb=MAX_GEOJSON_BYTES // (1024 * 1024)), ".geojson,.json",
                       MAX_GEOJSON_BYTES, on_geo)
        with solara.Div(classes=["caseload-drill"]):
            if state.selected_district.value:
                DrillDown(run, state.selected_district.value)
            else:
                solara.Info(t("drill.pick_district"))
    Heading(f"{t('districts.table', month=run.month)}", 3)
    solara.Text(t("model_estimate") + "; WISN: WHO (2010), Workload Indicators of Staffing Need, user's manual",
                style={"font-size": "85%"})
    show = [c for c in TABLE_COLUMNS if c in df.columns]
    table = df[show].rename(columns={c: indicator_label(c, lang) if c != "district" else t("district") for c in show})
    solara.DataFrame(table.round(3), items_per_page=23)
