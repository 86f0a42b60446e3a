"""Web UI in a real browser: Debian's chromium driven by Playwright, against `solara run app.py`.

Every request not to the test server (127.0.0.1) is aborted and recorded; a page that
asked for anything else (a CDN script, a font, a map tile) fails the test, so the UI is
shown to work offline. The tests save the screenshots shown in the README
(docs/screenshots/). They are slow (a server, a browser, model runs): `make test-slow`,
run by CI. Chromium is Debian's (`apt-get install chromium`), never `playwright install`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 90_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[dict[str, Any]]:
    """`solara run app.py` on a free port of 127.0.0.1 (scale 0.1; closed sessions culled after 3 s)."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "CASELOAD_UI_SCALE": "0.1", "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False", "SOLARA_KERNEL_CULL_TIMEOUT": "3s"}
    env.pop("CASELOAD_BOUNDARIES", None)
    log = open(ROOT / ".pytest_cache" / f"ui-server-{port}.log", "w") if (ROOT / ".pytest_cache").is_dir() else None
    proc = subprocess.Popen([sys.executable, "-m", "solara", "run", str(ROOT / "app.py"), "--host", "127.0.0.1",
                             "--port", str(port), "--production", "--no-open", "--no-check-version"],
                            cwd=ROOT, env=env, stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while True:
        try:
            with urllib.request.urlopen(url + "/", timeout=5) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail(f"the UI server did not start (exit {proc.poll()})")
        time.sleep(0.5)
    try:
        yield {"url": url, "pid": proc.pid}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        if log:
            log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium through Playwright (skipped with a reason when chromium is missing)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run installs it)")
    pw_mod = pytest.importorskip("playwright.sync_api")
    with pw_mod.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


class Session:
    """One browser context (a separate user) with every non-local request aborted and recorded."""

    def __init__(self, browser: Any, url: str) -> None:
        self.url = url
        self.blocked: list[str] = []
        self.ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.ctx.route("**/*", self._route)
        self.page = self.ctx.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)

    def _route(self, route: Any) -> None:
        if route.request.url.startswith(self.url + "/") or route.request.url == self.url:
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def open(self) -> Any:
        self.page.goto(self.url + "/")
        self.page.wait_for_selector(".caseload-month")
        return self.page

    def month(self) -> str:
        return str(self.page.text_content(".caseload-month"))

    def step(self, n: int = 1) -> None:
        for _ in range(n):
            before = self.month()
            self.page.click(".caseload-step")
            self.page.wait_for_function(
                "b => { const e = document.querySelector('.caseload-month'); return e && e.textContent !== b; }", arg=before)

    def nav(self, name: str) -> None:
        self.page.click(f".caseload-nav-{name}")

    def close(self) -> None:
        self.ctx.close()


@pytest.fixture
def session(server: dict[str, Any], browser: Any) -> Iterator[Session]:
    s = Session(browser, server["url"])
    yield s
    s.close()
    assert s.blocked == [], f"requests to other hosts: {s.blocked}"


def _canvas(page: Any, selector: str) -> bytes:
    page.wait_for_selector(f"{selector} canvas")
    return bytes(page.locator(f"{selector} canvas").first.screenshot())


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def test_every_page_loads_offline_with_screenshots(session: Session) -> None:
    page = session.open()
    assert session.month().startswith("Month 0 of 36")
    _canvas(page, ".caseload-chart-poverty")
    session.step(3)
    time.sleep(1.0)
    _shot(page, "explore")
    session.nav("districts")
    page.wait_for_selector(".caseload-map canvas")
    page.click(".caseload-district-select")
    page.locator(".v-menu__content .v-list-item", has_text="Tambun Selatan").first.click()
    page.wait_for_selector("text=Facilitator")
    page.wait_for_selector("text=Family")
    time.sleep(1.0)
    _shot(page, "districts")
    session.nav("sources")
    page.wait_for_selector(".caseload-disagree")
    assert "6.22%" in str(page.text_content(".caseload-disagree"))
    _shot(page, "sources")
    session.nav("explore")
    page.wait_for_selector(".caseload-month")
    assert session.month().startswith("Month 3 of 36")  # the session's model survived the page changes


