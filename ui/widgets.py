"""Components shared by the pages: language switch, registry-driven inputs, file upload.

``ParamInput`` draws one input of ``ui.session.inputs()`` by its kind (slider for a
bounded number, number field otherwise, checkbox, select, multi-select), with the
registry's label and unit, and the source as a tooltip. ``FileUpload`` is a plain file
input (ui/upload.vue): the browser reads the file and sends it to the server, which checks
its size again before anything else (``decode_upload``).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from pathlib import Path
from typing import Any

import solara

from ui import state
from ui.i18n import LANGS
from ui.session import Input


def Heading(text: str, level: int = 2) -> Any:
    """A heading (plain HTML: solara.Markdown would load KaTeX, which solara-assets does not ship)."""
    return solara.v.Html(tag=f"h{level}", children=[text], class_=f"caseload-h{level}")


@solara.component
def LanguageSwitch() -> None:
    """English / Bahasa Indonesia, on every page (the app bar)."""
    solara.ToggleButtonsSingle(value=state.lang.value, values=list(LANGS), on_value=state.lang.set,
                               classes=["caseload-lang"])


def _step(spec: Input) -> float:
    if spec.kind == "int":
        return 1
    if spec.low is None or spec.high is None:
        return 0.01
    span = float(spec.high) - float(spec.low)
    for s in (1e9, 1e8, 1e7, 1e6, 1e5, 1e4, 1e3, 100, 10, 1, 0.1, 0.01):
        if span / s >= 50:
            return s
    return 0.001


@solara.component
def ParamInput(spec: Input, value: Any, on_value: Callable[[Any], None]) -> None:
    """One input of the form, drawn from its registry entry."""
    label = f"{spec.label} ({spec.unit})" if spec.unit and spec.unit not in ("-", "") else spec.label
    with solara.Tooltip(f"{spec.name}: {spec.source}"):
        with solara.Div(classes=["caseload-input"], attributes={"data-name": spec.name}):
            if spec.kind == "bool":
                solara.Checkbox(label=label, value=bool(value), on_value=on_value)
            elif spec.kind == "choice":
                solara.Select(label=label, value=value, values=list(spec.choices), on_value=on_value)
            elif spec.kind == "list[str]":
                solara.SelectMultiple(label=label, values=list(value or []), all_values=list(spec.choices),
                                      on_value=lambda v: on_value(list(v)))
            elif spec.kind == "int" and spec.low is not None and spec.high is not None:
                solara.SliderInt(label=label, value=int(value), min=int(spec.low), max=int(spec.high),
                                 on_value=on_value, thumb_label="always")
            elif spec.kind == "int":
                solara.InputInt(label=label, value=int(value), on_value=on_value)
            elif spec.kind not in ("float", "int"):  # a kind this page does not know (e.g. 'month'): plain text
                solara.InputText(label=label, value=str(value), on_value=on_value)
            elif spec.low is not None and spec.high is not None and float(spec.high) - float(spec.low) <= 1e6:
                solara.SliderFloat(label=label, value=float(value), min=float(spec.low), max=float(spec.high),
                                   step=_step(spec), on_value=on_value, thumb_label="always")
            else:
                solara.InputFloat(label=label, value=float(value), on_value=on_value)


@solara.component_vue(str(Path(__file__).with_name("upload.vue")))
def _UploadVue(label: str, accept: str, max_bytes: int, event_upload: Callable[[dict[str, Any]], None]) -> None:
    """The file input (ui/upload.vue)."""


def FileUpload(label: str, accept: str, max_bytes: int, on_upload: Callable[[str, int, bytes | None], None]) -> Any:
    """A file input: ``on_upload(name, size, data)``; ``data`` is None when the file is over ``max_bytes``."""

    def handle(msg: dict[str, Any]) -> None:
        name, size, data = decode_upload(msg, max_bytes)
        on_upload(name, size, data)

    return _UploadVue(label=label, accept=accept, max_bytes=max_bytes, event_upload=handle)


def decode_upload(msg: dict[str, Any], max_bytes: int) -> tuple[str, int, bytes | None]:
    """(name, size, bytes or None) from the browser's message, the size checked again here."""
    name = str(msg.get("name", ""))[:255]
    raw = msg.get("data")
    if not isinstance(raw, str) or len(raw) > (max_bytes * 4) // 3 + 8:
        size = msg.get("size")
        return name, int(size) if isinstance(size, (int, float)) else max_bytes + 1, None
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        return name, max_bytes + 1, None
    if len(data) > max_bytes:
        return name, len(data), None
    return name, len(data), data
