"""Phase 2, time budget: caseload and hours of every facilitator this month.

    H0       = hours_per_month * (1 - leave_share) * (1 - support_share)  available working time
               (the same definition as WISN's, sim/metrics.py, so a WISN ratio of 1 is a load of 1)
    H        = H0 * (1 - absence_per_burnout * B)                      hours this month
    admin    = C * admin_min/60 * (1 - digital_skill_admin_saving * S_tech)
    groups   = ceil(C / group_size) * group_session_h                  P2K2 sessions
    visits   = max(0, H - admin - groups)                              left for home visits
    L        = (admin + groups needed + C * v_target * t_visit) / H0   load ratio

Admin comes first: the evaluation scheme rewards e-PKH input speed (paper), and payments
depend on it. ``t_visit`` = visit_h + the district's travel minutes per visit.
Home visits possible = visits hours * 60 * (1 - productivity_loss_per_burnout * B) / t_visit.
A facilitator short of time rushes: she does up to 30% more visits than her time allows,
each shorter, which the visit phase turns into lower quality.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.core import Model

def available_hours(p: dict) -> float:
    """Working hours a month for facilitation: contract hours less leave and support time."""
    return float(p["hours_per_month"] * (1.0 - p["leave_share"]) * (1.0 - p["support_share"]))


RUSH_MAX = 0.3  # [A] at most 30% more visits than time allows, each proportionally shorter


def step(model: Model) -> None:
    """Compute caseload, hours by activity, load ratio and visits planned for every post."""
    p = model.p
    ps = model.posts
    model.refresh_caseload()
    filled = ps.filled
    c = ps.caseload.astype(np.float64)
    b = ps.burnout
    h0 = available_hours(p)
    hours = h0 * (1.0 - p["absence_per_burnout"] * b)
    admin = c * (p["admin_min_per_family_month"] / 60.0) * (1.0 - p["digital_skill_admin_saving"] * ps.s_tech)
    admin = np.minimum(admin * model.surface.admin_factor, hours)
    groups_needed = np.ceil(c / p["group_size_families"]) * p["group_session_h"]
    groups = np.minimum(groups_needed, hours - admin)
    visit_hours = np.maximum(hours - admin - groups, 0.0)
    min_per_visit = 60.0 * p["visit_h"] + model.travel_min[ps.district] * p["travel_scale"]
    demand_visits = c * p["visits_target_per_family_month"]
    capacity = visit_hours * 60.0 * (1.0 - p["productivity_loss_per_burnout"] * b) / min_per_visit
    shortage = np.where(demand_visits > 0, np.clip(1.0 - capacity / np.maximum(demand_visits, 1e-9), 0, 1), 0.0)
    done = np.minimum(demand_visits, capacity * (1.0 + RUSH_MAX * shortage))
    demand_h = admin + groups_needed + demand_visits * min_per_visit / 60.0
    zero = ~filled
    ps.hours_avail[:] = np.where(zero, 0.0, hours)
    ps.hours_admin[:] = np.where(zero, 0.0, admin)
    ps.hours_groups[:] = np.where(zero, 0.0, groups)
    ps.group_coverage[:] = np.where(groups_needed > 0, groups / np.maximum(groups_needed, 1e-9), 1.0)
    ps.hours_visits[:] = np.where(zero, 0.0, visit_hours)
    ps.load_ratio[:] = np.where(zero, 0.0, demand_h / h0)
    ps.visits_done[:] = np.where(zero, 0.0, done)
    ps.min_per_visit[:] = np.where(done > 0, visit_hours * 60.0 * (1.0 - p["productivity_loss_per_burnout"] * b)
                                   / np.maximum(done, 1e-9), min_per_visit)
    ps.min_per_visit_std[:] = min_per_visit
