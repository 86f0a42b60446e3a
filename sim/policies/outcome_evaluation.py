"""Lever ``outcome_evaluation``: evaluate facilitators on social indicators, not reporting speed.

Paper recommendation 3 (Evaluasi Kinerja Berbasis Indikator Sosial): evaluation today
rewards e-PKH input speed and attendance; it should measure changes in school
participation, health and household finance. From the first simulated month on:
  - evaluation is on social outcomes (off: on admin speed, the status quo): each facilitator's visits go
    first to the families unvisited longest and to the poor (sim/processes/visits.py), and
    her contact quality gets ``outcome_evaluation_quality_bonus`` (a model parameter);
  - graduation assessments are ``graduation_push`` times as likely (a rewarded outcome:
    the programme KPI is to graduate 10% of the caseload a year, Kemensos 2020);
  - admin time is multiplied by ``admin_factor`` (1 = unchanged: data entry is still
    needed; below 1 if less re-entry and chasing of deadlines is assumed).
The lever acts before the time-budget phase so that all three apply from the first month.
No random numbers are drawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.policies.base import Lever, register

if TYPE_CHECKING:
    from sim.model import CaseloadModel


@register
class OutcomeEvaluation(Lever):
    """Switch the evaluation scheme to social outcomes."""

    name = "outcome_evaluation"
    phase = "timebudget"
    title = "Performance evaluation on social outcome indicators"

    graduation_push: float
    admin_factor: float

    def apply(self, model: CaseloadModel) -> None:
        """Outcome-based visit targeting and quality bonus, graduation push, admin time."""
        s = model.surface
        s.outcome_evaluation = True
        s.graduation_push = self.graduation_push
        s.admin_factor = self.admin_factor
