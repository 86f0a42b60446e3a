"""Family and post operations: enrol, remove and place families; open, fill and vacate posts.

The phases of the month (sim.processes) and the policy levers (sim.policies) change who is
in the programme and who holds which post only through these functions, which keep the
state columns (sim.state), the Mesa handles (sim.agents) and the poverty accounting in
step. Imports run one way: processes and policies -> population -> state and agents;
sim.model builds the initial state and wires the month (docs/ODD.md 2 and 7.4).

Poverty accounting. A family is poor *before transfers* (``poor_pre``: market consumption
exp(log_perm + shock) below the poverty line) or *after* them (``poor``: including PKH and
Sembako). People outside the programme get no transfer, so for them the two coincide:
``model.nonkpm_poor[d]`` poor persons (x scale) live outside the programme in kecamatan d.
Moving in or out of the programme changes the transfer, not the person, so every move is
counted by welfare before transfers, and people are conserved:

- a leaver who is poor before transfers brings ``household_size`` poor persons back to the
  outside poor of her kecamatan (a leaver lifted above the line only by the transfer is
  poor again once it stops);
- an entrant who is poor before transfers takes ``household_size`` persons from the
  outside poor; any other entrant takes them from the outside non-poor (population - KPM
  persons - outside poor).

Entrants are placed where the eligible are now: each entrant's kecamatan is drawn in
proportion to the outside poor of each kecamatan this month (not by the initial KPM shares,
which let overloaded kecamatan where nobody graduates keep growing). An entrant drawn poor
whom her kecamatan has fewer than household_size outside poor persons left for is a family
above the line instead (the register PKH enrols from reaches above the BPS line): her
consumption is redrawn above it (``entries_near_poor``). If the outside non-poor cannot
supply a non-poor entrant either, she is not enrolled: the quota seat stays empty this month
and is counted (``entries_unfilled``); next month's quota check tries again. Nothing is
clamped.
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import special

from sim.agents import Facilitator, Family
from sim.state import Columns

if TYPE_CHECKING:
    from sim.core import Model


# ------------------------------------------------------------------ rows and handles
def free_rows(cols: Columns, in_use: str, handles: list[Any], n: int) -> np.ndarray:
    """``n`` unused rows of ``cols`` (column ``in_use`` marks rows taken); grow the columns and ``handles`` if needed.

    Written once for families and posts: the columns double (sim.state) and the handle list
    (one Mesa agent or None per row) grows with them.
    """
    free = np.flatnonzero(~getattr(cols, in_use))
    if free.size < n:
        cols.grow(cols.capacity + n - free.size)
        handles.extend([None] * (cols.capacity - len(handles)))
        free = np.flatnonzero(~getattr(cols, in_use))
    return free[:n]


def create_facilitators(model: Model, posts_idx: Iterable[int]) -> None:
    """Create Facilitator agents for newly filled posts."""
    agents = model.facilitator_agents
    if len(agents) < model.posts.capacity:
        agents.extend([None] * (model.posts.capacity - len(agents)))
    for post in np.asarray(posts_idx, dtype=np.int64).tolist():
        agents[post] = Facilitator(model, post)


def create_family_handles(model: Model, rows: np.ndarray) -> None:
    """Each family of ``rows`` becomes a Mesa agent: her unique id now, her handle when first looked at.

    The id comes from Mesa's counter now (``families.agent_id``), in the order the families
    enrol, so ids interleave with the facilitators' exactly as if every handle were made
    here. The handle object is made by ``make_due_handles``, which every way of looking at
    the agents calls first (``model.agents``, ``model.agents_by_type``,
    ``model.family_agents``; sim.model). A run nobody looks into, such as a calibration
    simulation, makes none of the ~120,000 objects (a quarter of its run time; docs/ODD.md 2).
    """
    fam = model.families
    n = rows.size
    uid = model.agent_id_counter
    fam.agent_id[rows] = np.arange(uid, uid + n, dtype=np.int64)
    fam.handle_due[rows] = True
    model.agent_id_counter = uid + n
    model.handles_due += n


def make_due_handles(model: Model) -> None:
    """Make and register the Family handles of families enrolled since the last look.

    Mesa's agent sets are dicts kept in order of unique id (the order eager registration
    gives): handles made late are put back in that order among the agents already there.
    """
    if not getattr(model, "handles_due", 0):  # none due (or Mesa's constructor looking, before any family)
        return
    fam = model.families
    rows = np.flatnonzero(fam.handle_due)
    rows = rows[np.argsort(fam.agent_id[rows], kind="stable")]
    ids = fam.agent_id[rows].tolist()
    idx = rows.tolist()
    everyone = model._all_agents._agents
    late = bool(everyone) and next(reversed(everyone)).unique_id > ids[0]
    agents = model._family_handles
    for r, a in zip(idx, Family.create_many(model, idx, ids), strict=True):
        agents[r] = a
    fam.handle_due[rows] = False
    model.handles_due = 0
    if late:
        for aset in (model._all_agents, *model._agents_by_type.values()):
            d = aset._agents
            if len(d) > 1:
                order = sorted(d, key=attrgetter("unique_id"))
                d.clear()
                d.update(dict.fromkeys(order))


# ------------------------------------------------------------------ traits of new holders and families
def draw_facilitator_traits(model: Model, posts_idx: np.ndarray, rng: np.random.Generator) -> None:
    """Burnout susceptibility, overload threshold and recovery multiplier of new holders (docs/ODD.md 7.5)."""
    p = model.p
    n = posts_idx.size
    z = rng.standard_normal((3, n))
    s_sd, r_sd = p["burnout_susceptibility_sd"], p["burnout_recovery_sd"]
    ps = model.posts
    ps.susceptibility[posts_idx] = np.exp(s_sd * z[0] - 0.5 * s_sd * s_sd)
    ps.overload_threshold[posts_idx] = np.clip(p["burnout_threshold"] + p["burnout_threshold_sd"] * z[1], 0.5, 1.5)
    ps.recovery_mult[posts_idx] = np.exp(r_sd * z[2] - 0.5 * r_sd * r_sd)


def shock_sd(p: dict) -> float:
    """Stationary s.d. of the AR(1) consumption shock: sd / sqrt(1 - rho^2)."""
    rho = p["welfare_persistence"]
    return float(p["welfare_shock_sd"] / np.sqrt(max(1.0 - rho * rho, 1e-9)))


def stationary_shock(p: dict, rng: np.random.Generator, n: int) -> np.ndarray:
    """Shocks drawn from the AR(1)'s stationary law (normal: the shock sums ~10 innovations)."""
    return (shock_sd(p) * rng.standard_normal(n)).astype(np.float32)


