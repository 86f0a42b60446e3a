"""What the Explore page runs: inputs built from the parameter registry, and one model per session.

``inputs()`` lists every input the page shows, generated from ``sim.params.PARAMS`` (label,
unit, bounds, source, group) and the lever settings of ``sim.policies.REGISTRY``: a lever
setting is named ``lever.setting`` (as the registry names them once they are part of
``PARAMS``; entries already there are not listed twice). ``Settings`` is what the form holds
(a base scenario, every input's value, the levers switched on, scale and seed) and turns
into a ``runs.scenario.Scenario``, so the UI builds its model exactly as the command line
does (``Scenario.model_kwargs()``). ``ExploreRun`` is one model and its step timings; a
session holds one, never the module.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from runs.scenario import SCENARIO_DIR, Scenario, ScenarioError, load_any
from sim import params
from sim.districts import PROFILE_NAMES
from sim.model import CaseloadModel

LEVER_GROUP = "levers"
DEFAULT_SEED = 20210101
SCALES: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 1.0)
MAX_MONTHS = 600  # the scenario files' own limit (runs.scenario)


def default_scale() -> float:
    """The Explore page's default scale: full scale unless ``CASELOAD_UI_SCALE`` says otherwise."""
    raw = os.environ.get("CASELOAD_UI_SCALE", "")
    try:
        x = float(raw)
    except ValueError:
        return 1.0
    return x if 0 < x <= 2 else 1.0


@dataclass(frozen=True)
class Input:
    """One input of the Explore form: a model parameter or a lever setting."""

    name: str
    kind: str  # float | int | bool | choice | list[str]
    default: Any
    low: float | None
    high: float | None
    unit: str
    label: str
    source: str
    group: str
    choices: tuple[str, ...] = ()
    lever: str | None = None
    setting: str | None = None


def _lever_kind(kind: str) -> str:
    return "choice" if kind == "str" else kind


def inputs() -> list[Input]:
    """Every input, parameters first (registry order), then each lever's settings."""
    out: list[Input] = []
    seen: set[str] = set()
    for p in params.PARAMS.values():
        lever = getattr(p, "lever", None)
        setting = p.name.split(".", 1)[1] if lever and "." in p.name else None
        out.append(Input(p.name, _lever_kind(p.kind), p.default, p.low, p.high, p.unit, p.label, p.source,
                         LEVER_GROUP if lever else p.group, tuple(p.choices), lever, setting))
        seen.add(p.name)
    from sim.policies import REGISTRY

    for lname, cls in REGISTRY.items():
        for sname, s in cls.settings.items():
            full = f"{lname}.{sname}"
            if full in seen:
                continue
            out.append(Input(full, _lever_kind(s.kind), s.default, s.low, s.high, s.unit, s.label or sname,
                             s.source, LEVER_GROUP, tuple(s.choices), lname, sname))
    return out


def grouped(items: Iterable[Input]) -> dict[str, list[Input]]:
    """Inputs by group, in the order of ``sim.params.GROUPS`` (as ``caseload params``), levers last."""
    groups: dict[str, list[Input]] = {g: [] for g in params.GROUPS}
    for i in items:
        groups.setdefault(i.group, []).append(i)
    levers = groups.pop(LEVER_GROUP, [])
    out = {g: v for g, v in groups.items() if v}
    if levers:
        out[LEVER_GROUP] = levers
    return out


def lever_names() -> list[str]:
    """The levers of the registry, in registry order."""
    from sim.policies import REGISTRY

    return list(REGISTRY)


def lever_title(name: str) -> str:
    """A lever's title (its name when it has none)."""
    from sim.policies import REGISTRY

    cls = REGISTRY.get(name)
    return (getattr(cls, "title", "") or name) if cls else name


def scenario_names() -> list[str]:
    """Scenario files in scenarios/ (baseline first), then the data profiles."""
    names = sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))
    names.sort(key=lambda n: (n != "baseline", n))
    return names + [p for p in PROFILE_NAMES if p not in names]


def load_scenario(ref: str) -> Scenario:
    """A scenario by name (scenarios/NAME.toml) or data profile; ScenarioError when unknown."""
    return load_any(ref)


