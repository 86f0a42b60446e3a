"""Synthetic target files: the model's own output at known parameters, for recovery and coverage.

``synthetic_targets(ts, truth, seed)`` simulates the model at ``truth`` (a dict of
parameter values) with the setup of target set ``ts``, and returns a copy of ``ts`` whose
observed values are the simulated statistics plus Gaussian noise of each target's sigma
(observation error and discrepancy): data generated exactly as the calibration's distance
assumes. ``to_toml`` writes a target set back as a target file, so the synthetic data go
through the same loader and command as real data. Used by tests/test_calibration.py
(parameter recovery) and benchmarks/coverage_calibration.py (simulation-based calibration,
Talts et al. 2018).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from calibration.statistics import simulate
from calibration.targets import TargetSet


def synthetic_targets(ts: TargetSet, truth: dict[str, Any], seed: int, noise: bool = True) -> TargetSet:
    """``ts`` with observed values simulated at ``truth`` (plus noise of each target's sigma)."""
    stats, _ = simulate(ts.setup, ts.wanted(), dict(truth), seed)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x5E7]))
    new = []
    for t in ts.targets:
        v = stats[t.name] + (rng.normal(0.0, ts.sigma(t)) if noise else 0.0)
        new.append(replace(t, value=float(v), source=f"synthetic: the model at {json.dumps(truth, sort_keys=True)}, "
                                                      f"seed {seed}" + (" + noise" if noise else "")))
    return replace(ts, name=f"{ts.name}-synthetic", targets=new, description="synthetic targets (model output)")


def _v(x: Any) -> str:
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, str):
        return json.dumps(x)
    return repr(float(x)) if isinstance(x, float) else repr(x)


def to_toml(ts: TargetSet, path: Path) -> Path:
    """Write ``ts`` as a target file (calibration.targets schema)."""
    s = ts.setup
    lines = [f"name = {_v(ts.name)}", f"description = {_v(ts.description or 'targets')}", "", "[setup]",
             f"profile = {_v(s.profile)}", f"start = {_v(s.start)}", f"months = {s.months}", f"scale = {float(s.scale)!r}"]
    if s.parameters:
        lines += ["", "[setup.parameters]"] + [f"{k} = {_v(v)}" for k, v in s.parameters]
    for stat, (sd, reason) in ts.discrepancy.items():
        lines += ["", f"[discrepancy.{stat}]", f"sd = {float(sd)!r}", f"reason = {_v(reason)}"]
    for t in ts.targets:
        lines += ["", "[[target]]", f"name = {_v(t.name)}", f"statistic = {_v(t.statistic)}", f"at = {_v(t.at)}",
                  f"window = {t.window}", f"value = {float(t.value)!r}", f"obs_sd = {float(t.obs_sd)!r}",
                  f"weight = {float(t.weight)!r}", f"year = {t.year}", f"source = {_v(t.source)}",
                  f"holdout = {_v(t.holdout)}", f"kind = {_v(t.kind)}"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
