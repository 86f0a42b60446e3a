"""Calibration target files (calibration/targets/*.toml): strict loading and validation.

A target file says what to simulate and what to compare it with::

    name = "official"
    description = "..."

    [setup]                       # every simulation of the calibration
    profile = "official"
    start = "2017-03"
    months = 72
    scale = 1.0
    [setup.parameters]            # optional fixed overrides (any parameter of sim.params)

    [discrepancy.poverty_rate_pct]   # model-discrepancy s.d. per statistic, stated not hidden
    sd = 0.3
    reason = "..."

    [[target]]
    name = "poverty_rate_2018"
    statistic = "poverty_rate_pct"   # calibration.statistics.STATISTICS
    at = "2018-03"                   # the date (YYYY-MM) of the state, or the end of a flow window
    window = 12                      # months (flows and means; optional, default 12)
    value = 4.37
    obs_sd = 0.35                    # observation error (s.d., same unit as value)
    weight = 1.0
    year = 2018
    source = "BPS ..."               # the original source
    holdout = false                  # true: simulated and reported, never fitted
    kind = "value"                   # or "at_least": only a shortfall below value counts

Every error names the file, the key path and the line; unknown keys get a did-you-mean;
types are strict (like scenario files). A target's residual is standardised by
sqrt(obs_sd^2 + discrepancy_sd^2) and multiplied by sqrt(weight) (calibration.fit).
"""

from __future__ import annotations

import hashlib
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from calibration.statistics import STATISTICS, Setup, Wanted
from sim import params
from sim.districts import PROFILE_NAMES

TARGET_DIR = Path(__file__).resolve().parent / "targets"


class TargetError(ValueError):
    """A target file is missing, malformed or invalid; the message says where and why (exit 2)."""


@dataclass(frozen=True)
class Target:
    """One observed figure and how to compare the model with it."""

    name: str
    statistic: str
    at: str
    value: float
    obs_sd: float
    weight: float
    year: int
    source: str
    window: int = 12
    holdout: bool = False
    kind: str = "value"


@dataclass
class TargetSet:
    """A resolved target file."""

    name: str
    path: Path
    description: str
    setup: Setup
    targets: list[Target]
    discrepancy: dict[str, tuple[float, str]] = field(default_factory=dict)
    sha256: str = ""

    @property
    def fitted(self) -> list[Target]:
        """Targets used in the fit (not held out)."""
        return [t for t in self.targets if not t.holdout]

    def sigma(self, t: Target) -> float:
        """Total s.d. of a target's residual: observation error and model discrepancy."""
        d = self.discrepancy.get(t.statistic, (0.0, ""))[0]
        return math.sqrt(t.obs_sd**2 + d**2)

    def wanted(self) -> tuple[Wanted, ...]:
        """Every statistic the simulator must return (fitted and held out)."""
        return tuple(Wanted(t.name, t.statistic, t.at, t.window) for t in self.targets)

    def observed(self) -> dict[str, float]:
        """{target name: observed value} of every target."""
        return {t.name: t.value for t in self.targets}


_TOP = {"name": "str", "description": "str", "setup": "table", "discrepancy": "table", "target": "array"}
_SETUP = {"profile": "str", "start": "str", "months": "int", "scale": "float", "parameters": "table"}
_TARGET = {"name": "str", "statistic": "str", "at": "str", "window": "int", "value": "float", "obs_sd": "float",
           "weight": "float", "year": "int", "source": "str", "holdout": "bool", "kind": "str"}
_REQUIRED_TARGET = ("name", "statistic", "at", "value", "obs_sd", "weight", "year", "source")
_DISC = {"sd": "float", "reason": "str"}
_WANT = {"str": "a string", "int": "an integer", "float": "a finite number", "table": "a table",
         "bool": "true or false", "array": "an array of tables [[target]]"}


def _ok(value: Any, kind: str) -> bool:
    if kind == "str":
        return isinstance(value, str) and value.strip() != ""
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "table":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list) and all(isinstance(x, dict) for x in value)
    return False


