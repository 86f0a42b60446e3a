"""The Explore page: a scenario and data profile, inputs from the registry, play/step/reset, live charts.

Inputs change the form (``state.settings``); the running model changes only on Reset, so
what is on the charts always belongs to one set of inputs (the page says when the form
differs). Step runs one month in the click handler (a full-scale month takes tens of ms
of server time; the page shows the last and median times). Play runs months in a thread
of this session (``solara.use_thread``, no intrusive tracing) until Pause, Reset or the
scenario's last month; it never blocks the page.
"""

from __future__ import annotations

import dataclasses
import functools
import statistics
import threading
import time
from typing import Any

import solara

from runs.scenario import ScenarioError
from sim.districts import PROFILE_NAMES
from sim.params import IDEAL_CASELOAD
from sim.profiles import load_profile, poverty_targets
from ui import charts, state
from ui.files import MAX_SCENARIO_BYTES, UploadError, csv_bytes, parquet_bytes, scenario_toml, validate_upload
from ui.i18n import group_label, indicator_label
from ui.session import SCALES, ExploreRun, Settings, grouped, inputs, lever_title, scenario_names
from ui.widgets import FileUpload, Heading, ParamInput

t = state.t

#: the live charts: (title key, regency columns, horizontal reference line, flows)
LINE_CHARTS: tuple[tuple[str, tuple[str, ...], float | None, bool], ...] = (
    ("chart.burnout", ("burnout_mean", "burnout_family_mean", "share_burned_out"), None, False),
    ("chart.attrition", ("attrition_pct_year",), None, True),
    ("chart.visits", ("visits_per_family", "share_unvisited_3m", "share_unvisited_6m", "p2k2_coverage"), None, False),
    ("chart.training", ("share_trained_12m", "share_untrained_since_start"), None, False),
    ("chart.cost", ("cost_rp_month",), None, True),
    ("chart.wisn", ("wisn_ratio",), 1.0, False),
)


@functools.lru_cache(maxsize=1)
def references() -> tuple[tuple[str, Any], ...]:
    """The observed poverty figures of both data profiles: BPS (official) and the paper (paper-2023)."""
    out = []
    for profile, label in (("official", "BPS"), ("paper-2023", "Levianto & Warsidi (2025)")):
        try:
            out.append((label, poverty_targets(load_profile(profile))))
        except Exception:  # a profile without targets: the chart shows the others
            continue
    return tuple(out)


def pending(run: ExploreRun | None, form: Settings) -> bool:
    """True when the form differs from the inputs of the running model."""
    if run is None:
        return False
    a, b = run.settings, form
    return (a.values, a.levers_on, a.scale, a.seed, a.profile, a.months, a.base.name) != (
        b.values, b.levers_on, b.scale, b.seed, b.profile, b.months, b.base.name)


def set_form(new: Settings) -> None:
    """Replace the form."""
    state.settings.set(new)


def _set_value(name: str, value: Any) -> None:
    set_form(state.current_settings().with_value(name, value))


def _set_lever(lever: str, on: bool) -> None:
    set_form(state.current_settings().with_lever(lever, on))


def _on_scenario(ref: str | None) -> None:
    if ref:
        choose_scenario(ref)


def _update_profile(v: str) -> None:
    update_form(profile=v)


def _update_scale(v: float) -> None:
    update_form(scale=float(v))


def _update_seed(v: int) -> None:
    update_form(seed=max(0, int(v)))


def _update_months(v: int) -> None:
    update_form(months=min(max(1, int(v)), 600))


def update_form(**changes: Any) -> None:
    """Change fields of the form (profile, scale, seed, months)."""
    set_form(dataclasses.replace(state.current_settings(), **changes))


def choose_scenario(ref: str) -> None:
    """Load a scenario into the form (keeps scale and seed)."""
    cur = state.current_settings()
    try:
        sc = state.scenario_by_ref(ref)
    except ScenarioError as e:
        state.message.set(f"error: {e}")
        return
    state.message.set("")
    set_form(Settings.from_scenario(sc, scale=cur.scale, seed=cur.seed))


