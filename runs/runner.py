"""Run one scenario with one seed and return its tables: the unit every executor runs.

``run_scenario`` is a plain function of (scenario, seed, months, scale) returning data
(no state left on objects between runs), so the batch runner, the web UI and calibration
can all call it, in this process or on a Dask worker, with identical results.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pandas as pd

from runs.scenario import Scenario
from sim import params
from sim.model import CaseloadModel


@dataclass
class RunResult:
    """The tables of one run and what produced them."""

    regency: pd.DataFrame
    district: pd.DataFrame
    manifest: dict[str, Any]


def run_scenario(
    scenario: Scenario,
    seed: int,
    months: int | None = None,
    scale: float | None = None,
    overrides: dict[str, Any] | None = None,
    check_invariants: bool = False,
    replicate: int | None = None,
) -> RunResult:
    """Build the model for ``scenario`` with ``seed``, run it, and return its tables.

    ``overrides`` maps model parameters and dotted lever settings (``caseload_cap.cap``) to
    values; a lever setting applies to a lever switched on in the scenario (else PolicyError).
    A scenario with a posterior (calibration) runs with the parameters of posterior draw
    ``replicate`` (0 when not given; runs.scenario.posterior_draw); ``overrides`` win.
    """
    n_months = params.check_structural("months", scenario.months if months is None else months)
    if overrides:
        params.validate(overrides)  # one check rule; unknown names get the closest ones
    if scenario.posterior:
        from runs.scenario import posterior_draw

        overrides = {**posterior_draw(scenario.posterior, replicate or 0), **(overrides or {})}
    kwargs = scenario.model_kwargs(overrides)
    if scale is not None:
        kwargs["scale"] = scale
    t0 = time.perf_counter()
    model = CaseloadModel(rng=seed, check_invariants=check_invariants, **kwargs)
    t1 = time.perf_counter()
    for _ in range(n_months):
        model.step()
    t2 = time.perf_counter()
    regency = model.regency_table()
    district = model.district_table()
    regency.insert(1, "scenario", scenario.name)
    district.insert(1, "scenario", scenario.name)
    manifest = {
        "scenario": scenario.as_dict(),
        "seed": model.seed,
        "months": n_months,
        "scale": model.scale,
        "profile": model.profile_name,
        "start": str(model.start),
        "parameters": model.parameters(),
        "overrides": {**scenario.parameters, **(overrides or {})},
        "policies": model.lever_settings(),
        "parameter_sources": {p["name"]: p["source"] for p in params.table()
                              if p["lever"] is None or p["lever"] in model.lever_settings()},
        "profile_sources": dict(model.profile.sources),
        "timing_s": {"construct": round(t1 - t0, 4), "run": round(t2 - t1, 4)},
    }
    return RunResult(regency, district, manifest)
