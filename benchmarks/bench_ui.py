"""Web UI: server time of one full-scale month in Explore, from the Step click to the re-rendered page.

Renders the Explore page in a solara virtual kernel (no browser), clicks Step 30 times at
full scale (88,000 families) and prints the medians of: the model step alone (wall), the
whole click (wall) and the whole click's CPU time in this thread (what the server spends;
on a shared machine the wall clock also counts other processes' turns). Target <= 100 ms.
"""

from __future__ import annotations

import os
import statistics
import time
import uuid

os.environ["CASELOAD_UI_SCALE"] = "1.0"

import ipyvuetify as v
import solara
import solara.server.app
import solara.server.starlette
from solara.server import kernel
from solara.server.kernel_context import VirtualKernelContext


def main(n: int = 30) -> None:
    ctx = VirtualKernelContext(id=uuid.uuid4().hex, kernel=kernel.Kernel(), session_id="bench")
    with ctx:
        from ui import state
        from ui.explore import Explore

        _box, rc = solara.render(Explore(), handle_error=False)
        btn = rc.find(v.Btn, class_="caseload-step").widget
        btn.click()
        cpu, wall = [], []
        for _ in range(n):
            c0, w0 = time.thread_time(), time.perf_counter()
            btn.click()
            cpu.append(1000 * (time.thread_time() - c0))
            wall.append(1000 * (time.perf_counter() - w0))
        run = state.run.value
        assert run is not None
        model = statistics.median(run.step_ms[1:])
        print(f"families {run.model.n_families}, facilitators {run.model.last_regency['facilitators']}, {n} steps")
        print(f"model step alone (wall)        median {model:6.1f} ms")
        print(f"click to re-rendered page (wall) median {statistics.median(wall):6.1f} ms")
        print(f"click to re-rendered page (CPU)  median {statistics.median(cpu):6.1f} ms  (target <= 100 ms)")
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
