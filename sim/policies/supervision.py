"""Lever ``supervision``: more supervisors (a lower facilitator-to-supervisor ratio).

Paper recommendation 5 (part): local government takes on supervision and monitoring of
the programme. Support from supervision enters burnout as a job resource (JD-R divisor
1/(1 + R), R = supervision_resource_max * min(1, supervision_good_ratio / ratio)) and
visit quality as a bonus (routine supervision +10.7 pp, Rowe et al. 2022). The
supervisors' pay is counted in the month's cost by sim/metrics.py from the ratio:
ceil(facilitators / ratio) x supervisor_cost_rp_month. The ratio applies from the first
simulated month on (the initial state is the baseline's). No random numbers are drawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.policies.base import Lever, register

if TYPE_CHECKING:
    from sim.model import CaseloadModel


@register
class Supervision(Lever):
    """Set the facilitator-to-supervisor ratio."""

    name = "supervision"
    phase = "staffing"
    title = "Supervision ratio (facilitators per supervisor)"

    ratio: float

    def apply(self, model: CaseloadModel) -> None:
        """Set the supervision ratio for this month (the baseline is the parameter supervision_ratio)."""
        model.surface.supervision_ratio = float(self.ratio)
