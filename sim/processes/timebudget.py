"""Phase 2, time budget: caseload, hours by activity, admin backlog and late PKH payments.

Hours of every filled post this month (docs/ODD.md 7.2):

    H0   = hours_per_month * (1 - leave_share) * (1 - support_share)  available working time
           (the same definition as WISN's, sim/metrics.py, so a WISN ratio of 1 is a load of 1)
    H    = H0 * (1 - absence_per_burnout * B)                         hours this month
    a    = admin_min/60 * (1 - digital_skill_admin_saving * S_tech) * admin_factor   h per family-month
    A    = a * (C + sum of the families' outstanding months)          admin wanted: this month + backlog
    G    = ceil(C / group_size) * group_session_h                     P2K2 sessions wanted
    V    = C * v_target * t_visit / (1 - productivity_loss_per_burnout * B)   visit hours wanted
    L    = (a * C + G + C * v_target * t_visit) / H0                  load ratio (standard workload)

Allocation. If A + G + V <= H everything is done and the spare time buys extra home visits
with diminishing returns (below). Otherwise the facilitator cuts corners on everything:
  1. a floor F = min(V, visit_floor_share * H) is kept for home visits (the verification
     visits that payments need);
  2. the rest, R = H - F, is rationed in proportion to priority x demand: activity k gets
     x_k = min(D_k, lambda * w_k * D_k) with sum x_k = R, so the share of admin done is
     w times the share of contact done (P2K2 and the visits above the floor, weight 1), until
     one of them is complete. w = admin_weight_admin_speed under reporting-speed evaluation,
     admin_weight_social_outcome under evaluation on social outcomes.
The hours add up: admin + groups + visits + spare = H for every filled post (an invariant).

Spare time. With s = spare hours in visits per family, s = spare * 60 * (1 - p_B * B) / (t_visit * C),
the visit rate is
    v = v_target + (v_sat - v_target) * (1 - exp(-s / (v_sat - v_target)))
(slope 1 at s = 0: the first extra visits cost their standard time; v tends to
visits_saturation_per_family_month). Spare hours not turned into visits stay unused
(``hours_spare``). A facilitator short of time rushes: she makes up to 30% more visits
than her time allows, each shorter, which the visit phase turns into lower quality.

Admin backlog (from month 1; over the workforce warm-up per kecamatan, ``warm_up_backlog``,
which ``spin_up`` hands to the families; ``initial_holds`` the withheld payments). Each family
carries ``admin_due``, the months of its data entry outstanding. Each month a post finishes
the share r = admin / A of what it wanted, spread evenly over its families:
    due <- (due + 1) * (1 - r)       (r = 0 for families without a facilitator)
Data outstanding longer than backlog_max_months (one verification quarter) is written off.

Late payments. The entries payments depend on (commitment verification, disbursement data)
are a share s_v = verification_admin_share of the admin still wanted, and are made first:
the share of a post's verification entries not made this month is
    late_f = clip(1 - admin / (s_v * A), 0, 1)        (1 for families without a facilitator)
At each quarterly verification a PKH family's verification is late with probability late_f
and its PKH payment is withheld. Every month a withheld family is released with probability
1 - late_f (its data is in) and is paid the withheld months, at most
payment_arrears_max_months of them; older withheld months are lost. The families phase pays
PKH only to families not withheld, plus the arrears (families.transfers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.processes.families import VERIFICATION_MONTHS

if TYPE_CHECKING:
    from sim.core import Model

RUSH_MAX = 0.3  # [A] at most 30% more visits than time allows, each proportionally shorter


def available_hours(p: dict) -> float:
    """Working hours a month for facilitation: contract hours less leave and support time."""
    return float(p["hours_per_month"] * (1.0 - p["leave_share"]) * (1.0 - p["support_share"]))


def admin_weight(model: Model) -> float:
    """Priority of admin over contact when time is short, set by the evaluation scheme."""
    p = model.p
    return float(p["admin_weight_social_outcome"] if model.surface.outcome_evaluation else p["admin_weight_admin_speed"])


def allocate(hours: np.ndarray, admin: np.ndarray, groups: np.ndarray, visits: np.ndarray,
             weight: float, floor_share: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hours given to admin, P2K2 groups and home visits out of ``hours``, for wanted hours given.

    Everything wanted is given when it fits. Otherwise home visits first get their floor
    (``floor_share`` of the hours, at most what they want), and the rest is rationed in
    proportion to priority x demand (admin ``weight``, contact 1), each capped at its demand.
    The three results add up to ``hours`` whenever the demand exceeds the hours.
    """
    total = admin + groups + visits
    short = total > hours
    floor = np.minimum(visits, floor_share * hours)
    rest = np.maximum(hours - floor, 0.0)
    contact = groups + visits - floor
    lam = rest / np.maximum(weight * admin + contact, 1e-12)
    admin_full = weight * lam >= 1.0        # admin complete, contact rationed
    contact_full = lam >= 1.0               # contact complete, admin rationed (weight < 1)
    r_contact = np.where(admin_full, (rest - admin) / np.maximum(contact, 1e-12), lam)
    r_admin = np.where(contact_full, (rest - contact) / np.maximum(admin, 1e-12), weight * lam)
    r_contact = np.clip(r_contact, 0.0, 1.0)
    r_admin = np.clip(r_admin, 0.0, 1.0)
    a = np.where(short, admin * r_admin, admin)
    g = np.where(short, groups * r_contact, groups)
    v = np.where(short, floor + (visits - floor) * r_contact, visits)
    return a, g, v


