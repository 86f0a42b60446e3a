"""Lever ``training_platform``: a certified digital (e-learning) training platform.

Paper recommendation 2 (Pengembangan Platform Pelatihan Digital Terintegrasi): online,
certified courses with technical modules (e-PKH, SIKS-NG, policy changes) and soft-skill
(psychosocial) modules. On top of the face-to-face advanced courses of the baseline, each
month every serving facilitator completes a platform course with probability
``coverage_per_month`` (drawn from this lever's own stream). A course gives, for each
module listed in ``modules``,

    S <- S + elearning_gain_ratio * g * (1 - S)     (g = training_gain_technical / _psychosocial)

so a module not listed gives no gain in that skill. e-learning is about as effective as
face-to-face teaching (Cook et al. 2008: d 0.09-0.12 between formats), hence the ratio
0.9 (docs/REFERENCES.md). A course counts as a refresher (months since training =
0: lowers the quit hazard of facilitators without a course in 12 months) and costs
``cost_rp_per_course``; the platform's running cost ``fixed_cost_rp_year`` is added to
every month's cost.

The lever acts after the workforce phase (its slot: ``when = "after"``, ``phase =
"workforce"``), so that the month's courses come after the baseline's advanced courses,
quits and skill decay. It writes this month's courses and cost to the lever surface
(``courses_month``, ``cost_month``), which the cost phase books (sim.processes.cost).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.policies.base import Lever, register

if TYPE_CHECKING:
    from sim.model import CaseloadModel


@register
class TrainingPlatform(Lever):
    """Online certified courses: technical and psychosocial modules, own random stream."""

    name = "training_platform"
    phase = "workforce"
    when = "after"
    title = "Certified digital training platform (technical and psychosocial modules)"

    coverage_per_month: float
    elearning_gain_ratio: float
    cost_rp_per_course: float
    fixed_cost_rp_year: float
    modules: list[str]

    def setup(self, model: CaseloadModel) -> None:
        """Charge the platform's running cost to every month (whole regency)."""
        model.surface.extra_cost_month += self.fixed_cost_rp_year / 12.0

    def apply(self, model: CaseloadModel) -> None:
        """Run the month's platform courses: who takes one, skill gains by module, refresher, cost."""
        p = model.p
        ps = model.posts
        u = self.rng(model).random(ps.capacity)  # fixed size per month: own stream only
        trained = ps.filled & (u < self.coverage_per_month)
        n = int(trained.sum())
        if n == 0:
            return
        ratio = self.elearning_gain_ratio
        if "technical" in self.modules:
            g = p["training_gain_technical"] * ratio
            ps.s_tech[:] = np.where(trained, np.clip(ps.s_tech + g * (1.0 - ps.s_tech), 0.0, 1.0), ps.s_tech)
        if "psychosocial" in self.modules:
            g = p["training_gain_psychosocial"] * ratio
            ps.s_psy[:] = np.where(trained, np.clip(ps.s_psy + g * (1.0 - ps.s_psy), 0.0, 1.0), ps.s_psy)
        ps.months_since_training[trained] = 0
        ps.trained_since_start[trained] = True
        model.surface.courses_month += n
        model.surface.cost_month += n * self.cost_rp_per_course
