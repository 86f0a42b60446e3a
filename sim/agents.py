"""Facilitator and Family Mesa agents: thin handles onto rows of the state columns.

Behaviour is vectorised in sim/processes (one file per phase of the month), so an agent
object carries no state of its own beyond its row: reading ``family.welfare`` reads
``model.families.welfare[family.row]``. That keeps a full-scale run (about 88,000
families) fast while every family and facilitator is still a Mesa agent, visible in
``model.agents``, ``model.agents_by_type`` and Mesa's visualisation and data collection.
A family's unique id is given when she enrols; her handle object is made when the agents
are first looked at (sim.population.create_family_handles, docs/ODD.md 2).
"""

from __future__ import annotations

import gc
from enum import Enum
from typing import TYPE_CHECKING

import mesa
from mesa.agentset import _HardKeyAgentSet

if TYPE_CHECKING:
    from sim.core import Model


class FacilitatorStatus(Enum):
    """Status of a facilitator post."""

    ACTIVE = "active"
    VACANT = "vacant"


class Facilitator(mesa.Agent):
    """A social facilitator (pendamping sosial) holding post ``post``."""

    model: Model

    def __init__(self, model: Model, post: int) -> None:
        super().__init__(model)
        self.post = post

    def _col(self, name: str) -> float:
        return getattr(self.model.posts, name)[self.post].item()

    @property
    def district(self) -> str:
        """Name of the kecamatan of the post."""
        return self.model.district_names[int(self.model.posts.district[self.post])]

    @property
    def caseload(self) -> float:
        """Families assigned this month."""
        return float(self._col("caseload"))

    @property
    def burnout(self) -> float:
        """Burnout in [0, 1]."""
        return self._col("burnout")

    @property
    def technical_skill(self) -> float:
        """Technical (digital, administrative) skill in [0, 1]."""
        return self._col("s_tech")

    @property
    def psychosocial_skill(self) -> float:
        """Psychosocial skill in [0, 1]."""
        return self._col("s_psy")

    @property
    def motivation(self) -> float:
        """Motivation in [0, 1]."""
        return self._col("motivation")

    @property
    def tenure_months(self) -> int:
        """Months in the post."""
        return int(self._col("tenure_months"))

    @property
    def local(self) -> bool:
        """Recruited from the area of the post (social closeness)."""
        return bool(self.model.posts.local[self.post])

    @property
    def incentive_rp_month(self) -> float:
        """Monthly pay in Rp."""
        return self._col("incentive_rp")

    @property
    def status(self) -> FacilitatorStatus:
        """Active while the facilitator holds the post."""
        return FacilitatorStatus.ACTIVE if self.model.posts.filled[self.post] else FacilitatorStatus.VACANT


class Family(mesa.Agent):
    """A beneficiary family (KPM) stored in row ``row`` of the family columns."""

    model: Model
    row: int  # the state row (set by create_many)

    # No __init__ override, on purpose: CPython keeps the attributes of such instances inline
    # (no per-object dict), which halves the objects the garbage collector has to walk for
    # 88,000 handles. Handles are made with Family.create_many(model, rows, ids).

    @classmethod
    def create_many(cls, model: Model, rows: list[int], ids: list[int]) -> list[Family]:
        """Create and register one handle per row, with the unique ids ``ids`` (increasing).

        About a thousand families enter and leave each month, so the per-agent path of
        Agent.__init__ / Agent.remove (a signal emission and a log call per agent) would
        dominate the run time. This registers the handles in the same structures
        (``model.agents``, ``model.agents_by_type[Family]``) in one dict update each; it
        emits no per-agent AGENT_ADDED signal. The ids were given from Mesa's counter when
        the families enrolled (sim.population.create_family_handles), so they interleave
        with the facilitators' ids in order of arrival.
        """
        new = object.__new__
        # the cyclic GC would scan every live handle many times while thousands are created;
        # handles hold no reference cycles of their own, so pause it for this loop
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            agents: list[Family] = []
            append = agents.append
            for r, uid in zip(rows, ids, strict=True):
                # plain attribute stores on a fresh object keep CPython's inline values (no
                # per-agent dict; creating all objects first and filling them after does not)
                a = new(cls)
                a.model = model
                a.unique_id = uid
                a.pos = None
                a.row = r
                append(a)
        finally:
            if was_enabled:
                gc.enable()
        keys = dict.fromkeys(agents)
        model._all_agents._agents.update(keys)
        by_type = model._agents_by_type
        if cls in by_type:
            by_type[cls]._agents.update(keys)
        else:
            by_type[cls] = _HardKeyAgentSet(agents, random=model.random)
        return agents

    @classmethod
    def remove_many(cls, model: Model, agents: list[Family]) -> None:
        """Deregister handles in bulk: the bulk form of ``agent.remove()`` (no per-agent signal)."""
        if not agents:
            return
        everyone = model._all_agents._agents
        mine = model._agents_by_type[cls]._agents
        for a in agents:
            del mine[a]
            del everyone[a]

    def _col(self, name: str) -> float:
        return getattr(self.model.families, name)[self.row].item()

    @property
    def district(self) -> str:
        """Name of the kecamatan."""
        return self.model.district_names[int(self.model.families.district[self.row])]

    @property
    def facilitator(self) -> Facilitator | None:
        """The facilitator currently assigned, if any."""
        post = int(self.model.families.fac[self.row])
        return self.model.facilitator_at(post) if post >= 0 else None

    @property
    def welfare(self) -> float:
        """Consumption per person relative to the poverty line (1.0 = on the line)."""
        return self._col("welfare")

    @property
    def poor(self) -> bool:
        """Below the poverty line this month."""
        return bool(self.model.families.poor[self.row])

    @property
    def behaviour(self) -> dict[str, float]:
        """Education, health and household-finance behaviour scores in [0, 1]."""
        return {k: self._col("k_" + k) for k in ("edu", "health", "fin")}

    @property
    def compliant(self) -> bool:
        """Met the PKH conditions at the last quarterly verification."""
        return bool(self.model.families.compliant[self.row])

    @property
    def months_since_visit(self) -> int:
        """Months since the last home visit."""
        return int(self._col("months_since_visit"))

    @property
    def programmes(self) -> tuple[str, ...]:
        """Programmes the family receives: PKH and/or Sembako (BPNT)."""
        f = self.model.families
        return tuple(p for p, on in (("PKH", f.pkh[self.row]), ("Sembako", f.sembako[self.row])) if on)
