"""Tests for sim/districts.py: the kecamatan table, the two data profiles, and DataError messages."""

import csv
import shutil
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sim.districts import DATA_DIR, PROFILE_NAMES, DataError, load_districts
from sim.profiles import Profile, load_profile, poverty_targets

UNDERSTAFFED = {"32.16.06": "Tambun Selatan", "32.16.13": "Pebayuran"}
MUARAGEMBONG = "32.16.17"
CENSUS_READ = {"32.16.09", "32.16.11", "32.16.17", "32.16.19", "32.16.20"}
VOTERS_SCALED = {"32.16.01", "32.16.02", "32.16.05", "32.16.06", "32.16.07", "32.16.10", "32.16.13", "32.16.18", "32.16.21"}
VILLAGES_SCALED = {"32.16.03", "32.16.04", "32.16.12", "32.16.14", "32.16.15", "32.16.16", "32.16.22"}


@pytest.fixture(scope="module")
def districts() -> pd.DataFrame:
    return load_districts()


@pytest.fixture(scope="module", params=PROFILE_NAMES)
def profile(request: pytest.FixtureRequest) -> Profile:
    return load_profile(request.param)


def _by_code(df: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Rows of a district table keyed by code (plain Python values)."""
    return {str(r["code"]): {str(k): v for k, v in r.items()} for r in df.to_dict("records")}


def _csv_row(fname: str, **match: str) -> tuple[int, dict[str, str]]:
    """(line number, row) of the first row of sim/data/fname whose cells equal match."""
    with open(DATA_DIR / fname, newline="", encoding="utf-8") as f:
        for i, row in enumerate(csv.DictReader(f)):
            if all(row[k] == v for k, v in match.items()):
                return i + 2, row
    raise AssertionError(f"no row {match} in {fname}")


# --- the kecamatan table ------------------------------------------------------------------


def test_23_districts_sorted_with_all_columns(districts: pd.DataFrame) -> None:
    assert len(districts) == 23
    assert list(districts["code"]) == sorted(districts["code"]) == [f"32.16.{i:02d}" for i in range(1, 24)]
    for col in (
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
        "remoteness",
        "travel_min_per_visit",
        "vulnerable",
    ):
        assert col in districts.columns, col
    assert districts["villages"].sum() == 187
    assert (districts["population"] > 0).all()
    assert districts["population_share"].sum() == pytest.approx(1.0)
    assert (districts["population_year"] == 2020).all()
    assert districts["remoteness"].between(0, 1).all()
    assert districts["remoteness"].min() == 0 and districts["remoteness"].max() == 1
    assert districts["travel_min_per_visit"].between(15, 60).all()
    assert _by_code(districts)["32.16.20"]["distance_to_seat_km"] == 0  # Cikarang Pusat, the seat


def test_population_rules_and_estimated_flags(districts: pd.DataFrame) -> None:
    d = _by_code(districts)
    for code in CENSUS_READ:
        assert d[code]["population_kind"] == "census2020" and not d[code]["population_estimated"]
    assert d["32.16.08"]["population_kind"] == "census2020-derived"  # Cikarang Barat: total minus 4
    assert d["32.16.08"]["population"] == 205333 and d["32.16.08"]["population_estimated"]
    for code in VOTERS_SCALED:
        assert d[code]["population_kind"] == "voters-scaled" and d[code]["population_estimated"]
    for code in VILLAGES_SCALED:
        assert d[code]["population_kind"] == "villages-scaled" and d[code]["population_estimated"]
    assert d["32.16.23"]["population_kind"] == "growth-scaled"  # Bojongmangu: 2014 figure x growth
    assert d["32.16.23"]["population"] > 25587
    # rule b: median population/voters ratio over Cikarang Utara and Cikarang Selatan
    ratio = np.median([228937 / 152896, 161534 / 112548])
    assert districts.attrs["voters_ratio"] == pytest.approx(ratio)
    assert d["32.16.06"]["population"] == round(322525 * ratio)


def test_population_sum_reported_not_rescaled(districts: pd.DataFrame) -> None:
    total = districts.attrs["population_total"]
    assert total == districts["population"].sum()
    bps = districts.attrs["bps_implied_population"]
    assert bps[2020] == round(186300 / 0.0482) and bps[2021] == round(202700 / 0.0521)
    assert 0.7 < total / bps[2020] < 1.1  # same order; not forced to match


def test_area_source_prefers_listed_area(districts: pd.DataFrame) -> None:
    d = _by_code(districts)
    assert d["32.16.17"]["area_km2"] == 160.54 and "districts_population.csv" in d["32.16.17"]["area_source"]
    assert d["32.16.13"]["area_km2"] == 94.66 and "polygon" in d["32.16.13"]["area_source"]


def test_muaragembong_vulnerable(districts: pd.DataFrame) -> None:
    d = _by_code(districts)
    assert d[MUARAGEMBONG]["vulnerable"]
    assert d[MUARAGEMBONG]["remoteness"] == 1.0
    for code, row in d.items():
        if code != MUARAGEMBONG:
            assert row["vulnerable"] == (row["remoteness"] >= 0.6), row["name"]


# --- profiles -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", PROFILE_NAMES)
@pytest.mark.parametrize("scale", [0.07, 0.1, 0.25, 1.0, 1.5, 2.0])
def test_totals_exact_when_scaled(name: str, scale: float) -> None:
    full = load_profile(name)
    p = load_profile(name, scale=scale)
    d = p.districts
    assert len(d) == 23 and list(d["code"]) == list(full.districts["code"])
    assert p.families_total == d["kpm_families"].sum() == round(scale * full.families_total)
    # facilitators are never scaled (each simulated family stands for 1 / scale families)
    assert p.facilitators_total == d["facilitators"].sum() == full.facilitators_total
    assert (d["facilitators"] == full.districts["facilitators"]).all()
    assert (d["kpm_families"] >= 1).all() and (d["facilitators"] >= 1).all()
    assert d["kpm_pkh"].sum() == round(p.pkh_share * p.families_total)
    assert (d["kpm_pkh"] <= d["kpm_families"]).all()
    assert p.quota_by_year == full.quota_by_year  # never scaled
    assert p.population_start == full.population_start and p.poor_people_start == full.poor_people_start


def test_paper_profile_matches_the_paper() -> None:
    p = load_profile("paper-2023")
    d = _by_code(p.districts)
    assert p.families_total == 88000 and p.facilitators_total == 354
    assert 200 <= p.families_total / p.facilitators_total <= 300  # paper: 200-300 KPM each
    # paper: "Kedua wilayah ini tercatat memiliki lebih dari 20.000 KPM", read as both together
    # (the per-kecamatan reading fails the plausibility check; profile paper-2023-each)
    assert sum(d[code]["kpm_families"] for code in UNDERSTAFFED) == 20500
    for code in UNDERSTAFFED:
        assert d[code]["kpm_per_facilitator"] > 300  # and under-staffed
    assert d["32.16.06"]["kpm_families"] == 16538 and d["32.16.13"]["kpm_families"] == 3962  # by population
    assert d["32.16.06"]["facilitators"] == 46 and d["32.16.13"]["facilitators"] == 11  # round(kpm / 360)
    rest = p.districts[~p.districts["code"].isin(list(UNDERSTAFFED))]
    # 67,500 families / 297 facilitators = 227.3: within the paper's 200-300
    assert rest["kpm_families"].sum() / rest["facilitators"].sum() == pytest.approx(67500 / 297)
    assert rest["kpm_per_facilitator"].max() < 300
    assert p.pkh_share == pytest.approx(72554 / 88000, abs=1e-6)
    assert p.sembako_share == 1.0
    assert p.start_year == 2021 and p.poverty_rate_start_pct == 6.22
    assert p.population_start == round(172400 / 0.0553)
    assert p.poor_people_start == round(0.0622 * p.population_start)
    assert p.incentive_rp_month == 3_150_000 and p.untrained_share_2023 == 0.41
    assert p.quota_by_year == {y: 88000 for y in range(2021, 2031)}


def test_official_profile_matches_the_csvs() -> None:
    p = load_profile("official")
    _, pkh2021 = _csv_row("program_recipients.csv", year="2021", region="Kabupaten Bekasi")
    assert p.families_total == int(pkh2021["kpm_families"]) == 72554
    assert p.facilitators_total == 354 and p.pkh_share == 1.0 and p.sembako_share == 1.0
    assert (p.districts["kpm_pkh"] == p.districts["kpm_families"]).all()
    for year in (2021, 2022, 2023):
        _, row = _csv_row("program_recipients.csv", year=str(year), region="Kabupaten Bekasi")
        assert p.quota_by_year[year] == int(row["kpm_families"])
    assert p.quota_by_year[2030] == p.quota_by_year[2023] and max(p.quota_by_year) == 2030
    line, bps2021 = _csv_row("bps_poverty_series.csv", year="2021", region="Kabupaten Bekasi")
    assert p.poverty_rate_start_pct == float(bps2021["poverty_rate_pct"])
    assert p.poor_people_start == int(bps2021["poor_people"])
    assert p.population_start == round(202700 / 0.0521)
    assert f"line {line}" in p.sources["poverty_rate_start_pct"]
    shares = p.districts["kpm_families"] / p.families_total
    assert np.allclose(shares, p.districts["population_share"], atol=1e-4)  # spread by population


def test_poverty_targets(profile: Profile) -> None:
    t = poverty_targets(profile)
    assert list(t.columns) == ["year", "poverty_rate_pct", "poor_people", "source"]
    assert t["year"].iloc[0] == profile.start_year
    assert t["poverty_rate_pct"].iloc[0] == profile.poverty_rate_start_pct
    assert t["poor_people"].iloc[0] == profile.poor_people_start
    if profile.name == "official":
        for row in t.itertuples():
            line, bps = _csv_row("bps_poverty_series.csv", year=str(row.year), region="Kabupaten Bekasi")
            assert row.poverty_rate_pct == float(bps["poverty_rate_pct"]) and row.poor_people == int(bps["poor_people"])
            assert f"line {line}" in str(row.source)
    else:
        assert t["poor_people"].iloc[-1] == 172400 and t["year"].iloc[-1] == 2023


def test_every_figure_has_a_source(profile: Profile) -> None:
    figures = (
        "families_total",
        "facilitators_total",
        "pkh_share",
        "sembako_share",
        "population_start",
        "start_year",
        "poverty_rate_start_pct",
        "poor_people_start",
        "incentive_rp_month",
        "untrained_share_2023",
        "quota_by_year",
        "districts",
    )
    for key in figures:
        assert profile.sources.get(key, "").strip(), key
    assert 2 <= profile.description.count(". ") + 1 <= 4
    assert profile.districts["spread_rule"].str.len().gt(0).all()


# --- errors -------------------------------------------------------------------------------


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A private copy of sim/data to corrupt."""
    return Path(shutil.copytree(DATA_DIR, tmp_path / "data"))


def _set_cell(path: Path, line: int, column: str, value: str) -> None:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    rows[line - 1][rows[0].index(column)] = value
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)


