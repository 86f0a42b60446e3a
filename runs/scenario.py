"""Scenario files (scenarios/*.toml): strict loading, inheritance and validation.

A scenario names a data profile, a run length and parameter overrides, and switches
policy levers on::

    name = "cap-150"
    extends = "baseline"                 # optional: inherit another scenario (by name or path)
    description = "Hire up to 1:150 ..."
    description_id = "Rekrut hingga 1:150 ..."
    profile = "paper-2023"
    months = 36
    start = "2021-01"

    [parameters]                          # any parameter of sim.params
    incentive_rp_month = 3150000

    [policies.caseload_cap]               # a lever of sim.policies, with its settings
    cap = 150

Every error names the file, the key path and, where it can be found, the line; unknown
keys get a did-you-mean suggestion; types are strict (no "5" for 5, no nan or inf).
"""

from __future__ import annotations

import functools
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim import params
from sim.districts import PROFILE_NAMES

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"

TOP_KEYS: dict[str, str] = {
    "name": "str",
    "extends": "str",
    "description": "str",
    "description_id": "str",
    "profile": "str",
    "months": "int",
    "start": "str",
    "scale": "float",
    "parameters": "table",
    "policies": "table",
    "sources": "table",
    "posterior": "str",
}


class ScenarioError(ValueError):
    """A scenario file is missing, malformed or invalid; the message says where and why."""


