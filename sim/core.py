"""What the phases, metrics, invariants and agents see of the model: a typing Protocol.

sim.model.CaseloadModel imports the phases (sim.processes), the indicators (sim.metrics),
the invariants and the agents to run a month; they in turn need the model's type. Typing
them against this Protocol instead of the class keeps the imports one-way (no cycle, not
even a type-checking one): model -> processes -> core, never back. mypy checks that
CaseloadModel satisfies it wherever the model passes itself to a phase. A new attribute a
phase reads is declared here too.
"""

from __future__ import annotations

from collections.abc import Iterable
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
    cost_month: float
    cost_lines: dict[str, float]    # this month's cost by line and funder (sim.processes.cost)
    graduated_districts: np.ndarray
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

    def create_facilitators(self, posts_idx: Iterable[int]) -> None:
        """Create Facilitator agents for newly filled posts."""

    def vacate_posts(self, posts_idx: np.ndarray) -> None:
        """Facilitators leave ``posts_idx``."""

    def open_posts(self, districts: np.ndarray, fill_now: bool = False, lag_months: int | None = None) -> np.ndarray:
        """Open new funded posts in ``districts``."""

    def remove_families(self, rows: np.ndarray) -> None:
        """Families in ``rows`` leave the programme."""

    def add_families(self, n: int) -> None:
        """Enrol ``n`` new families."""

    def refresh_caseload(self) -> None:
        """Recount every post's caseload."""
