"""The 23 kecamatan of Kabupaten Bekasi and the two data profiles, loaded and checked.

Reads the CSVs and profile TOMLs in sim/data/ (sources, licences, rules: sim/data/README.md).
Every problem raises DataError naming the file, the 1-based line (header = line 1), the
column or TOML key, and what was expected.

Population, at one reference year (2020); the first rule that applies per kecamatan:
  a) the census2020 figure of districts_population.csv, else a census2020 row of
     districts_population_long.csv (estimated when its note says DERIVED);
  b) 2024 DPT voters x the median population/voters ratio over the kecamatan with both a
     read (not derived) census2020 figure and a voters figure (estimated);
  c) the newest other figure with a known year x the regency growth from that year to
     2020, regency population = BPS poor people / poverty rate (bps_poverty_series.csv),
     log-linear at the series' mean growth outside its years (estimated);
  d) villages x the median population per village over the read census2020 kecamatan
     (estimated).
Nothing is rescaled to a regency total: population_share = population / sum is what the
profiles spread families by. DataFrame.attrs keeps the sum and the BPS-implied 2020 and
2021 regency populations to compare it with.

Geography: area_km2 from districts_population.csv where given, else the polygon area;
distance_to_seat_km = great-circle distance between centroids and Cikarang Pusat's (the
regency seat); remoteness = minmax(0.5 minmax(distance) + 0.5 minmax(area per village));
travel_min_per_visit = 15 + 45 x remoteness (assumption); vulnerable = Muaragembong
(coastal: abrasion, tidal flooding, poor road access) or remoteness >= 0.6.
"""

import math
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

DATA_DIR = Path(__file__).resolve().parent / "data"
PROFILE_NAMES: tuple[str, ...] = ("paper-2023", "official")

N_KECAMATAN = 23
REFERENCE_YEAR = 2020
REGENCY = "Kabupaten Bekasi"
SEAT_CODE = "32.16.20"  # Cikarang Pusat, seat of the regency government
LAT_RANGE = (-6.6, -5.8)  # bounding box of the regency with a margin
LNG_RANGE = (106.8, 107.4)
EARTH_RADIUS_KM = 6371.0088
REMOTENESS_WEIGHT_DISTANCE = 0.5  # the other half weighs area per village
TRAVEL_MIN_BASE = 15.0  # assumption: minutes per home visit in the least remote kecamatan
TRAVEL_MIN_REMOTE = 45.0  # assumption: extra minutes per visit at remoteness 1
VULNERABLE_REMOTENESS = 0.6
SCALE_MAX = 2.0
# Vulnerable on its own evidence, whatever the remoteness score (sources: sim/data/README.md).
VULNERABLE_CODES = {"32.16.17": "coastal: abrasion, tidal (rob) flooding, isolated by poor roads"}


class DataError(ValueError):
    """A data file is missing or a value in it is not what the loader expects."""