@pytest.mark.parametrize(
    ("fname", "line", "column", "value", "expected"),
    [
        ("kecamatan_codes.csv", 5, "kemendagri_code", "32.1x.04", "expected a code like 32.16.NN, got '32.1x.04'"),
        ("kecamatan_codes.csv", 4, "kemendagri_code", "32.16.01", "not used before"),
        ("kecamatan_codes.csv", 7, "centroid_lat", "-7.2", "latitude in [-6.6, -5.8]"),
        ("kecamatan_codes.csv", 9, "centroid_lng", "east", "longitude in [106.8, 107.4]"),
        ("kecamatan_codes.csv", 3, "polygon_area_km2_derived", "-4", "a number > 0"),
        ("villages.csv", 40, "kecamatan_code", "32.16.99", "listed in kecamatan_codes.csv"),
        ("districts_population.csv", 3, "population", "abc", "an integer >= 0, got 'abc'"),
        ("districts_population.csv", 11, "area_km2", "-3.5", "a number > 0"),
        ("districts_population_long.csv", 2, "code", "32.16.24", "listed in kecamatan_codes.csv"),
        ("voters_2024_partial.csv", 4, "dpt_voters_pemilu2024", "-172246", "an integer >= 0"),
        ("voters_2024_partial.csv", 6, "code", "32.16.77", "listed in kecamatan_codes.csv"),
        ("bps_poverty_series.csv", 8, "poor_people", "202.7k", "an integer >= 0"),
    ],
)
def test_bad_cell_names_file_line_and_column(data: Path, fname: str, line: int, column: str, value: str, expected: str) -> None:
    _set_cell(data / fname, line, column, value)
    with pytest.raises(DataError) as err:
        load_districts(data)
    msg = str(err.value)
    assert f"{data / fname} line {line}, column '{column}'" in msg
    assert expected in msg


