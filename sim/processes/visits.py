"""Phase 3, visits: which families each facilitator reaches, and how well.

Allocation. A facilitator's visits this month (from the time budget: at least those her
visit floor allows when she is short of time, more than the quarterly target when spare
time buys extra visits) are shared over her families in proportion to a priority weight
set by the evaluation scheme:
  admin_speed     every family weighs the same (no reason to seek out the hardest cases);
  social_outcome  weight (1 + months since last visit) * (1 + 2 * poor): the longest
                  unvisited and the poor first.
Family i expects e_i = visits_f * w_i / sum_f(w); it gets floor(e_i) visits plus one more
with probability frac(e_i), at most ``max_visits_per_family_month``. Families without a
facilitator (a kecamatan whose posts are all vacant) get none: the model assumes no
cover from other kecamatan (docs/ODD.md 7.2).

Quality of the facilitator's contacts (0-1):
  Q_f = S_psy * (1 - q_B * B) * min(1, t_actual / t_standard)^delta
        * (1 + local_bonus * local) * (1 + sup_bonus * R_sup / R_max)
        * (1 + outcome_bonus if evaluation is on social outcomes)
        * (1 - motivation_quality_weight * (1 - M))
A family's contact quality is Q_f * (0.7 + 0.3 * rapport); rapport grows with each visit
and is lost when the family is reassigned (continuity, Flower et al. 2005).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.core import Model


def step(model: Model) -> None:
    """Allocate visits to families and compute each facilitator's contact quality."""
    p = model.p
    fam = model.families
    ps = model.posts
    u = model.streams["visits"].random(fam.capacity, dtype=np.float32)  # fixed size: same draws whatever the policy
    f32 = np.float32
    # rows without a facilitator (and rows of departed families) have fac = -1; the per-post
    # tables below carry a trailing 0 so that index -1 reads "no visits"
    fac = fam.fac
    served = fac >= 0
    rate = np.zeros(ps.capacity + 1, dtype=f32)
    if model.surface.outcome_evaluation:
        w = (f32(1.0) + fam.months_since_visit.astype(f32)) * (f32(1.0) + f32(2.0) * fam.poor) * served
        # each simulated family stands for family_weight families (visits_done is at regency scale)
        wsum = np.bincount(fac + 1, weights=w, minlength=ps.capacity + 1)[1 : ps.capacity + 1] * model.family_weight
        rate[:-1] = np.where(wsum > 0, ps.visits_done / np.maximum(wsum, 1e-12), 0.0)
        expected = w * rate[fac]
    else:
        # equal weights: every family of a post expects visits_done / caseload
        rate[:-1] = np.where(ps.caseload > 0, ps.visits_done / np.maximum(ps.caseload, 1e-9), 0.0)
        expected = rate[fac]
    whole = np.floor(expected)
    visits = whole + (u < expected - whole)
    np.minimum(visits, p["max_visits_per_family_month"], out=visits)
    fam.visits[:] = visits

    # facilitator contact quality
    b = ps.burnout
    time_factor = np.minimum(1.0, ps.min_per_visit / np.maximum(ps.min_per_visit_std, 1e-9)) ** p["quality_time_exponent"]
    q = ps.s_psy * (1.0 - p["quality_burnout_penalty"] * b) * time_factor
    q *= 1.0 + p["local_closeness_bonus"] * ps.local
    rmax = p["supervision_resource_max"]
    q *= 1.0 + p["supervision_quality_bonus"] * (model.supervision_resource / rmax if rmax > 0 else 0.0)
    if model.surface.outcome_evaluation:
        q *= 1.0 + p["outcome_evaluation_quality_bonus"]
    q *= 1.0 - p["motivation_quality_weight"] * (1.0 - ps.motivation)
    ps.quality[:] = np.where(ps.filled, np.clip(q, 0.0, 1.0), 0.0)

    visited = fam.visits > 0
    fam.months_since_visit += 1
    fam.months_since_visit *= ~visited
    fam.rapport += (np.float32(0.3) * visited) * (np.float32(1.0) - fam.rapport)
