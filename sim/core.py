"""What the phases, metrics, invariants and agents see of the model: a typing Protocol.

sim.model.CaseloadModel imports the phases (sim.processes), the indicators (sim.metrics),
the invariants and the agents to run a month; they in turn need the model's type. Typing
them against this Protocol instead of the class keeps the imports one-way (no cycle, not
even a type-checking one): model -> processes -> core, never back. mypy checks that
CaseloadModel satisfies it wherever the model passes itself to a phase. A new attribute a
phase reads is declared here too. The family and post operations the phases call are
functions of sim.population (model -> processes -> population -> core), not model methods.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol

import numpy as np

from sim.rng import Streams
from sim.state import FamilyState, PostState
from sim.surface import LeverSurface


class Model(Protocol):
    """The model as the phases see it (implemented by sim.model.CaseloadModel)."""

    # parameters, randomness, time
    p: dict[str, Any]
    streams: Streams
    scale: float
    family_weight: float  # families each simulated family stands for (1 / scale)
    month: int
    year: int
    profile_name: str
    surface: LeverSurface
    # state
    posts: PostState
    families: FamilyState
    n_districts: int
    district_codes: list[str]
    district_names: list[str]
    travel_min: np.ndarray
    population: np.ndarray
    nonkpm_poor: np.ndarray
    outside_poor_growth: float    # factor applied to nonkpm_poor this month (sim.population)
    welfare_location: float
    initial_kpm_poor_share: float
    profile: Any
    _family_handles: list[Any]    # Family handle by row (None: free row, or handle not made yet)
    handles_due: int
    facilitator_agents: list[Any]
    changed_districts: set[int]
    # derived rates (CaseloadModel._derive)
    pkh_ratio: float
    sembako_ratio: float
    natural_exit_prob: float
    pop_growth_month: float
    nonkpm_trend_month: float
    # this month's flows and running totals
    hires_month: int
    quits_month: int
    trained_month: int
    graduations_month: int
    exits_month: int
    entries_month: int
    entries_unfilled_month: int
    entries_near_poor_month: int
    entrants_poor_pre_month: int
    leavers_poor_pre_month: int
    cost_month: float
    cost_lines: dict[str, float]    # this month's cost by line and funder (sim.processes.cost)
    graduated_districts: np.ndarray
    district_due: np.ndarray      # admin backlog per kecamatan over the workforce warm-up (timebudget)
    pkh_withheld_month: int       # family-months of PKH withheld (sim/processes/timebudget.py)
    pkh_lost_month: int           # family-months of withheld PKH lost
    pkh_arrears_month: int        # family-months of withheld PKH paid late
    cost_cum: float
    graduations_cum: int
    quits_cum: int
    # recorded rows
    regency_rows: list[dict[str, Any]]
    last_regency: dict[str, Any]
    district_frames: list[dict[str, np.ndarray]]
    # Mesa's bookkeeping (mesa.Model), used by the agents
    agent_id_counter: int
    random: Any
    _all_agents: Any
    _agents_by_type: Any

    @property
    def family_agents(self) -> list[Any]:
        """The Family agent of each family row, None for a free row."""

    @property
    def steps(self) -> int:
        """Steps taken (Mesa's counter)."""

    @property
    def agents(self) -> Any:
        """Every Mesa agent (Mesa's AgentSet)."""

    @property
    def agents_by_type(self) -> Any:
        """Mesa agents by class."""

    @property
    def supervision_resource(self) -> float:
        """JD-R support resources R from supervision."""

    @property
    def n_families(self) -> int:
        """Families currently enrolled."""

    def incentive_for(self, districts: np.ndarray) -> np.ndarray:
        """Monthly pay of a post in each of ``districts``."""

    def date_of_step(self, k: int) -> date:
        """Date of the state recorded after ``k`` steps."""

    def quota_target(self) -> int:
        """Programme quota (scaled) for the current calendar year."""

    def facilitator_at(self, post: int) -> Any:
        """The Facilitator agent holding ``post``, or None."""

    def refresh_caseload(self) -> None:
        """Recount every post's caseload."""
