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

Reading is guarded (a scenario is a few KB of text): only regular files are read (not a
pipe or a device), at most ``MAX_BYTES``; the text must be UTF-8 (an error names the line
of the first bad byte); tables and arrays nest at most ``MAX_DEPTH`` deep; an ``extends``
chain is at most ``MAX_EXTENDS`` files long; an empty file (usually a truncated save) is
refused. ``extends`` resolves only inside the folder of the scenario named on the command
line, the shipped scenarios/ folder and folders named with ``--scenario-dir``
(``search_dirs``); a parent anywhere else (``../../../tmp/x``, a symbolic link out of those
folders) is refused before it is read.
"""

from __future__ import annotations

import functools
import math
import os
import re
import stat
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim import params
from sim.districts import PROFILE_NAMES

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
POSTERIOR_DIR = SCENARIO_DIR.parent / "calibration" / "posteriors"  # published posteriors (caseload calibrate --scenario)
MAX_BYTES = 1 << 20      # a scenario is a few KB; 1 MB is generous and keeps manifests small
MAX_DEPTH = 8            # top level > policies > lever > setting (> a list or inline table) is 5
MAX_EXTENDS = 16         # files in one inheritance chain

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
        pat = re.compile(r"^\s*\[\s*" + r"\s*\.\s*".join(re.escape(x) for x in table.split(".")) + r"\s*\]\s*(#.*)?$")
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


def _header_line(text: str, table: str) -> int | None:
    """1-based line of the ``[table]`` header (dotted parts may be spaced or quoted)."""
    parts = [re.escape(x) for x in table.split(".")]
    pat = re.compile(r"^\s*\[\s*" + r"\s*\.\s*".join(rf'"?{x}"?' for x in parts) + r"\s*\]")
    for i, ln in enumerate(text.splitlines()):
        if pat.match(ln):
            return i + 1
    return None


def _depth(obj: Any) -> int:
    """Nesting depth of tables and arrays (iterative: no recursion limit to hit)."""
    best = 0
    stack: list[tuple[Any, int]] = [(obj, 0)]
    while stack:
        o, d = stack.pop()
        if isinstance(o, dict):
            vals: Any = o.values()
        elif isinstance(o, list):
            vals = o
        else:
            continue
        best = max(best, d + 1)
        if best > MAX_DEPTH:
            return best
        stack.extend((v, d + 1) for v in vals)
    return best


def read_text(path: Path, what: str = "scenario file", limit: int = MAX_BYTES) -> str:
    """The UTF-8 text of a regular file of at most ``limit`` bytes; ScenarioError (naming the file) otherwise."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ScenarioError(f"{path}: {what} not found") from None
    except OSError as e:
        raise ScenarioError(f"{path}: cannot read {what} ({e.strerror or e})") from None
    if stat.S_ISDIR(st.st_mode):
        raise ScenarioError(f"{path}: is a folder, not a {what}")
    if not stat.S_ISREG(st.st_mode):
        raise ScenarioError(f"{path}: not a regular file (a device, pipe or socket); a {what} must be a regular file")
    if st.st_size > limit:
        raise ScenarioError(f"{path}: {st.st_size:,} bytes; a {what} is at most {limit:,} bytes")
    try:
        # O_NONBLOCK: if the path was swapped for a pipe after the check, opening it must not wait for a writer
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise ScenarioError(f"{path}: not a regular file; a {what} must be a regular file")
            data = f.read(limit + 1)
    except OSError as e:
        raise ScenarioError(f"{path}: cannot read {what} ({e.strerror or e})") from None
    if len(data) > limit:
        raise ScenarioError(f"{path}: more than {limit:,} bytes; a {what} is at most {limit:,} bytes")
    if data.startswith(b"\xef\xbb\xbf"):  # a byte-order mark from some Windows editors
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ScenarioError(f"{path} line {line}: not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start}); "
                            f"save the {what} as UTF-8") from None


def _read(path: Path) -> tuple[dict[str, Any], str]:
    text = read_text(path)
    if "\0" in text:
        raise ScenarioError(f"{path} line {text[: text.index(chr(0))].count(chr(10)) + 1}: a NUL character; "
                            "not a text scenario file")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(f"{path}: not valid TOML: {e}") from None
    except RecursionError:
        raise ScenarioError(f"{path}: arrays or inline tables nested too deeply (at most {MAX_DEPTH} levels)") from None
    if _depth(raw) > MAX_DEPTH:
        raise ScenarioError(f"{path}: tables or arrays nested more than {MAX_DEPTH} levels deep")
    if not raw:
        raise ScenarioError(f"{path}: empty scenario (no keys); a truncated save? A scenario sets at least "
                            "'name' and 'profile' or 'extends'")
    return raw, text


def _search_roots(top: Path, search_dirs: Sequence[Path | str] = ()) -> list[Path]:
    """Folders an ``extends`` may resolve into: the top scenario's folder, scenarios/, and ``search_dirs``."""
    roots = [top.resolve().parent, SCENARIO_DIR.resolve()]
    roots += [Path(d).resolve() for d in search_dirs]
    return roots


