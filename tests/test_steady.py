"""A steady start (issue 6 section 3): with every trend off and no policy, indicators stay flat.

Trends off means the four parameters that move the regency on their own: population growth,
the trend of the poor outside the programme, macro consumption growth and the consumption
growth that behaviour brings (the programme's own poverty effect, whose size is for
calibration). Any slope left is start-up drift: shocks starting at 0, an unthinned top tail
of families, skills and behaviour relaxing from arbitrary draws, vacancies starting at 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import warmup
from sim.model import CaseloadModel

TRENDS_OFF = {
    "population_growth_year": 0.0,
    "nonkpm_poor_trend_year": 0.0,
    "welfare_growth_macro_year": 0.0,
    "welfare_growth_behaviour_year": 0.0,
}
SEEDS = (1, 2, 3, 4)
SCALE = 0.25
MONTHS = 36

#: largest change over months 1..36 allowed for the fitted line (slope x 35), per indicator:
#: relative to the indicator's mean over the run, or absolute (a, for counts and rates near 0).
#: Before the steady start (seeds 1-2, full scale): behaviour -25%, psychosocial skill -23%,
#: technical skill -14%, graduations -60%, vacancies 0 -> 38, poverty 6.22 -> 5.93 (trends
#: off except behaviour growth) or 6.37% (as filed).
TOLERANCE: dict[str, tuple[str, float]] = {
    "poverty_rate_pct": ("a", 0.10),        # percentage points
    "behaviour_mean": ("r", 0.06),
    "skill_psychosocial_mean": ("r", 0.05),
    "skill_technical_mean": ("r", 0.05),
    "motivation_mean": ("r", 0.05),
    "compliance_rate": ("r", 0.03),
    "caseload_mean": ("r", 0.04),
    # visits and burnout: measured +3% and -0.3% (they were +10% and -4% while new families
    # were still placed by the initial kecamatan shares, issue 6 section 4)
    "visits_per_family": ("r", 0.08),
    "share_unvisited_3m": ("r", 0.05),
    "burnout_mean": ("r", 0.05),
    "vacancies": ("a", 8.0),                # posts (354 in all)
    "graduations": ("r", 0.15),             # families a month, noisy: measured -2% (was -60%)
}


@pytest.fixture(scope="module")
def mean_run() -> pd.DataFrame:
    tables = []
    for seed in SEEDS:
        m = CaseloadModel(scale=SCALE, rng=seed, **TRENDS_OFF)
        for _ in range(MONTHS):
            m.step()
        tables.append(m.regency_table().set_index("step")[list(TOLERANCE)])
    return sum(tables) / len(tables)


@pytest.mark.parametrize("name", list(TOLERANCE))
def test_indicator_flat_from_month_1(mean_run: pd.DataFrame, name: str) -> None:
    y = mean_run.loc[1:MONTHS, name].to_numpy(dtype=float)
    x = np.arange(1, MONTHS + 1, dtype=float)
    change = float(np.polyfit(x, y, 1)[0]) * (MONTHS - 1)
    kind, tol = TOLERANCE[name]
    limit = tol * abs(float(y.mean())) if kind == "r" else tol
    assert abs(change) <= limit, f"{name}: fitted change {change:+.4f} over months 1-36, limit {limit:.4f}"


def test_start_has_vacancies_and_no_jump(mean_run: pd.DataFrame) -> None:
    # a stationary workforce has posts waiting for their recruitment lag at the start
    assert mean_run.loc[0, "vacancies"] > 10
    assert abs(mean_run.loc[1, "poverty_rate_pct"] - mean_run.loc[0, "poverty_rate_pct"]) < 0.05


def test_shocks_start_at_their_stationary_spread() -> None:
    m = CaseloadModel(scale=SCALE, rng=7, **TRENDS_OFF)
    fam = m.families
    act = fam.active
    sd0 = float(fam.shock[act].std())
    expected = warmup.shock_sd(m.p)
    assert sd0 == pytest.approx(expected, rel=0.05)  # was 0 before the fix
    for _ in range(12):
        m.step()
    assert float(fam.shock[fam.active].std()) == pytest.approx(expected, rel=0.05)


def test_months_above_consistent_with_welfare() -> None:
    m = CaseloadModel(scale=SCALE, rng=3)
    fam = m.families
    act = fam.active
    above = fam.welfare[act] >= m.p["graduation_threshold"]
    ma = fam.months_above[act]
    assert np.all(ma[~above] == 0)
    assert np.all(ma[above] >= 1)


def test_start_state_is_the_same_in_every_scenario() -> None:
    """Warm-up runs before any policy: replicate i of every scenario starts from one state."""
    from sim.policies import build_policies

    pol = build_policies({"caseload_cap": {}, "supervision": {}, "regional_incentive": {}})
    a = CaseloadModel(scale=0.1, rng=5)
    b = CaseloadModel(scale=0.1, rng=5, policies=pol)
    assert np.array_equal(a.posts.burnout, b.posts.burnout)
    assert np.array_equal(a.families.log_perm, b.families.log_perm)