def spare_visit_rate(spare_per_family: np.ndarray, target: float, saturation: float) -> np.ndarray:
    """Visits per family per month bought with ``spare_per_family`` extra visits' worth of time.

    v = target + (sat - target) * (1 - exp(-s / (sat - target))): the first extra visit costs
    its standard time (slope 1), later ones more, and v never exceeds ``saturation``.
    """
    room = saturation - target
    if room <= 0:
        return np.full_like(spare_per_family, target)
    return target + room * -np.expm1(-np.maximum(spare_per_family, 0.0) / room)


@dataclass
class Wants:
    """What every post wants this month, before allocation (per-post arrays)."""

    caseload: np.ndarray       # families C
    hours: np.ndarray          # H, hours this month
    per_family: np.ndarray     # a, admin hours per family-month
    groups: np.ndarray         # G, P2K2 hours wanted
    visits: np.ndarray         # V, hours to meet the visit target
    target_visits: np.ndarray  # C * v_target
    min_per_visit: np.ndarray  # t_std
    prod: np.ndarray           # output per hour, 1 - p_B * B


def wants(model: Model) -> Wants:
    """Hours, admin per family, P2K2 and visit hours every post wants this month (caseloads recounted)."""
    p = model.p
    ps = model.posts
    model.refresh_caseload()
    c = ps.caseload.astype(np.float64)
    b = ps.burnout
    hours = available_hours(p) * (1.0 - p["absence_per_burnout"] * b)
    per_family = (p["admin_min_per_family_month"] / 60.0) * (1.0 - p["digital_skill_admin_saving"] * ps.s_tech)
    per_family = per_family * model.surface.admin_factor
    groups = np.ceil(c / p["group_size_families"]) * p["group_session_h"]
    min_per_visit = 60.0 * p["visit_h"] + model.travel_min[ps.district] * p["travel_scale"]
    prod = 1.0 - p["productivity_loss_per_burnout"] * b
    target_visits = c * p["visits_target_per_family_month"]
    visits = target_visits * min_per_visit / 60.0 / prod
    return Wants(c, hours, per_family, groups, visits, target_visits, min_per_visit, prod)


def split(model: Model, w: Wants, due_sum: np.ndarray) -> tuple[np.ndarray, ...]:
    """Admin wanted (with the backlog ``due_sum`` family-months) and the hours for admin, P2K2, visits."""
    admin_need = w.per_family * (w.caseload + due_sum)
    admin, groups, visit_hours = allocate(w.hours, admin_need, w.groups, w.visits,
                                          admin_weight(model), model.p["visit_floor_share"])
    return admin_need, admin, groups, visit_hours


def verification_late(model: Model, admin_need: np.ndarray, admin: np.ndarray) -> np.ndarray:
    """Share of each post's payment-verification entries not made: 1 - admin / (s_v * A), in [0, 1]."""
    need_v = model.p["verification_admin_share"] * admin_need
    late = np.where(need_v > 0, np.clip(1.0 - admin / np.maximum(need_v, 1e-12), 0.0, 1.0), 0.0)
    return np.where(model.posts.filled, late, 1.0)


