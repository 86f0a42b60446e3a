"""Web UI without a browser: the pages rendered with solara's test helpers, and the logic they use.

Each test runs inside its own solara virtual kernel (a session), as solara's own test suite
does (solara.render + rc.find). The browser tests are in tests/test_ui_browser.py.
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import ipyvuetify as v
import numpy as np
import pytest
import solara
import solara.server.app  # applies solara's per-session widget patch, as in a server
import solara.server.starlette  # reactive state is per session only under solara's server
from solara.server import kernel
from solara.server.kernel_context import VirtualKernelContext

from runs.scenario import load, load_any
from ui import geo, state
from ui.files import MAX_SCENARIO_BYTES, UploadError, scenario_toml, validate_upload
from ui.i18n import STRINGS, indicator_label, text
from ui.session import ExploreRun, Settings, grouped, inputs
from ui.widgets import decode_upload


@pytest.fixture
def session(monkeypatch: pytest.MonkeyPatch) -> Iterator[VirtualKernelContext]:
    """A fresh solara session (virtual kernel) at scale 0.05."""
    monkeypatch.setenv("CASELOAD_UI_SCALE", "0.05")
    sid = uuid.uuid4().hex
    ctx = VirtualKernelContext(id=sid, kernel=kernel.Kernel(), session_id=f"session-{sid}")
    with ctx:
        yield ctx
    with ctx:
        ctx.close()


def _month(rc: object) -> str:
    w = rc.find(v.Html, class_="caseload-month").widget  # type: ignore[attr-defined]
    return str(w.children[0])


def _btn(rc: object, cls: str) -> v.Btn:
    return rc.find(v.Btn, class_=cls).widget  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------- logic


def test_inputs_cover_every_parameter_and_lever_setting() -> None:
    from sim import params
    from sim.policies import REGISTRY

    names = {i.name for i in inputs()}
    assert set(params.PARAMS) <= names
    for lname, cls in REGISTRY.items():
        assert {f"{lname}.{s}" for s in cls.settings} <= names
    groups = grouped(inputs())
    assert list(groups)[-1] == "levers"
    assert [g for g in groups if g != "levers"] == [g for g in params.GROUPS if g in groups]


def test_settings_round_trip_through_a_scenario_file(tmp_path) -> None:
    sc = load_any("cap-150")
    form = Settings.from_scenario(sc, scale=0.1, seed=7)
    assert form.levers_on == {"caseload_cap"}
    form = form.with_value("incentive_rp_month", 4_000_000.0).with_value("caseload_cap.cap", 120)
    form = form.with_lever("supervision", True)
    out = form.scenario()
    assert out.parameters == {"incentive_rp_month": 4_000_000.0}
    assert out.policies["caseload_cap"]["cap"] == 120
    assert set(out.policies) == {"caseload_cap", "supervision"}
    path = tmp_path / "saved.toml"
    path.write_text(scenario_toml(out), encoding="utf-8")
    back = load(path)
    assert back.parameters == out.parameters
    assert back.policies == out.policies
    assert (back.profile, back.months, back.scale) == (out.profile, out.months, 0.1)


def test_explore_run_matches_the_command_line_model() -> None:
    """The UI builds its model from the same scenario keywords as runs.runner: same seed, same numbers."""
    from runs.runner import run_scenario

    sc = load_any("cap-150")
    run = ExploreRun(Settings.from_scenario(sc, scale=0.05, seed=3))
    for _ in range(4):
        run.step()
    ref = run_scenario(sc, seed=3, months=4, scale=0.05)
    got = run.regency()
    for col in ("poverty_rate_pct", "caseload_mean", "burnout_mean", "cost_rp_cum"):
        assert np.allclose(got[col].to_numpy(float), ref.regency[col].to_numpy(float), equal_nan=True), col


def test_upload_validation_uses_the_command_line_messages_and_never_the_client_name() -> None:
    bad = b'name = "x"\nextends = "baseline"\n[parameters]\nincentiv_rp_month = 3\n'
    with pytest.raises(UploadError) as e:
        validate_upload("../../etc/evil name.toml", bad)
    msg = str(e.value)
    assert msg.startswith("error: evil name.toml")
    assert "parameters.incentiv_rp_month" in msg and "Did you mean 'incentive_rp_month'" in msg
    assert "caseload-upload-" not in msg and "/etc" not in msg
    with pytest.raises(UploadError, match="at most"):
        validate_upload("big.toml", b"#" * (MAX_SCENARIO_BYTES + 1))
    with pytest.raises(UploadError, match="can extend a scenario of scenarios/ by name"):
        validate_upload("x.toml", b'extends = "/etc/passwd.toml"\n')
    with pytest.raises(UploadError, match="not valid TOML"):
        validate_upload("x.toml", b"name = \n")
    good = validate_upload("mine.toml", b'extends = "baseline"\n[parameters]\nincentive_rp_month = 4000000\n')
    assert good.name == "mine" and good.parameters == {"incentive_rp_month": 4000000} and good.path is None


def test_decode_upload_checks_the_size_again() -> None:
    import base64

    data = b"x" * 10
    assert decode_upload({"name": "a", "size": 10, "data": base64.b64encode(data).decode()}, 10) == ("a", 10, data)
    _name, size, got = decode_upload({"name": "a", "size": 1, "data": base64.b64encode(b"x" * 11).decode()}, 10)
    assert got is None and size == 11
    assert decode_upload({"name": "a", "size": 99, "data": None}, 10) == ("a", 99, None)


def test_tile_layout_keeps_compass_directions_and_one_district_per_cell() -> None:
    places = geo.kecamatan()
    lay = geo.tile_layout(places)
    assert len(lay) == 23 and len(set(lay.values())) == 23
    by = {p.code: p for p in places}
    north = max(places, key=lambda p: p.lat)
    south = min(places, key=lambda p: p.lat)
    west = min(places, key=lambda p: p.lng)
    east = max(places, key=lambda p: p.lng)
    assert lay[north.code][1] < lay[south.code][1]
    assert lay[west.code][0] < lay[east.code][0]
    assert by  # every code has a centroid


def test_geojson_matching_and_errors() -> None:
    feat = {"type": "Feature", "properties": {"name": "tarumajaya"},
            "geometry": {"type": "Polygon", "coordinates": [[[107, -6.1], [107.1, -6.1], [107.1, -6.2], [107, -6.1]]]}}
    other = {**feat, "properties": {"code": "32.16.02"}}
    stray = {**feat, "properties": {"name": "Nowhere"}}
    import json

    doc = geo.parse_geojson(json.dumps({"type": "FeatureCollection", "features": [feat, other, stray]}).encode(), "b.json")
    assert [f["properties"]["name"] for f in doc["features"]] == ["Tarumajaya", "Babelan"]
    with pytest.raises(geo.GeoError, match="FeatureCollection"):
        geo.parse_geojson(b'{"type": "Feature"}', "b.json")
    with pytest.raises(geo.GeoError, match="not valid GeoJSON"):
        geo.parse_geojson(b"{", "b.json")
    with pytest.raises(geo.GeoError, match="no feature names a kecamatan"):
        geo.parse_geojson(json.dumps({"type": "FeatureCollection", "features": [stray]}).encode(), "b.json")


def test_every_string_has_both_languages_and_labels_fall_back() -> None:
    for key, entry in STRINGS.items():
        assert entry.get("en") and entry.get("id"), key
    assert text("nav.explore", "id") == "Jelajahi"
    assert indicator_label("poverty_rate_pct", "id") == "Tingkat kemiskinan (%)"
    assert indicator_label("share_no_contact_6m") == "Share no contact 6m"  # a column added later still gets a label


# ---------------------------------------------------------------------------- pages (solara test helpers)


def test_explore_step_reset_and_pending_inputs(session: VirtualKernelContext) -> None:
    from ui.explore import Explore

    _box, rc = solara.render(Explore(), handle_error=False)
    assert state.run.value is not None
    assert _month(rc).startswith("Month 0 of 36")
    _btn(rc, "caseload-step").click()
    _btn(rc, "caseload-step").click()
    assert state.run.value.month == 2
    assert _month(rc).startswith("Month 2 of 36")
    # change an input: the running model is untouched until Reset
    months = rc.find(v.TextField, label="Months to run").widget
    months.v_model = "12"
    months.fire_event("focusout")
    rc.find(v.Alert, class_="caseload-pending").assert_single()
    assert state.run.value.month == 2
    _btn(rc, "caseload-reset").click()
    assert _month(rc).startswith("Month 0 of 12")
    rc.find(v.Alert, class_="caseload-pending").assert_empty()


def test_explore_lever_switch_reaches_the_model(session: VirtualKernelContext) -> None:
    from ui.explore import Explore

    _box, rc = solara.render(Explore(), handle_error=False)
    state.settings.set(state.current_settings().with_lever("caseload_cap", True))
    _btn(rc, "caseload-reset").click()
    assert [p.name for p in state.run.value.model.policies] == ["caseload_cap"]


def test_explore_language_switch(session: VirtualKernelContext) -> None:
    from ui.layout import Layout

    _box, rc = solara.render(solara.RoutingProvider(children=[Layout(children=[solara.Text("x")])], routes=[
        solara.Route("/")], pathname="/"), handle_error=False)
    rc.find(v.Btn, children=["Explore"]).assert_single()
    state.lang.set("id")
    rc.find(v.Btn, children=["Jelajahi"]).assert_single()
    rc.find(v.Btn, children=["Explore"]).assert_empty()


def test_explore_upload_bad_then_good_scenario(session: VirtualKernelContext) -> None:
    from ui import explore

    _box, rc = solara.render(explore.Explore(), handle_error=False)
    explore.on_scenario_upload("bad.toml", 40, b"[parameters]\nnot_a_parameter = 1\n")
    alert = rc.find(v.Alert, class_="caseload-message").widget
    assert "error: bad.toml" in str(alert.children) and "unknown parameter 'not_a_parameter'" in str(alert.children)
    explore.on_scenario_upload("big.toml", MAX_SCENARIO_BYTES + 5, None)
    assert "at most" in state.message.value
    explore.on_scenario_upload("mine.toml", 60, b'extends = "cap-150"\n[parameters]\nincentive_rp_month = 4000000\n')
    assert "mine" in state.uploaded.value
    assert state.current_settings().base.name == "mine"
    assert state.current_settings().levers_on == {"caseload_cap"}


def test_districts_page_tiles_table_and_drill_down(session: VirtualKernelContext) -> None:
    from ui.districts import Districts, facilitators_in, families_of

    state.reset()
    state.step()
    _box, rc = solara.render(Districts(), handle_error=False)
    charts = rc.find(solara.components.echarts.EchartsWidget).widgets
    assert charts and charts[0].option["series"][0]["type"] == "heatmap"
    assert len(charts[0].option["series"][0]["data"]) == 23
    model = state.run.value.model
    code = model.district_codes[5]
    state.selected_district.set(code)
    facs = facilitators_in(model, code)
    assert facs and all(a.district == model.district_names[5] for a in facs)
    assert [a.caseload for a in facs] == sorted((a.caseload for a in facs), reverse=True)
    fams = families_of(model, facs[0].post)
    assert fams and all(f.facilitator is facs[0] for f in fams)
    rc.find(v.Select, label="Facilitator").assert_single()
    rc.find(v.Select, label="Family").assert_single()


def test_districts_page_uses_polygons_when_given(session: VirtualKernelContext) -> None:
    from ui.districts import Districts

    feat = {"type": "Feature", "properties": {"code": "32.16.01"},
            "geometry": {"type": "Polygon", "coordinates": [[[107, -6.1], [107.1, -6.1], [107.1, -6.2], [107, -6.1]]]}}
    state.reset()
    state.boundaries.set(({"type": "FeatureCollection", "features": [feat]}, "mine.geojson"))
    _box, rc = solara.render(Districts(), handle_error=False)
    w = rc.find(solara.components.echarts.EchartsWidget).widgets[0]
    assert w.option["series"][0]["type"] == "map" and "bekasi" in w.maps


def test_sources_page_lists_parameters_and_disagreement(session: VirtualKernelContext) -> None:
    from ui.sources import Sources, bps_series, parameter_table

    _box, rc = solara.render(Sources(), handle_error=False)
    assert len(parameter_table()) >= 70
    assert set(bps_series()["year"]) >= {2021, 2022, 2023}
    box = rc.find(v.Html, class_="caseload-disagree").widget
    assert "6.22%" in str(box.children) and "5.21%" in str(box.children)


@pytest.mark.slow
def test_compare_page_runs_and_cancels(session: VirtualKernelContext) -> None:
    from ui import compare

    _box, rc = solara.render(compare.Compare(), handle_error=False)
    compare.start(["baseline"], 2, 3, 0.05, 1)
    assert compare.status.value.startswith("error") and compare.job_ref.value is None
    compare.start(["baseline", "cap-150"], 2, 3, 0.05, 1)
    job = compare.job_ref.value
    assert job is not None and job.total == 4
    deadline = time.time() + 120
    while compare.status.value == "running" and time.time() < deadline:
        time.sleep(0.2)
    assert compare.status.value == "done", compare.status.value
    c = compare.result.value
    assert set(c.ends["scenario"]) == {"baseline", "cap-150"} and len(c.ends) == 4
    assert "cap-150" in compare.headline(c)
    rc.find(v.Alert, class_="caseload-headline").wait_for(timeout=10)
    rc.find(v.Alert, class_="caseload-headline").assert_single()
    job.cleanup()
    # cancel: a long batch stops at once and its folder is removed
    compare.start(["baseline", "cap-150"], 40, 120, 0.5, 1)
    job = compare.job_ref.value
    time.sleep(1.0)
    compare.cancel()
    assert not job.running() and not job.out.exists() and compare.status.value == "cancelled"
    time.sleep(1.0)  # the page's polling thread notices the cancel and ends
    rc.close()


@pytest.mark.slow
def test_full_scale_month_step_server_time(session: VirtualKernelContext, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full-scale month in Explore, click to re-rendered page, takes at most 100 ms of server time.

    Server time is the CPU time of the thread handling the click (the model step and the
    re-render of the page): on a shared machine the wall-clock time also counts the other
    processes' turns. Both are printed; the median of 10 steps is asserted.
    """
    from ui.explore import Explore

    monkeypatch.setenv("CASELOAD_UI_SCALE", "1.0")
    _box, rc = solara.render(Explore(), handle_error=False)
    assert state.run.value.settings.scale == 1.0
    step = _btn(rc, "caseload-step")
    step.click()  # first step: warm caches
    cpu, wall = [], []
    for _ in range(10):
        c0, w0 = time.thread_time(), time.perf_counter()
        step.click()
        cpu.append(1000 * (time.thread_time() - c0))
        wall.append(1000 * (time.perf_counter() - w0))
    assert state.run.value.month == 11
    print(f"full-scale month step: server CPU time median {statistics.median(cpu):.1f} ms, "
          f"wall-clock median {statistics.median(wall):.1f} ms (model step alone "
          f"{statistics.median(state.run.value.step_ms[1:]):.1f} ms wall)")
    assert statistics.median(cpu) <= 100, cpu