def _where(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _cell_error(path: Path, line: int, column: str, expected: str, got: object) -> DataError:
    return DataError(f"{_where(path)} line {line}, column '{column}': expected {expected}, got '{got}'")


def _num(low: float, high: float = math.inf, integer: bool = False) -> Callable[[str], float | int]:
    def parse(raw: str) -> float | int:
        v = float(raw)  # ValueError on non-numbers
        if not (math.isfinite(v) and low <= v <= high and (v.is_integer() or not integer)):
            raise ValueError(raw)
        return int(v) if integer else v

    return parse


def _match(pattern: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if not re.fullmatch(pattern, raw):
            raise ValueError(raw)
        return raw

    return parse


# Cell kinds: what is expected (for messages) and a parser raising ValueError.
# "kec" is a code that must be listed in kecamatan_codes.csv; a trailing "?" allows empty.
_KINDS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "code": ("a code like 32.16.NN", _match(r"32\.16\.\d{2}")),
    "bps": ("a BPS code like 3216NNN", _match(r"3216\d{3}")),
    "text": ("a non-empty text", _match(r".*\S.*")),
    "any": ("any text", str),
    "lat": (f"a latitude in [{LAT_RANGE[0]}, {LAT_RANGE[1]}] (Kabupaten Bekasi)", _num(*LAT_RANGE)),
    "lng": (f"a longitude in [{LNG_RANGE[0]}, {LNG_RANGE[1]}] (Kabupaten Bekasi)", _num(*LNG_RANGE)),
    "area": ("a number > 0", _num(1e-9)),
    "count": ("an integer >= 0", _num(0, integer=True)),
    "year": ("a year (integer 1900-2100)", _num(1900, 2100, integer=True)),
    "pct": ("a percentage in [0, 100]", _num(0, 100)),
}
_COLUMNS: dict[str, dict[str, str]] = {
    "kecamatan_codes.csv": {
        "kemendagri_code": "code",
        "bps_code_mfd2018": "bps",
        "name": "text",
        "centroid_lat": "lat",
        "centroid_lng": "lng",
        "polygon_area_km2_derived": "area",
    },
    "villages.csv": {"kecamatan_code": "kec", "code": "text"},
    "districts_population.csv": {
        "code": "kec",
        "population": "count?",
        "population_year": "year?",
        "population_kind": "any",
        "area_km2": "area?",
        "source": "any",
    },
    "districts_population_long.csv": {
        "code": "kec",
        "value": "count",
        "year": "year?",
        "kind": "any",
        "source": "any",
        "note": "any",
    },
    "voters_2024_partial.csv": {"code": "kec", "dpt_voters_pemilu2024": "count"},
    "bps_poverty_series.csv": {"year": "year", "region": "text", "poverty_rate_pct": "pct?", "poor_people": "count?"},
}
_UNIQUE = {"kecamatan_codes.csv": "kemendagri_code", "districts_population.csv": "code", "voters_2024_partial.csv": "code"}


def _read(d: Path, fname: str, known: set[str] | None = None) -> list[dict[str, Any]]:
    """Rows of a CSV read as text, each cell checked and converted by its column kind.

    Data row i (0-based) is on line i + 2; the row's "_line" says so.
    """
    path, columns = d / fname, _COLUMNS[fname]
    if not path.is_file():
        raise DataError(f"{_where(path)}: file not found (expected a CSV with columns {', '.join(columns)})")
    df = pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=False, encoding="utf-8")
    for col in columns:
        if col not in df.columns:
            raise DataError(
                f"{_where(path)} line 1, column '{col}': expected a column named '{col}' "
                f"in the header, got columns {list(df.columns)}"
            )
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for i, record in enumerate(df.to_dict("records")):
        row: dict[str, Any] = {"_line": i + 2}
        for col, kind in columns.items():
            raw, base = str(record[col]).strip(), kind.rstrip("?")
            expected, parse = _KINDS["code" if base == "kec" else base]
            if raw == "" and kind.endswith("?"):
                row[col] = None
                continue
            try:
                row[col] = parse(raw)
            except ValueError:
                raise _cell_error(path, i + 2, col, expected, raw) from None
            if base == "kec" and known is not None and raw not in known:
                raise _cell_error(path, i + 2, col, "a kecamatan code listed in kecamatan_codes.csv", raw)
        if (key := _UNIQUE.get(fname)) is not None:
            if row[key] in seen:
                raise _cell_error(path, i + 2, key, f"a code not used before (it is on line {seen[row[key]]})", row[key])
            seen[row[key]] = i + 2
        rows.append(row)
    return rows


def _regency_population(d: Path) -> dict[int, int]:
    """BPS-implied regency population per year: poor people / (poverty rate / 100)."""
    out: dict[int, int] = {}
    for r in _read(d, "bps_poverty_series.csv"):
        if r["region"] == REGENCY:
            for col in ("poverty_rate_pct", "poor_people"):
                if not r[col]:
                    raise _cell_error(d / "bps_poverty_series.csv", r["_line"], col, f"a number > 0 for {REGENCY}", r[col] or "")
            out[r["year"]] = round(r["poor_people"] / (r["poverty_rate_pct"] / 100))
    if not out:
        raise DataError(f"{_where(d / 'bps_poverty_series.csv')}: expected rows with region '{REGENCY}'")
    return out