def step(model: Model) -> None:
    """Hours by activity and visits made for every post; then (after month 0) backlog and payments."""
    p = model.p
    ps = model.posts
    fam = model.families
    w = wants(model)
    filled = ps.filled
    c, prod, min_per_visit, demand_visits = w.caseload, w.prod, w.min_per_visit, w.target_visits
    warm = fam.capacity == 0  # the workforce warm-up (sim.warmup) runs before the families exist
    if warm:
        due_sum = c * model.district_due[ps.district]
    else:
        due_sum = _family_sum(model, fam.admin_due) * model.family_weight
    admin_need, admin, groups, visit_hours = split(model, w, due_sum)
    short = admin_need + w.groups + w.visits > w.hours

    # short of time: visits the hours allow, with rushing
    capacity = visit_hours * 60.0 * prod / min_per_visit
    shortage = np.where(demand_visits > 0, np.clip(1.0 - capacity / np.maximum(demand_visits, 1e-9), 0, 1), 0.0)
    rushed = np.minimum(demand_visits, capacity * (1.0 + RUSH_MAX * shortage))
    # spare time: extra visits with diminishing returns; the rest of the spare time is unused
    spare = np.maximum(w.hours - admin - groups - visit_hours, 0.0)
    spare_per_family = np.where(c > 0, spare * 60.0 * prod / min_per_visit / np.maximum(c, 1.0), 0.0)
    rate = spare_visit_rate(spare_per_family, p["visits_target_per_family_month"], p["visits_saturation_per_family_month"])
    extra = c * rate - demand_visits
    extra_hours = np.minimum(extra * min_per_visit / 60.0 / prod, spare)
    done = np.where(short, rushed, demand_visits + extra)
    visit_hours = np.where(short, visit_hours, visit_hours + extra_hours)
    spare = np.where(short, 0.0, spare - extra_hours)

    h0 = available_hours(p)
    demand_h = c * w.per_family + w.groups + demand_visits * min_per_visit / 60.0
    zero = ~filled
    ps.hours_avail[:] = np.where(zero, 0.0, w.hours)
    ps.hours_admin[:] = np.where(zero, 0.0, admin)
    ps.hours_groups[:] = np.where(zero, 0.0, groups)
    ps.group_coverage[:] = np.where(w.groups > 0, groups / np.maximum(w.groups, 1e-9), 1.0)
    ps.hours_visits[:] = np.where(zero, 0.0, visit_hours)
    ps.hours_spare[:] = np.where(zero, 0.0, spare)
    ps.load_ratio[:] = np.where(zero, 0.0, demand_h / h0)
    ps.visits_done[:] = np.where(zero, 0.0, done)
    ps.min_per_visit[:] = np.where(done > 0, visit_hours * 60.0 * prod / np.maximum(done, 1e-9), min_per_visit)
    ps.min_per_visit_std[:] = min_per_visit
    if model.steps > 0:
        ps.verification_late[:] = verification_late(model, admin_need, admin)
        if warm:
            warm_up_backlog(model, admin, admin_need)
            return
        done_share = np.where(filled & (admin_need > 0), admin / np.maximum(admin_need, 1e-12), filled * 1.0)
        update_backlog(model, done_share, w.per_family)
        payments(model)


def warm_up_backlog(model: Model, admin: np.ndarray, admin_need: np.ndarray) -> None:
    """The backlog of a warm-up month, per kecamatan (its families are shared evenly over its posts).

    due_d <- min((due_d + 1) * (1 - r_d), backlog_max_months), r_d = admin done / admin wanted
    over the kecamatan's filled posts (0 when it has none). Run over the workforce warm-up,
    it leaves each kecamatan's backlog in its stationary state under the vacancies and
    burnout the warm-up produces; ``spin_up`` gives it to the families.
    """
    ps = model.posts
    f = ps.filled
    nd = model.n_districts
    done = np.bincount(ps.district[f], weights=admin[f], minlength=nd)
    need = np.bincount(ps.district[f], weights=admin_need[f], minlength=nd)
    r = np.where(need > 0, done / np.maximum(need, 1e-12), np.where(np.bincount(ps.district[f], minlength=nd) > 0, 1.0, 0.0))
    model.district_due[:] = np.minimum((model.district_due + 1.0) * (1.0 - r), model.p["backlog_max_months"])