class _Doc:
    """The text of a target file, to find the line of a key path for error messages."""

    def __init__(self, path: Path, text: str) -> None:
        self.path, self.lines = path, text.splitlines()

    def _header(self, header: str, nth: int = 0) -> int | None:
        pat = re.compile(r"^\s*" + re.escape(header) + r"\s*(#.*)?$")
        hits = [i for i, ln in enumerate(self.lines) if pat.match(ln)]
        return hits[nth] if nth < len(hits) else None

    def line(self, keypath: str) -> int | None:
        """Best-effort 1-based line of ``keypath`` (e.g. target[2].value, setup.months)."""
        m = re.fullmatch(r"target\[(\d+)\](?:\.(\w+))?", keypath)
        if m:
            start = self._header("[[target]]", int(m.group(1)))
            key = m.group(2)
        else:
            parts = keypath.split(".")
            start, key = None, parts[-1]
            for cut in range(len(parts) - 1, 0, -1):
                start = self._header("[" + ".".join(parts[:cut]) + "]")
                if start is not None:
                    key = parts[cut]
                    break
        if key is None:
            return None if start is None else start + 1
        kpat = re.compile(r"^\s*\"?" + re.escape(key) + r"\"?\s*=")
        for i in range((start + 1) if start is not None else 0, len(self.lines)):
            if start is not None and i > start and self.lines[i].lstrip().startswith("["):
                break
            if start is None and self.lines[i].lstrip().startswith("["):
                break
            if kpat.match(self.lines[i]):
                return i + 1
        return None if start is None else start + 1

    def error(self, keypath: str, msg: str) -> TargetError:
        ln = self.line(keypath)
        return TargetError(f"{self.path}" + (f" line {ln}" if ln else "") + f", key '{keypath}': {msg}")


def _check_keys(doc: _Doc, table: dict[str, Any], schema: dict[str, str], prefix: str) -> None:
    for key, value in table.items():
        kind = schema.get(key)
        if kind is None:
            raise doc.error(prefix + key, params.unknown_name_message(key, schema, "key"))
        if not _ok(value, kind):
            raise doc.error(prefix + key, f"expected {_WANT[kind]}, got {value!r}")


def resolve(ref: str | Path) -> Path:
    """A target file: a path, or a name in calibration/targets/."""
    p = Path(ref)
    if p.suffix == ".toml" or p.exists():
        return p
    return TARGET_DIR / f"{ref}.toml"


