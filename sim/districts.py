"""The 23 kecamatan of Kabupaten Bekasi, loaded and checked (the data profiles: sim/profiles.py).

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

import csv
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

DATA_DIR = Path(__file__).resolve().parent / "data"
PROFILE_NAMES: tuple[str, ...] = ("paper-2023", "official", "paper-2023-each")

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
# Vulnerable on its own evidence, whatever the remoteness score (sources: sim/data/README.md).
VULNERABLE_CODES = {"32.16.17": "coastal: abrasion, tidal (rob) flooding, isolated by poor roads"}


def district_names(data_dir: Path | None = None) -> tuple[str, ...]:
    """The 23 kecamatan names in file order, read from kecamatan_codes.csv (fast: no checks).

    For the choices of lever settings (sim.params); load_districts checks the file itself,
    so a broken file gives an empty tuple here and a DataError there.
    """
    try:
        with ((data_dir or DATA_DIR) / "kecamatan_codes.csv").open(encoding="utf-8", newline="") as fh:
            return tuple(row["name"] for row in csv.DictReader(fh))
    except (OSError, KeyError):  # pragma: no cover - load_districts reports a broken file
        return ()


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


__all__ = [
    "DATA_DIR",
    "PROFILE_NAMES",
    "DataError",
    "district_names",
    "load_districts",
]
