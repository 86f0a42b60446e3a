"""Summary statistics of a simulation that calibration targets name, and the simulator.

A target names a statistic of this registry, a month ``at`` ("YYYY-MM") and, for flows, a
window of ``window`` months ending there. Two kinds:

  table  computed from the regency table (sim.metrics columns), e.g. the poverty rate
         on the row dated ``at`` (the state after the month before ``at``: the row dated
         2018-03-01 is the state at the start of March 2018, matched to BPS's March survey);
  state  computed from the facilitator posts (sim.state.PostState) on that date, captured
         while stepping, e.g. the correlation of caseload and burnout across facilitators.

Everything reads columns by name, so a model change that keeps the names keeps the
statistics; a missing column is an error naming it (``StatisticError``).
``simulate(setup, overrides, seed)`` builds the model, steps to the last date any target
needs and returns every statistic plus the regency table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

HIGH_EXHAUSTION = 0.3  # [A] burnout B above which a facilitator counts as highly exhausted (see ODD 7)
BURNED_OUT = 0.5       # as sim.metrics.BURNED_OUT: MBI "burnout" prevalence is matched to B > 0.5
UNTRAINED_MONTHS = 24  # "without advanced training since 2021", asked in 2023: no course in 24 months


class StatisticError(ValueError):
    """A statistic cannot be computed from the model's outputs (a column or state is missing)."""


@dataclass(frozen=True)
class Statistic:
    """A named summary statistic: its kind (table | state), unit, description and function."""

    name: str
    kind: str
    unit: str
    description: str
    fn: Callable[..., float]


def _col(reg: pd.DataFrame, col: str) -> pd.Series:
    if col not in reg.columns:
        raise StatisticError(f"the regency table has no column '{col}' (sim.metrics changed?)")
    return reg[col]


def _rows(reg: pd.DataFrame, at: str, window: int) -> pd.DataFrame:
    """Rows of the ``window`` months ending at the row dated ``at`` (flows of those months)."""
    dates = pd.to_datetime(_col(reg, "date"))
    end = pd.Timestamp(f"{at}-01")
    sel = (dates > end - pd.DateOffset(months=window)) & (dates <= end)
    rows = reg[sel.to_numpy() & (_col(reg, "step") > 0).to_numpy()]
    if rows.empty:
        raise StatisticError(f"no simulated month up to {at}")
    return rows


def _at(reg: pd.DataFrame, at: str, col: str) -> float:
    return float(_col(_rows(reg, at, 1), col).iloc[-1])


def _rate(reg: pd.DataFrame, at: str, window: int, flow: str, stock: str) -> float:
    r = _rows(reg, at, window)
    return float(_col(r, flow).sum() / max(float(_col(r, stock).mean()), 1e-9) * 12.0 / len(r))


def _people(reg: pd.DataFrame, at: str, col: str) -> float:
    """A count on the row dated ``at``; sim.metrics reports family counts at full regency scale."""
    return float(_col(_rows(reg, at, 1), col).iloc[-1])


def _mean(reg: pd.DataFrame, at: str, window: int, col: str) -> float:
    return float(_col(_rows(reg, at, window), col).mean())


def _vacancy_months(reg: pd.DataFrame, at: str, window: int) -> float:
    # Little's law: mean time a post stays vacant = mean vacancies / mean hires per month
    r = _rows(reg, at, window)
    hires = float(_col(r, "hires").mean())
    return float(_col(r, "vacancies").mean()) / hires if hires > 0 else 0.0


def _posts(model: Any) -> tuple[Any, np.ndarray]:
    ps = getattr(model, "posts", None)
    if ps is None or not hasattr(ps, "filled"):
        raise StatisticError("the model has no facilitator posts (model.posts.filled)")
    return ps, np.asarray(ps.filled, dtype=bool)


def _state_share(model: Any, attr: str, above: float) -> float:
    ps, f = _posts(model)
    if not hasattr(ps, attr):
        raise StatisticError(f"the facilitator posts have no column '{attr}'")
    x = np.asarray(getattr(ps, attr))[f]
    return float((x > above).mean()) if x.size else 0.0


def _untrained(model: Any) -> float:
    ps, f = _posts(model)
    # new hires (tenure below the window) count as untrained, as in the survey's "since 2021"
    m = np.asarray(ps.months_since_training)[f]
    return float((m >= UNTRAINED_MONTHS).mean()) if m.size else 0.0