def on_scenario_upload(name: str, size: int, data: bytes | None) -> None:
    """Validate an uploaded scenario; on success add it to this session's list and load it."""
    if data is None:
        state.message.set(t("upload.too_big", name=name, size=size, cap=MAX_SCENARIO_BYTES))
        return
    try:
        sc = validate_upload(name, data)
    except UploadError as e:
        state.message.set(str(e))
        return
    if sc.name in scenario_names():  # never shadow a scenario of scenarios/ or a profile
        sc = dataclasses.replace(sc, name=f"uploaded-{sc.name}")
    state.uploaded.set({**state.uploaded.value, sc.name: sc})
    choose_scenario(sc.name)
    state.message.set(t("upload.ok", name=sc.name))


@solara.component
def Controls() -> None:
    """Play, step, reset, speed and the month."""
    state.tick.use_value()
    run = state.run.value
    playing = state.playing.value

    def play_loop(cancel: threading.Event) -> None:
        closed = state.session_closed_event()
        while state.playing.value and not cancel.is_set() and not closed.is_set():
            r = state.run.value
            if r is None or r.finished:
                state.playing.set(False)
                return
            t0 = time.perf_counter()
            state.step()
            time.sleep(max(0.0, 1.0 / max(state.speed.value, 0.1) - (time.perf_counter() - t0)))

    solara.use_thread(play_loop, dependencies=[playing], intrusive_cancel=False)

    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        if playing:
            solara.Button(t("pause"), icon_name="mdi-pause", on_click=lambda: state.playing.set(False),
                          classes=["caseload-pause"])
        else:
            solara.Button(t("play"), icon_name="mdi-play", on_click=lambda: state.playing.set(True),
                          disabled=run is None or run.finished, classes=["caseload-play"])
        solara.Button(t("step"), icon_name="mdi-step-forward", on_click=lambda: state.step(), disabled=playing,
                      classes=["caseload-step"])
        solara.Button(t("reset"), icon_name="mdi-restart", on_click=state.reset, classes=["caseload-reset"])
        with solara.Div(style={"width": "420px"}):
            solara.SliderFloat(t("speed"), value=state.speed.value, min=0.5, max=20, step=0.5, on_value=state.speed.set)
    if run is not None:
        solara.Text(t("month_status", month=run.month, months=run.scenario.months, date=run.date),
                    classes=["caseload-month"])
        if run.step_ms:
            solara.Text(" " + t("step_time", ms=run.step_ms[-1], median=statistics.median(run.step_ms)),
                        classes=["caseload-steptime"])


@solara.component
def InputGroup(group: str, items: list[Any], form: Settings) -> None:
    """One group of inputs; its widgets exist only while it is open (a step then redraws less)."""
    lang = state.lang.value
    is_open, set_open = solara.use_state(False)
    solara.Button(group_label(group, lang), icon_name="mdi-chevron-up" if is_open else "mdi-chevron-down", text=True,
                  on_click=lambda: set_open(not is_open), classes=["caseload-group", f"caseload-group-{group}"],
                  style={"justify-content": "flex-start", "width": "100%"})
    if not is_open:
        return
    with solara.Div(style={"padding": "0 8px 8px 8px"}):
        if group == "levers":
            by_lever: dict[str, list[Any]] = {}
            for i in items:
                by_lever.setdefault(i.lever or "", []).append(i)
            for lever, specs in by_lever.items():
                on = lever in form.levers_on
                with solara.Card(lever_title(lever), margin=0, classes=["caseload-lever"]):
                    solara.Switch(label=t("lever_on"), value=on,
                                  on_value=functools.partial(_set_lever, lever))
                    if on:
                        for spec in specs:
                            ParamInput(spec, form.values.get(spec.name, spec.default),
                                       functools.partial(_set_value, spec.name))
        else:
            for spec in items:
                ParamInput(spec, form.values.get(spec.name, spec.default),
                           functools.partial(_set_value, spec.name))


@solara.component
def Inputs(form: Settings) -> None:
    """Every input, grouped as ``caseload params`` groups them; levers with an on switch."""
    for g, items in grouped(inputs()).items():
        InputGroup(g, items, form)


