"""Invariants of the model state, checked after every step when ``check_invariants=True``.

Families are conserved (last month + entries - graduations - exits = now); every assigned
family's post is filled; caseloads add up to the assigned families and vacant posts carry
none; one Family agent per family and one Facilitator agent per filled post; scores, skills,
burnout and shares lie in [0, 1]; hours, visits, welfare and the poor outside the
programme are not negative; the hours of every filled post add up (admin + P2K2 + visits
+ spare = hours available); admin backlog and withheld months stay within their bounds.
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
        prev = model.regency_rows[-2]["families"]
        flow = row["entries"] - row["graduations"] - row["exits"]
        if n != prev + flow:
            errors.append(f"families not conserved: {prev} + {flow} != {n}")
    assigned = act & (fam.fac >= 0)
    if not np.all(ps.filled[fam.fac[assigned]]):
        errors.append("a family is assigned to a vacant post")
    if int(ps.caseload[ps.filled].sum()) != int(assigned.sum()):
        errors.append("caseloads do not sum to the assigned families")
    if int(ps.caseload[~ps.filled].sum()) != 0:
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
    for name in ("hours_admin", "hours_groups", "hours_visits", "hours_spare", "visits_done"):
        if np.any(getattr(ps, name) < 0):
            errors.append(f"negative {name}")
    f = ps.filled
    spent = ps.hours_admin[f] + ps.hours_groups[f] + ps.hours_visits[f] + ps.hours_spare[f]
    if not np.allclose(spent, ps.hours_avail[f], rtol=1e-9, atol=1e-9):
        errors.append("time shares (admin + P2K2 + visits + spare) do not add up to the hours available")
    due = fam.admin_due[act]
    if due.size and (due.min() < 0 or due.max() > model.p["backlog_max_months"] + 1e-4):
        errors.append("admin backlog outside [0, backlog_max_months]")
    if np.any(fam.months_held[act] > model.p["payment_arrears_max_months"]):
        errors.append("more withheld PKH months owed than payment_arrears_max_months")
    if np.any(model.nonkpm_poor < 0):
        errors.append("negative poor outside KPM")
    for key, value in row.items():
        if (key.startswith("share_") or key.endswith("_rate")) and not 0 <= value <= 1:
            errors.append(f"{key} = {value} outside [0, 1]")
    if errors:
        raise InvariantError(f"step {model.steps}: " + "; ".join(errors))
