"""Phase 1, staffing: fill vacant posts after the recruitment lag; rebalance caseloads.

A post whose facilitator left stays vacant for ``recruitment_lag_months`` (yearly
contracts, open selection on the ministry portal: paper). Its families are shared out
among the other facilitators of the kecamatan at once, when she leaves (workforce phase,
sim.population.vacate_posts), or left unassigned when there are none. A new hire starts
with ``new_hire_skill`` +- 0.05 (uniform), no burnout, motivation 0.7 and no advanced course
since the start of the run; she is local with probability ``local_hiring_share`` of the
lever surface (the parameter ``local_share_hires`` unless the lever local_redistribution
sets it). The district is then rebalanced (sim.population.rebalance). Reassigned families lose their
rapport. Every filled post is then paid its district's rate (``pay``: base incentive x the
lever surface's regional multiplier). ``move_post`` moves a post to another kecamatan
(the lever local_redistribution). Hiring and rebalancing are operations of sim.population;
this phase decides when they happen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim import population

if TYPE_CHECKING:
    from sim.core import Model


def step(model: Model) -> None:
    """Fill posts whose recruitment lag has ended, then rebalance changed districts."""
    ps = model.posts
    due = np.flatnonzero(ps.open & ~ps.filled & (ps.refill_step >= 0) & (ps.refill_step <= model.steps))
    population.hire(model, due, model.p["new_hire_skill"])
    population.rebalance(model)
    pay(model)


def pay(model: Model) -> None:
    """Pay every filled post its district's rate (a regional multiplier may have changed)."""
    ps = model.posts
    filled = np.flatnonzero(ps.filled)
    ps.incentive_rp[filled] = model.incentive_for(ps.district[filled])


def move_post(model: Model, post: int, district: int) -> None:
    """Move ``post`` to ``district`` (the lever local_redistribution).

    A vacant post keeps its refill date; a facilitator holding it moves with it (non-local
    there, paid the new district's rate) and her families are left unassigned for the
    district's rebalance.
    """
    ps = model.posts
    ps.district[post] = district
    if not ps.filled[post]:
        return
    ps.local[post] = False
    ps.incentive_rp[post] = float(model.incentive_for(np.array([district]))[0])
    fam = model.families
    fam.fac[fam.active & (fam.fac == post)] = -1
