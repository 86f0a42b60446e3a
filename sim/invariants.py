"""Invariants of the model state, checked after every step when ``check_invariants=True``.

Families are conserved (last month + entries - graduations - exits = now); every assigned
family's post is filled; caseloads add up to the assigned families and vacant posts carry
none; one Family agent per family and one Facilitator agent per filled post; scores, skills,
burnout and shares lie in [0, 1]; hours, visits, welfare and the poor outside the
programme are not negative.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.agents import Facilitator, Family

if TYPE_CHECKING:
    from sim.core import Model


class InvariantError(AssertionError):
    """A model invariant (conservation, bounds) was violated."""


def check(model: Model) -> None:
    """Raise InvariantError when conservation or bounds fail (run each step in tests)."""
    fam = model.families
    ps = model.posts
    act = fam.active
    errors: list[str] = []
    row = model.regency_rows[-1]
    n = int(act.sum())
    if model.regency_rows and len(model.regency_rows) >= 2:
        # rows are at regency scale: simulated counts x family_weight
        prev = model.regency_rows[-2]["families"]
        flow = row["entries"] - row["graduations"] - row["exits"]
        if not np.isclose(n * model.family_weight, prev + flow):
            errors.append(f"families not conserved: {prev} + {flow} != {n}")
    assigned = act & (fam.fac >= 0)
    if not np.all(ps.filled[fam.fac[assigned]]):
        errors.append("a family is assigned to a vacant post")
    if not np.isclose(float(ps.caseload[ps.filled].sum()), int(assigned.sum()) * model.family_weight):
        errors.append("caseloads do not sum to the assigned families")
    if float(ps.caseload[~ps.filled].sum()) != 0:
        errors.append("a vacant post carries a caseload")
    n_agents = len(model.agents_by_type[Family]) if Family in model.agents_by_type else 0
    if n_agents != n:
        errors.append(f"{n_agents} Family agents for {n} families")
    n_fac = len(model.agents_by_type[Facilitator]) if Facilitator in model.agents_by_type else 0
    if n_fac != int(ps.filled.sum()):
        errors.append(f"{n_fac} Facilitator agents for {int(ps.filled.sum())} filled posts")
    for name in ("k_edu", "k_health", "k_fin", "rapport"):
        col = getattr(fam, name)[act]
        if col.size and (col.min() < 0 or col.max() > 1):
            errors.append(f"family {name} outside [0, 1]")
    if np.any(fam.welfare[act] < 0):
        errors.append("negative welfare")
    for name in ("burnout", "s_tech", "s_psy", "motivation", "quality"):
        col = getattr(ps, name)[ps.filled]
        if col.size and (col.min() < 0 or col.max() > 1):
            errors.append(f"facilitator {name} outside [0, 1]")
    for name in ("hours_admin", "hours_groups", "hours_visits", "visits_done"):
        if np.any(getattr(ps, name) < 0):
            errors.append(f"negative {name}")
    if np.any(model.nonkpm_poor < 0):
        errors.append("negative poor outside KPM")
    for key, value in row.items():
        if (key.startswith("share_") or key.endswith("_rate")) and not 0 <= value <= 1:
            errors.append(f"{key} = {value} outside [0, 1]")
    if errors:
        raise InvariantError(f"step {model.steps}: " + "; ".join(errors))
