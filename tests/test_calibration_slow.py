"""Slow: coverage of the calibration's 90% intervals over 20 synthetic truths (SBC, Talts et al. 2018).

Tolerance: with 20 truths x 2 parameters the overall coverage must be at least 0.75 (the
nominal 0.90 minus about two binomial standard errors of 40 Bernoulli draws, 0.047 each);
seeds fixed in benchmarks/coverage_calibration.py (seed 7).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))


@pytest.mark.slow
def test_ninety_percent_intervals_cover_about_ninety_percent_of_truths() -> None:
    from coverage_calibration import coverage

    df = coverage(20, jobs=2, verbose=False)
    assert len(df) == 40
    assert df["covered"].mean() >= 0.75, df.groupby("parameter")["covered"].mean().to_dict()