def months_above_from_history(p: dict, log_perm: np.ndarray, shock: np.ndarray, transfers: np.ndarray,
                              rng: np.random.Generator) -> np.ndarray:
    """Consecutive months above the graduation threshold, from a shock history drawn backwards.

    A stationary Gaussian AR(1) is time-reversible, so past shocks follow
    s[t-1] = rho s[t] + sqrt(1 - rho^2) sd_stat z. The count is capped at graduation_months
    (only whether it has been reached matters).
    """
    g = int(p["graduation_months"])
    rho = p["welfare_persistence"]
    innov = np.sqrt(max(1.0 - rho * rho, 0.0)) * shock_sd(p)
    thr = p["graduation_threshold"]
    s = shock.astype(np.float64)
    run = np.zeros(s.size, dtype=np.int16)
    alive = np.ones(s.size, dtype=bool)
    for _ in range(g):
        above = np.exp(log_perm + s) + transfers >= thr
        alive &= above
        run += alive
        s = rho * s + innov * rng.standard_normal(s.size)
    return run


def transfers(model: Model, rows: np.ndarray | slice) -> np.ndarray:
    """Transfers received this month per person, as a share of the poverty line, for ``rows``.

    PKH if compliant and not withheld for late verification data, plus withheld months paid
    late this month (``arrears``, sim/processes/timebudget.py); Sembako.
    """
    fam = model.families
    pkh = (fam.pkh[rows] & fam.compliant[rows] & ~fam.pay_held[rows]) * np.float32(model.pkh_ratio)
    return pkh + fam.sembako[rows] * np.float32(model.sembako_ratio) + fam.arrears[rows]


def initial_poor_share(model: Model) -> float:
    """Share of KPM members poor (after transfers) at the start, from the profile (ODD 5.4)."""
    pr = model.profile
    kpm_persons = pr.families_total / model.scale * model.p["household_size"]
    return float(np.clip(model.p["share_poor_in_kpm"] * pr.poor_people_start / kpm_persons, 0.01, 0.95))