def _square_geojson() -> bytes:
    """Kecamatan polygons made up for the test: a small square around each centroid."""
    import json

    from ui.geo import kecamatan

    feats = []
    for k in kecamatan():
        d = 0.01
        ring = [[k.lng - d, k.lat - d], [k.lng + d, k.lat - d], [k.lng + d, k.lat + d], [k.lng - d, k.lat + d],
                [k.lng - d, k.lat - d]]
        feats.append({"type": "Feature", "properties": {"code": k.code}, "geometry": {"type": "Polygon", "coordinates": [ring]}})
    return json.dumps({"type": "FeatureCollection", "features": feats}).encode()


def test_districts_uploaded_polygons_and_bad_geojson(session: Session) -> None:
    page = session.open()
    session.nav("districts")
    page.wait_for_selector(".caseload-map canvas")
    upload = ".caseload-map .caseload-upload-input"
    page.set_input_files(upload, files=[{"name": "bad.geojson", "mimeType": "application/json", "buffer": b"{"}])
    page.wait_for_selector(".caseload-message:has-text('not valid GeoJSON')")
    page.set_input_files(upload, files=[{"name": "squares.geojson", "mimeType": "application/json",
                                         "buffer": _square_geojson()}])
    page.wait_for_selector("text=Kecamatan boundaries from squares.geojson")
    page.wait_for_selector(".caseload-map canvas")
    assert page.locator(".caseload-message").count() == 0


def test_change_input_reset_step_and_chart_change(session: Session) -> None:
    page = session.open()
    session.step(2)
    months = page.get_by_label("Months to run")
    months.fill("24")
    months.press("Enter")
    page.wait_for_selector(".caseload-pending")
    assert session.month().startswith("Month 2 of 36")  # inputs reach the model on Reset only
    page.click(".caseload-reset")
    page.wait_for_function("() => document.querySelector('.caseload-month').textContent.startsWith('Month 0 of 24')")
    page.wait_for_selector(".caseload-pending", state="detached", timeout=10_000)
    time.sleep(1.0)
    before = _canvas(page, ".caseload-chart-poverty")
    session.step()
    assert session.month().startswith("Month 1 of 24")
    time.sleep(1.0)
    after = _canvas(page, ".caseload-chart-poverty")
    assert before != after
    assert "server time" in str(page.text_content(".caseload-steptime"))


def test_language_switch_on_every_page(session: Session) -> None:
    page = session.open()
    assert page.text_content(".caseload-nav-explore").strip() == "Explore"
    page.locator(".caseload-lang button").nth(1).click()
    page.wait_for_function("() => document.querySelector('.caseload-nav-explore').textContent.trim() === 'Jelajahi'")
    assert "Bulan 0 dari 36" in session.month()
    assert page.text_content(".caseload-step").strip().lower() == "satu bulan"
    for nav, heading in (("districts", "Kecamatan"), ("compare", "Bandingkan skenario"),
                         ("sources", "Asal setiap angka")):
        session.nav(nav)
        page.wait_for_selector(f"h2:has-text('{heading}')")
    page.locator(".caseload-lang button").nth(0).click()
    page.wait_for_selector("h2:has-text('Where every figure comes from')")


def test_upload_bad_scenario_shows_the_error(session: Session) -> None:
    page = session.open()
    bad = b'name = "mine"\nextends = "baseline"\n[parameters]\nincentiv_rp_month = 4000000\n'
    page.set_input_files(".caseload-upload-input", files=[{"name": "my-scenario.toml", "mimeType": "text/plain",
                                                            "buffer": bad}])
    page.wait_for_selector(".caseload-message:has-text('error:')")
    msg = str(page.text_content(".caseload-message"))
    assert "my-scenario.toml" in msg and "parameters.incentiv_rp_month" in msg and "Did you mean" in msg
    assert "caseload-upload-" not in msg  # the server's temporary name never shows
    good = b'name = "mine"\nextends = "cap-150"\n[parameters]\nincentive_rp_month = 4000000\n'
    page.set_input_files(".caseload-upload-input", files=[{"name": "mine.toml", "mimeType": "text/plain",
                                                            "buffer": good}])
    page.wait_for_selector(".caseload-message:has-text(\"Scenario 'mine' loaded\")")
    page.click(".caseload-reset")
    page.wait_for_function("() => document.querySelector('.caseload-month').textContent.startsWith('Month 0')")


