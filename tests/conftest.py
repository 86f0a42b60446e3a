"""Shared helpers for the model tests: small, seeded runs of CaseloadModel."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from sim.districts import DATA_DIR
from sim.model import CaseloadModel

#: scale of the default suite: about 8,800 families and 35 facilitators (paper-2023)
SMALL_SCALE = 0.1

Setup = Callable[[CaseloadModel], object]


def run_model(
    seed: int = 1,
    months: int = 24,
    scale: float = SMALL_SCALE,
    setup: Setup | None = None,
    **kwargs: object,
) -> CaseloadModel:
    """Build a model, let ``setup`` change it before the first step, and run ``months`` steps."""
    model = CaseloadModel(scale=scale, rng=seed, **kwargs)  # type: ignore[arg-type]
    if setup is not None:
        setup(model)
    for _ in range(months):
        model.step()
    return model


@pytest.fixture
def run() -> Callable[..., CaseloadModel]:
    """``run(seed, months=24, scale=0.1, setup=None, **model_kwargs)`` -> the stepped model."""
    return run_model


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A private copy of sim/data (CSVs and profiles) that a test may corrupt."""
    dest = tmp_path / "data"
    shutil.copytree(DATA_DIR, dest)
    return dest
