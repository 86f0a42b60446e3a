"""Individual variation in burnout (issue 6 section 4): prevalence is a distribution.

Before, burnout depended only on the load, so at a 1:150 caseload exactly 0% of facilitators
were burned out (B > 0.5), against a pooled 20% (95% CI 13-27%) MBI burnout prevalence among
social-service social workers (J Soc Serv Res 2024, doi 10.1080/01488376.2024.2371847).
Here every filled post carries the same caseload for 60 months (no quits), so the burned-out
share is the stationary one of the traits at that caseload.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.metrics import BURNED_OUT
from sim.model import CaseloadModel
from sim.processes import timebudget, workforce

SEEDS = (1, 2, 3)


def _burnout_at(caseload: float, seed: int, **kw: float) -> np.ndarray:
    m = CaseloadModel(scale=0.05, rng=seed, **kw)  # type: ignore[arg-type]
    ps = m.posts
    f = ps.filled.copy()

    def fixed() -> None:
        ps.caseload[:] = np.where(ps.filled, caseload, 0.0)

    m.refresh_caseload = fixed  # type: ignore[method-assign]
    for _ in range(60):
        timebudget.step(m)
        ps.burnout[:] = np.where(f, workforce.burnout_next(m, ps.burnout), 0.0)
    return ps.burnout[f]


def test_burned_out_share_at_1_150_and_at_the_papers_caseload_is_between_bounds() -> None:
    """The 20% (13-27%) prevalence is that of social workers at their usual loads; here:

    - at 1:150 (the programme's ideal, load ratio ~0.86, below the overload threshold) burnout
      is a distribution (seeds 1-3: mean 0.07, s.d. 0.065, 5th-95th percentile 0.015-0.19;
      was one value, s.d. < 0.006) and the burned-out share at most the sourced lower bound 13%
      (seeds 1-3: 0.3%; was exactly 0);
    - at 1:250 (the paper's mean caseload) the share is within the sourced 13-27%, widened
      to 40% above (the paper's loads are above the usual): seeds 1-3 give 25%.
    """
    b150 = np.concatenate([_burnout_at(150, s) for s in SEEDS])
    assert float(b150.std()) > 0.03
    p5, p50, p95 = np.percentile(b150, [5, 50, 95])
    assert p95 > 2 * p50 > 0 and p5 < 0.5 * p50
    assert float((b150 > BURNED_OUT).mean()) <= 0.13
    b250 = np.concatenate([_burnout_at(250, s) for s in SEEDS])
    assert 0.13 <= float((b250 > BURNED_OUT).mean()) <= 0.40


def test_without_the_spread_nobody_is_burned_out_at_1_150() -> None:
    none = {"burnout_susceptibility_sd": 0.0, "burnout_threshold_sd": 0.0, "burnout_recovery_sd": 0.0}
    b = _burnout_at(150, 1, **none)
    assert float((b > BURNED_OUT).mean()) == 0.0
    assert float(b.std()) < 0.02  # everyone at one value: the defect the spread fixes


def test_caseload_burnout_gradient_is_positive() -> None:
    means, shares = [], []
    for c in (100, 150, 200, 250, 300):
        b = np.concatenate([_burnout_at(c, s) for s in SEEDS])
        means.append(float(b.mean()))
        shares.append(float((b > BURNED_OUT).mean()))
    assert np.all(np.diff(means) > 0), means
    assert np.all(np.diff(shares) >= 0) and shares[-1] > shares[1], shares


def test_traits_are_drawn_for_new_hires_with_mean_one() -> None:
    m = CaseloadModel(scale=0.1, rng=9)
    ps = m.posts
    f = ps.filled
    assert float(ps.susceptibility[f].std()) > 0.3
    assert float(np.exp(np.log(ps.susceptibility[f]).mean() + 0.5 * 0.6**2)) == pytest.approx(1.0, abs=0.15)
    assert ps.overload_threshold[f].min() >= 0.5 and ps.overload_threshold[f].max() <= 1.5