@dataclass
class Scenario:
    """A fully resolved scenario (inheritance applied, everything validated)."""

    name: str
    path: Path | None
    description: str = ""
    description_id: str = ""
    profile: str = "paper-2023"
    months: int = 36
    start: str = "2021-01"
    scale: float = 1.0
    parameters: dict[str, Any] = field(default_factory=dict)   # model parameter overrides only
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)  # {lever: {setting: value}}, as written
    sources: dict[str, str] = field(default_factory=dict)
    chain: list[str] = field(default_factory=list)              # files read, child first
    posterior: str | None = None    # weighted posterior draws (Parquet) of a calibration; see posterior_draw

    def model_kwargs(self, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """Keyword arguments for CaseloadModel (without rng).

        ``overrides`` may hold model parameters and dotted lever settings
        (``caseload_cap.cap``); a setting of a lever that is off here raises PolicyError.
        """
        from sim.policies import build_policies, with_overrides

        model_over, _ = params.split(overrides or {})
        return {
            "profile": self.profile,
            "scale": self.scale,
            "start": self.start,
            "policies": build_policies(with_overrides(self.policies, overrides or {}, where=self.name)),
            **self.parameters,
            **model_over,
        }

    def as_dict(self) -> dict[str, Any]:
        """Plain data for manifests."""
        return {
            "name": self.name, "path": str(self.path) if self.path else None,
            "description": self.description, "description_id": self.description_id,
            "profile": self.profile, "months": self.months, "start": self.start, "scale": self.scale,
            "parameters": dict(self.parameters), "policies": {k: dict(v) for k, v in self.policies.items()},
            "files": list(self.chain), "posterior": self.posterior,
        }


def _line_of(text: str, key: str, table: str | None = None) -> int | None:
    """Best-effort 1-based line where ``key`` is set (inside ``[table]`` if given)."""
    lines = text.splitlines()
    start = 0
    if table is not None:
        pat = re.compile(r"^\s*\[\s*" + re.escape(table) + r"\s*\]\s*(#.*)?$")
        for i, ln in enumerate(lines):
            if pat.match(ln):
                start = i + 1
                break
        else:
            return None
    key_pat = re.compile(r"^\s*\"?" + re.escape(key) + r"\"?\s*=")
    for i in range(start, len(lines)):
        if table is not None and i > start and lines[i].lstrip().startswith("["):
            break
        if key_pat.match(lines[i]):
            return i + 1
    return None


def _where(path: Path | str, keypath: str, line: int | None) -> str:
    return f"{path}" + (f" line {line}" if line else "") + f", key '{keypath}'"


def _check_type(value: Any, kind: str) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if kind == "table":
        return isinstance(value, dict)
    return False


def _read(path: Path) -> tuple[dict[str, Any], str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: scenario file not found") from None
    except OSError as e:
        raise ScenarioError(f"{path}: cannot read scenario file ({e.strerror})") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(f"{path}: not valid TOML: {e}") from None


def resolve_path(ref: str, relative_to: Path | None = None) -> Path:
    """A scenario reference: a path to a .toml file, or a name in the scenarios/ folder."""
    p = Path(ref)
    if p.suffix == ".toml":
        if not p.is_absolute() and relative_to is not None and not p.exists():
            cand = relative_to.parent / p
            if cand.exists():
                return cand
        return p
    for base in ([relative_to.parent] if relative_to else []) + [SCENARIO_DIR]:
        cand = base / f"{ref}.toml"
        if cand.exists():
            return cand
    return SCENARIO_DIR / f"{ref}.toml"


def _validate_raw(raw: dict[str, Any], text: str, path: Path) -> None:
    for key, value in raw.items():
        kind = TOP_KEYS.get(key)
        if kind is None:
            msg = params.unknown_name_message(key, TOP_KEYS, "key")
            raise ScenarioError(f"{_where(path, key, _line_of(text, key))}: {msg}")
        if not _check_type(value, kind):
            want = {"str": "a string", "int": "an integer", "float": "a finite number", "table": "a table"}[kind]
            raise ScenarioError(f"{_where(path, key, _line_of(text, key))}: expected {want}, got {value!r}")
    for key in ("months", "scale", "start"):  # bounds: sim.params.STRUCTURAL
        if key in raw:
            try:
                params.check_structural(key, raw[key])
            except params.ParameterError as e:
                raise ScenarioError(f"{_where(path, key, _line_of(text, key))}: {e}") from None
    if "profile" in raw and raw["profile"] not in PROFILE_NAMES:
        raise ScenarioError(
            f"{_where(path, 'profile', _line_of(text, 'profile'))}: unknown profile {raw['profile']!r}; "
            f"valid profiles: {', '.join(PROFILE_NAMES)}"
        )
    for name, value in raw.get("parameters", {}).items():
        keypath = f"parameters.{name}"
        line = _line_of(text, name, "parameters")
        spec = params.PARAMS.get(name)
        if spec is not None and spec.lever:
            raise ScenarioError(f"{_where(path, keypath, line)}: '{name}' is a setting of lever '{spec.lever}': "
                                f"set it as {spec.key} under [policies.{spec.lever}]")
        try:
            params.validate({name: value})
        except params.ParameterError as e:
            raise ScenarioError(f"{_where(path, keypath, line)}: {e}") from None
    from sim.policies import REGISTRY, PolicyError, check_settings

    for name, settings in raw.get("policies", {}).items():
        keypath = f"policies.{name}"
        line = _line_of(text, name, "policies") or _line_of(text, "", f"policies.{name}")
        if name not in REGISTRY:
            msg = params.unknown_name_message(name, REGISTRY, "policy lever")
            raise ScenarioError(f"{_where(path, keypath, line)}: {msg}")
        if not isinstance(settings, dict):
            raise ScenarioError(f"{_where(path, keypath, line)}: expected a table of settings, got {settings!r}")
        try:
            check_settings(name, settings)
        except PolicyError as e:
            sub = e.key
            sline = _line_of(text, sub, f"policies.{name}") if sub else line
            raise ScenarioError(f"{_where(path, keypath + ('.' + sub if sub else ''), sline)}: {e}") from None
    sources = raw.get("sources", {})
    for k, v in sources.items():
        if not isinstance(v, str):
            raise ScenarioError(f"{_where(path, 'sources.' + k, _line_of(text, k, 'sources'))}: expected a string, got {v!r}")


def load(ref: str | Path, _seen: tuple[Path, ...] = ()) -> Scenario:
    """Load, inherit and validate a scenario by path or by name (scenarios/NAME.toml)."""
    path = resolve_path(str(ref)) if not isinstance(ref, Path) else ref
    real = path.resolve()
    if real in _seen:
        cycle = " -> ".join(str(p) for p in (*_seen, real))
        raise ScenarioError(f"{path}: inheritance cycle: {cycle}")
    raw, text = _read(path)
    _validate_raw(raw, text, path)
    if "extends" in raw:
        parent_path = resolve_path(raw["extends"], relative_to=path)
        if parent_path.exists() and (parent_path.resolve() in _seen or parent_path.resolve() == real):
            cycle = " -> ".join(str(p) for p in (*_seen, real, parent_path.resolve()))
            raise ScenarioError(
                f"{_where(path, 'extends', _line_of(text, 'extends'))}: inheritance cycle: {cycle}"
            )
        if not parent_path.exists():
            raise ScenarioError(
                f"{_where(path, 'extends', _line_of(text, 'extends'))}: parent scenario "
                f"{raw['extends']!r} not found (looked for {parent_path})"
            )
        base = load(parent_path, (*_seen, real))
    else:
        base = Scenario(name=raw.get("name", path.stem), path=path)
    sc = Scenario(
        name=raw.get("name", path.stem),
        path=path,
        description=raw.get("description", base.description if "extends" in raw else ""),
        description_id=raw.get("description_id", base.description_id if "extends" in raw else ""),
        profile=raw.get("profile", base.profile),
        months=raw.get("months", base.months),
        start=raw.get("start", base.start),
        scale=float(raw.get("scale", base.scale)),
        parameters={**base.parameters, **raw.get("parameters", {})},
        policies={**{k: dict(v) for k, v in base.policies.items()}, **raw.get("policies", {})},
        sources={**base.sources, **raw.get("sources", {})},
        chain=[str(path), *base.chain] if "extends" in raw else [str(path)],
        posterior=_posterior_path(raw, text, path) if "posterior" in raw else base.posterior,
    )
    return sc


# ---------------------------------------------------------------------------- posterior draws
# A scenario with ``posterior = "FILE.parquet"`` (written by ``caseload calibrate``; path
# relative to the scenario file) runs replicate i with the parameters of posterior draw i:
# draw i is picked by weight with a generator seeded by (POSTERIOR_KEY, i) only, so
# replicate i gets the same draw in every scenario that extends the same posterior and
# comparisons stay paired. The drawn values take precedence over the scenario's
# [parameters]; sweep overrides take precedence over the draw.

POSTERIOR_KEY = 0xCA11B


def _posterior_path(raw: dict[str, Any], text: str, path: Path) -> str:
    ref = Path(raw["posterior"])
    full = ref if ref.is_absolute() else (path.parent / ref)
    try:
        _posterior_table(str(full.resolve()))
    except ScenarioError as e:
        raise ScenarioError(f"{_where(path, 'posterior', _line_of(text, 'posterior'))}: {e}") from None
    return str(full.resolve())


def _posterior_table(path: str) -> tuple[tuple[str, ...], Any, Any]:
    """(parameter names, values matrix, normalised weights) of a posterior file, checked."""
    try:
        stamp = Path(path).stat().st_mtime_ns
    except OSError:
        stamp = -1
    return _posterior_table_at(path, stamp)


@functools.lru_cache(maxsize=8)
def _posterior_table_at(path: str, stamp: int) -> tuple[tuple[str, ...], Any, Any]:
    """_posterior_table, cached per file version (a re-calibration replaces the file)."""
    import numpy as np
    import pandas as pd

    try:
        df = pd.read_parquet(path)
    except FileNotFoundError:
        raise ScenarioError(f"posterior file not found: {path}") from None
    except Exception as e:
        raise ScenarioError(f"posterior file {path}: not a readable Parquet file ({e})") from None
    names = tuple(c for c in df.columns if c not in ("weight", "generation"))
    if "weight" not in df.columns or df.empty or not names:
        raise ScenarioError(f"posterior file {path}: expected parameter columns and a 'weight' column with rows")
    for n in names:
        if n not in params.PARAMS:
            raise ScenarioError(f"posterior file {path}: column {n!r}: {params.unknown_name_message(n, params.PARAMS)}")
    w = df["weight"].to_numpy(dtype=float)
    if not (np.all(np.isfinite(w)) and np.all(w >= 0) and w.sum() > 0):
        raise ScenarioError(f"posterior file {path}: weights must be finite, >= 0 and not all 0")
    return names, df[list(names)].to_numpy(dtype=float), w / w.sum()


def posterior_draw(path: str, replicate: int) -> dict[str, Any]:
    """The parameters of posterior draw ``replicate`` (same for every scenario: paired)."""
    import numpy as np

    names, values, w = _posterior_table(path)
    k = int(np.random.default_rng(np.random.SeedSequence([POSTERIOR_KEY, int(replicate)])).choice(len(w), p=w))
    out: dict[str, Any] = {}
    for j, n in enumerate(names):
        v = float(values[k, j])
        out[n] = round(v) if params.PARAMS[n].kind == "int" else v
    params.validate(out, where=f"posterior file {path}")
    return out


def from_profile(profile: str) -> Scenario:
    """A scenario that is just a data profile at its defaults."""
    if profile not in PROFILE_NAMES:
        raise ScenarioError(f"unknown profile {profile!r}; valid profiles: {', '.join(PROFILE_NAMES)}")
    return Scenario(name=profile, path=None, profile=profile, description=f"defaults on the {profile} profile")


def load_any(ref: str) -> Scenario:
    """A scenario file, a scenario name in scenarios/, or a data profile name."""
    if ref in PROFILE_NAMES and not resolve_path(ref).exists():
        return from_profile(ref)
    p = resolve_path(ref)
    if not p.exists():
        names = sorted(x.stem for x in SCENARIO_DIR.glob("*.toml"))
        raise ScenarioError(
            f"{ref}: no such scenario file or profile. Scenarios: {', '.join(names)}; "
            f"profiles: {', '.join(PROFILE_NAMES)}"
        )
    return load(p)

