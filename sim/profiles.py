"""Data profiles: how the KPM families and facilitators are spread over the 23 kecamatan.

Two pictures, because the seed paper and the public statistics disagree (sim/data/README.md):
``paper-2023`` (Levianto & Warsidi 2025) and ``official`` (BPS poverty, Dinsos PKH counts).
Each is a TOML file in sim/data/profiles/ where every figure is ``{ value, source }``; this
module checks them (errors name the file and key path), spreads families and facilitators
over the kecamatan of sim.districts by the profile's rule, and scales them for a run.
"""

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import sim.districts as _districts
from sim import params
from sim.districts import PROFILE_NAMES, DataError, _where, load_districts


@dataclass(frozen=True, eq=False)
class Profile:
    """One data picture: district spread of families and facilitators plus regency figures."""

    name: str
    title: str
    description: str
    districts: pd.DataFrame
    scale: float
    families_total: int
    facilitators_total: int
    pkh_share: float
    sembako_share: float
    population_start: int
    population_growth_year: float
    start_year: int
    poverty_rate_start_pct: float
    poor_people_start: int
    incentive_rp_month: float
    untrained_share_2023: float
    quota_by_year: dict[int, int]
    sources: dict[str, str]


def _is_num(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


_TOML_KINDS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "str": ("a non-empty string", lambda x: isinstance(x, str) and x.strip() != ""),
    "count": ("an integer > 0", lambda x: isinstance(x, int) and not isinstance(x, bool) and x > 0),
    "year": ("a year (integer 1900-2100)", lambda x: isinstance(x, int) and not isinstance(x, bool) and 1900 <= x <= 2100),
    "share": ("a number in [0, 1]", lambda x: _is_num(x) and 0 <= x <= 1),
    "pct": ("a percentage in (0, 100)", lambda x: _is_num(x) and 0 < x < 100),
    "money": ("a number > 0", lambda x: _is_num(x) and x > 0),
    "rate": ("a yearly rate in [-0.2, 0.2]", lambda x: _is_num(x) and -0.2 <= x <= 0.2),
}


class _Toml:
    """A parsed profile TOML whose look-ups check types and fail naming the key path."""

    def __init__(self, path: Path) -> None:
        self.where = _where(path)
        if not path.is_file():
            raise DataError(f"{self.where}: file not found (expected a profile TOML)")
        try:
            self.doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as e:
            raise DataError(f"{self.where}: not valid TOML: {e}") from None

    def fail(self, key: str, expected: str, got: object) -> DataError:
        return DataError(f"{self.where}: key '{key}': expected {expected}, got '{got}'")

    def node(self, key: str, table: Any = None, prefix: str = "") -> Any:
        node = self.doc if table is None else table
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise self.fail(prefix + key, "the key to be present", "missing")
            node = node[part]
        return node

    def check(self, label: str, value: Any, kind: str) -> Any:
        """value, if it is of kind (see _TOML_KINDS); label names it in the error."""
        expected, ok = _TOML_KINDS[kind]
        if not ok(value):
            raise self.fail(label, expected, value)
        return value

    def plain(self, key: str, kind: str, table: Any = None, prefix: str = "") -> Any:
        return self.check(prefix + key, self.node(key, table, prefix), kind)

    def figure(self, key: str, kind: str, table: Any = None, prefix: str = "") -> tuple[Any, str]:
        """A sourced figure, written as key = { value = ..., source = "..." }: (value, source)."""
        node = self.node(key, table, prefix)
        if not isinstance(node, dict) or "value" not in node:
            raise self.fail(prefix + key, 'a table { value = ..., source = "..." }', node)
        return self.check(prefix + key, node["value"], kind), self.plain("source", "str", node, f"{prefix}{key}.")


def _profile_toml(name: str, d: Path) -> _Toml:
    if name not in PROFILE_NAMES:
        raise DataError(f"unknown profile '{name}': expected one of {', '.join(PROFILE_NAMES)}")
    t = _Toml(d / "profiles" / f"{name}.toml")
    if t.plain("name", "str") != name:
        raise t.fail("name", f"'{name}' (the file name)", t.doc["name"])
    return t


