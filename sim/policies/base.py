"""The lever base class, the registry and settings checks (sim.policies re-exports them).

Kept apart from sim/policies/__init__.py so that the lever modules import it without
importing the package that imports them (no import cycle).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from sim import params
from sim.params import Param, ParameterError, unknown_name_message

if TYPE_CHECKING:
    from sim.model import CaseloadModel

WHEN = ("before", "after")


class PolicyError(ParameterError):
    """A bad lever name or setting; ``key`` is the setting's name within its lever ('' for the lever)."""


class Lever:
    """Base class of a policy lever. Subclasses set ``name``, ``title``, ``phase`` and ``when``.

    Its settings are ``sim.params.lever_settings(name)``; the checked values become
    attributes of the lever object and ``values``.
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    phase: ClassVar[str] = "staffing"
    when: ClassVar[str] = "before"
    settings: ClassVar[dict[str, Param]] = {}

    def __init__(self, **values: Any) -> None:
        checked = check_settings(self.name, values)
        for k, v in checked.items():
            setattr(self, k, v)
        self.values = checked

    def setup(self, model: CaseloadModel) -> None:
        """Called once after the initial state and its warm-up are built, before the step-0 record."""

    def apply(self, model: CaseloadModel) -> None:
        """Called every month at the lever's slot (``when`` ``phase``)."""

    def rng(self, model: CaseloadModel) -> Any:
        """Return this lever's own random stream."""
        return model.streams[f"policy:{self.name}"]


REGISTRY: dict[str, type[Lever]] = {}


def register(cls: type[Lever]) -> type[Lever]:
    """Class decorator adding a lever to the registry, with its settings from sim.params."""
    cls.settings = params.lever_settings(cls.name)
    if cls.when not in WHEN:
        raise ValueError(f"lever '{cls.name}': when must be one of {WHEN}, got {cls.when!r}")
    REGISTRY[cls.name] = cls
    return cls


def check_settings(name: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``values`` for lever ``name``; return them with defaults filled in."""
    cls = REGISTRY.get(name)
    if cls is None:
        raise PolicyError(unknown_name_message(name, REGISTRY, "policy lever"))
    out = {k: list(s.default) if s.kind == "list[str]" else s.default for k, s in cls.settings.items()}
    for k, v in values.items():
        spec = cls.settings.get(k)
        if spec is None:
            raise PolicyError(unknown_name_message(k, cls.settings, "setting", full_list=True, of=f"of lever '{name}'"), k)
        try:
            out[k] = spec.check(v)
        except ParameterError as e:
            raise PolicyError(str(e), k) from None
    return out


def with_overrides(policies: Mapping[str, Mapping[str, Any]], overrides: Mapping[str, Any],
                   where: str = "") -> dict[str, dict[str, Any]]:
    """``policies`` ({lever: {setting: value}}) with dotted lever settings of ``overrides`` applied.

    Only lever settings of ``overrides`` are used (model parameters are skipped). A setting
    of a lever that is not switched on in ``policies`` is an error: an override changes a
    lever, it does not switch one on.
    """
    out = {k: dict(v) for k, v in policies.items()}
    at = f"{where}: " if where else ""
    for lever, settings in params.split(overrides)[1].items():
        if lever not in out:
            on = ", ".join(out) or "none"
            keys = ", ".join(f"'{lever}.{k}'" for k in settings)
            raise PolicyError(f"{at}{keys} sets lever '{lever}', which is off in this scenario "
                              f"(levers on: {on}); switch it on under [policies.{lever}]", next(iter(settings)))
        out[lever].update(settings)
    return out


def build_policies(spec: Mapping[str, Mapping[str, Any]]) -> list[Lever]:
    """Lever objects for a scenario's ``[policies]`` table, in registry order."""
    for name in spec:
        if name not in REGISTRY:
            raise PolicyError(unknown_name_message(name, REGISTRY, "policy lever"))
    return [REGISTRY[name](**spec[name]) for name in REGISTRY if name in spec]
