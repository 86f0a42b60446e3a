"""Agent state as numpy columns of fixed capacity.

Family columns are float32: half the memory traffic of float64 for the same 88,000-row
operations, and 7 significant digits are ample for scores in [0, 1] and consumption ratios.

Families and facilitator posts live in preallocated arrays (LASER-style): a row is a
family or a post, ``active`` says whether it is in use. Mesa agent objects
(sim.agents) are thin handles onto these rows, so every process of a month runs as a
handful of vectorised array operations. Exited families' rows are reused by entrants;
the columns grow (doubling) if a policy hires or enrols beyond the capacity.
"""

from __future__ import annotations

from typing import Any

import numpy as np

FAMILY_COLUMNS: dict[str, Any] = {
    "active": np.bool_,
    "district": np.intp,          # intp: used as an index and in bincount without a cast
    "fac": np.intp,               # post index of the assigned facilitator, -1 if none
    "pkh": np.bool_,
    "sembako": np.bool_,
    "log_perm": np.float32,       # permanent log consumption / poverty line (market part)
    "shock": np.float32,          # transitory log consumption, AR(1)
    "welfare": np.float32,        # consumption incl. transfers / poverty line
    "poor": np.bool_,
    "k_edu": np.float32,          # behaviour scores in [0, 1]
    "k_health": np.float32,
    "k_fin": np.float32,
    "compliant": np.bool_,        # met PKH conditions at the last quarterly verification
    "months_since_visit": np.int32,
    "visits": np.int8,            # home visits received this month
    "months_above": np.int16,     # consecutive months above the graduation threshold
    "rapport": np.float32,        # relationship with the current facilitator, reset on reassignment
    "entered_step": np.int32,
    # admin backlog and payments (sim/processes/timebudget.py)
    "admin_due": np.float32,      # months of this family's data entry outstanding, 0 to backlog_max_months
    "pay_held": np.bool_,         # PKH payment withheld: verification data late at the last verification
    "months_held": np.int8,       # withheld PKH months owed (paid late when the data is in)
    "arrears": np.float32,        # withheld PKH paid this month, per person / poverty line
}

POST_COLUMNS: dict[str, Any] = {
    "open": np.bool_,             # the post exists (funded)
    "filled": np.bool_,           # a facilitator holds it
    "district": np.intp,
    "refill_step": np.int32,      # step at which a vacant post is filled, -1 if filled or not open
    "burnout": np.float64,        # state of the facilitator holding the post
    "s_tech": np.float64,
    "s_psy": np.float64,
    "motivation": np.float64,
    "tenure_months": np.int32,
    "months_since_training": np.int32,
    "trained_since_start": np.bool_,
    "local": np.bool_,
    "contract_month": np.int8,    # calendar month (1-12) of the yearly contract review
    "incentive_rp": np.float64,   # monthly pay of this post (regional differentials change it)
    # per-month scratch, written by the time budget and visits phases
    "caseload": np.int32,
    "hours_avail": np.float64,
    "hours_admin": np.float64,
    "hours_groups": np.float64,
    "hours_visits": np.float64,
    "load_ratio": np.float64,
    "visits_done": np.float64,
    "min_per_visit": np.float64,      # minutes actually spent per visit (less when rushing)
    "min_per_visit_std": np.float64,  # standard minutes per visit: visit_h + travel
    "group_coverage": np.float64,     # share of the P2K2 sessions needed that were held
    "quality": np.float64,            # quality of this facilitator's contacts this month, 0-1
    "hours_spare": np.float64,        # hours left after every target is met and spare visits are made
    "admin_backlog_h": np.float64,    # admin hours outstanding for this post's families after the month
    "verification_late": np.float64,  # share of this post's payment verification entries not made this month
}


#: value of an unused row where zero would mean something (post 0, step 0)
EMPTY: dict[str, int] = {"fac": -1, "refill_step": -1}


class Columns:
    """A set of equally long numpy columns with a capacity that can grow.

    Unused rows hold zeros, except the columns of EMPTY (a family's post is -1 = none).
    """

    def __init__(self, spec: dict[str, Any], capacity: int) -> None:
        self._spec = spec
        self.capacity = int(capacity)
        for name, dtype in spec.items():
            setattr(self, name, np.full(self.capacity, EMPTY.get(name, 0), dtype=dtype))

    def grow(self, min_capacity: int) -> None:
        """Enlarge every column to at least ``min_capacity`` rows (new rows empty)."""
        if min_capacity <= self.capacity:
            return
        new_cap = max(min_capacity, 2 * self.capacity)
        for name, dtype in self._spec.items():
            old = getattr(self, name)
            new = np.full(new_cap, EMPTY.get(name, 0), dtype=dtype)
            new[: self.capacity] = old
            setattr(self, name, new)
        self.capacity = new_cap

    def columns(self) -> list[str]:
        """Column names."""
        return list(self._spec)


class FamilyState(Columns):
    """Columns of the KPM families (see FAMILY_COLUMNS)."""

    active: np.ndarray
    district: np.ndarray
    fac: np.ndarray
    pkh: np.ndarray
    sembako: np.ndarray
    log_perm: np.ndarray
    shock: np.ndarray
    welfare: np.ndarray
    poor: np.ndarray
    k_edu: np.ndarray
    k_health: np.ndarray
    k_fin: np.ndarray
    compliant: np.ndarray
    months_since_visit: np.ndarray
    visits: np.ndarray
    months_above: np.ndarray
    rapport: np.ndarray
    entered_step: np.ndarray
    admin_due: np.ndarray
    pay_held: np.ndarray
    months_held: np.ndarray
    arrears: np.ndarray

    def __init__(self, capacity: int) -> None:
        super().__init__(FAMILY_COLUMNS, capacity)


class PostState(Columns):
    """Columns of facilitator posts and the facilitators who hold them (see POST_COLUMNS)."""

    open: np.ndarray
    filled: np.ndarray
    district: np.ndarray
    refill_step: np.ndarray
    burnout: np.ndarray
    s_tech: np.ndarray
    s_psy: np.ndarray
    motivation: np.ndarray
    tenure_months: np.ndarray
    months_since_training: np.ndarray
    trained_since_start: np.ndarray
    local: np.ndarray
    contract_month: np.ndarray
    incentive_rp: np.ndarray
    caseload: np.ndarray
    hours_avail: np.ndarray
    hours_admin: np.ndarray
    hours_groups: np.ndarray
    hours_visits: np.ndarray
    load_ratio: np.ndarray
    visits_done: np.ndarray
    min_per_visit: np.ndarray
    min_per_visit_std: np.ndarray
    group_coverage: np.ndarray
    quality: np.ndarray
    hours_spare: np.ndarray
    admin_backlog_h: np.ndarray
    verification_late: np.ndarray

    def __init__(self, capacity: int) -> None:
        super().__init__(POST_COLUMNS, capacity)