def test_message_matches_the_documented_form(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(data.parent)  # paths are shown relative to the working directory
    _set_cell(data / "kecamatan_codes.csv", 5, "kemendagri_code", "32.1x.04")
    with pytest.raises(DataError) as err:
        load_districts(data)
    assert str(err.value) == (
        "data/kecamatan_codes.csv line 5, column 'kemendagri_code': expected a code like 32.16.NN, got '32.1x.04'"
    )


def test_blank_line_keeps_line_numbers(data: Path) -> None:
    path = data / "voters_2024_partial.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join([*lines[:9], "\n", *lines[9:]]), encoding="utf-8")
    with pytest.raises(DataError, match=r"voters_2024_partial.csv line 10, column 'code'"):
        load_districts(data)


def test_missing_file_and_column(data: Path) -> None:
    (data / "voters_2024_partial.csv").unlink()
    with pytest.raises(DataError, match=r"voters_2024_partial\.csv: file not found"):
        load_districts(data)
    shutil.copy(DATA_DIR / "voters_2024_partial.csv", data)
    text = (data / "villages.csv").read_text(encoding="utf-8")
    (data / "villages.csv").write_text(text.replace("kecamatan_code,", "kec,", 1), encoding="utf-8")
    with pytest.raises(DataError, match=r"villages.csv line 1, column 'kecamatan_code': expected a column"):
        load_districts(data)


def test_not_23_kecamatan(data: Path) -> None:
    path = data / "kecamatan_codes.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:-1]), encoding="utf-8")
    with pytest.raises(DataError, match="expected exactly 23 kecamatan rows, got 22"):
        load_districts(data)


def _edit_toml(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "total = { value = 88000,",
            'total = { value = "88k",',
            "paper-2023.toml: key 'families.total': expected an integer > 0, got '88k'",
        ),
        (
            "pkh_share = { value = 0.824477,",
            "pkh_share = { value = 1.3,",
            "key 'families.pkh_share': expected a number in [0, 1], got '1.3'",
        ),
        (
            'kpm = { value = 20500, source = "',
            'kpm = { value = 20500, sauce = "',
            "key 'families.fixed[0].kpm.source': expected the key to be present",
        ),
        (
            "incentive_rp_month = {",
            "incentive_rp_month_typo = {",
            "key 'facilitators.incentive_rp_month': expected the key to be present",
        ),
        ("year = 2023\n", "year = 2023.0\n", "key 'targets[1].year': expected a year"),
    ],
)
def test_bad_toml_names_file_and_key(data: Path, old: str, new: str, expected: str) -> None:
    path = data / "profiles" / "paper-2023.toml"
    _edit_toml(path, old, new)
    with pytest.raises(DataError) as err:
        p = load_profile("paper-2023", data_dir=data)
        poverty_targets(p, data_dir=data)
    assert str(path) in str(err.value) and expected in str(err.value)


def test_unknown_profile_lists_valid_names() -> None:
    with pytest.raises(DataError, match=r"unknown profile 'bps'.*paper-2023, official"):
        load_profile("bps")


@pytest.mark.parametrize("scale", [0.0, 0.01, -1.0, 2.5, float("nan")])
def test_scale_out_of_range(scale: float) -> None:
    with pytest.raises(ValueError, match=r"profile 'official': scale( = .* is out of range: valid range is \[0.05, 2.0\]|: expected a finite)"):
        load_profile("official", scale=scale)


def test_smallest_scale_keeps_one_family_per_district_and_every_facilitator() -> None:
    p = load_profile("paper-2023", scale=0.05)
    assert (p.districts["facilitators"] >= 1).all() and (p.districts["kpm_families"] >= 1).all()
    assert p.facilitators_total == 354 and p.families_total == 4400  # facilitators are never scaled


def test_profile_files_parse_and_no_boundaries_copied() -> None:
    for name in PROFILE_NAMES:
        with open(DATA_DIR / "profiles" / f"{name}.toml", "rb") as f:
            assert tomllib.load(f)["name"] == name
    assert not list(DATA_DIR.rglob("*.geojson"))