def _gradient(model: Any) -> float:
    """Pearson correlation of caseload and burnout across serving facilitators."""
    ps, f = _posts(model)
    c = np.asarray(ps.caseload, dtype=float)[f]
    b = np.asarray(ps.burnout, dtype=float)[f]
    if c.size < 3 or c.std() == 0 or b.std() == 0:
        return 0.0
    return float(np.corrcoef(c, b)[0, 1])


STATISTICS: dict[str, Statistic] = {s.name: s for s in (
    Statistic("poverty_rate_pct", "table", "%", "BPS poverty rate on the date (regency)",
              lambda reg, at, w: _at(reg, at, "poverty_rate_pct")),
    Statistic("poor_people", "table", "persons", "poor people on the date (regency, full scale)",
              lambda reg, at, w: _at(reg, at, "poor_people")),
    Statistic("pkh_families", "table", "families", "KPM families enrolled on the date, full scale "
              "(the official profile's families are its PKH count)",
              lambda reg, at, w: _people(reg, at, "families")),
    Statistic("graduation_rate_year", "table", "/year", "graduations per enrolled family per year over the window",
              lambda reg, at, w: _rate(reg, at, w, "graduations", "families")),
    Statistic("exit_rate_year", "table", "/year", "exits other than graduation (natural exits and quota cuts) "
              "per enrolled family per year over the window",
              lambda reg, at, w: _rate(reg, at, w, "exits", "families")),
    Statistic("attrition_rate_year", "table", "/year", "facilitator quits per facilitator per year over the window",
              lambda reg, at, w: _rate(reg, at, w, "quits", "facilitators")),
    Statistic("vacancy_months", "table", "months", "mean time a post stays vacant over the window "
              "(Little's law: mean vacancies / mean hires per month)",
              lambda reg, at, w: _vacancy_months(reg, at, w)),
    Statistic("admin_share", "table", "fraction", "share of available working time spent on administration, "
              "mean over the window", lambda reg, at, w: _mean(reg, at, w, "share_time_admin")),
    Statistic("burnout_share", "table", "fraction", "share of facilitators with burnout B > 0.5, mean over the window",
              lambda reg, at, w: _mean(reg, at, w, "share_burned_out")),
    Statistic("high_exhaustion_share", "state", "fraction",
              f"share of facilitators with burnout B > {HIGH_EXHAUSTION} on the date (assumed mapping of MBI "
              "high emotional exhaustion)", lambda model: _state_share(model, "burnout", HIGH_EXHAUSTION)),
    Statistic("untrained_share", "state", "fraction",
              f"share of serving facilitators without an advanced course in the last {UNTRAINED_MONTHS} months",
              _untrained),
    Statistic("caseload_burnout_corr", "state", "r", "Pearson correlation of caseload and burnout across "
              "serving facilitators on the date", _gradient),
)}


@dataclass(frozen=True)
class Setup:
    """What every simulation of a calibration runs: profile, start month, months, scale, policies."""

    profile: str
    start: str
    months: int
    scale: float
    parameters: tuple[tuple[str, Any], ...] = ()   # fixed overrides (from the target file)

    def date_of(self, k: int) -> str:
        y, m = (int(x) for x in self.start.split("-"))
        t = y * 12 + m - 1 + k
        return f"{t // 12:04d}-{t % 12 + 1:02d}"


@dataclass(frozen=True)
class Wanted:
    """One statistic to compute: name, date and window (months)."""

    key: str
    statistic: str
    at: str
    window: int = 12


def simulate(setup: Setup, wanted: tuple[Wanted, ...], overrides: dict[str, Any], seed: int,
             keep_table: bool = False) -> tuple[dict[str, float], pd.DataFrame | None]:
    """Run the model once and return {key: value} for every wanted statistic (and the regency table)."""
    from sim.model import CaseloadModel

    model = CaseloadModel(profile=setup.profile, scale=setup.scale, start=setup.start, rng=int(seed),
                          **{**dict(setup.parameters), **overrides})
    by_date: dict[str, list[Wanted]] = {}
    for w in wanted:
        if STATISTICS[w.statistic].kind == "state":
            by_date.setdefault(w.at, []).append(w)
    out: dict[str, float] = {}
    for k in range(1, setup.months + 1):
        model.step()
        for w in by_date.get(setup.date_of(k), ()):
            out[w.key] = STATISTICS[w.statistic].fn(model)
    reg = model.regency_table()
    for w in wanted:
        st = STATISTICS[w.statistic]
        if st.kind == "table":
            out[w.key] = st.fn(reg, w.at, w.window)
        elif w.key not in out:
            raise StatisticError(f"statistic '{w.key}': date {w.at} is not simulated ({setup.start} + {setup.months} months)")
    return {k: float(v) for k, v in out.items()}, (reg if keep_table else None)
