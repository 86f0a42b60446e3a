"""Scale neutrality (issue 6 section 5): a run at scale 0.25 estimates the full-scale run.

``scale`` is the share of KPM families simulated; facilitators are never scaled, so small
runs keep every kecamatan's staffing, vacancies and caseloads (docs/ODD.md 2.5). Before, at
scale 0.1 burnout was 0.41 against 0.35 at full scale, visits 0.09 against 0.13, and the
share of facilitators above 1:150 under cap-150 50% against 11%.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from runs.runner import run_scenario
from runs.scenario import load_any
from sim.model import CaseloadModel

SEEDS = (1, 2, 3)
MONTHS = 36
#: regency indicators compared (means of the last 12 months over SEEDS); tolerance 5%
INDICATORS = ("poverty_rate_pct", "caseload_mean", "burnout_mean", "visits_per_family", "share_unvisited_3m",
              "behaviour_mean", "facilitators", "cost_rp_month", "families")
TOL = 0.05


def _tail(scenario: str, scale: float) -> pd.Series:
    sc = load_any(scenario)
    rows = []
    for seed in SEEDS:
        reg = run_scenario(sc, seed=seed, months=MONTHS, scale=scale).regency
        rows.append(reg[reg["step"] > MONTHS - 12][list(INDICATORS)].mean())
    return pd.concat(rows, axis=1).mean(axis=1)


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["baseline", "cap-150"])
def test_quarter_scale_estimates_full_scale(scenario: str) -> None:
    small, full = _tail(scenario, 0.25), _tail(scenario, 1.0)
    ratio = small / full
    bad = ratio[(ratio - 1).abs() > TOL]
    assert bad.empty, f"{scenario}: scale 0.25 / full scale outside 1 +- {TOL}: {bad.round(3).to_dict()}"


def test_facilitators_are_never_scaled() -> None:
    full = CaseloadModel(scale=1.0, rng=1)
    for scale in (0.05, 0.1, 0.25):
        m = CaseloadModel(scale=scale, rng=1)
        assert int(m.posts.open.sum()) == int(full.posts.open.sum()) == 354
        d_full = np.bincount(full.posts.district[full.posts.open], minlength=23)
        assert np.array_equal(np.bincount(m.posts.district[m.posts.open], minlength=23), d_full)
        assert m.family_weight == pytest.approx(1 / scale)
        # caseloads are at regency scale: about the full-scale caseloads
        assert float(m.posts.caseload[m.posts.filled].mean()) == pytest.approx(
            float(full.posts.caseload[full.posts.filled].mean()), rel=0.03)


def test_every_count_of_the_regency_table_is_at_regency_scale() -> None:
    m = CaseloadModel(scale=0.1, rng=2)
    for _ in range(3):
        m.step()
    row = m.regency_table().iloc[-1]
    assert row["families"] == pytest.approx(88_000, rel=0.01)   # not 8,800
    assert row["families_simulated"] == pytest.approx(8_800, rel=0.01)
    assert row["facilitators"] + row["vacancies"] == 354
    assert row["kpm_persons"] == pytest.approx(row["families"] * 4)
    assert row["cost_rp_month"] > 1e9  # 354 facilitators' pay, not a tenth of it
    districts = m.district_table()
    last = districts[districts["step"] == 3]
    assert last["families"].sum() == pytest.approx(row["families"])
    assert last["facilitators"].sum() == row["facilitators"]


def test_small_scale_burnout_and_visits_match_full_scale_roughly() -> None:
    """Fast version of the slow test: one seed, 12 months, scale 0.1 vs 1.0 within 10%."""
    a = CaseloadModel(scale=0.1, rng=4)
    b = CaseloadModel(scale=1.0, rng=4)
    for _ in range(12):
        a.step()
        b.step()
    ta, tb = a.regency_table().iloc[1:], b.regency_table().iloc[1:]
    for name in ("burnout_mean", "visits_per_family", "caseload_mean"):
        assert ta[name].mean() == pytest.approx(tb[name].mean(), rel=0.10), name