def test_compare_two_scenarios_three_replicates(session: Session) -> None:
    page = session.open()
    session.nav("compare")
    page.wait_for_selector(".caseload-compare-run")
    page.click(".caseload-compare-run")
    page.wait_for_selector(".caseload-headline", timeout=300_000)
    assert "6 of 6" in str(page.text_content(".caseload-compare-progress"))
    headline = str(page.text_content(".caseload-headline"))
    assert "cap-150" in headline and "baseline" in headline
    page.wait_for_selector(".caseload-bands canvas")
    time.sleep(1.0)
    _shot(page, "compare")


def test_compare_cancel_stops_the_workers(session: Session, server: dict[str, Any]) -> None:
    psutil = pytest.importorskip("psutil")
    page = session.open()
    session.nav("compare")
    page.get_by_label("Replicates").fill("60")
    page.get_by_label("Replicates").press("Enter")
    page.click(".caseload-compare-run")
    srv = psutil.Process(server["pid"])

    def workers() -> list[Any]:
        # multiprocessing's resource tracker (one per server, idle) is not a worker
        out = []
        for c in srv.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                if "resource_tracker" not in " ".join(c.cmdline()):
                    out.append(c)
        return out

    deadline = time.time() + 60
    while time.time() < deadline and not workers():
        time.sleep(0.2)
    time.sleep(2.0)  # let the batch start its pool workers
    assert workers(), "the batch process did not start"
    page.click(".caseload-compare-cancel")
    page.wait_for_selector(".caseload-message:has-text('Cancelled')")
    deadline = time.time() + 15
    while time.time() < deadline and workers():
        time.sleep(0.3)
    assert workers() == []


def test_two_contexts_never_see_each_others_steps(server: dict[str, Any], browser: Any) -> None:
    a, b = Session(browser, server["url"]), Session(browser, server["url"])
    try:
        a.open()
        b.open()
        a.step(3)
        assert a.month().startswith("Month 3 of")
        b.page.wait_for_timeout(1000)
        assert b.month().startswith("Month 0 of")
        b.step(1)
        a.page.wait_for_timeout(1000)
        assert a.month().startswith("Month 3 of") and b.month().startswith("Month 1 of")
        assert a.blocked == [] and b.blocked == []
    finally:
        a.close()
        b.close()


def _rss_mb(pid: int) -> float:
    import psutil

    return float(psutil.Process(pid).memory_info().rss) / 2**20


def test_ten_concurrent_sessions_no_cross_talk_bounded_memory(server: dict[str, Any], browser: Any) -> None:
    pytest.importorskip("psutil")
    warm = Session(browser, server["url"])
    warm.open()
    warm.step()
    warm.close()
    base = _rss_mb(server["pid"])
    peaks = []
    for _wave in range(2):
        sessions = [Session(browser, server["url"]) for _ in range(10)]
        try:
            for s in sessions:
                s.page.goto(s.url + "/")
            for s in sessions:
                s.page.wait_for_selector(".caseload-month")
            want = [i % 4 + 1 for i in range(10)]
            for k in range(max(want)):  # interleaved: every session steps while the others do
                for s, n in zip(sessions, want):
                    if k < n:
                        s.page.click(".caseload-step")
                for s, n in zip(sessions, want):
                    if k < n:
                        s.page.wait_for_function(
                            "m => document.querySelector('.caseload-month').textContent.startsWith('Month ' + m + ' of')",
                            arg=k + 1)
            time.sleep(1.0)
            for s, n in zip(sessions, want):
                assert s.month().startswith(f"Month {n} of"), (s.month(), n)
                assert s.blocked == []
            peaks.append(_rss_mb(server["pid"]) - base)
        finally:
            for s in sessions:
                with contextlib.suppress(Exception):
                    s.close()
        time.sleep(8)  # closed sessions are culled after 3 s (SOLARA_KERNEL_CULL_TIMEOUT)
    print(f"server RSS over the warm baseline of {base:.0f} MB: 10 sessions {peaks[0]:.0f} MB; "
          f"10 more after those closed {peaks[1]:.0f} MB")
    # 10 sessions at scale 0.1 cost tens of MB; a second wave after the first closed reuses that memory
    assert peaks[0] < 300, peaks
    assert peaks[1] < peaks[0] + 100, peaks