def _growth_to_reference(year: int, series: dict[int, int]) -> float:
    """Regency population in REFERENCE_YEAR over that in `year` (log-linear outside the series)."""
    first, last = min(series), max(series)
    rate = math.log(series[last] / series[first]) / (last - first) if last > first else 0.0

    def log_pop(y: int) -> float:
        end = y if y in series else (first if y < first else last)
        return math.log(series[end]) + rate * (y - end)

    return math.exp(log_pop(REFERENCE_YEAR) - log_pop(year))


def _populations(d: Path, rows: dict[str, dict[str, Any]], dp: list[dict[str, Any]]) -> dict[str, Any]:
    """Fill population columns of rows by rules a-d (module doc); return the figures used."""
    known = set(rows)
    census: dict[str, tuple[int, bool, str]] = {}
    other: dict[str, tuple[int, int, str]] = {}  # newest figure with a known year: (year, value, where)
    for p in dp:
        if p["population"] is not None and p["population_kind"] == "census2020":
            census[p["code"]] = (p["population"], False, f"districts_population.csv line {p['_line']}: {p['source']}")
        elif p["population"] is not None and p["population_year"] is not None:
            fig = (p["population_year"], p["population"], f"districts_population.csv line {p['_line']}")
            other[p["code"]] = max(other.get(p["code"], fig), fig)
    for p in _read(d, "districts_population_long.csv", known):
        where = f"districts_population_long.csv line {p['_line']}"
        if p["kind"] == "census2020" and p["code"] not in census:
            census[p["code"]] = (p["value"], "DERIVED" in p["note"].upper(), f"{where}: {p['source']}; {p['note']}")
        elif p["kind"] != "census2020" and p["year"] is not None:
            fig = (p["year"], p["value"], where)
            other[p["code"]] = max(other.get(p["code"], fig), fig)
    voters = {v["code"]: (v["dpt_voters_pemilu2024"], v["_line"]) for v in _read(d, "voters_2024_partial.csv", known)}
    regency = _regency_population(d)

    read = [c for c, (_, derived, _) in census.items() if not derived]
    both = [c for c in read if c in voters]
    if not both:
        raise DataError(f"{_where(d)}: expected a census2020 figure for at least one kecamatan with a voters figure")
    ratio = float(np.median([census[c][0] / voters[c][0] for c in both]))
    per_village = float(np.median([census[c][0] / rows[c]["villages"] for c in read]))
    both_names = ", ".join(rows[c]["name"] for c in both)
    for code, r in rows.items():
        if code in census:
            pop, est, src = census[code]
            kind = "census2020-derived" if est else "census2020"
        elif code in voters:
            n, line = voters[code]
            pop, est, kind = round(n * ratio), True, "voters-scaled"
            src = (
                f"estimate: voters_2024_partial.csv line {line} ({n:,} DPT 2024) x {ratio:.4f}, the median "
                f"census2020/voters ratio over {both_names}"
            )
        elif code in other:
            year, n, where = other[code]
            growth = _growth_to_reference(year, regency)
            pop, est, kind = round(n * growth), True, "growth-scaled"
            src = (
                f"estimate: {where} ({n:,} in {year}) x {growth:.4f}, the BPS-implied regency growth "
                f"{year}-{REFERENCE_YEAR} (bps_poverty_series.csv poor people / rate)"
            )
        else:
            pop, est, kind = round(r["villages"] * per_village), True, "villages-scaled"
            src = (
                f"estimate: {r['villages']} villages (villages.csv) x {per_village:,.0f}, the median census2020 "
                f"population per village over {', '.join(rows[c]['name'] for c in read)}"
            )
        r.update(
            population=pop, population_year=REFERENCE_YEAR, population_kind=kind, population_source=src, population_estimated=est
        )
    return {
        "bps_implied_population": {y: regency[y] for y in (2020, 2021) if y in regency},
        "voters_ratio": ratio,
        "voters_ratio_districts": both_names,
        "population_per_village": per_village,
    }