def test_play_runs_months_in_a_thread_until_pause(session: VirtualKernelContext) -> None:
    from ui.explore import Explore

    _box, rc = solara.render(Explore(), handle_error=False)
    state.speed.set(4.0)  # 36 months take 9 s: the test pauses long before the end
    _btn(rc, "caseload-play").click()
    deadline = time.time() + 30
    while state.run.value.month < 2 and time.time() < deadline:
        time.sleep(0.05)
    assert 2 <= state.run.value.month < 36
    _btn(rc, "caseload-pause").click()
    time.sleep(0.5)
    stopped = state.run.value.month
    time.sleep(0.6)
    assert state.run.value.month == stopped
    assert _month(rc).startswith(f"Month {stopped} of 36")
    rc.close()


def test_closing_a_session_cancels_its_comparison(session: VirtualKernelContext) -> None:
    from ui import compare

    compare.start(["baseline", "cap-150"], 40, 120, 0.5, 1)
    job = compare.job_ref.value
    assert job is not None and job.running()
    compare._cancel_on_close()()  # what solara calls when the session's kernel is closed
    assert not job.running() and not job.out.exists()


def test_poverty_chart_shows_bps_and_the_paper_next_to_the_model() -> None:
    from ui import charts
    from ui.explore import references

    run = ExploreRun(Settings.from_scenario(load_any("baseline"), scale=0.05, seed=1))
    for _ in range(28):
        run.step()
    opt = charts.poverty_chart(run.regency(), references(), "en")
    by_name = {s["name"]: s for s in opt["series"]}
    assert set(by_name) == {"Poverty rate (%)", "BPS", "Levianto & Warsidi (2025)"}
    assert ["2021-04-01", 5.21] in by_name["BPS"]["data"] and ["2022-04-01", 5.01] in by_name["BPS"]["data"]
    assert ["2021-04-01", 6.22] in by_name["Levianto & Warsidi (2025)"]["data"]
    assert "Model estimate" in opt["title"]["subtext"] and "BPS" in opt["title"]["subtext"]
    assert len(by_name["Poverty rate (%)"]["data"]) == 29