def _largest_remainder(weights: np.ndarray, total: int, minimum: int = 0) -> np.ndarray:
    """Integers proportional to weights that sum to total; entries with weight > 0 get >= minimum."""
    w = np.asarray(weights, dtype=float)
    eligible = w > 0
    if total < minimum * int(eligible.sum()) or (total > 0 and not eligible.any()):
        raise ValueError(f"cannot give {total} to {int(eligible.sum())} entries with at least {minimum} each")
    quota = w * total / w.sum() if eligible.any() else np.zeros_like(w)
    alloc = np.floor(quota).astype(np.int64)
    alloc[eligible] = np.maximum(alloc[eligible], minimum)
    while (gap := total - int(alloc.sum())) != 0:
        if gap > 0:  # the largest remainders get one more
            alloc[np.argsort(alloc - quota, kind="stable")[:gap]] += 1
        else:  # the most over-served entry above its minimum gives one back
            floor = np.where(eligible, minimum, 0)
            alloc[int(np.argmax(np.where(alloc > floor, alloc - quota, -np.inf)))] -= 1
    return alloc


def _quota(t: _Toml, start_year: int) -> tuple[dict[int, int], str]:
    """quota.by_year (year -> families): listed years kept, the last held up to quota.hold_until."""
    node = t.node("quota.by_year")
    if not isinstance(node, dict) or not isinstance(node.get("value"), dict) or not node["value"]:
        raise t.fail("quota.by_year", 'a table { value = { YEAR = families, ... }, source = "..." }', node)
    source = t.plain("source", "str", node, "quota.by_year.")
    listed = {}
    for year in node["value"]:
        if not year.isdigit():
            raise t.fail(f"quota.by_year.value.{year}", "a year as key", year)
        listed[int(year)] = t.plain(year, "count", node["value"], "quota.by_year.value.")
    hold_until, hold_src = t.figure("quota.hold_until", "year")
    first, last = min(listed), max(listed)
    if first > start_year or hold_until < last:
        raise t.fail("quota.by_year", f"years from start.year ({start_year}) up to quota.hold_until", listed)
    quota = {y: listed[max(k for k in listed if k <= y)] for y in range(first, hold_until + 1)}
    return quota, f"{source}; after {last} held at {listed[last]:,} up to {hold_until} ({hold_src})"


