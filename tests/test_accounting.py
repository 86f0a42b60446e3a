"""Poverty accounting: moving in or out of the programme neither creates nor loses a poor person.

The tests follow every entrant and every leaver of a run individually. Every enrolment ends
in ``population.create_family_handles`` and every departure goes through
``population.remove_families``; when each returns, the family's row holds its final state and
the pool of poor people outside the programme (``model.nonkpm_poor``) has been updated. A
probe wraps both and reads, for each mover, its welfare *before* transfers, exp(log_perm + shock) (the same
person inside and outside the programme; only the transfer differs). Across every single
move, the outside pool of each kecamatan must change by exactly household_size persons per
mover who is poor before transfers: out of it for an entrant, back into it for a leaver.

Runs: paper-2023 profile, scale 0.25 (about 22,000 families), 36 months, seed 2021, the
baseline and the cap-150 scenario (which draws many more graduates and so more entrants).
Tolerance: 1e-6 persons per move (float64 pool, integer flows).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from runs.scenario import load
from sim import population
from sim.model import CaseloadModel, InvariantError

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
SEED = 2021
SCALE = 0.25
MONTHS = 36


class MoveProbe:
    """A no-op 'policy' before the families phase: remembers the outside pool before families move."""

    name = "move-probe"
    phase = "families"
    when = "before"

    def __init__(self) -> None:
        self.pool: np.ndarray | None = None
        self.errors: list[float] = []       # |pool change - expected| of each move, persons
        self.entrants = 0
        self.entrants_poor_pre = 0
        self.entrants_poor_post = 0
        self.leavers = 0
        self.leavers_poor_pre = 0
        self.negative_pool = 0

    def setup(self, model: CaseloadModel) -> None:
        pass

    def apply(self, model: CaseloadModel) -> None:
        self.pool = np.array(model.nonkpm_poor, dtype=np.float64)

    def moved(self, model: CaseloadModel, rows: np.ndarray, sign: int) -> None:
        """``rows`` entered (sign -1: they leave the outside pool) or left (sign +1)."""
        if self.pool is None:  # initial families, before the first month
            return
        fam = model.families
        hh = model.p["household_size"]
        poor_pre = np.exp(fam.log_perm[rows] + fam.shock[rows]) < 1.0
        expected = sign * hh * np.bincount(fam.district[rows][poor_pre], minlength=model.n_districts)
        now = np.array(model.nonkpm_poor, dtype=np.float64)
        self.errors.append(float(np.abs((now - self.pool) - expected).max()))
        self.negative_pool += int((now < 0).sum())
        self.pool = now
        if sign < 0:
            self.entrants += rows.size
            self.entrants_poor_pre += int(poor_pre.sum())
            self.entrants_poor_post += int((fam.welfare[rows] < 1.0).sum())
        else:
            self.leavers += rows.size
            self.leavers_poor_pre += int(poor_pre.sum())


@pytest.fixture
def probe(monkeypatch: pytest.MonkeyPatch) -> MoveProbe:
    """A MoveProbe wired to every enrolment and removal of families (sim.population)."""
    p = MoveProbe()
    create = population.create_family_handles
    remove = population.remove_families

    def create_family_handles(model: CaseloadModel, rows: np.ndarray) -> None:
        create(model, rows)
        p.moved(model, np.asarray(rows, dtype=np.int64), -1)

    def remove_families(model: CaseloadModel, rows: np.ndarray) -> None:
        remove(model, rows)
        if rows.size:
            p.moved(model, np.asarray(rows, dtype=np.int64), +1)

    monkeypatch.setattr(population, "create_family_handles", create_family_handles)
    monkeypatch.setattr(population, "remove_families", remove_families)
    return p


def _run(scenario: str, probe: Any, setup: Callable[[CaseloadModel], None] | None = None) -> CaseloadModel:
    kwargs = load(SCENARIOS / f"{scenario}.toml").model_kwargs()
    kwargs["scale"] = SCALE
    kwargs["policies"] = [*kwargs["policies"], probe]
    m = CaseloadModel(rng=SEED, check_invariants=True, **kwargs)
    for _ in range(MONTHS):
        m.step()
    return m


@pytest.mark.parametrize("scenario", ["baseline", "cap-150"])
def test_moving_in_or_out_creates_or_loses_no_poor_person(scenario: str, probe: MoveProbe) -> None:
    _run(scenario, probe)
    # the run moved many families, and some of them were poor only before transfers
    assert probe.entrants > 5000 and probe.leavers > 5000
    assert probe.entrants_poor_pre > probe.entrants_poor_post > 0
    assert probe.leavers_poor_pre > 0
    assert probe.negative_pool == 0
    worst = max(probe.errors)
    assert worst <= 1e-6, f"a move created or lost {worst:.0f} poor persons (x scale) in a kecamatan"


def test_regency_reports_poverty_before_and_after_transfers() -> None:
    m = CaseloadModel(scale=0.1, rng=SEED, check_invariants=True)
    for _ in range(6):
        m.step()
    reg = m.regency_table()
    dist = m.district_table()
    # transfers lift some KPM members out of poverty, never into it
    assert (reg["poor_people_pre_transfer"] > reg["poor_people"]).all()
    assert (reg["poverty_rate_pre_transfer_pct"] > reg["poverty_rate_pct"]).all()
    assert (dist["poor_people_pre_transfer"] >= dist["poor_people"]).all()
    # the regency is the sum of its kecamatan, both ways
    last = dist[dist["step"] == 6]
    assert last["poor_people_pre_transfer"].sum() == pytest.approx(reg["poor_people_pre_transfer"].iloc[-1], rel=1e-9)
    assert last["poor_people"].sum() == pytest.approx(reg["poor_people"].iloc[-1], rel=1e-9)


class EntrantProbe:
    """No visits in one kecamatan (so nobody graduates there); records where entrants go.

    Acts before the families phase (visits of that kecamatan set to 0; the outside pool as
    the entrants will find it, but for this month's leavers) and after it (the entrants of
    the month, by kecamatan).
    """

    def __init__(self, district: int) -> None:
        self.district = district
        self.pool_share: list[float] = []
        self.entrants: list[np.ndarray] = []
        outer = self

        class Before:
            name = "entrant-probe-before"
            phase = "families"
            when = "before"

            def setup(self, model: CaseloadModel) -> None:
                pass

            def apply(self, model: CaseloadModel) -> None:
                fam = model.families
                fam.visits[fam.district == outer.district] = 0
                outer.pool_share.append(float(model.nonkpm_poor[outer.district] / model.nonkpm_poor.sum()))

        class After:
            name = "entrant-probe-after"
            phase = "families"
            when = "after"

            def setup(self, model: CaseloadModel) -> None:
                pass

            def apply(self, model: CaseloadModel) -> None:
                fam = model.families
                new = fam.active & (fam.entered_step == model.steps)
                outer.entrants.append(np.bincount(fam.district[new], minlength=model.n_districts))

        self.policies = [Before(), After()]


def test_new_families_go_where_the_eligible_poor_are() -> None:
    # Tambun Selatan starts with 16,538 of the 88,000 families (18.8%; paper-2023) but 14% of
    # the population, so 14% of the poor outside the programme. Nobody there graduates here
    # (its families get no visit, whatever the time budget gives them), so its families leave
    # only by natural exit. With entrants placed by the initial KPM shares it got 18.8% of
    # them and grew by 10% in 36 months at baseline (to ~18,250 at full scale, seeds 1-5;
    # 21,000 -> ~24,000 under the reading with Pebayuran alone at 20,500), and kept growing.
    # Placed by the eligible poor outside the programme, it gets its share of those (13.8% of
    # entrants against a mean pool share of 14.2% here), and it settles where its entrants
    # balance its exits (its families stay longer, having no graduation): +1.8% in 36
    # months, +0.3% in the last 12. Scale 0.25, seed 2021. Tolerances: its share of all
    # entrants within 2 points of its mean share of the outside poor (multinomial s.d. about
    # 0.4 point for ~8,000 entrants) and 3 points below its initial share of families; at most
    # +4% over the run and +1.5% in the last year (s.d. of a year's net flow about 1%).
    probe = EntrantProbe(-1)
    m = CaseloadModel(scale=SCALE, rng=SEED, policies=probe.policies)
    probe.district = ts = m.district_names.index("Tambun Selatan")
    for _ in range(MONTHS):
        m.step()
    dist = m.district_table()
    assert dist.loc[dist["district"] == "Tambun Selatan", "graduations"].sum() == 0
    entrants = np.sum(probe.entrants, axis=0)
    assert entrants.sum() > 5000
    share = entrants[ts] / entrants.sum()
    assert abs(share - np.mean(probe.pool_share)) < 0.02
    mine = dist[dist["district"] == "Tambun Selatan"].set_index("step")["families"]
    assert share < mine.iloc[0] / dist.loc[dist["step"] == 0, "families"].sum() - 0.03
    start = mine.iloc[0]
    # With the time budget of issue 6 s.2 (spare time buys visits elsewhere) graduations and so
    # entrants are more numerous, and this kecamatan, kept from graduating, settles higher:
    # +5.3 / +6.4 / +6.3% over the run and +1.5 / +1.7 / +2.1% in the last year (seeds 2021, 1,
    # 2). Tolerances +8% and +3%.
    assert mine.iloc[-1] <= 1.08 * start
    assert mine.iloc[-1] - mine.loc[MONTHS - 12] <= 0.03 * start
    assert m.regency_table()["entries_unfilled"].sum() == 0


def test_poor_entrants_a_kecamatan_cannot_supply_are_families_above_the_line() -> None:
    # With share_poor_in_kpm = 1 every poor person starts inside the programme, so the pool of
    # poor outside it starts empty (up to rounding). An entrant drawn poor before transfers
    # cannot then be supplied until leavers return some: she is a family above the line
    # instead (redrawn from the same welfare law above the line, counted in
    # entries_near_poor), the seat is filled, and no poor person is made up (the code before
    # issue 6 clamped the pool at 0 and enrolled a poor entrant anyway; the code of issue 6
    # left the seat empty, so the official profile could not reach its PKH counts).
    m = CaseloadModel(scale=0.1, rng=SEED, check_invariants=True, share_poor_in_kpm=1.0)
    assert m.nonkpm_poor.sum() < m.p["household_size"]
    for _ in range(12):
        m.step()
    reg = m.regency_table()
    assert reg["entries_near_poor"].sum() > 100
    assert reg["entries_unfilled"].sum() == 0
    assert (reg["families"].iloc[1:] == reg["families"].iloc[0]).all()  # the quota stays filled
    assert (reg["outside_poor_people"] >= 0).all()
    # every entrant who is poor before transfers took poor people leavers had brought back
    hh = m.p["household_size"]
    assert reg["entrants_poor_pre_transfer"].sum() * hh <= reg["leavers_poor_pre_transfer"].sum() * hh + 1e-9


def test_a_redrawn_entrant_is_above_the_line_and_follows_the_conditional_law() -> None:
    # The redraw is N(0, 1) truncated to market consumption >= the line: every redrawn family
    # is non-poor before transfers, and the redrawn z's follow the truncated law (KS test
    # against scipy's truncnorm; seed 7, 4,000 families, p > 0.001).
    from scipy import stats

    from sim import population

    m = CaseloadModel(scale=0.1, rng=SEED)
    fam = m.families
    rows = np.flatnonzero(fam.active)[:4000]
    fam.shock[rows] = 0.0
    population.redraw_above_line(m, rows, np.random.default_rng(7))
    assert not fam.poor_pre[rows].any()
    sd = m.p["welfare_sd_initial"]
    z = (fam.log_perm[rows].astype(np.float64) - m.welfare_location) / sd
    z0 = -m.welfare_location / sd
    assert stats.kstest(z, stats.truncnorm(z0, np.inf).cdf).pvalue > 1e-3


class _Leak:
    """A 'policy' that makes poor people appear outside the programme (a clamp would do that)."""

    name = "leak"
    phase = "workforce"
    when = "before"

    def setup(self, model: CaseloadModel) -> None:
        pass

    def apply(self, model: CaseloadModel) -> None:
        model.nonkpm_poor[3] += 8.0


def test_invariant_catches_poor_people_made_up_outside_the_programme() -> None:
    m = CaseloadModel(scale=0.1, rng=SEED, check_invariants=True, policies=[_Leak()])
    with pytest.raises(InvariantError, match="poor outside the programme not conserved"):
        m.step()


def test_invariant_catches_a_wrong_poverty_status_and_too_many_people() -> None:
    m = CaseloadModel(scale=0.1, rng=SEED, check_invariants=True)
    m.step()
    row = int(np.flatnonzero(m.families.active & ~m.families.poor_pre)[0])
    m.families.poor_pre[row] = True
    with pytest.raises(InvariantError, match="poor before transfers does not match"):
        m.check_invariants()
    m.families.poor_pre[row] = False
    m.check_invariants()
    m.population[5] = 10.0
    with pytest.raises(InvariantError, match="exceed the population"):
        m.check_invariants()
