"""The caseload-sim web UI: ``solara run app.py --host 127.0.0.1 --port 8765`` (or ``make run``).

Pages: Explore (a scenario, its inputs, play/step/reset and live charts), Districts (the
kecamatan on a tile map or real polygons, a district table, drill-down to a facilitator and
a family), Compare (scenarios x replicates through the batch runner, bands and paired
differences) and Sources (where every figure comes from). Every browser session has its
own state (ui.state); nothing here builds a model.
"""

from __future__ import annotations

import os

import solara
import solara.server.settings

from ui.compare import Compare
from ui.districts import Districts
from ui.explore import Explore
from ui.layout import Layout
from ui.sources import Sources

# A closed browser tab's session (its model) is dropped a minute later, also when the app is
# started with `solara run app.py` rather than `make run`; no usage telemetry leaves the machine.
if "SOLARA_KERNEL_CULL_TIMEOUT" not in os.environ:
    solara.server.settings.kernel.cull_timeout = "60s"
solara.server.settings.telemetry.mixpanel_enable = False

routes = [
    solara.Route(path="/", component=Explore, label="Explore", layout=Layout),
    solara.Route(path="districts", component=Districts, label="Districts"),
    solara.Route(path="compare", component=Compare, label="Compare"),
    solara.Route(path="sources", component=Sources, label="Sources"),
]