def spin_up(model: Model) -> None:
    """Give the families the backlog of the warm-up, and compute the month-0 hours.

    Called once at construction, once the families are placed (before their warm-up reads
    the visits): every family starts with its kecamatan's backlog at the end of the workforce
    warm-up (``warm_up_backlog``; 0 if there was no warm-up). Deterministic.
    """
    ps = model.posts
    fam = model.families
    fam.admin_due[:] = (model.district_due[fam.district] * fam.active).astype(np.float32)
    w = wants(model)
    admin_need, admin, _, _ = split(model, w, _family_sum(model, fam.admin_due) * model.family_weight)
    ps.verification_late[:] = verification_late(model, admin_need, admin)
    ps.admin_backlog_h[:] = np.where(ps.filled, _family_sum(model, fam.admin_due) * model.family_weight * w.per_family, 0.0)
    step(model)


def initial_holds(model: Model) -> None:
    """PKH payments withheld at the start, as just after a verification (after the families' warm-up).

    The start is taken to follow a verification (the default January start follows
    December's): a PKH family's payment is withheld with its post's late share (stream
    ``payments``), with no months owed yet. The month-0 welfare is left as the warm-up set
    it (calibrated to the profile's poor); the withheld payment counts from month 1.
    """
    fam = model.families
    ps = model.posts
    act = fam.active
    late = np.ones(ps.capacity + 1, dtype=np.float32)  # trailing 1: no facilitator, nothing entered
    late[:-1] = ps.verification_late
    u = model.streams["payments"].random(fam.capacity, dtype=np.float32)
    fam.pay_held[:] = act & fam.pkh & (u < late[fam.fac])
    fam.months_held[:] = 0
    fam.arrears[:] = 0.0


def _family_sum(model: Model, values: np.ndarray) -> np.ndarray:
    """Sum of a family column over each post's simulated families.

    Rows without a post (fac = -1) are dropped, and so are inactive rows, which hold fac = -1
    too, without a boolean mask. Times ``family_weight`` for regency scale, like the caseload.
    """
    cap = model.posts.capacity
    return np.bincount(model.families.fac + 1, weights=values, minlength=cap + 1)[1 : cap + 1]


def update_backlog(model: Model, done_share: np.ndarray, per_family: np.ndarray) -> None:
    """Carry the admin not done over as each family's outstanding months; write off the oldest."""
    fam = model.families
    ps = model.posts
    left = np.ones(ps.capacity + 1, dtype=np.float32)  # trailing 1: no facilitator, nothing done
    left[:-1] = 1.0 - done_share
    due = fam.admin_due
    due += np.float32(1.0)
    due *= left[fam.fac]
    np.minimum(due, np.float32(model.p["backlog_max_months"]), out=due)
    due *= fam.active
    ps.admin_backlog_h[:] = np.where(ps.filled, _family_sum(model, due) * model.family_weight * per_family, 0.0)


def payments(model: Model) -> None:
    """Withhold PKH payments of families whose verification is late; pay or lose the arrears.

    Works on the few withheld rows except in verification months; the ``payments`` stream
    draws one number per family row every month all the same, so its draws stay aligned
    across scenarios (common random numbers).
    """
    p = model.p
    fam = model.families
    ps = model.posts
    act = fam.active
    u = model.streams["payments"].random(fam.capacity, dtype=np.float32)
    lut = np.ones(ps.capacity + 1, dtype=np.float32)  # trailing 1: no facilitator, nothing entered
    lut[:-1] = ps.verification_late
    held = fam.pay_held
    held &= act  # a family that left takes its withheld payment with it
    months = fam.months_held
    fam.arrears.fill(0.0)
    n_arrears = 0
    rows = np.flatnonzero(held)
    if rows.size:
        out = rows[u[rows] >= lut[fam.fac[rows]]]   # released: the family's data is in
        n_arrears = int(months[out].sum())
        fam.arrears[out] = months[out] * np.float32(model.pkh_ratio)
        months[out] = 0
        held[out] = False
    if model.month in VERIFICATION_MONTHS:
        new = u < lut[fam.fac]
        new &= act
        new &= fam.pkh
        held |= new
        rows = np.flatnonzero(held)
    else:
        rows = rows[held[rows]]
    owed = rows[fam.pkh[rows] & fam.compliant[rows]]
    months[owed] += 1
    cap = p["payment_arrears_max_months"]
    over = owed[months[owed] > cap]
    months[over] = cap
    model.pkh_withheld_month = int(owed.size)
    model.pkh_lost_month = int(over.size)
    model.pkh_arrears_month = n_arrears
