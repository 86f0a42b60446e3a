"""The frame of every page: title, page tabs and the language switch (English / Bahasa Indonesia)."""

from __future__ import annotations

from typing import Any

import solara

from ui import state
from ui.widgets import LanguageSwitch

PAGES: tuple[tuple[str, str], ...] = (("", "nav.explore"), ("districts", "nav.districts"), ("compare", "nav.compare"),
                                      ("sources", "nav.sources"))


@solara.component
def Layout(children: list[Any] = []) -> None:  # noqa: B006 (solara passes children this way)
    """App bar with the page tabs and the language switch, then the page."""
    state.lang.use_value()
    current, _routes = solara.use_route()
    here = current.path if current is not None else ""
    with solara.AppLayout(title=state.t("app.title"), navigation=False, color="#1f4e79"):
        with solara.AppBar():
            with solara.AppBarTitle():
                solara.Text(state.t("app.title"), classes=["caseload-title"])
            for path, key in PAGES:
                with solara.Link("/" + path):
                    solara.Button(state.t(key), text=True, dark=True,
                                  classes=["caseload-nav", f"caseload-nav-{path or 'explore'}"]
                                  + (["caseload-nav-active"] if path == here else []),
                                  style={"font-weight": "bold" if path == here else "normal"})
            LanguageSwitch()
        solara.Column(children=children)
