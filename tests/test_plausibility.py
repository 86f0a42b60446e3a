"""Profile plausibility and population growth (issue 6 section 4).

KPM persons may be at most a documented share of a kecamatan's population (sim/profiles.py
MAX_KPM_PERSON_SHARE, 40%: the Unified Database from which KPM are chosen covers the 40% of
people with the lowest welfare). Before: paper-2023 put 20,500 KPM x 4 persons in Pebayuran,
78% of its people (24.5% poverty at the start), and grew its population 3.2% a year although
its own note holds it constant.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim.districts import PROFILE_NAMES, DataError
from sim.model import CaseloadModel
from sim.profiles import MAX_KPM_PERSON_SHARE, load_profile


@pytest.mark.parametrize("name", ["paper-2023", "official"])
def test_default_profiles_pass_the_plausibility_check(name: str) -> None:
    p = load_profile(name)
    people = p.population_start * p.districts["population_share"]
    share = p.districts["kpm_families"] * 4 / people
    assert share.max() <= MAX_KPM_PERSON_SHARE
    assert "plausibility" in p.sources


def test_paper_reads_the_two_kecamatan_together() -> None:
    d = load_profile("paper-2023").districts.set_index("code")
    both = int(d.loc["32.16.06", "kpm_families"] + d.loc["32.16.13", "kpm_families"])
    assert both == 20_500  # "Kedua wilayah ini tercatat memiliki lebih dari 20.000 KPM", together
    assert int(d["kpm_families"].sum()) == 88_000
    assert int(d["facilitators"].sum()) == 354
    # split by population: Pebayuran's KPM persons a plausible share of its people
    p = load_profile("paper-2023")
    peb = d.loc["32.16.13"]
    assert peb["kpm_families"] * 4 / (p.population_start * peb["population_share"]) < 0.2


def test_pebayuran_starts_at_a_plausible_poverty_rate() -> None:
    m = CaseloadModel(scale=0.25, rng=1)
    d = m.district_table().set_index("code")
    assert float(d.loc["32.16.13", "poverty_rate_pct"]) < 15.0  # was 24.5%


def test_implausible_profile_is_refused_naming_file_and_district(data_copy: Path) -> None:
    """The other reading (each kecamatan > 20,000 KPM) without the sensitivity override fails."""
    path = data_copy / "profiles" / "paper-2023-each.toml"
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"\[plausibility\]\nmax_kpm_person_share = \{[^\n]*\}\n", "", text)
    assert "max_kpm_person_share" not in text
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=r"paper-2023-each\.toml: kecamatan 32\.16\.13 Pebayuran: 20,500 KPM.*at most 40%"):
        load_profile("paper-2023-each", data_dir=data_copy)


def test_other_reading_is_a_runnable_sensitivity_scenario() -> None:
    from runs.scenario import load_any

    assert "paper-2023-each" in PROFILE_NAMES
    sc = load_any("paper-each-district")
    assert sc.profile == "paper-2023-each"
    d = load_profile("paper-2023-each").districts.set_index("code")
    assert int(d.loc["32.16.13", "kpm_families"]) == 20_500
    assert int(d.loc["32.16.06", "kpm_families"]) == 21_000


def test_paper_population_is_held_constant_official_grows() -> None:
    m = CaseloadModel(scale=0.1, rng=1)
    for _ in range(24):
        m.step()
    pop = m.regency_table()["population"]
    assert pop.iloc[-1] == pytest.approx(pop.iloc[0])  # was +6.5% over two years
    assert m.parameters()["population_growth_year"] == 0.0
    o = CaseloadModel(profile="official", scale=0.1, rng=1)
    for _ in range(24):
        o.step()
    popo = o.regency_table()["population"]
    assert popo.iloc[-1] / popo.iloc[0] == pytest.approx(1.0315**2, rel=1e-3)
    # an explicit parameter still wins (sweeps, trend-off tests)
    e = CaseloadModel(scale=0.1, rng=1, population_growth_year=0.05)
    assert e.population_growth_year == 0.05
