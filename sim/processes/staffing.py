"""Phase 1, staffing: fill vacant posts after the recruitment lag; rebalance caseloads.

A post whose facilitator left stays vacant for ``recruitment_lag_months`` (yearly
contracts, open selection on the ministry portal: paper). Its families are shared out
among the other facilitators of the kecamatan at once, when she leaves (workforce phase,
sim.population.vacate_posts), or left unassigned when there are none. A new hire starts
with ``new_hire_skill`` +- 0.05 (uniform), no burnout, motivation 0.7 and no advanced course
since the start of the run; she is local with probability ``local_share_hires``. The
district is then rebalanced (sim.population.rebalance). Reassigned families lose their rapport.
Hiring and rebalancing are operations of sim.population; this phase decides when they happen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim import population

if TYPE_CHECKING:
    from sim.model import CaseloadModel


def step(model: CaseloadModel) -> None:
    """Fill posts whose recruitment lag has ended, then rebalance changed districts."""
    ps = model.posts
    due = np.flatnonzero(ps.open & ~ps.filled & (ps.refill_step >= 0) & (ps.refill_step <= model.steps))
    population.hire(model, due, model.p["new_hire_skill"])
    population.rebalance(model)