def draw_family_traits(model: Model, rows: np.ndarray, rng: np.random.Generator, initial: bool) -> None:
    """Programmes, behaviour, consumption and contact history of new families in ``rows``."""
    p = model.p
    fam = model.families
    n = rows.size
    fam.pkh[rows] = rng.random(n) < model.profile.pkh_share
    fam.sembako[rows] = rng.random(n) < model.profile.sembako_share
    k = rng.beta(2.0, 3.0, (3, n))
    fam.k_edu[rows], fam.k_health[rows], fam.k_fin[rows] = k[0], k[1], k[2]
    fam.compliant[rows] = rng.random(n) < p["compliance_base"]
    fam.months_since_visit[rows] = rng.integers(0, 7, n) if initial else 3
    fam.rapport[rows] = rng.uniform(0.3, 0.8, n) if initial else 0.0
    # shocks from their stationary law, not 0 (sim.warmup)
    fam.shock[rows] = stationary_shock(p, rng, n)
    fam.visits[rows] = 0
    fam.entered_step[rows] = model.steps
    fam.admin_due[rows] = 0.0      # a row may be reused: no admin backlog or withheld payment carried over
    fam.pay_held[rows] = False
    fam.months_held[rows] = 0
    fam.arrears[rows] = 0.0
    z = rng.standard_normal(n)
    sd = p["welfare_sd_initial"]
    if initial:
        # location so that the initial share of poor KPM matches the profile (see ODD 5)
        t = transfers(model, rows)
        c = np.log(np.clip(1.0 - t, 1e-6, None)) - sd * z - fam.shock[rows]
        model.initial_kpm_poor_share = initial_poor_share(model)
        model.welfare_location = float(np.quantile(c, 1.0 - model.initial_kpm_poor_share))
    set_consumption(model, rows, z, rng, initial)


def set_consumption(model: Model, rows: np.ndarray, z: np.ndarray, rng: np.random.Generator,
                    initial: bool) -> None:
    """Permanent consumption mu + sigma z of the families in ``rows``, and what follows from it.

    Sets log_perm, poor before and after transfers, welfare and (for entrants) the months
    above the graduation line; the shocks and transfers must already be set.
    """
    p = model.p
    fam = model.families
    fam.log_perm[rows] = model.welfare_location + p["welfare_sd_initial"] * z
    t = transfers(model, rows)
    market = np.exp(fam.log_perm[rows] + fam.shock[rows])
    fam.poor_pre[rows] = market < 1.0
    fam.welfare[rows] = market + t
    fam.poor[rows] = fam.welfare[rows] < 1.0
    # months above the graduation line from a shock history drawn backwards (sim.warmup;
    # for the initial families the warm-up draws them, after it has set their consumption)
    if not initial:
        fam.months_above[rows] = months_above_from_history(
            p, fam.log_perm[rows].astype(np.float64), fam.shock[rows], t.astype(np.float64), rng)


# ------------------------------------------------------------------ posts
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
    draw_facilitator_traits(model, posts_idx, rng)
    model.hires_month += n
    create_facilitators(model, posts_idx)
    model.changed_districts.update(int(d) for d in np.unique(ps.district[posts_idx]))


def vacate_posts(model: Model, posts_idx: np.ndarray) -> None:
    """Facilitators leave ``posts_idx``: the posts wait for the recruitment lag, their families are shared out."""
    if posts_idx.size == 0:
        return
    ps = model.posts
    ps.filled[posts_idx] = False
    lag = model.p["recruitment_lag_months"]
    ps.refill_step[posts_idx] = np.where(ps.open[posts_idx], model.steps + max(lag, 1), -1)
    ps.burnout[posts_idx] = 0.0
    for post in posts_idx.tolist():
        agent = model.facilitator_agents[post]
        if agent is not None:
            agent.remove()
            model.facilitator_agents[post] = None
    model.changed_districts.update(int(x) for x in np.unique(ps.district[posts_idx]))
    rebalance(model)


def open_posts(model: Model, districts: np.ndarray, fill_now: bool = False,
               lag_months: int | None = None) -> np.ndarray:
    """Open new funded posts in ``districts`` (one per entry); return their indices.

    A post is filled now (``fill_now``), or by the staffing phase ``lag_months`` months on
    (default: the recruitment lag, at least 1; 0 = in this month's staffing phase).
    """
    ps = model.posts
    n = len(districts)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    idx = free_rows(ps, "open", model.facilitator_agents, n)
    ps.open[idx] = True
    ps.filled[idx] = False
    ps.district[idx] = districts
    if fill_now:
        lag = 0
    elif lag_months is not None:
        lag = int(lag_months)
    else:
        lag = max(model.p["recruitment_lag_months"], 1)
    ps.refill_step[idx] = model.steps + lag
    if fill_now:
        hire(model, idx, model.p["new_hire_skill"])
    return idx


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