@dataclass
class Settings:
    """What the Explore form holds: a base scenario and every input's value."""

    base: Scenario
    values: dict[str, Any]
    levers_on: frozenset[str]
    scale: float = 1.0
    seed: int = DEFAULT_SEED
    profile: str = "paper-2023"
    months: int = 36

    @classmethod
    def from_scenario(cls, sc: Scenario, scale: float | None = None, seed: int = DEFAULT_SEED) -> Settings:
        """The form as the scenario sets it: defaults, the scenario's overrides and its levers."""
        from sim.policies import check_settings

        values: dict[str, Any] = {i.name: i.default for i in inputs()}
        values.update({k: v for k, v in sc.parameters.items()})
        for lname, settings in sc.policies.items():
            for sname, v in check_settings(lname, settings).items():
                values[f"{lname}.{sname}"] = v
        return cls(sc, values, frozenset(sc.policies), sc.scale if scale is None else scale, seed, sc.profile,
                   sc.months)

    def with_value(self, name: str, value: Any) -> Settings:
        """A copy with one input changed."""
        return dataclasses.replace(self, values={**self.values, name: value})

    def with_lever(self, lever: str, on: bool) -> Settings:
        """A copy with a lever switched on or off."""
        levers = set(self.levers_on)
        (levers.add if on else levers.discard)(lever)
        return dataclasses.replace(self, levers_on=frozenset(levers))

    def scenario(self) -> Scenario:
        """The scenario this form describes (validated like a scenario file's values)."""
        from sim.policies import check_settings

        by_name = {i.name: i for i in inputs()}
        parameters: dict[str, Any] = {}
        policies: dict[str, dict[str, Any]] = {}
        for name, value in self.values.items():
            spec = by_name.get(name)
            if spec is None:
                continue
            if spec.lever is None:
                if value != spec.default or name in self.base.parameters:
                    parameters[name] = params.PARAMS[name].check(value, "form")
            elif spec.lever in self.levers_on:
                policies.setdefault(spec.lever, {})[spec.setting or name] = value
        for lever in self.levers_on:
            policies[lever] = check_settings(lever, policies.get(lever, {}))
        return dataclasses.replace(
            self.base, profile=self.profile, scale=float(self.scale), months=int(self.months),
            parameters=parameters, policies={k: policies[k] for k in lever_names() if k in policies},
        )


@dataclass
class ExploreRun:
    """One model built from ``Settings`` and the server time of each of its steps."""

    settings: Settings
    scenario: Scenario = field(init=False)
    model: CaseloadModel = field(init=False)
    build_ms: float = field(init=False)
    step_ms: list[float] = field(default_factory=list)
    # a step (Play runs them in a thread) and a page reading the model must not interleave
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.scenario = self.settings.scenario()
        t0 = time.perf_counter()
        self.model = CaseloadModel(rng=int(self.settings.seed), **self.scenario.model_kwargs())
        self.build_ms = 1000 * (time.perf_counter() - t0)

    @property
    def month(self) -> int:
        """Months simulated so far."""
        return int(self.model.steps)

    @property
    def date(self) -> str:
        """The date of the current state (first day of the month after the last simulated one)."""
        return str(self.model.last_regency.get("date", ""))

    @property
    def finished(self) -> bool:
        """True when the scenario's run length is reached."""
        return self.month >= self.scenario.months

    def step(self) -> float:
        """Simulate one month; return its server time in ms."""
        if self.month >= MAX_MONTHS:
            return 0.0
        with self.lock:
            t0 = time.perf_counter()
            self.model.step()
            ms = 1000 * (time.perf_counter() - t0)
            self.step_ms.append(ms)
        return ms

    def regency(self) -> pd.DataFrame:
        """The regency table so far (one row per month, step 0 = the start)."""
        with self.lock:
            return pd.DataFrame(list(self.model.regency_rows))

    def districts(self) -> pd.DataFrame:
        """The district table so far."""
        with self.lock:
            return self.model.district_table()

    def caseloads(self) -> np.ndarray:
        """Caseload of every facilitator in post."""
        with self.lock:
            ps = self.model.posts
            return np.array(ps.caseload[ps.filled], dtype=np.int64)


def check_ref(ref: str) -> str | None:
    """The error message for a scenario reference, or None when it loads."""
    try:
        load_any(ref)
    except ScenarioError as e:
        return str(e)
    return None