def _spread(t: _Toml, districts: pd.DataFrame, src: dict[str, str],
            families: tuple[int, str] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Full-scale KPM and facilitators per district row, and the spread rule text per row.

    ``families`` (total, source) replaces families.total (an earlier start year's count).
    """
    n_families, src["families_total"] = families or t.figure("families.total", "count")
    n_facilitators, src["facilitators_total"] = t.figure("facilitators.total", "count")
    spread, spread_src = t.figure("families.spread", "str")
    if spread != "population_share":
        raise t.fail("families.spread.value", "'population_share' (the only spread rule)", spread)
    fixed = t.doc["families"].get("fixed", [])
    if not isinstance(fixed, list):
        raise t.fail("families.fixed", "an array of tables [[families.fixed]]", fixed)
    fixed_kpm: dict[str, int] = {}
    pop_share = districts["population_share"].to_numpy(dtype=float)
    codes = list(districts["code"])
    for k, entry in enumerate(fixed):
        prefix = f"families.fixed[{k}]."
        # one kecamatan (code = "...") or several that hold the figure together (codes = [...]),
        # split among them by population share
        if isinstance(entry, dict) and "codes" in entry:
            group = entry["codes"]
            if not isinstance(group, list) or not group or not all(isinstance(c, str) for c in group):
                raise t.fail(prefix + "codes", "a non-empty list of kecamatan codes", group)
        else:
            group = [t.plain("code", "str", entry, prefix)]
        for code in group:
            if code not in codes or code in fixed_kpm:
                raise t.fail(prefix + ("codes" if len(group) > 1 else "code"), "codes of kecamatan_codes.csv, each listed once", code)
        total, src[f"kpm {'+'.join(group)}"] = t.figure("kpm", "count", entry, prefix)
        idx = [codes.index(c) for c in group]
        split = _largest_remainder(pop_share[idx], total)
        for code, n in zip(group, split, strict=True):
            fixed_kpm[code] = int(n)
    is_fixed = districts["code"].isin(list(fixed_kpm)).to_numpy()
    rest = n_families - sum(fixed_kpm.values())
    if rest < 0:
        raise t.fail("families.total", f">= the sum of families.fixed ({sum(fixed_kpm.values())})", n_families)
    kpm = np.zeros(len(districts), dtype=np.int64)
    kpm[is_fixed] = [fixed_kpm[c] for c in districts["code"][is_fixed]]
    kpm[~is_fixed] = _largest_remainder(districts["population_share"].to_numpy()[~is_fixed], rest)
    rule = np.full(len(districts), f"KPM: {spread} of the {rest:,} families not fixed; facilitators: by KPM", dtype=object)
    fac = np.zeros(len(districts), dtype=np.int64)
    if fixed_kpm:
        caseload, src["understaffed_caseload"] = t.figure("facilitators.understaffed_caseload", "count")
        fac[is_fixed] = np.maximum(1, np.floor(kpm[is_fixed] / caseload + 0.5))
        rule[is_fixed] = f"KPM: fixed (families.fixed); facilitators: 1 per {caseload} KPM (understaffed)"
    if int(fac.sum()) + int((~is_fixed & (kpm > 0)).sum()) > n_facilitators:
        raise t.fail("facilitators.total", "enough for the understaffed districts and >= 1 elsewhere", n_facilitators)
    fac[~is_fixed] = _largest_remainder(kpm[~is_fixed], n_facilitators - int(fac.sum()), minimum=1)
    src["districts"] = f"{spread_src}; facilitators in proportion to KPM (largest remainder, >= 1 per district)"
    return kpm, fac, rule


def _history(t: _Toml, year: int, v: dict[str, Any], src: dict[str, str]) -> tuple[int, str] | None:
    """Start figures of an earlier year from the profile's optional [history.YEAR] table.

    A run that starts in a year listed there (calibration starts the official profile in
    2017 to fit a trend) begins from that year's population, poverty and family count;
    facilitators and everything else stay the profile's. None when the year is not listed.
    """
    hist = t.doc.get("history", {})
    if not isinstance(hist, dict) or str(year) not in hist:
        return None
    node, prefix = hist[str(year)], f"history.{year}."
    v["start_year"], src["start_year"] = year, f"run start year {year}: [history.{year}] of the profile"
    for field, key, kind in (("population_start", "population", "count"),
                             ("poverty_rate_pct", "poverty_rate_pct", "pct"),
                             ("poor_people_start", "poor_people", "count")):
        fkey = "poverty_rate_start_pct" if field == "poverty_rate_pct" else field
        v[fkey], src[fkey] = t.figure(key, kind, node, prefix)
    fam: tuple[int, str] = t.figure("families", "count", node, prefix)
    return fam


#: Plausibility bound: KPM persons may be at most this share of a kecamatan's population.
#: PKH and BPNT/Sembako families are chosen from the Unified Database (Basis Data Terpadu,
#: BDT 2015, TNP2K), which lists the 40% of the population with the lowest welfare; a
#: kecamatan whose KPM persons exceed 40% of its people would need more recipients than the
#: database that selects them holds there. A profile may raise the bound only through a
#: sourced [plausibility] max_kpm_person_share figure (a deliberate sensitivity case).
MAX_KPM_PERSON_SHARE = 0.40
MAX_KPM_PERSON_SHARE_SOURCE = ("TNP2K, Basis Data Terpadu 2015: the database from which PKH and BPNT/Sembako "
                               "recipients are chosen covers the 40% of the population with the lowest welfare")


def _check_plausible(t: _Toml, df: pd.DataFrame, population: int, household_size: float,
                     src: dict[str, str]) -> None:
    """DataError naming the file and kecamatan when KPM persons exceed the plausible share."""
    bound, bound_src = MAX_KPM_PERSON_SHARE, MAX_KPM_PERSON_SHARE_SOURCE
    if "plausibility" in t.doc:
        bound, bound_src = t.figure("plausibility.max_kpm_person_share", "share")
    src["plausibility"] = f"KPM persons <= {bound:g} x kecamatan population ({bound_src})"
    people = population * df["population_share"].to_numpy(dtype=float)
    share = df["kpm_families"].to_numpy(dtype=float) * household_size / np.maximum(people, 1.0)
    for i in np.flatnonzero(share > bound + 1e-12).tolist():
        raise DataError(
            f"{t.where}: kecamatan {df['code'].iat[i]} {df['name'].iat[i]}: {int(df['kpm_families'].iat[i]):,} KPM "
            f"x {household_size:g} persons = {share[i]:.0%} of its {people[i]:,.0f} people; expected at most "
            f"{bound:.0%} ({bound_src})")


def load_profile(name: str, scale: float = 1.0, data_dir: Path | None = None,
                 household_size: float = 4.0, start_year: int | None = None) -> Profile:
    """A data profile: the districts with KPM and facilitators spread by its rule, families scaled.

    ``scale`` is the share of families simulated: each simulated family stands for
    1 / scale families (CaseloadModel.family_weight). Families are rounded per district by
    largest remainder so that the total = round(scale x total), every district with families
    keeping >= 1. Facilitators are never scaled (a few hundred cost nothing to simulate, and
    scaling them would leave small kecamatan with one facilitator or none, which distorts
    caseloads, vacancies and burnout: see docs/ODD.md 2.5). People counts and quota_by_year
    are not scaled either. The profile is checked for plausibility (``_check_plausible``).
    ``start_year`` (the run's first year): when the profile lists it in [history.YEAR], the
    start figures (population, poverty, families) are that year's; otherwise the profile's own.
    """
    d = data_dir or _districts.DATA_DIR  # looked up at call time (tests swap it)
    t = _profile_toml(name, d)
    scale = params.check_structural("scale", scale, f"profile '{name}'")
    src: dict[str, str] = {}
    v: dict[str, Any] = {}
    for field, key, kind in (
        ("start_year", "start.year", "year"),
        ("population_start", "start.population", "count"),
        ("poverty_rate_start_pct", "start.poverty_rate_pct", "pct"),
        ("poor_people_start", "start.poor_people", "count"),
        ("population_growth_year", "start.population_growth_year", "rate"),
        ("pkh_share", "families.pkh_share", "share"),
        ("sembako_share", "families.sembako_share", "share"),
        ("untrained_share_2023", "facilitators.untrained_share_2023", "share"),
        ("incentive_rp_month", "facilitators.incentive_rp_month", "money"),
    ):
        v[field], src[field] = t.figure(key, kind)
    quota, src["quota_by_year"] = _quota(t, v["start_year"])
    families = _history(t, start_year, v, src) if start_year is not None and start_year != v["start_year"] else None
    districts = load_districts(d)
    kpm, fac, rule = _spread(t, districts, src, families)
    full = districts.copy()
    full["kpm_families"] = kpm
    _check_plausible(t, full, v["population_start"], household_size, src)

    n_kpm = round(scale * int(kpm.sum()))
    # at a very small scale every district with families still keeps one simulated family
    n_kpm = max(n_kpm, int((kpm > 0).sum()))
    kpm = _largest_remainder(kpm, n_kpm, minimum=1)
    n_fac = int(fac.sum())
    df = districts.copy()
    df["kpm_families"] = kpm
    df["kpm_pkh"] = _largest_remainder(kpm, round(v["pkh_share"] * n_kpm))
    df["facilitators"] = fac
    df["kpm_per_facilitator"] = kpm / np.maximum(fac, 1) / scale
    df["spread_rule"] = rule
    if scale != 1:
        src["families_total"] += f"; x scale {scale:g}, rounded (each simulated family stands for {1 / scale:g})"
    src["scale"] = ("run setting: simulated families = round(scale x profile total), each standing for 1 / scale "
                    "families; facilitators and people counts are not scaled")
    return Profile(
        name=name,
        title=t.plain("title", "str"),
        description=t.plain("description", "str"),
        districts=df,
        scale=float(scale),
        families_total=n_kpm,
        facilitators_total=n_fac,
        pkh_share=float(v["pkh_share"]),
        sembako_share=float(v["sembako_share"]),
        population_start=v["population_start"],
        population_growth_year=float(v["population_growth_year"]),
        start_year=v["start_year"],
        poverty_rate_start_pct=float(v["poverty_rate_start_pct"]),
        poor_people_start=v["poor_people_start"],
        incentive_rp_month=float(v["incentive_rp_month"]),
        untrained_share_2023=float(v["untrained_share_2023"]),
        quota_by_year=quota,
        sources=src,
    )


def poverty_targets(profile: Profile, data_dir: Path | None = None) -> pd.DataFrame:
    """The poverty series the model is checked against: year, poverty_rate_pct, poor_people, source.

    Read from the profile's [[targets]] (data_dir as given to load_profile).
    """
    t = _profile_toml(profile.name, data_dir or _districts.DATA_DIR)
    rows = t.node("targets")
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        raise t.fail("targets", "an array of tables [[targets]]", rows)
    out = [
        {
            "year": t.plain("year", "year", r, f"targets[{k}]."),
            "poverty_rate_pct": float(t.plain("poverty_rate_pct", "pct", r, f"targets[{k}].")),
            "poor_people": t.plain("poor_people", "count", r, f"targets[{k}]."),
            "source": t.plain("source", "str", r, f"targets[{k}]."),
        }
        for k, r in enumerate(rows)
    ]
    return pd.DataFrame(out).sort_values("year").reset_index(drop=True)
