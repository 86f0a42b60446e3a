"""Policy levers: one module per lever, a registry, each acting at a named phase of the month.

A lever is off unless a scenario names it under ``[policies.NAME]``. Each lever declares
its settings (type, default, bounds, unit, source) like sim.params does, draws random
numbers (if any) only from its own stream ``policy:NAME``, so switching it on never shifts
the draws of another process (common random numbers).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from sim.params import unknown_name_message

if TYPE_CHECKING:
    from sim.model import CaseloadModel


class PolicyError(ValueError):
    """A bad policy setting; ``key`` is the setting's name (or '' for the lever)."""

    def __init__(self, message: str, key: str = "") -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class Setting:
    """One setting of a lever."""

    default: Any
    low: float | None = None
    high: float | None = None
    unit: str = ""
    label: str = ""
    source: str = ""
    kind: str = "float"  # float | int | bool | str | list[str]
    choices: tuple[str, ...] = ()

    def check(self, name: str, value: Any) -> Any:
        """Return the checked value or raise PolicyError."""
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise PolicyError(f"expected true or false, got {value!r}", name)
            return value
        if self.kind == "str":
            if not isinstance(value, str) or (self.choices and value not in self.choices):
                raise PolicyError(f"expected one of {list(self.choices)}, got {value!r}", name)
            return value
        if self.kind == "list[str]":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise PolicyError(f"expected a list of names, got {value!r}", name)
            bad = [v for v in value if self.choices and v not in self.choices]
            if bad:
                raise PolicyError(unknown_name_message(bad[0], self.choices, "district"), name)
            return list(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise PolicyError(f"expected a number ({self.unit}) in [{self.low}, {self.high}], got {value!r}", name)
        if self.kind == "int" and isinstance(value, float):
            raise PolicyError(f"expected an integer, got {value!r}", name)
        if not math.isfinite(value):
            raise PolicyError(f"expected a finite number, got {value!r}", name)
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            raise PolicyError(f"{value!r} is out of range: valid range is [{self.low}, {self.high}] {self.unit}", name)
        return value


class Lever:
    """Base class of a policy lever. Subclasses set ``name``, ``phase``, ``settings``."""

    name: ClassVar[str] = ""
    phase: ClassVar[str] = "staffing"
    title: ClassVar[str] = ""
    settings: ClassVar[dict[str, Setting]] = {}

    def __init__(self, **values: Any) -> None:
        checked = check_settings(self.name, values)
        for k, v in checked.items():
            setattr(self, k, v)
        self.values = checked

    def setup(self, model: CaseloadModel) -> None:
        """Called once after the initial state is built."""

    def apply(self, model: CaseloadModel) -> None:
        """Called every month just before ``phase``."""

    def rng(self, model: CaseloadModel) -> Any:
        """Return this lever's own random stream."""
        return model.streams[f"policy:{self.name}"]


REGISTRY: dict[str, type[Lever]] = {}


def register(cls: type[Lever]) -> type[Lever]:
    """Class decorator adding a lever to the registry."""
    REGISTRY[cls.name] = cls
    return cls


def check_settings(name: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``values`` for lever ``name``; return them with defaults filled in."""
    cls = REGISTRY.get(name)
    if cls is None:
        raise PolicyError(unknown_name_message(name, REGISTRY, "policy"))
    out = {k: s.default for k, s in cls.settings.items()}
    for k, v in values.items():
        spec = cls.settings.get(k)
        if spec is None:
            raise PolicyError(unknown_name_message(k, cls.settings, f"setting of policy '{name}'"), k)
        out[k] = spec.check(k, v)
    return out


def build_policies(spec: Mapping[str, Mapping[str, Any]]) -> list[Lever]:
    """Lever objects for a scenario's ``[policies]`` table, in registry order."""
    return [REGISTRY[name](**spec[name]) for name in REGISTRY if name in spec]


from sim.policies import levers as _levers  # noqa: E402,F401  (registers the levers)
