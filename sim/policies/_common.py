"""Helpers shared by the lever modules: district masks, scaled quotas, counts, post costs.

Counts a scenario gives for the whole regency (posts a month, moves a round, Rp a year)
are for the whole regency: posts and budgets are never scaled (facilitators are not, whatever
the run's ``scale``; docs/ODD.md 2.5), and family counts are at regency scale
(``families_by_district``). A fractional quota is carried over from month to month
(``Quota``) without drawing random numbers.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from sim import population
from sim.params import unknown_name_message
from sim.policies.base import PolicyError

if TYPE_CHECKING:
    from sim.model import CaseloadModel


def district_mask(model: CaseloadModel, names: list[str] | tuple[str, ...]) -> np.ndarray:
    """Boolean mask over the model's districts for the kecamatan ``names``."""
    mask = np.zeros(model.n_districts, dtype=bool)
    index = {n: i for i, n in enumerate(model.district_names)}
    for n in names:
        if n not in index:
            raise PolicyError(unknown_name_message(n, model.district_names, "district"), "districts")
        mask[index[n]] = True
    return mask


class Quota:
    """A whole-regency allowance per period, scaled to the run; fractions carry over.

    Each period adds ``per_period * scale``; ``take(n_wanted)`` uses whole units of it.
    Whole units left unused at the end of a period lapse (a lever that had nothing to do
    for a year does not then act all at once); the fraction carries over, so at scale 0.1
    an allowance of 3 a period gives one unit every fourth period or so, 3 in 10.
    """

    def __init__(self, per_period: float, scale: float) -> None:
        self.rate = float(per_period) * float(scale)
        self.balance = 0.0

    def accrue(self) -> None:
        """Start a period: drop the unused whole units, add one period's allowance."""
        self.balance = self.balance - math.floor(self.balance + 1e-9) + self.rate
        self.balance = max(self.balance, 0.0)

    def available(self) -> int:
        """Whole units available now."""
        return math.floor(self.balance + 1e-9)

    def take(self, n_wanted: int) -> int:
        """Use up to ``n_wanted`` whole units of the balance; return how many."""
        n = max(0, min(int(n_wanted), self.available()))
        self.balance -= n
        return n


def families_by_district(model: CaseloadModel) -> np.ndarray:
    """Active families per district, at regency scale (simulated families x family_weight)."""
    fam = model.families
    return np.bincount(fam.district[fam.active], minlength=model.n_districts) * model.family_weight


def posts_by_district(model: CaseloadModel, filled_only: bool = False) -> np.ndarray:
    """Open (funded) posts per district, or only the filled ones."""
    ps = model.posts
    sel = ps.filled if filled_only else ps.open
    return np.bincount(ps.district[sel], minlength=model.n_districts).astype(np.float64)


def load_per_post(families: np.ndarray, posts: np.ndarray) -> np.ndarray:
    """Families per post; a district with families and no post gets +inf."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(posts > 0, families / np.maximum(posts, 1.0), np.where(families > 0, np.inf, 0.0))
    return out


def post_cost_year(model: CaseloadModel, districts: np.ndarray) -> np.ndarray:
    """Yearly cost of one filled post in each of ``districts``: pay, operations, supervision share."""
    p = model.p
    monthly = (model.incentive_for(districts) + p["operational_rp_month"]
               + p["supervisor_cost_rp_month"] / model.surface.supervision_ratio)
    return 12.0 * np.asarray(monthly, dtype=np.float64)


def open_new_posts(model: CaseloadModel, districts: list[int], lag_months: int) -> np.ndarray:
    """Open one post per entry of ``districts``, filled after ``lag_months`` (-1: the model's recruitment lag)."""
    if not districts:
        return np.empty(0, dtype=np.int64)
    # the staffing phase (which runs after the levers) fills posts whose refill step has come
    return population.open_posts(model, np.asarray(districts, dtype=np.int64), lag_months=None if lag_months < 0 else lag_months)
