"""Lever ``caseload_cap``: hire up to one facilitator per ``cap`` families in every kecamatan.

Paper recommendation 1 (Penetapan Rasio Ideal Pendamping dan KPM): a national cap of
1:150. Each month, before the staffing phase:

    posts needed in district d = ceil(families_d * (1 + vacancy_buffer) / cap)
    shortfall_d = max(0, needed_d - open posts_d)

and up to ``hires_per_month`` new posts (whole regency; posts are never scaled) are opened,
one at a time to the district with the most families per open post. A post is skipped
when the yearly cost of this lever's posts (pay incl. regional multiplier, operational
allowance and the supervisors' share) would exceed ``budget_rp_year`` (0 = no limit).
A new post is filled after the recruitment lag (``lag_months``, or the model's
``recruitment_lag_months``), by a new hire; the staffing phase then shares the
district's families over its facilitators. Posts are never closed.

``vacancy_buffer`` plans a few posts more than families / cap: facilitators leave and a
vacancy stays open for months, so a district staffed exactly at the cap on paper runs
above it in the field. No random numbers are drawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.policies._common import (
    Quota,
    families_by_district,
    load_per_post,
    open_new_posts,
    post_cost_year,
    posts_by_district,
)
from sim.policies.base import Lever, register

if TYPE_CHECKING:
    from sim.model import CaseloadModel


@register
class CaseloadCap(Lever):
    """Open posts until every kecamatan has one facilitator per ``cap`` families."""

    name = "caseload_cap"
    phase = "staffing"
    title = "Caseload cap (1:150) with a hiring rate and a budget"

    cap: int
    hires_per_month: float
    budget_rp_year: float
    lag_months: int
    vacancy_buffer: float

    def setup(self, model: CaseloadModel) -> None:
        """Reset this run's hiring allowance and the list of posts it opened."""
        self.quota = Quota(self.hires_per_month, 1.0)  # posts are never scaled (docs/ODD.md 2.5)
        self.posts_opened: list[int] = []

    def needed_posts(self, model: CaseloadModel) -> np.ndarray:
        """Posts each district needs under the cap (with the vacancy buffer)."""
        fam_d = families_by_district(model)
        return np.ceil(fam_d * (1.0 + self.vacancy_buffer) / self.cap - 1e-9).astype(np.int64)

    def yearly_cost(self, model: CaseloadModel) -> float:
        """Yearly cost (model units) of the posts this lever opened that are still funded."""
        if not self.posts_opened:
            return 0.0
        idx = np.asarray(self.posts_opened, dtype=np.int64)
        idx = idx[model.posts.open[idx]]
        return float(post_cost_year(model, model.posts.district[idx]).sum())

    def apply(self, model: CaseloadModel) -> None:
        """Open this month's posts in the districts furthest above the cap."""
        self.quota.accrue()
        fam_d = families_by_district(model)
        posts_d = posts_by_district(model)
        short = np.maximum(self.needed_posts(model) - posts_d.astype(np.int64), 0)
        if short.sum() == 0:
            return
        budget = self.budget_rp_year
        spent = self.yearly_cost(model)
        chosen: list[int] = []
        n_max = min(int(short.sum()), self.quota.available())
        while len(chosen) < n_max:
            load = np.where(short > 0, load_per_post(fam_d, posts_d), -1.0)
            d = int(np.argmax(load))
            if load[d] < 0:
                break
            if budget > 0:
                cost = float(post_cost_year(model, np.array([d]))[0])
                if spent + cost > budget:
                    short[d] = 0  # cannot afford a post here; a cheaper district may still fit
                    continue
                spent += cost
            chosen.append(d)
            short[d] -= 1
            posts_d[d] += 1
        n = self.quota.take(len(chosen))
        idx = open_new_posts(model, chosen[:n], self.lag_months)
        self.posts_opened.extend(int(i) for i in idx)
