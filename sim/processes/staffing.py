"""Phase 1, staffing: fill vacant posts after the recruitment lag; rebalance caseloads.

A post whose facilitator left stays vacant for ``recruitment_lag_months`` (yearly
contracts, open selection on the ministry portal: paper). Its families are shared out
among the other facilitators of the kecamatan meanwhile (or left unassigned when there
are none). A new hire starts with ``new_hire_skill``, no burnout and no advanced course
since the start of the run; she is local with probability ``local_share_hires``.
Reassigned families lose their rapport with the old facilitator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.model import CaseloadModel


def hire(model: CaseloadModel, posts_idx: np.ndarray, skill: float) -> None:
    """Put new facilitators into ``posts_idx`` (open, vacant posts) and create their agents."""
    if posts_idx.size == 0:
        return
    p = model.p
    ps = model.posts
    rng = model.streams["recruitment"]
    n = posts_idx.size
    draws = rng.random((n, 3))
    ps.filled[posts_idx] = True
    ps.refill_step[posts_idx] = -1
    ps.burnout[posts_idx] = 0.0
    ps.s_tech[posts_idx] = np.clip(skill + 0.1 * (draws[:, 0] - 0.5), 0.0, 1.0)
    ps.s_psy[posts_idx] = np.clip(skill + 0.1 * (draws[:, 1] - 0.5), 0.0, 1.0)
    ps.motivation[posts_idx] = 0.7
    ps.tenure_months[posts_idx] = 0
    ps.months_since_training[posts_idx] = 999
    ps.trained_since_start[posts_idx] = False
    ps.local[posts_idx] = draws[:, 2] < p["local_share_hires"]
    ps.contract_month[posts_idx] = model.month
    ps.incentive_rp[posts_idx] = model.incentive_for(ps.district[posts_idx])
    model.hires_month += n
    model.create_facilitators(posts_idx)
    model.changed_districts.update(int(d) for d in np.unique(ps.district[posts_idx]))


def step(model: CaseloadModel) -> None:
    """Fill posts whose recruitment lag has ended, then rebalance changed districts."""
    ps = model.posts
    due = np.flatnonzero(ps.open & ~ps.filled & (ps.refill_step >= 0) & (ps.refill_step <= model.steps))
    hire(model, due, model.p["new_hire_skill"])
    rebalance(model)


def rebalance(model: CaseloadModel, districts: set[int] | None = None) -> None:
    """Share each changed district's families evenly over its facilitators, moving as few as possible."""
    todo = model.changed_districts if districts is None else districts
    if not todo:
        return
    fam = model.families
    ps = model.posts
    for d in sorted(todo):
        rows = np.flatnonzero(fam.active & (fam.district == d))
        if rows.size == 0:
            continue
        posts = np.flatnonzero(ps.filled & (ps.district == d))
        fac = fam.fac[rows]
        if posts.size == 0:
            fam.fac[rows] = -1
            continue
        k = posts.size
        # map each family's post to its index among this district's filled posts (-1 if none)
        lookup = np.full(ps.capacity, -1, dtype=np.int64)
        lookup[posts] = np.arange(k)
        pos = np.where(fac >= 0, lookup[np.maximum(fac, 0)], -1)
        counts = np.bincount(pos[pos >= 0], minlength=k)
        # targets: n // k each, the remainder to the posts that already hold most
        n = rows.size
        target = np.full(k, n // k)
        order = np.argsort(-counts, kind="stable")
        target[order[: n % k]] += 1
        # families to move: those without a post, and the surplus of posts above target
        free_mask = pos < 0
        # the surplus of posts above target: their last families (in row order) move
        for j in np.flatnonzero(counts > target).tolist():
            free_mask[np.flatnonzero(pos == j)[target[j]:]] = True
        free = np.flatnonzero(free_mask)
        if free.size == 0:
            continue
        kept = np.bincount(pos[~free_mask & (pos >= 0)], minlength=k)
        deficit = np.maximum(target - kept, 0)
        slots = np.repeat(np.arange(k), deficit)[: free.size]
        new_posts = posts[slots]
        moved = rows[free[: slots.size]]
        fam.fac[moved] = new_posts
        fam.rapport[moved] = 0.0
    if districts is None:
        model.changed_districts.clear()