def load(ref: str | Path) -> TargetSet:
    """Load and validate a target file (by path or by name in calibration/targets/)."""
    path = resolve(ref)
    try:
        raw_bytes = path.read_bytes()
        text = raw_bytes.decode("utf-8")
    except FileNotFoundError:
        names = ", ".join(sorted(p.stem for p in TARGET_DIR.glob("*.toml")))
        raise TargetError(f"{path}: target file not found (target sets in calibration/targets/: {names})") from None
    except (OSError, UnicodeDecodeError) as e:
        raise TargetError(f"{path}: cannot read target file ({e})") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise TargetError(f"{path}: not valid TOML: {e}") from None
    doc = _Doc(path, text)
    _check_keys(doc, raw, _TOP, "")
    for key in ("name", "setup", "target"):
        if key not in raw:
            raise doc.error(key, "missing (required)")
    setup_raw = raw["setup"]
    _check_keys(doc, setup_raw, _SETUP, "setup.")
    for key in ("profile", "start", "months"):
        if key not in setup_raw:
            raise doc.error(f"setup.{key}", "missing (required)")
    if setup_raw["profile"] not in PROFILE_NAMES:
        raise doc.error("setup.profile", f"expected one of {', '.join(PROFILE_NAMES)}, got {setup_raw['profile']!r}")
    if not re.fullmatch(r"(19|20|21)\d\d-(0[1-9]|1[0-2])", setup_raw["start"]):
        raise doc.error("setup.start", f"expected 'YYYY-MM', got {setup_raw['start']!r}")
    if not 1 <= setup_raw["months"] <= 600:
        raise doc.error("setup.months", f"expected 1..600, got {setup_raw['months']}")
    scale = float(setup_raw.get("scale", 1.0))
    if not 0 < scale <= 2:
        raise doc.error("setup.scale", f"expected a number in (0, 2], got {scale}")
    fixed = setup_raw.get("parameters", {})
    for name, value in fixed.items():
        try:
            params.validate({name: value})
        except params.ParameterError as e:
            raise doc.error(f"setup.parameters.{name}", str(e)) from None
    setup = Setup(setup_raw["profile"], setup_raw["start"], setup_raw["months"], scale, tuple(sorted(fixed.items())))
    last = setup.date_of(setup.months)

    disc: dict[str, tuple[float, str]] = {}
    for stat, entry in raw.get("discrepancy", {}).items():
        if stat not in STATISTICS:
            raise doc.error(f"discrepancy.{stat}", params.unknown_name_message(stat, STATISTICS, "statistic"))
        if not isinstance(entry, dict):
            raise doc.error(f"discrepancy.{stat}", f"expected a table with sd and reason, got {entry!r}")
        _check_keys(doc, entry, _DISC, f"discrepancy.{stat}.")
        for key in _DISC:
            if key not in entry:
                raise doc.error(f"discrepancy.{stat}.{key}", "missing (required)")
        if entry["sd"] < 0:
            raise doc.error(f"discrepancy.{stat}.sd", f"expected a number >= 0, got {entry['sd']}")
        disc[stat] = (float(entry["sd"]), entry["reason"])

    targets: list[Target] = []
    seen: set[str] = set()
    if not raw["target"]:
        raise doc.error("target", "expected at least one [[target]]")
    for k, t in enumerate(raw["target"]):
        pre = f"target[{k}]"
        _check_keys(doc, t, _TARGET, pre + ".")
        for key in _REQUIRED_TARGET:
            if key not in t:
                raise doc.error(f"{pre}.{key}", "missing (required)")
        if t["name"] in seen or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", t["name"]):
            raise doc.error(f"{pre}.name", f"expected a unique identifier (letters, digits, _), got {t['name']!r}")
        seen.add(t["name"])
        if t["statistic"] not in STATISTICS:
            raise doc.error(f"{pre}.statistic", params.unknown_name_message(t["statistic"], STATISTICS, "statistic"))
        if not re.fullmatch(r"(19|20|21)\d\d-(0[1-9]|1[0-2])", t["at"]):
            raise doc.error(f"{pre}.at", f"expected 'YYYY-MM', got {t['at']!r}")
        if not setup.start < t["at"] <= last:
            raise doc.error(f"{pre}.at", f"expected a month after setup.start ({setup.start}) up to {last} "
                                         f"(start + months), got {t['at']!r}")
        window = t.get("window", 12)
        if not 1 <= window <= 120:
            raise doc.error(f"{pre}.window", f"expected 1..120 months, got {window}")
        if t["obs_sd"] <= 0:
            raise doc.error(f"{pre}.obs_sd", f"expected an observation error > 0, got {t['obs_sd']}")
        if t["weight"] < 0:
            raise doc.error(f"{pre}.weight", f"expected a weight >= 0, got {t['weight']}")
        if not 1900 <= t["year"] <= 2100:
            raise doc.error(f"{pre}.year", f"expected a year, got {t['year']}")
        kind = t.get("kind", "value")
        if kind not in ("value", "at_least"):
            raise doc.error(f"{pre}.kind", f"expected 'value' or 'at_least', got {kind!r}")
        targets.append(Target(t["name"], t["statistic"], t["at"], float(t["value"]), float(t["obs_sd"]),
                              float(t["weight"]), t["year"], t["source"], window, bool(t.get("holdout", False)), kind))
    if not any(not t.holdout and t.weight > 0 for t in targets):
        raise doc.error("target", "expected at least one target that is fitted (holdout = false, weight > 0)")
    return TargetSet(raw["name"], path, raw.get("description", ""), setup, targets, disc,
                     hashlib.sha256(raw_bytes).hexdigest())