def test_fallback_headline_in_both_languages() -> None:
    from types import SimpleNamespace

    import pandas as pd

    from ui.compare import fallback_headline

    c = SimpleNamespace(scenarios=["baseline", "cap-150"], baseline="baseline", table=pd.DataFrame([
        {"indicator": "cost_rp_cum", "scenario": "cap-150", "diff_mean": 2e9, "diff_ci_low": 1.5e9, "diff_ci_high": 2.5e9},
        {"indicator": "poverty_rate_pct", "scenario": "cap-150", "diff_mean": -0.1, "diff_ci_low": -0.2,
         "diff_ci_high": 0.0},
    ]))
    en = fallback_headline(c, "en")
    assert en.startswith("Compared with baseline, cap-150 changes the cost by Rp2.00 bn (95% interval Rp1.50 bn to Rp2.50 bn)")
    assert "the poverty rate by -0.10 pp" in en and "model estimate" in en
    assert fallback_headline(c, "id").startswith("Dibandingkan dengan baseline, cap-150 mengubah biaya sebesar Rp2.00 bn")


def test_an_upload_never_shadows_a_scenario_file(session: VirtualKernelContext) -> None:
    from ui import explore

    explore.on_scenario_upload("baseline.toml", 30, b'name = "baseline"\n[parameters]\nincentive_rp_month = 4000000\n')
    assert "uploaded-baseline" in state.uploaded.value
    assert state.scenario_by_ref("baseline").parameters == {}
    assert state.current_settings().base.name == "uploaded-baseline"