def _resolve_parent(ref: str, child: Path, roots: list[Path]) -> Path | None:
    """The file an ``extends = ref`` in ``child`` names, searched in the child's folder then the roots; None if absent.

    Raises ScenarioError when it would resolve outside the roots.
    """
    if not ref.strip() or "\0" in ref:
        raise ScenarioError(f"extends {ref!r}: expected the name or path of a scenario file")
    p = Path(ref)
    cands: list[Path] = []
    name = p if p.suffix == ".toml" else p.with_name(p.name + ".toml")
    if p.is_absolute():
        cands.append(name)
    else:
        for base in (child.parent, *roots):
            cands.append(base / name)
    # decided before looking at the file: whether a path outside exists is not revealed either
    inside = [c for c in cands if any(c.resolve().is_relative_to(r) for r in roots)]
    if not inside:
        return _outside(ref)
    for c in inside:
        if c.exists():
            return c
    if any(c.exists() for c in cands):  # e.g. a symbolic link in the folder pointing out of it
        return _outside(ref)
    return None


def _outside(ref: str) -> Path:
    raise ScenarioError(f"extends {ref!r}: outside the folders a scenario may inherit from (the scenario's own "
                        "folder, the shipped scenarios/ folder, and folders given with --scenario-dir)")


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
        line = _line_of(text, name, "policies") or _header_line(text, f"policies.{name}")
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


def load(ref: str | Path, _seen: tuple[Path, ...] = (), search_dirs: Sequence[Path | str] = (),
         _roots: list[Path] | None = None) -> Scenario:
    """Load, inherit and validate a scenario by path or by name (scenarios/NAME.toml).

    ``search_dirs``: more folders an ``extends`` may resolve into (besides the scenario's
    own folder and scenarios/).
    """
    path = resolve_path(str(ref)) if not isinstance(ref, Path) else ref
    real = path.resolve()
    roots = _roots if _roots is not None else _search_roots(path, search_dirs)
    if real in _seen:
        cycle = " -> ".join(str(p) for p in (*_seen, real))
        raise ScenarioError(f"{path}: inheritance cycle: {cycle}")
    if len(_seen) >= MAX_EXTENDS:
        raise ScenarioError(f"{path}: 'extends' chain longer than {MAX_EXTENDS} files (started at {_seen[0]})")
    raw, text = _read(path)
    _validate_raw(raw, text, path)
    if "extends" in raw:
        try:
            found = _resolve_parent(raw["extends"], path, roots)
        except ScenarioError as e:
            raise ScenarioError(f"{_where(path, 'extends', _line_of(text, 'extends'))}: {e}") from None
        parent_path = found if found is not None else resolve_path(raw["extends"], relative_to=path)
        if parent_path.exists() and (parent_path.resolve() in _seen or parent_path.resolve() == real):
            cycle = " -> ".join(str(p) for p in (*_seen, real, parent_path.resolve()))
            raise ScenarioError(
                f"{_where(path, 'extends', _line_of(text, 'extends'))}: inheritance cycle: {cycle}"
            )
        if found is None:
            raise ScenarioError(
                f"{_where(path, 'extends', _line_of(text, 'extends'))}: parent scenario "
                f"{raw['extends']!r} not found (looked in {path.parent}, {SCENARIO_DIR}"
                f"{' and --scenario-dir folders' if len(roots) > 2 else ''})"
            )
        try:
            base = load(parent_path, (*_seen, real), _roots=roots)
        except ScenarioError as e:
            if _seen:
                raise
            raise ScenarioError(f"{e} (inherited by {path} through 'extends')") from None
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
        posterior=_posterior_path(raw, text, path, roots) if "posterior" in raw else base.posterior,
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


def _posterior_path(raw: dict[str, Any], text: str, path: Path, roots: list[Path]) -> str:
    """The posterior file a scenario names, sandboxed like ``extends`` and checked."""
    ref = Path(raw["posterior"])
    full = ref if ref.is_absolute() else (path.parent / ref)
    # the same folders as ``extends`` (the scenario's own, scenarios/, --scenario-dir ones),
    # plus calibration/posteriors/ where published posteriors live; decided before looking
    # at the file, so whether a file outside exists is not revealed either
    allowed = [*roots, path.resolve().parent, POSTERIOR_DIR.resolve()]
    if not raw["posterior"].strip() or "\0" in raw["posterior"] or not any(
            full.resolve().is_relative_to(r) for r in allowed):
        raise ScenarioError(
            f"{_where(path, 'posterior', _line_of(text, 'posterior'))}: posterior {raw['posterior']!r}: outside the "
            "folders a scenario may read a posterior from (the scenario's own folder, scenarios/, "
            "calibration/posteriors/ and folders given with --scenario-dir)")
    try:
        if full.exists() and not full.is_file():  # a device or pipe would be read without end (issue 9)
            raise ScenarioError(f"posterior file {full}: not a regular file")
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


def load_any(ref: str, search_dirs: Sequence[Path | str] = ()) -> Scenario:
    """A scenario file, a scenario name in scenarios/, or a data profile name."""
    if ref in PROFILE_NAMES and not resolve_path(ref).exists():
        return from_profile(ref)
    if not ref.strip():
        raise ScenarioError("an empty scenario name; give a scenario file, a name in scenarios/ or a profile")
    given = Path(ref)
    if given.suffix != ".toml" and (given.exists() or os.path.lexists(given)):
        return load(given, search_dirs=search_dirs)  # an existing file of another suffix: read it (errors say why)
    if given.suffix == ".toml" or os.sep in ref or (os.altsep and os.altsep in ref):
        if not resolve_path(ref).exists():
            raise ScenarioError(f"{ref}: scenario file not found")
    p = resolve_path(ref)
    if not p.exists():
        names = sorted(x.stem for x in SCENARIO_DIR.glob("*.toml"))
        raise ScenarioError(
            f"{ref}: no such scenario file or profile. Scenarios: {', '.join(names)}; "
            f"profiles: {', '.join(PROFILE_NAMES)}"
        )
    return load(p, search_dirs=search_dirs)

