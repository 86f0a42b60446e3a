"""Lever ``regional_incentive``: higher pay for facilitators in remote or vulnerable kecamatan.

Paper recommendation 4 (Skema Insentif Berbasis Risiko Wilayah): a differential incentive
for facilitators posted in remote, socially fragile or highly vulnerable areas. The
targeted kecamatan are the union of
  - ``districts`` (names, e.g. ["Muaragembong"]),
  - the kecamatan the data profile flags as vulnerable (``vulnerable = true``; Muaragembong:
    coastal abrasion, tidal flooding, poor roads, sim/data/README.md),
  - the kecamatan with remoteness >= ``remoteness_min`` (0-1 score of distance to the
    regency seat and area per village, sim/districts.py; 1.0 is the most remote only).
Their pay is multiplied by ``multiplier`` from the first simulated month on: the lever sets
the per-district ``incentive_multiplier`` of the lever surface before the staffing phase,
which pays every filled post its district's rate (sim.processes.staffing.pay). In
the model, pay acts through motivation (fairness = pay / reference pay, Herzberg) and the
quit hazard (elasticity 1.25 below the reference pay, Falch 2011), and the extra pay is
counted in the month's cost. No random numbers are drawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.policies._common import district_mask
from sim.policies.base import Lever, register

if TYPE_CHECKING:
    from sim.model import CaseloadModel


@register
class RegionalIncentive(Lever):
    """Multiply the pay of posts in remote or vulnerable kecamatan."""

    name = "regional_incentive"
    phase = "staffing"
    title = "Differential incentive for remote and vulnerable kecamatan"

    multiplier: float
    districts: list[str]
    vulnerable: bool
    remoteness_min: float

    def target(self, model: CaseloadModel) -> np.ndarray:
        """Boolean mask of the targeted districts."""
        mask = district_mask(model, self.districts)
        if self.vulnerable:
            mask |= model.vulnerable
        mask |= model.remoteness >= self.remoteness_min - 1e-12
        return mask

    def setup(self, model: CaseloadModel) -> None:
        """Find the targeted districts (pay changes from the first month on)."""
        self.mask = self.target(model)

    def apply(self, model: CaseloadModel) -> None:
        """Set the pay multiplier of the targeted districts (the staffing phase repays the posts)."""
        model.surface.incentive_multiplier[self.mask] = self.multiplier
