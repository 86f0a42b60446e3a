"""Lever ``regional_incentive``: higher pay for facilitators in remote or vulnerable kecamatan.

Paper recommendation 4 (Skema Insentif Berbasis Risiko Wilayah): a differential incentive
for facilitators posted in remote, socially fragile or highly vulnerable areas. The
targeted kecamatan are the union of
  - ``districts`` (names, e.g. ["Muaragembong"]),
  - the kecamatan the data profile flags as vulnerable (``vulnerable = true``; Muaragembong:
    coastal abrasion, tidal flooding, poor roads, sim/data/README.md),
  - the kecamatan with remoteness >= ``remoteness_min`` (0-1 score of distance to the
    regency seat and area per village, sim/districts.py; 1.0 is the most remote only).
Their pay is multiplied by ``multiplier`` from the first simulated month on: the model's
per-district ``incentive_multiplier`` changes and every filled post there is repaid. In
the model, pay acts through motivation (fairness = pay / reference pay, Herzberg) and the
quit hazard (elasticity 1.25 below the reference pay, Falch 2011), and the extra pay is
counted in the month's cost. No random numbers are drawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.policies import Lever, Setting, register
from sim.policies._common import district_mask, district_setting

if TYPE_CHECKING:
    from sim.model import CaseloadModel


@register
class RegionalIncentive(Lever):
    """Multiply the pay of posts in remote or vulnerable kecamatan."""

    name = "regional_incentive"
    phase = "staffing"
    title = "Differential incentive for remote and vulnerable kecamatan"
    settings: ClassVar[dict[str, Setting]] = {
        "multiplier": Setting(1.3, 1.0, 3.0, "x base pay", "Pay multiplier in the targeted kecamatan",
                              "[A] +30%: lifts Rp3.15m [S] to about the Rp4.0m reference pay; a 10% premium cut "
                              "quits by 6 pp (Falch 2011) [S]"),
        "districts": district_setting("Kecamatan given the differential (besides the flagged ones)",
                                      "[A] user's choice; paper names none"),
        "vulnerable": Setting(True, unit="-", label="Include the kecamatan the profile flags as vulnerable",
                              source="[S] Muaragembong: coastal abrasion and tidal flooding, sim/data/README.md",
                              kind="bool"),
        "remoteness_min": Setting(1.0, 0.0, 1.0, "0-1 score", "Include kecamatan at least this remote",
                                  "[A] remoteness score of sim/districts.py; 1.0 = only the most remote"),
    }

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
        self.started = False

    def apply(self, model: CaseloadModel) -> None:
        """Raise the multiplier once, then keep every filled post's pay in line with its district."""
        if not self.started:
            model.incentive_multiplier = np.where(self.mask, model.incentive_multiplier * self.multiplier,
                                                  model.incentive_multiplier)
            self.started = True
        ps = model.posts
        filled = np.flatnonzero(ps.filled)
        ps.incentive_rp[filled] = model.incentive_for(ps.district[filled])
