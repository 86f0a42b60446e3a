"""The lever surface: everything a policy lever may change, in one place the phases read.

A lever (sim.policies) never writes a validated parameter (``model.p``) or a model
counter: it writes the fields below, calls the model's operations (open posts, move a
facilitator: sim.processes.staffing), or keeps state of its own. The phases read the
surface, so what a lever can do is declared here, and a run's manifest ``parameters``
are exactly the parameters the run used (the lever settings are recorded beside them).

Every field starts at the baseline value (no lever on); a field holding the baseline of a
model parameter (``supervision_ratio``, ``local_hiring_share``) starts at that parameter,
and a lever that is on replaces it with its own setting.

| field | read by | written by |
|---|---|---|
| incentive_multiplier (per district) | pay: CaseloadModel.incentive_for, staffing.pay | regional_incentive |
| supervision_ratio | R_sup (CaseloadModel.supervision_resource), supervisors paid (sim.processes.cost) | supervision |
| local_hiring_share | staffing.hire (new hires placed locally) | local_redistribution |
| outcome_evaluation | visits (targeting, quality bonus) | outcome_evaluation |
| graduation_push | families (graduation assessment) | outcome_evaluation |
| admin_factor | timebudget (admin hours), metrics (WISN) | outcome_evaluation |
| extra_cost_month | sim.processes.cost (APBD line, every month) | training_platform (setup) |
| apbd_posts | sim.processes.cost (pay of posts the regency funds: APBD, not APBN) | local_redistribution |
| cost_month, courses_month | sim.processes.cost (this month's courses and their cost; reset each month) | training_platform |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class LeverSurface:
    """What levers may change; defaults are the baseline (every lever off)."""

    incentive_multiplier: np.ndarray
    supervision_ratio: float
    local_hiring_share: float
    outcome_evaluation: bool = False
    graduation_push: float = 1.0
    admin_factor: float = 1.0
    extra_cost_month: float = 0.0   # recurring lever cost per month, Rp at regency scale (never scaled)
    cost_month: float = 0.0         # this month's lever cost, model units; reset each month
    courses_month: int = 0          # courses run by levers this month; reset each month
    apbd_posts: set[int] = field(default_factory=set)  # post rows funded by the regency (APBD)

    @classmethod
    def baseline(cls, n_districts: int, p: dict[str, Any]) -> LeverSurface:
        """The surface with every lever off, for ``n_districts`` and parameters ``p``."""
        return cls(
            incentive_multiplier=np.ones(n_districts),
            supervision_ratio=float(p["supervision_ratio"]),
            local_hiring_share=float(p["local_share_hires"]),
        )

    def new_month(self) -> None:
        """Reset this month's lever flows (called at the start of every step)."""
        self.cost_month = 0.0
        self.courses_month = 0
