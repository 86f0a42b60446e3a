"""Per-session state of the web UI.

``solara.reactive`` values are stored per virtual kernel, that is per browser session:
these module-level names hold no model themselves, only a slot each session fills. A
session's slots are dropped when its kernel is closed (the browser tab is gone and the
kernel is culled). Models are built on demand (``ensure_run``), never at import.

``tick`` counts model steps: the ExploreRun in ``run`` is changed in place by a step, so
the pages depend on ``tick`` to redraw.
"""

from __future__ import annotations

import threading
from typing import Any

import solara

from runs.scenario import Scenario
from ui.i18n import text
from ui.session import ExploreRun, Settings, default_scale, load_scenario

lang = solara.reactive("en")
settings: solara.Reactive[Settings | None] = solara.reactive(None)
run: solara.Reactive[ExploreRun | None] = solara.reactive(None)
tick = solara.reactive(0)
playing = solara.reactive(False)
speed = solara.reactive(4.0)  # months per second while playing
message = solara.reactive("")  # last error line of Explore (upload, reset)
uploaded: solara.Reactive[dict[str, Scenario]] = solara.reactive({})
boundaries: solara.Reactive[tuple[dict[str, Any], str] | None] = solara.reactive(None)
selected_district = solara.reactive("")  # kemendagri code


def session_closed_event() -> threading.Event:
    """An event set when this session's kernel is closed (a never-set one outside a server)."""
    try:
        import solara.server.kernel_context as kc

        return kc.get_current_context().closed_event
    except (ImportError, RuntimeError, AttributeError):
        return threading.Event()


def t(key: str, **fmt: object) -> str:
    """The string ``key`` in this session's language."""
    return text(key, lang.value, **fmt)


def scenario_by_ref(ref: str) -> Scenario:
    """An uploaded scenario of this session, a scenario file or a data profile."""
    up = uploaded.value.get(ref)
    return up if up is not None else load_scenario(ref)


def current_settings() -> Settings:
    """The session's form: the baseline scenario at the default scale until changed.

    A default form is not stored, so reading it while a page renders changes no state.
    """
    cur = settings.value
    return cur if cur is not None else Settings.from_scenario(load_scenario("baseline"), scale=default_scale())


def ensure_run() -> ExploreRun:
    """The session's model, built from the form when there is none."""
    if run.value is None:
        run.value = ExploreRun(current_settings())
        tick.value += 1
    return run.value


def reset() -> None:
    """Build a new model from the form (month 0)."""
    playing.value = False
    run.value = ExploreRun(current_settings())
    tick.value += 1


def step() -> float:
    """One month of this session's model; returns its server time in ms."""
    r = ensure_run()
    ms = r.step()
    tick.value += 1
    return ms
