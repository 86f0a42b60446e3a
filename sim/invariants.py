"""Invariants of the model state, checked after every step when ``check_invariants=True``.

Families are conserved (last month + entries - graduations - exits = now); every assigned
family's post is filled; caseloads add up to the assigned families and vacant posts carry
none; one Family agent per family and one Facilitator agent per filled post; scores, skills,
burnout and shares lie in [0, 1]; hours, visits, welfare and the poor outside the
programme are not negative; the hours of every filled post add up (admin + P2K2 + visits
+ spare = hours available); admin backlog and withheld months stay within their bounds.

Poverty accounting (sim.population), people conserved across enrolment and exit:
- the regency's poor people, after and before transfers, equal the poor inside the
  programme (recounted from the family columns) plus the poor outside it;
- a family is poor before transfers exactly when exp(log_perm + shock) < 1, and poor after
  them exactly when welfare < 1 (recomputed);
- the poor outside the programme move only with the flows: last month's pool + household_size
  x (leavers poor before transfers - entrants poor before transfers), times this month's
  growth factor, is this month's pool (nothing created, lost or clamped);
- in every kecamatan the KPM members plus the outside poor do not exceed the population
  (the outside non-poor are not negative).
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
    errors.extend(_poverty_accounting(model, row))
    for key, value in row.items():
        if (key.startswith("share_") or key.endswith("_rate")) and not 0 <= value <= 1:
            errors.append(f"{key} = {value} outside [0, 1]")
    if errors:
        raise InvariantError(f"step {model.steps}: " + "; ".join(errors))


def _poverty_accounting(model: Model, row: dict) -> list[str]:
    """Errors of the poverty accounting: poor people add up, the outside pool moves only with the flows.

    Rows are at regency scale: people are model persons / scale, family counts simulated
    counts x family_weight (= 1 / scale), so a flow of families x household_size is people.
    """
    fam = model.families
    act = fam.active
    hh = float(model.p["household_size"])
    s = model.scale
    errors: list[str] = []
    pool = float(model.nonkpm_poor.sum())
    market = np.exp(fam.log_perm[act] + fam.shock[act])
    if np.any(fam.poor_pre[act] != (market < 1.0)) or np.any(fam.poor_pre[~act]):
        errors.append("poor before transfers does not match consumption before transfers")
    if np.any(fam.poor[act] != (fam.welfare[act] < 1.0)) or np.any(fam.poor[~act]):
        errors.append("poor after transfers does not match welfare")
    for key, inside in (("poor_people", fam.poor[act]), ("poor_people_pre_transfer", fam.poor_pre[act])):
        total = (int(inside.sum()) * hh + pool) / s
        if not np.isclose(row[key], total, rtol=1e-9, atol=1e-6):
            errors.append(f"{key} {row[key]:.1f} != poor inside {int(inside.sum()) * hh / s:.1f} + outside {pool / s:.1f}")
    if not np.isclose(row["outside_poor_people"], pool / s, rtol=1e-12):
        errors.append("outside_poor_people is not the pool of the poor outside the programme")
    if len(model.regency_rows) >= 2:
        prev = model.regency_rows[-2]["outside_poor_people"]
        flow = hh * (row["leavers_poor_pre_transfer"] - row["entrants_poor_pre_transfer"])
        expected = (prev + flow) * model.outside_poor_growth
        if not np.isclose(row["outside_poor_people"], expected, rtol=1e-9, atol=1e-6):
            errors.append(f"poor outside the programme not conserved: ({prev:.2f} + {flow:.0f}) x growth "
                          f"= {expected:.2f} != {row['outside_poor_people']:.2f}")
    kpm_persons = np.bincount(fam.district[act], minlength=model.n_districts) * hh
    over = kpm_persons + model.nonkpm_poor - model.population
    if np.any(over > 1e-6 * model.population):
        d = int(np.argmax(over))
        errors.append(f"{model.district_names[d]}: KPM members + outside poor exceed the population by {over[d] / s:.0f}")
    return errors