def _minmax(x: np.ndarray) -> np.ndarray:
    span = float(x.max() - x.min())
    return (x - x.min()) / span if span > 0 else np.zeros_like(x)


def load_districts(data_dir: Path | None = None) -> pd.DataFrame:
    """The 23 kecamatan sorted by Kemendagri code, with population and geography (module doc)."""
    d = data_dir or DATA_DIR
    kec = _read(d, "kecamatan_codes.csv")
    if len(kec) != N_KECAMATAN:
        raise DataError(f"{_where(d / 'kecamatan_codes.csv')}: expected exactly {N_KECAMATAN} kecamatan rows, got {len(kec)}")
    rows = {
        k["kemendagri_code"]: {
            "code": k["kemendagri_code"],
            "bps_code": k["bps_code_mfd2018"],
            "name": k["name"],
            "villages": 0,
            "lat": k["centroid_lat"],
            "lng": k["centroid_lng"],
            "area_km2": k["polygon_area_km2_derived"],
            "area_source": f"kecamatan_codes.csv line {k['_line']}: polygon_area_km2_derived (geodesic, boundary)",
        }
        for k in kec
    }
    if SEAT_CODE not in rows:
        raise DataError(f"{_where(d / 'kecamatan_codes.csv')}: expected the regency seat {SEAT_CODE} (Cikarang Pusat), not found")
    for v in _read(d, "villages.csv", set(rows)):
        rows[v["kecamatan_code"]]["villages"] += 1
    for code, r in rows.items():
        if r["villages"] == 0:
            raise DataError(f"{_where(d / 'villages.csv')}: expected at least one village of kecamatan {code}")
    dp = _read(d, "districts_population.csv", set(rows))
    for p in dp:
        if p["area_km2"] is not None:
            rows[p["code"]].update(
                area_km2=p["area_km2"], area_source=f"districts_population.csv line {p['_line']}: {p['source']}"
            )
    attrs = _populations(d, rows, dp)

    df = pd.DataFrame([rows[c] for c in sorted(rows)])
    df["population_share"] = df["population"] / df["population"].sum()
    lat, lng = np.radians(df["lat"].to_numpy()), np.radians(df["lng"].to_numpy())
    lat0, lng0 = math.radians(rows[SEAT_CODE]["lat"]), math.radians(rows[SEAT_CODE]["lng"])
    h = np.sin((lat - lat0) / 2) ** 2 + np.cos(lat) * math.cos(lat0) * np.sin((lng - lng0) / 2) ** 2
    df["distance_to_seat_km"] = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(h))
    df["area_per_village_km2"] = df["area_km2"] / df["villages"]
    w = REMOTENESS_WEIGHT_DISTANCE
    raw = w * _minmax(df["distance_to_seat_km"].to_numpy()) + (1 - w) * _minmax(df["area_per_village_km2"].to_numpy())
    df["remoteness"] = _minmax(raw)
    df["travel_min_per_visit"] = TRAVEL_MIN_BASE + TRAVEL_MIN_REMOTE * df["remoteness"]
    remote = f"remote: remoteness >= {VULNERABLE_REMOTENESS}"
    df["vulnerable_reason"] = [
        VULNERABLE_CODES.get(c, remote if x >= VULNERABLE_REMOTENESS else "")
        for c, x in zip(df["code"], df["remoteness"], strict=True)
    ]
    df["vulnerable"] = df["vulnerable_reason"] != ""
    df = df[
        [
            "code",
            "bps_code",
            "name",
            "villages",
            "lat",
            "lng",
            "area_km2",
            "area_source",
            "population",
            "population_year",
            "population_kind",
            "population_source",
            "population_estimated",
            "population_share",
            "distance_to_seat_km",
            "area_per_village_km2",
            "remoteness",
            "travel_min_per_visit",
            "vulnerable",
            "vulnerable_reason",
        ]
    ]
    df.attrs.update(population_total=int(df["population"].sum()), **attrs)
    return df


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