def rows_by_district(in_use: np.ndarray, district: np.ndarray, ds: list[int], nd: int) -> dict[int, np.ndarray]:
    """For each kecamatan of ``ds``, the rows in use there, ascending: ``flatnonzero(in_use & (district == d))``.

    One pass over the rows for many kecamatan (a stable sort keeps each kecamatan's rows in
    order), one comparison per kecamatan for a few.
    """
    if len(ds) <= 2:
        return {d: np.flatnonzero(in_use & (district == d)) for d in ds}
    sel = np.zeros(nd, dtype=bool)
    sel[ds] = True
    rows = np.flatnonzero(in_use & sel[district])
    key = district[rows]
    if nd <= 256:  # numpy's stable sort of 8-bit keys is a radix sort: 4x faster, same order
        key = key.astype(np.uint8)
    rows = rows[np.argsort(key, kind="stable")]
    dr = district[rows]
    lo = np.searchsorted(dr, ds, side="left")
    hi = np.searchsorted(dr, ds, side="right")
    return {d: rows[a:b] for d, a, b in zip(ds, lo.tolist(), hi.tolist(), strict=True)}


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
    ds = sorted(todo)
    fam_rows = rows_by_district(fam.active, fam.district, ds, model.n_districts)
    post_rows = rows_by_district(ps.filled, ps.district, ds, model.n_districts)
    for d in ds:
        rows = fam_rows[d]
        if rows.size == 0:
            continue
        posts = post_rows[d]
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
            # post j gives up its last take[j] rows (by row order): group the rows by post,
            # rows ascending within a post, and count each row's place from its group's end
            held = np.flatnonzero(pos >= 0)
            order = held[np.argsort(pos[held], kind="stable")]
            post_of = pos[order]
            from_end = np.cumsum(counts)[post_of] - np.arange(order.size)
            free_mask[order[from_end <= take[post_of]]] = True
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


# ------------------------------------------------------------------ families
def kpm_persons_by_district(model: Model) -> np.ndarray:
    """Members of enrolled families (x scale) by kecamatan."""
    fam = model.families
    return np.bincount(fam.district[fam.active], minlength=model.n_districts) * float(model.p["household_size"])


def outside_nonpoor(model: Model) -> np.ndarray:
    """Persons (x scale) outside the programme and not poor, by kecamatan."""
    return model.population - kpm_persons_by_district(model) - model.nonkpm_poor


def remove_families(model: Model, rows: np.ndarray) -> None:
    """Families in ``rows`` leave the programme (graduation, natural exit or quota cut).

    Those poor before transfers return to the poor outside the programme of their kecamatan.
    """
    if rows.size == 0:
        return
    fam = model.families
    poor_pre = fam.poor_pre[rows]
    back = np.bincount(fam.district[rows][poor_pre], minlength=model.n_districts)
    model.nonkpm_poor += back * float(model.p["household_size"])
    model.leavers_poor_pre_month += int(poor_pre.sum())
    fam.active[rows] = False
    fam.poor[rows] = False
    fam.poor_pre[rows] = False
    fam.fac[rows] = -1
    due = fam.handle_due[rows]
    if due.any():  # never looked at: no handle to remove
        fam.handle_due[rows] = False
        model.handles_due -= int(due.sum())
        rows = rows[~due]
    agents = model._family_handles
    idx = rows.tolist()
    gone = [agents[r] for r in idx]
    for r in idx:
        agents[r] = None
    Family.remove_many(model, [a for a in gone if a is not None])


def _first_in_district(dist: np.ndarray, room: np.ndarray) -> np.ndarray:
    """For entrants in kecamatan ``dist``, True for the first ``room[d]`` of each kecamatan d."""
    order = np.argsort(dist, kind="stable")
    ds = dist[order]
    rank = np.empty(dist.size, dtype=np.int64)
    rank[order] = np.arange(dist.size) - np.searchsorted(ds, ds, side="left")
    return rank < room[dist]


