"""Lever ``local_redistribution``: local government moves facilitators to overloaded kecamatan.

Paper recommendation 5 (Peningkatan Peran Pemerintah Daerah) and its finding on placement:
facilitators are unevenly spread (Tambun Selatan and Pebayuran, > 20,000 KPM each, are
understaffed); the remedy is periodic redistribution ("redistribusi pendamping secara
berkala"), needs planning with local government and recruitment that weighs local ties.

Every ``every_months`` months, starting in the first simulated month, a round of up to
``max_moves`` moves (whole regency; posts are never scaled) is made, one at a time:
  donor    = the kecamatan with the fewest families per present facilitator that keeps at
             least ``min_per_district`` facilitators after the move,
  receiver = the kecamatan with the most families per present facilitator,
and a facilitator moves only if the donor, after the move, carries no more families per
facilitator than the receiver after it (so a move lowers the larger of the two loads and
never bounces back; a kecamatan whose only facilitator left is not served by overloading
another one). A non-local facilitator is moved first (a local one would lose her ties to
the community); the one moved counts as non-local in her new kecamatan. Her former
families are shared out in the donor kecamatan and the receiver's families are rebalanced;
families who change facilitator lose their rapport (continuity, sim/population.py).
Her pay follows the receiver's regional multiplier. With ``donor_max_caseload`` > 0 a
kecamatan gives up a facilitator only if it keeps at most that many families per
facilitator (moving only staff it can spare); 0 equalises loads.

With ``reassign_vacancies`` the same round also re-advertises funded posts that are
vacant (waiting for the recruitment lag) where they are needed most, by the same rule on
families per funded post; this moves no one and costs nothing (needs-based planning).

Local recruitment: new hires are placed in their home area with probability at least
``local_hiring_share`` while the lever is on (the lever surface's ``local_hiring_share``;
the model parameter ``local_share_hires`` is the baseline, and stays what the manifest
records). Local budget: up to ``local_hires_per_year`` posts a year (whole regency,
never scaled) are opened in the kecamatan above the programme's ideal caseload
(sim.params.IDEAL_CASELOAD, 1:150), most overloaded first,
and filled after the recruitment lag. No random numbers are drawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim import population
from sim.params import IDEAL_CASELOAD
from sim.policies._common import Quota, families_by_district, load_per_post, open_new_posts, posts_by_district
from sim.policies.base import Lever, register
from sim.processes import staffing

if TYPE_CHECKING:
    from sim.model import CaseloadModel


@register
class LocalRedistribution(Lever):
    """Periodic redistribution of facilitators by local government, local hiring and local posts."""

    name = "local_redistribution"
    phase = "staffing"
    title = "Local government: redistribution, local recruitment and locally funded posts"

    every_months: int
    max_moves: int
    min_per_district: int
    donor_max_caseload: int
    reassign_vacancies: bool
    local_hiring_share: float
    local_hires_per_year: float

    def setup(self, model: CaseloadModel) -> None:
        """Reset the allowances of this run."""
        self.moves = Quota(self.max_moves, 1.0)  # posts are never scaled (docs/ODD.md 2.5)
        self.local_posts = Quota(self.local_hires_per_year / 12.0, 1.0)
        self.moved_total = 0
        self.posts_opened: list[int] = []

    def apply(self, model: CaseloadModel) -> None:
        """Local hiring share; a redistribution round when due; this month's locally funded posts."""
        model.surface.local_hiring_share = self.local_hiring_share
        if (model.steps - 1) % self.every_months == 0:
            self.moves.accrue()
            if self.reassign_vacancies:
                self.reassign_vacant_posts(model)
            self.redistribute(model)
        if self.local_hires_per_year > 0:
            self.local_posts.accrue()
            self.open_local_posts(model)

    def redistribute(self, model: CaseloadModel) -> int:
        """Move facilitators from the least to the most loaded kecamatan; return how many moved."""
        ps = model.posts
        fam_d = families_by_district(model)
        staff_d = posts_by_district(model, filled_only=True)
        moved = 0
        changed: set[int] = set()
        while self.moves.available() >= 1:
            load = load_per_post(fam_d, staff_d)
            donors = staff_d - 1 >= self.min_per_district
            if not donors.any():
                break
            after = np.where(donors, fam_d / np.maximum(staff_d - 1, 1.0), np.inf)
            d = int(np.argmin(after))
            r = int(np.argmax(load))
            if d == r or not after[d] <= fam_d[r] / (staff_d[r] + 1.0):
                break
            if self.donor_max_caseload and after[d] > self.donor_max_caseload:
                break
            cand = np.flatnonzero(ps.filled & (ps.district == d))
            nonlocal_ = cand[~ps.local[cand]]
            post = int(nonlocal_[0] if nonlocal_.size else cand[0])
            staffing.move_post(model, post, r)
            self.moves.take(1)
            staff_d[d] -= 1
            staff_d[r] += 1
            changed.update((d, r))
            moved += 1
        if changed:
            population.rebalance(model, changed)
        self.moved_total += moved
        return moved

    def reassign_vacant_posts(self, model: CaseloadModel) -> int:
        """Move vacant funded posts to the kecamatan with the most families per funded post."""
        ps = model.posts
        fam_d = families_by_district(model)
        posts_d = posts_by_district(model)
        staff_d = posts_by_district(model, filled_only=True)
        moved = 0
        while True:
            vacant_d = posts_d - staff_d
            donors = (vacant_d > 0) & (posts_d - 1 >= self.min_per_district)
            if not donors.any():
                break
            after = np.where(donors, fam_d / np.maximum(posts_d - 1, 1.0), np.inf)
            d = int(np.argmin(after))
            load = load_per_post(fam_d, posts_d)
            r = int(np.argmax(load))
            if d == r or not after[d] <= fam_d[r] / (posts_d[r] + 1.0):
                break
            post = int(np.flatnonzero(ps.open & ~ps.filled & (ps.district == d))[0])
            staffing.move_post(model, post, r)  # keeps its refill date: the selection runs for another kecamatan
            posts_d[d] -= 1
            posts_d[r] += 1
            moved += 1
        return moved

    def open_local_posts(self, model: CaseloadModel) -> None:
        """Open locally funded posts in the kecamatan above the ideal caseload."""
        fam_d = families_by_district(model)
        posts_d = posts_by_district(model)
        cap = float(IDEAL_CASELOAD)
        chosen: list[int] = []
        while len(chosen) < self.local_posts.available():
            load = load_per_post(fam_d, posts_d)
            d = int(np.argmax(load))
            if not load[d] > cap:
                break
            chosen.append(d)
            posts_d[d] += 1
        n = self.local_posts.take(len(chosen))
        idx = open_new_posts(model, chosen[:n], -1)
        self.posts_opened.extend(int(i) for i in idx)
        model.surface.apbd_posts.update(int(i) for i in idx)  # the regency pays them (cost: APBD)
