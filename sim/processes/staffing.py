"""Phase 1, staffing: fill vacant posts after the recruitment lag; rebalance caseloads.

A post whose facilitator left stays vacant for ``recruitment_lag_months`` (yearly
contracts, open selection on the ministry portal: paper). Its families are shared out
among the other facilitators of the kecamatan at once, when she leaves (workforce phase,
CaseloadModel.vacate_posts), or left unassigned when there are none. A new hire starts
with ``new_hire_skill`` +- 0.05 (uniform), no burnout, motivation 0.7 and no advanced course
since the start of the run; she is local with probability ``local_hiring_share`` of the
lever surface (the parameter ``local_share_hires`` unless the lever local_redistribution
sets it). The district is then rebalanced (``rebalance``). Reassigned families lose their
rapport. Every filled post is then paid its district's rate (``pay``: base incentive x the
lever surface's regional multiplier). ``move_post`` moves a post to another kecamatan
(the lever local_redistribution).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.processes import workforce

if TYPE_CHECKING:
    from sim.core import Model


def hire(model: Model, posts_idx: np.ndarray, skill: float) -> None:
    """Put new facilitators into ``posts_idx`` (open, vacant posts) and create their agents."""
    if posts_idx.size == 0:
        return
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
    ps.local[posts_idx] = draws[:, 2] < model.surface.local_hiring_share
    ps.contract_month[posts_idx] = model.month
    ps.incentive_rp[posts_idx] = model.incentive_for(ps.district[posts_idx])
    workforce.draw_traits(model, posts_idx, rng)
    model.hires_month += n
    model.create_facilitators(posts_idx)
    model.changed_districts.update(int(d) for d in np.unique(ps.district[posts_idx]))


def step(model: Model) -> None:
    """Fill posts whose recruitment lag has ended, then rebalance changed districts."""
    ps = model.posts
    due = np.flatnonzero(ps.open & ~ps.filled & (ps.refill_step >= 0) & (ps.refill_step <= model.steps))
    hire(model, due, model.p["new_hire_skill"])
    rebalance(model)
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


def water_fill(counts: np.ndarray, m: int) -> np.ndarray:
    """How many of ``m`` items each bin gets when items always go to the emptiest bin."""
    k = counts.size
    if m <= 0 or k == 0:
        return np.zeros(k, dtype=np.int64)
    order = np.argsort(counts, kind="stable")
    c = counts[order].astype(np.int64)
    # cost[i]: items needed to lift the i+1 emptiest bins to the level c[i]
    cost = np.arange(k) * c - np.concatenate(([0], np.cumsum(c)[:-1]))
    i = int(np.searchsorted(cost, m, side="right")) - 1
    rem = m - int(cost[i])
    level = int(c[i]) + rem // (i + 1)
    give_sorted = np.zeros(k, dtype=np.int64)
    give_sorted[: i + 1] = level - c[: i + 1]
    give_sorted[: rem % (i + 1)] += 1
    give = np.empty(k, dtype=np.int64)
    give[order] = give_sorted
    return give


def rebalance(model: Model, districts: set[int] | None = None) -> None:
    """Share each changed district's families over its facilitators, moving as few as possible.

    Families without a facilitator (theirs left) go to the least loaded colleagues first. If
    some facilitator holds well under n // k families (a new hire), the most loaded give up
    families until she can reach it. Nobody else is moved: continuity matters to families.
    """
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
        if posts.size == 0:
            fam.fac[rows] = -1
            continue
        k = posts.size
        # each family's post as an index among this district's filled posts (-1 if none)
        lookup = np.full(ps.capacity + 1, -1, dtype=np.intp)
        lookup[posts] = np.arange(k)
        pos = lookup[fam.fac[rows]]  # fac = -1 reads the trailing -1
        counts = np.bincount(pos[pos >= 0], minlength=k)
        free_mask = pos < 0
        n_free = int(free_mask.sum())
        lo = rows.size // k
        # a post counts as short only when well below the even share (a new hire, not the
        # month-to-month drift of exits and entrants)
        needy = counts < lo - max(2, lo // 10)
        short = int((lo - counts[needy]).sum()) - n_free
        if short > 0:
            # the most loaded give up families (their last rows) until the short posts can reach lo
            take = water_fill(-counts, short)
            for j in np.flatnonzero(take).tolist():
                free_mask[np.flatnonzero(pos == j)[-int(take[j]) :]] = True
            counts = counts - take
        free = np.flatnonzero(free_mask)
        if free.size == 0:
            continue
        give = water_fill(counts, free.size)
        moved = rows[free]
        fam.fac[moved] = posts[np.repeat(np.arange(k), give)]
        fam.rapport[moved] = 0.0
    if districts is None:
        model.changed_districts.clear()