def _spread(t: _Toml, districts: pd.DataFrame, src: dict[str, str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Full-scale KPM and facilitators per district row, and the spread rule text per row."""
    n_families, src["families_total"] = t.figure("families.total", "count")
    n_facilitators, src["facilitators_total"] = t.figure("facilitators.total", "count")
    spread, spread_src = t.figure("families.spread", "str")
    if spread != "population_share":
        raise t.fail("families.spread.value", "'population_share' (the only spread rule)", spread)
    fixed = t.doc["families"].get("fixed", [])
    if not isinstance(fixed, list):
        raise t.fail("families.fixed", "an array of tables [[families.fixed]]", fixed)
    fixed_kpm: dict[str, int] = {}
    for k, entry in enumerate(fixed):
        prefix = f"families.fixed[{k}]."
        code = t.plain("code", "str", entry, prefix)
        if code not in set(districts["code"]) or code in fixed_kpm:
            raise t.fail(prefix + "code", "a code of kecamatan_codes.csv, listed once", code)
        fixed_kpm[code], src[f"kpm {code}"] = t.figure("kpm", "count", entry, prefix)
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


def load_profile(name: str, scale: float = 1.0, data_dir: Path | None = None) -> Profile:
    """A data profile: the districts with KPM and facilitators spread by its rule, scaled.

    Scaling rounds per district by largest remainder so that totals = round(scale x total);
    every district with families keeps >= 1 family and >= 1 facilitator. People counts
    (population, poor people) and quota_by_year are never scaled.
    """
    d = data_dir or DATA_DIR
    t = _profile_toml(name, d)
    if not _is_num(scale) or not 0 < scale <= SCALE_MAX:
        raise ValueError(f"scale must be in (0, {SCALE_MAX:g}], got {scale!r}")
    src: dict[str, str] = {}
    v: dict[str, Any] = {}
    for field, key, kind in (
        ("start_year", "start.year", "year"),
        ("population_start", "start.population", "count"),
        ("poverty_rate_start_pct", "start.poverty_rate_pct", "pct"),
        ("poor_people_start", "start.poor_people", "count"),
        ("pkh_share", "families.pkh_share", "share"),
        ("sembako_share", "families.sembako_share", "share"),
        ("untrained_share_2023", "facilitators.untrained_share_2023", "share"),
        ("incentive_rp_month", "facilitators.incentive_rp_month", "money"),
    ):
        v[field], src[field] = t.figure(key, kind)
    quota, src["quota_by_year"] = _quota(t, v["start_year"])
    districts = load_districts(d)
    kpm, fac, rule = _spread(t, districts, src)

    n_kpm, n_fac = round(scale * int(kpm.sum())), round(scale * int(fac.sum()))
    # below about scale 0.064 the rounded totals cannot give every district with families a
    # facilitator; each keeps one, so the totals are then a little above scale x total
    need = int((kpm > 0).sum())
    n_kpm, n_fac = max(n_kpm, need), max(n_fac, need)
    kpm, fac = _largest_remainder(kpm, n_kpm, minimum=1), _largest_remainder(fac, n_fac, minimum=1)
    df = districts.copy()
    df["kpm_families"] = kpm
    df["kpm_pkh"] = _largest_remainder(kpm, round(v["pkh_share"] * n_kpm))
    df["facilitators"] = fac
    df["kpm_per_facilitator"] = kpm / np.maximum(fac, 1)
    df["spread_rule"] = rule
    if scale != 1:
        src["families_total"] += f"; x scale {scale:g}, rounded"
        src["facilitators_total"] += f"; x scale {scale:g}, rounded"
    src["scale"] = "run setting: agent counts = round(scale x profile totals); people counts are not scaled"
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
    t = _profile_toml(profile.name, data_dir or DATA_DIR)
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