def enrol_families(model: Model, n: int) -> None:
    """Enrol up to ``n`` new families where the eligible poor outside the programme are now.

    Each entrant's kecamatan is drawn in proportion to the poor outside the programme
    (stream ``entries``); its traits are drawn as in ``draw_family_traits``. Entrants the
    outside of their kecamatan cannot supply are not enrolled (module docstring).
    """
    if n <= 0:
        return
    fam = model.families
    hh = float(model.p["household_size"])
    nd = model.n_districts
    rows = free_rows(fam, "active", model._family_handles, n)
    rng = model.streams["entries"]
    nonpoor = outside_nonpoor(model)
    pool = model.nonkpm_poor
    # where the eligible are: the poor outside the programme; if there are none left anywhere,
    # the outside non-poor (every such entrant is then turned away unless non-poor)
    weight = pool if pool.sum() > 0 else np.maximum(nonpoor, 0.0)
    if weight.sum() <= 0:
        model.entries_unfilled_month += n
        return
    dist = rng.choice(nd, size=n, p=weight / weight.sum())
    fam.district[rows] = dist
    fam.fac[rows] = -1
    draw_family_traits(model, rows, rng, initial=False)
    # who the outside can supply: household_size persons per entrant, poor or not;
    # whole persons only, rounded down: the pool can never go below 0, not even by rounding
    poor_pre = fam.poor_pre[rows].copy()
    keep = np.zeros(n, dtype=bool)
    keep[poor_pre] = _first_in_district(dist[poor_pre], np.floor(np.maximum(pool, 0.0) / hh).astype(np.int64))
    # a poor entrant her kecamatan has no poor person left for is a family above the line
    # instead (the DTKS reaches above the BPS line): redrawn from the same welfare law,
    # conditioned on market consumption >= the line (ODD 7.4)
    near = poor_pre & ~keep
    if near.any():
        redraw_above_line(model, rows[near], rng)
        poor_pre[near] = fam.poor_pre[rows[near]]
        model.entries_near_poor_month += int(near.sum())
    nonpoor_cls = ~poor_pre
    keep[nonpoor_cls] = _first_in_district(dist[nonpoor_cls], np.floor(np.maximum(nonpoor, 0.0) / hh).astype(np.int64))
    turned_away = rows[~keep]
    fam.poor[turned_away] = False
    fam.poor_pre[turned_away] = False
    rows, dist, poor_pre = rows[keep], dist[keep], poor_pre[keep]
    model.nonkpm_poor -= np.bincount(dist[poor_pre], minlength=nd) * hh
    fam.active[rows] = True
    assign_to_least_loaded(model, rows)
    create_family_handles(model, rows)
    model.entries_month += rows.size
    model.entries_unfilled_month += n - rows.size
    model.entrants_poor_pre_month += int(poor_pre.sum())


def redraw_above_line(model: Model, rows: np.ndarray, rng: np.random.Generator) -> None:
    """New permanent consumption for ``rows``, drawn from the entrants' law above the line.

    z ~ N(0, 1) truncated to mu + sigma z + shock >= 0 (market consumption at least the
    poverty line this month), by the inverse CDF from the stream ``rng``.
    """
    fam = model.families
    sd = float(model.p["welfare_sd_initial"])
    z0 = (-fam.shock[rows].astype(np.float64) - model.welfare_location) / max(sd, 1e-12)
    lo = special.ndtr(z0)
    u = lo + (1.0 - lo) * rng.random(rows.size)
    z = special.ndtri(np.clip(u, 1e-15, 1.0 - 1e-15))
    # rounding (float32 state) near the bound must not leave anyone below the line
    z = np.maximum(z, z0 + 1e-4)
    set_consumption(model, rows, z, rng, initial=False)


def assign_to_least_loaded(model: Model, rows: np.ndarray) -> None:
    """Give each family of ``rows`` a filled post of its kecamatan, least loaded first, round-robin."""
    fam = model.families
    ps = model.posts
    load = np.bincount(fam.fac[fam.active & (fam.fac >= 0)], minlength=ps.capacity)
    for k in np.unique(fam.district[rows]).tolist():
        mine = rows[fam.district[rows] == k]
        posts = np.flatnonzero(ps.filled & (ps.district == k))
        if posts.size == 0:
            continue
        order = posts[np.argsort(load[posts], kind="stable")]
        fam.fac[mine] = order[np.arange(mine.size) % order.size]


def grow_population(model: Model) -> None:
    """End of the month: the population grows; the poor outside the programme follow their trend.

    ``model.outside_poor_growth`` keeps this month's factor for the invariant of the pool.
    """
    model.population = model.population * model.pop_growth_month
    model.outside_poor_growth = model.pop_growth_month * model.nonkpm_trend_month
    model.nonkpm_poor = model.nonkpm_poor * model.outside_poor_growth