@solara.component
def Charts(run: ExploreRun) -> None:
    """The live charts of the running model."""
    state.tick.use_value()
    lang = state.lang.value
    other, set_other = solara.use_state("behaviour_mean")
    reg = run.regency()
    with solara.Columns([1, 1]):
        with solara.Div(classes=["caseload-chart-poverty"]):
            solara.FigureEcharts(option=charts.poverty_chart(reg, references(), lang),
                                 attributes={"style": "height: 300px;"})
        with solara.Div(classes=["caseload-chart-caseload"]):
            solara.FigureEcharts(option=charts.caseload_histogram(run.caseloads(), IDEAL_CASELOAD, lang),
                                 attributes={"style": "height: 300px;"})
    for i in range(0, len(LINE_CHARTS), 2):
        with solara.Columns([1, 1]):
            for key, cols, hline, flows in LINE_CHARTS[i:i + 2]:
                solara.FigureEcharts(option=charts.line_chart(reg, cols, t(key), lang, hline=hline, skip_start=flows),
                                     attributes={"style": "height: 280px;"})
    numeric = [c for c in reg.columns if c not in ("date", "step", "profile", "seed")
               and str(reg[c].dtype) != "object"]
    col = other if other in numeric else numeric[0]
    by_label = {indicator_label(c, lang): c for c in numeric}
    with solara.Div():
        solara.Select(t("indicator"), value=indicator_label(col, lang), values=list(by_label),
                      on_value=lambda v: set_other(by_label.get(v, col)))
        solara.FigureEcharts(option=charts.line_chart(reg, [col], f"{t('chart.other')}: {indicator_label(col, lang)}", lang),
                             attributes={"style": "height: 280px;"})


@solara.component
def Downloads(run: ExploreRun) -> None:
    """Tables of the running model and the scenario of the form (read when clicked, so no redraw per step)."""
    name = run.scenario.name
    with solara.Row(style={"flex-wrap": "wrap"}):
        solara.FileDownload(lambda: csv_bytes(run.regency()), f"{name}-regency.csv", label=t("dl.regency_csv"))
        solara.FileDownload(lambda: csv_bytes(run.districts()), f"{name}-districts.csv", label=t("dl.districts_csv"))
        solara.FileDownload(lambda: parquet_bytes(run.regency()), f"{name}-regency.parquet",
                            label=t("dl.regency_parquet"))
        solara.FileDownload(lambda: parquet_bytes(run.districts()), f"{name}-districts.parquet",
                            label=t("dl.districts_parquet"))
        solara.FileDownload(lambda: scenario_toml(state.current_settings().scenario()), f"{name}.toml",
                            label=t("dl.scenario"))


@solara.component
def Explore() -> None:
    """The Explore page."""
    state.lang.use_value()
    form = state.current_settings()
    run = state.run.value

    def build_first() -> None:
        if state.run.value is None:
            state.ensure_run()

    solara.use_effect(build_first, [])
    solara.Title(t("app.title"))
    Heading(f"{t('explore.heading')}", 2)
    names = scenario_names() + [n for n in state.uploaded.value if n not in scenario_names()]
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "center"}):
        solara.Select(t("scenario"), value=form.base.name if form.base.name in names else None, values=names,
                      on_value=_on_scenario, style={"min-width": "220px"})
        solara.Select(t("profile"), value=form.profile, values=list(PROFILE_NAMES),
                      on_value=_update_profile)
        solara.Select(t("scale"), value=form.scale, values=sorted({*SCALES, form.scale}),
                      on_value=_update_scale, style={"min-width": "300px"})
        solara.InputInt(t("seed"), value=form.seed, on_value=_update_seed)
        solara.InputInt(t("months"), value=form.months, on_value=_update_months)
    if form.base.description:
        desc = form.base.description_id if state.lang.value == "id" and form.base.description_id else form.base.description
        solara.Text(desc, style={"font-size": "90%"})
    if state.message.value:
        kind = solara.Error if state.message.value.startswith("error") else solara.Success
        kind(state.message.value, classes=["caseload-message"])
    Controls()
    if pending(run, form):
        solara.Warning(t("pending"), classes=["caseload-pending"])
    with solara.Columns([1, 2]):
        with solara.Div():
            Heading(f"{t('inputs')}", 3)
            Inputs(form)
            Heading(f"{t('downloads')}", 3)
            if run is not None:
                Downloads(run)
            FileUpload(t("upload", kb=MAX_SCENARIO_BYTES // 1024), ".toml", MAX_SCENARIO_BYTES, on_scenario_upload)
        with solara.Div():
            if run is None:
                solara.SpinnerSolara()
            else:
                Charts(run)
