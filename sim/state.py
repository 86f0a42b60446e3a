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

from typing import Annotated, Any, ClassVar, get_args, get_origin, get_type_hints

import numpy as np

# Column types: the annotation of a state class is the one declaration of a column.
# ``Annotated[np.ndarray, dtype]``: type checkers see an ndarray, Columns reads the dtype.
Bool = Annotated[np.ndarray, np.bool_]
Idx = Annotated[np.ndarray, np.intp]        # used as an index and in bincount without a cast
I8 = Annotated[np.ndarray, np.int8]
I16 = Annotated[np.ndarray, np.int16]
I32 = Annotated[np.ndarray, np.int32]
I64 = Annotated[np.ndarray, np.int64]
F32 = Annotated[np.ndarray, np.float32]
F64 = Annotated[np.ndarray, np.float64]

#: value of an unused row where zero would mean something (post 0, step 0)
EMPTY: dict[str, int] = {"fac": -1, "refill_step": -1}


class Columns:
    """A set of equally long numpy columns with a capacity that can grow.

    A subclass declares its columns as annotations ``name: Bool`` (etc.), nothing else.
    Unused rows hold zeros, except the columns of EMPTY (a family's post is -1 = none).
    """

    SPEC: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        hints = get_type_hints(cls, include_extras=True)
        cls.SPEC = {name: get_args(t)[1] for name, t in hints.items() if get_origin(t) is Annotated}

    def __init__(self, capacity: int) -> None:
        self.capacity = int(capacity)
        for name, dtype in self.SPEC.items():
            setattr(self, name, np.full(self.capacity, EMPTY.get(name, 0), dtype=dtype))

    def grow(self, min_capacity: int) -> None:
        """Enlarge every column to at least ``min_capacity`` rows (new rows empty)."""
        if min_capacity <= self.capacity:
            return
        new_cap = max(min_capacity, 2 * self.capacity)
        for name, dtype in self.SPEC.items():
            old = getattr(self, name)
            new = np.full(new_cap, EMPTY.get(name, 0), dtype=dtype)
            new[: self.capacity] = old
            setattr(self, name, new)
        self.capacity = new_cap

    def columns(self) -> list[str]:
        """Column names."""
        return list(self.SPEC)


class FamilyState(Columns):
    """Columns of the KPM families."""

    active: Bool
    district: Idx
    fac: Idx                      # post index of the assigned facilitator, -1 if none
    pkh: Bool
    sembako: Bool
    log_perm: F32                 # permanent log consumption / poverty line (market part)
    shock: F32                    # transitory log consumption, AR(1)
    welfare: F32                  # consumption incl. transfers / poverty line
    poor: Bool                    # welfare < 1: poor after transfers
    poor_pre: Bool                # exp(log_perm + shock) < 1: poor before transfers (sim.population)
    k_edu: F32                    # behaviour scores in [0, 1]
    k_health: F32
    k_fin: F32
    compliant: Bool               # met PKH conditions at the last quarterly verification
    months_since_visit: I32
    visits: I8                    # home visits received this month
    months_above: I16             # consecutive months above the graduation threshold
    rapport: F32                  # relationship with the current facilitator, reset on reassignment
    entered_step: I32
    agent_id: I64                 # the family's Mesa unique_id, given when she enrols (sim.population)
    handle_due: Bool              # enrolled, her Mesa handle not made yet (made when first looked at)
    # admin backlog and payments (sim/processes/timebudget.py)
    admin_due: F32                # months of this family's data entry outstanding, 0 to backlog_max_months
    pay_held: Bool                # PKH payment withheld: verification data late at the last verification
    months_held: I8               # withheld PKH months owed (paid late when the data is in)
    arrears: F32                  # withheld PKH paid this month, per person / poverty line


class PostState(Columns):
    """Columns of facilitator posts and the facilitators who hold them."""

    open: Bool                    # the post exists (funded)
    filled: Bool                  # a facilitator holds it
    district: Idx
    refill_step: I32              # step at which a vacant post is filled, -1 if filled or not open
    burnout: F64                  # state of the facilitator holding the post
    s_tech: F64
    s_psy: F64
    motivation: F64
    tenure_months: I32
    months_since_training: I32
    trained_since_start: Bool
    local: Bool
    contract_month: I8            # calendar month (1-12) of the yearly contract review
    incentive_rp: F64             # monthly pay of this post (regional differentials change it)
    susceptibility: F64           # the holder's burnout susceptibility (multiplier, mean 1)
    overload_threshold: F64       # the holder's load ratio where overload starts
    recovery_mult: F64            # the holder's recovery time multiplier (mean 1)
    # per-month scratch, written by the time budget and visits phases
    caseload: F64                 # families carried, at regency scale (simulated x family_weight)
    hours_avail: F64
    hours_admin: F64
    hours_groups: F64
    hours_visits: F64
    load_ratio: F64
    visits_done: F64
    min_per_visit: F64            # minutes actually spent per visit (less when rushing)
    min_per_visit_std: F64        # standard minutes per visit: visit_h + travel
    group_coverage: F64           # share of the P2K2 sessions needed that were held
    quality: F64                  # quality of this facilitator's contacts this month, 0-1
    hours_spare: F64              # hours left after every target is met and spare visits are made
    admin_backlog_h: F64          # admin hours outstanding for this post's families after the month
    verification_late: F64        # share of this post's payment verification entries not made this month
