"""Policy levers: one module per lever, a registry, each acting at a declared slot of the month.

A lever is off unless a scenario names it under ``[policies.NAME]``. Its settings are
parameters of sim.params registered as ``NAME.setting`` (``caseload_cap.cap``): the same
type, bounds, unit, source and check rule as the model parameters, listed by
``caseload params``. A lever acts at a slot: before or after a named phase of
sim.processes.PHASES (never inside ``record``). It changes the model only through the lever
surface (sim.surface.LeverSurface), the model's operations (open posts, move a
facilitator), or state of its own; it never writes ``model.p``. It draws random numbers
(if any) only from its own stream ``policy:NAME``, so switching it on never shifts the
draws of another process (common random numbers).
"""

from sim.policies import levers as _levers  # noqa: F401  (imports every lever module: they register)
from sim.policies.base import (
    REGISTRY,
    WHEN,
    Lever,
    PolicyError,
    build_policies,
    check_settings,
    register,
    with_overrides,
)

__all__ = ["REGISTRY", "WHEN", "Lever", "PolicyError", "build_policies", "check_settings", "register", "with_overrides"]