def test_the_server_runs_at_most_its_limit_of_comparisons_across_sessions(monkeypatch: pytest.MonkeyPatch) -> None:
    # Sessions share the machine: with the limit at 1, a second session's comparison is
    # refused with a message (no job, no folder) while the first runs, and starts once the
    # first has been cancelled.
    from ui import compare, jobs

    monkeypatch.setattr(jobs, "MAX_RUNNING", 1)
    monkeypatch.setenv("CASELOAD_UI_SCALE", "0.05")

    def ctx() -> VirtualKernelContext:
        sid = uuid.uuid4().hex
        return VirtualKernelContext(id=sid, kernel=kernel.Kernel(), session_id=f"session-{sid}")

    a, b = ctx(), ctx()
    before = set(Path(jobs.tempfile.gettempdir()).glob("caseload-ui-compare-*"))
    try:
        with a:
            compare.start(["baseline", "cap-150"], 40, 120, 0.5, 1)
            first = compare.job_ref.value
            assert first is not None and first.running()
        with b:
            compare.start(["baseline", "cap-150"], 2, 3, 0.05, 1)
            assert compare.job_ref.value is None
            assert compare.status.value.startswith("error: The server is already running 1 comparisons")
        assert set(Path(jobs.tempfile.gettempdir()).glob("caseload-ui-compare-*")) - before == {first.out}
        with a:
            compare.cancel()
        with b:
            compare.start(["baseline", "cap-150"], 2, 3, 0.05, 1)
            second = compare.job_ref.value
            assert second is not None and compare.status.value == "running"
            compare.cancel()
    finally:
        for c in (a, b):
            with c:
                c.close()
