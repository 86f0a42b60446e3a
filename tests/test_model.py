"""CaseloadModel: invariants, Mesa agents, calendar, quota, WISN, constructor and Mesa tooling."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import date

import mesa
import numpy as np
import pytest

from sim import params, population
from sim.agents import Facilitator, FacilitatorStatus, Family
from sim.districts import DataError
from sim.metrics import REPORTERS
from sim.model import CaseloadModel, InvariantError
from sim.params import ParameterError
from sim.policies import build_policies

PROFILES = ("paper-2023", "official")


# --- invariants --------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
def test_runs_24_months_with_invariants_checked(run: Callable[..., CaseloadModel], profile: str) -> None:
    m = run(seed=11, months=24, profile=profile, check_invariants=True)  # raises InvariantError on a violation
    reg = m.regency_table()
    assert len(reg) == 25 and list(reg["step"]) == list(range(25))
    assert m.steps == 24
    assert reg["facilitators"].gt(0).all() and reg["families"].gt(0).all()
    assert len(m.district_table()) == 25 * 23


@pytest.mark.slow
@pytest.mark.parametrize("profile", PROFILES)
def test_full_scale_36_months_with_invariants_checked(run: Callable[..., CaseloadModel], profile: str) -> None:
    m = run(seed=20210101, months=36, scale=1.0, profile=profile, check_invariants=True)
    reg = m.regency_table()
    assert len(reg) == 37
    full = {"paper-2023": 88000, "official": 72554}[profile]
    assert reg.loc[0, "families"] == full
    # the 354 posts of the profile are all open at the start; after the workforce warm-up
    # (sim/warmup.py, docs/ODD.md 5.4) some are vacant, as in a running programme: about the
    # leavers of the last recruitment lag (8 months x ~4.5 leavers a month = ~36 posts)
    start = reg.loc[0]
    assert start["posts"] == 354
    assert start["facilitators"] + start["vacancies"] == 354
    assert 300 <= start["facilitators"] <= 345, start["facilitators"]
    # a stationary start: the step-0 vacancies are those of the run itself (before the warm-up
    # they went 0 -> 38 in 8 months). Tolerance 15 posts: a month's vacancies are the leavers
    # of 8 months (s.d. about 6), the 36-month mean has s.d. about 3 (seed 20210101).
    assert abs(start["vacancies"] - reg.loc[1:, "vacancies"].mean()) <= 15


def _break_k_edu(m: CaseloadModel) -> None:
    m.families.k_edu[np.flatnonzero(m.families.active)[0]] = 1.5


def _break_vacant_caseload(m: CaseloadModel) -> None:
    m.posts.caseload[np.flatnonzero(~m.posts.filled)[0]] = 5


def _break_negative_welfare(m: CaseloadModel) -> None:
    m.families.welfare[np.flatnonzero(m.families.active)[0]] = -0.1


def _break_burnout(m: CaseloadModel) -> None:
    m.posts.burnout[np.flatnonzero(m.posts.filled)[0]] = 1.2


def _break_assignment(m: CaseloadModel) -> None:
    m.families.fac[np.flatnonzero(m.families.active)[0]] = int(np.flatnonzero(~m.posts.filled)[0])


def _break_caseload_sum(m: CaseloadModel) -> None:
    m.posts.caseload[np.flatnonzero(m.posts.filled)[0]] += 1


def _break_conservation(m: CaseloadModel) -> None:
    m.families.active[np.flatnonzero(m.families.active)[0]] = False  # a family vanishes silently


def _break_share(m: CaseloadModel) -> None:
    m.regency_rows[-1]["share_unvisited_3m"] = 1.2


def _break_nonkpm(m: CaseloadModel) -> None:
    m.nonkpm_poor[0] = -1.0


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (_break_k_edu, "family k_edu outside"),
        (_break_vacant_caseload, "vacant post carries a caseload"),
        (_break_negative_welfare, "negative welfare"),
        (_break_burnout, "facilitator burnout outside"),
        (_break_assignment, "assigned to a vacant post"),
        (_break_caseload_sum, "caseloads do not sum"),
        (_break_conservation, "families not conserved"),
        (_break_share, "share_unvisited_3m = 1.2 outside"),
        (_break_nonkpm, "negative poor outside KPM"),
    ],
)
def test_check_invariants_catches_corruption(corrupt: Callable[[CaseloadModel], None], message: str) -> None:
    m = CaseloadModel(scale=0.1, rng=5, check_invariants=True)
    m.step()
    m.check_invariants()  # clean state passes
    corrupt(m)
    with pytest.raises(InvariantError, match=message):
        m.check_invariants()


def test_step_raises_on_corruption_when_checking() -> None:
    m = CaseloadModel(scale=0.1, rng=5, check_invariants=True)
    m.step()
    m.families.k_health[np.flatnonzero(m.families.active)[:3]] = -0.5
    with pytest.raises(InvariantError, match=r"step 2: .*k_health"):
        m.step()


def test_a_broken_invariant_fails_like_an_assertion_naming_the_step_and_column() -> None:
    """Code that guards with ``except AssertionError`` (pytest, Mesa's runners) sees a failed check."""
    m = CaseloadModel(scale=0.1, rng=5, check_invariants=True)
    m.step()
    m.families.k_edu[np.flatnonzero(m.families.active)[0]] = 2.0
    try:
        m.step()
    except AssertionError as e:  # not `except InvariantError`: the point is what a generic guard sees
        assert type(e) is InvariantError
        assert str(e).startswith("step 2: ") and "k_edu" in str(e)
    else:  # pragma: no cover - the test fails here if the check did not fire
        pytest.fail("a family with k_edu = 2 passed the invariant check")


# --- Mesa agents -------------------------------------------------------------------------------


def _assert_agents_match_state(m: CaseloadModel) -> None:
    fams = m.agents_by_type[Family]
    facs = m.agents_by_type[Facilitator]
    assert len(fams) == m.n_families == int(m.families.active.sum())
    assert sorted(a.row for a in fams) == np.flatnonzero(m.families.active).tolist()
    assert sorted(a.post for a in facs) == np.flatnonzero(m.posts.filled).tolist()
    assert len(m.agents) == len(fams) + len(facs)
    ids = [a.unique_id for a in m.agents]
    assert len(set(ids)) == len(ids)


def test_agents_follow_entries_and_exits() -> None:
    m = CaseloadModel(profile="official", scale=0.1, rng=4)
    _assert_agents_match_state(m)
    start = set(m.agents_by_type[Family])
    assert len(start) == 7255
    seen = set(start)  # every handle present at the end of some month
    for _ in range(6):
        m.step()
        _assert_agents_match_state(m)
        seen |= set(m.agents_by_type[Family])
    mid = set(m.agents_by_type[Family])
    assert len(mid) == 7255  # the quota holds the count in 2021 ...
    assert start - mid and mid - start  # ... while families graduate or exit and entrants arrive
    reg = m.regency_table()
    # each leaver's handle is removed and each entrant's created exactly once: leavers = the start
    # families gone + entrants who left again; entrants = the new families here + those who left again
    came_and_went = len(seen - start - mid)  # entrants who left before month 6 (families move monthly)
    w = m.family_weight  # the table's counts are at regency scale (simulated x family_weight)
    assert round((reg["exits"].sum() + reg["graduations"].sum()) / w) == len(start - mid) + came_and_went
    assert round(reg["entries"].sum() / w) == len(mid - start) + came_and_went
    for _ in range(8):  # into 2022: the quota falls and the handles go with the families
        m.step()
        _assert_agents_match_state(m)
    assert len(m.agents_by_type[Family]) == 5677


@pytest.mark.parametrize("n_todo", [1, 2, 3, 23])
def test_rows_by_district_is_one_comparison_per_kecamatan(n_todo: int) -> None:
    # rebalance's grouping (one pass for many kecamatan) gives each kecamatan exactly the rows,
    # in the order, that one comparison per kecamatan gives
    rng = np.random.default_rng(3)
    district = rng.integers(0, 23, size=5_000).astype(np.intp)
    in_use = rng.random(5_000) < 0.7
    ds = sorted(rng.choice(23, size=n_todo, replace=False).tolist())
    got = population.rows_by_district(in_use, district, ds, 23)
    assert list(got) == ds
    for d in ds:
        np.testing.assert_array_equal(got[d], np.flatnonzero(in_use & (district == d)))


def _agent_listing(m: CaseloadModel) -> list[tuple[int, str, int]]:
    return [(a.unique_id, type(a).__name__, a.row if isinstance(a, Family) else a.post) for a in m.agents]


def test_handles_made_late_are_the_handles_made_at_once() -> None:
    # Family handles are made when first looked at: a model looked at every month and one
    # looked at only at the end must hold the same agents, ids and Mesa order (unique id
    # order, facilitators interleaved), and a run nobody looks into makes no handle at all.
    kw = {"profile": "official", "scale": 0.1, "start": "2019-01", "rng": 5, "quit_base_year": 0.3}
    watched, unwatched = CaseloadModel(**kw), CaseloadModel(**kw)
    assert unwatched.handles_due == unwatched.n_families > 0
    for _ in range(10):
        watched.step()
        unwatched.step()
        _ = watched.agents  # look every month
        assert watched.handles_due == 0
    assert not any(isinstance(a, Family) for a in unwatched._all_agents)  # nothing made yet
    hires = sum(r["hires"] for r in watched.regency_rows)
    assert hires > 0  # facilitators arrived between the families: their ids interleave
    ids = [uid for uid, _, _ in _agent_listing(watched)]
    assert ids == sorted(ids)
    assert _agent_listing(unwatched) == _agent_listing(watched)
    assert unwatched.handles_due == 0
    _assert_agents_match_state(unwatched)
    # families that came and went unseen left no handle behind and took no id twice
    gone = set(range(unwatched.agent_id_counter)) - {a.unique_id for a in unwatched.agents}
    assert len(gone) > 100
    assert [a.row for a in unwatched.family_agents if a is not None] == np.flatnonzero(unwatched.families.active).tolist()


def test_agents_after_vacancies_and_new_posts() -> None:
    m = CaseloadModel(scale=0.1, rng=4)
    filled = np.flatnonzero(m.posts.filled)
    leaving = [m.facilitator_at(int(p)) for p in filled[:3]]
    population.vacate_posts(m, filled[:3])
    _assert_agents_match_state(m)
    assert all(m.facilitator_at(int(p)) is None for p in filled[:3])
    assert all(a not in m.agents for a in leaving)
    new = population.open_posts(m, np.array([0, 5, 5]), fill_now=True)
    _assert_agents_match_state(m)
    assert all(m.facilitator_at(int(p)).status is FacilitatorStatus.ACTIVE for p in new)  # type: ignore[union-attr]
    m.step()
    _assert_agents_match_state(m)


def test_family_handle_reads_its_row(run: Callable[..., CaseloadModel]) -> None:
    m = run(seed=8, months=4)
    fam = m.families
    for a in list(m.agents_by_type[Family])[::97]:
        r = a.row
        assert a.welfare == fam.welfare[r]
        assert a.poor == bool(fam.poor[r])
        assert a.compliant == bool(fam.compliant[r])
        assert a.months_since_visit == int(fam.months_since_visit[r])
        assert a.behaviour == {"edu": fam.k_edu[r], "health": fam.k_health[r], "fin": fam.k_fin[r]}
        assert a.district == m.district_names[int(fam.district[r])]
        fac = a.facilitator
        if fam.fac[r] >= 0:
            assert fac is not None and fac.post == fam.fac[r]
            assert fac.district == a.district
        else:
            assert fac is None
    # a handle reads live state, it holds no copy
    a = next(iter(m.agents_by_type[Family]))
    fam.welfare[a.row] = 2.5
    assert a.welfare == 2.5


def test_facilitator_handle_reads_its_post(run: Callable[..., CaseloadModel]) -> None:
    m = run(seed=8, months=4)
    ps = m.posts
    for a in m.agents_by_type[Facilitator]:
        p = a.post
        assert a.caseload == int(ps.caseload[p])
        assert a.burnout == ps.burnout[p]
        assert a.technical_skill == ps.s_tech[p] and a.psychosocial_skill == ps.s_psy[p]
        assert a.incentive_rp_month == ps.incentive_rp[p]
        assert a.status is FacilitatorStatus.ACTIVE


# --- visits reach the facilitator's own families ------------------------------------------------


class VisitProbe:
    """A no-op 'policy' that looks at the state just after the visits phase, before families move."""

    name = "visit-probe"
    phase = "visits"
    when = "after"

    def __init__(self) -> None:
        self.z: list[np.ndarray] = []
        self.visits_to_empty_rows: list[int] = []

    def setup(self, model: CaseloadModel) -> None:
        pass

    def apply(self, model: CaseloadModel) -> None:
        fam, ps = model.families, model.posts
        a = fam.active & (fam.fac >= 0)
        w = model.family_weight  # each simulated family stands for w families; visits_done is at regency scale
        got = np.bincount(fam.fac[a], weights=fam.visits[a], minlength=ps.capacity)[: ps.capacity] * w
        f = np.flatnonzero(ps.filled)
        # visits received by a post's families minus the visits its facilitator made, in s.d. of the rounding
        self.z.append((got[f] - ps.visits_done[f]) / np.sqrt(np.maximum(ps.visits_done[f], 1.0) * w))
        self.visits_to_empty_rows.append(int(fam.visits[~fam.active].sum()))


@pytest.mark.parametrize("outcome_evaluation", [False, True], ids=["admin_speed", "social_outcome"])
def test_visits_made_reach_the_facilitators_own_families(outcome_evaluation: bool) -> None:
    # Each family gets floor(e) + Bernoulli(frac(e)) visits, so a post's total is visits_done +/- a few
    # s.d.; seeds 1-3 x 12 months x ~33 posts gave |z| < 3.7. Tolerance |z| <= 5.
    for seed in (1, 2, 3):
        probe = VisitProbe()
        levers = build_policies({"outcome_evaluation": {}} if outcome_evaluation else {})
        m = CaseloadModel(scale=0.1, rng=seed, policies=[*levers, probe])
        for _ in range(12):
            m.step()
        z = np.concatenate(probe.z)
        assert np.abs(z).max() <= 5, (seed, z.min(), z.max())
        assert probe.visits_to_empty_rows == [0] * 12


def test_growing_the_family_columns_creates_no_phantom_families() -> None:
    probe = VisitProbe()
    m = CaseloadModel(scale=0.1, rng=1, policies=[*build_policies({"outcome_evaluation": {}}), probe])
    population.enrol_families(m, int((~m.families.active).sum()) + 10)  # more entrants than free rows: the columns grow
    m.step()
    assert probe.visits_to_empty_rows == [0]
    assert probe.z[0].min() >= -5


# --- calendar, quota, WISN -----------------------------------------------------------------


def _months_from(year: int, month: int, n: int) -> list[date]:
    out = []
    for k in range(n):
        y, m = divmod(year * 12 + month - 1 + k, 12)
        out.append(date(y, m + 1, 1))
    return out


@pytest.mark.parametrize(("start", "first"), [(None, (2021, 1)), ("2022-07", (2022, 7)), ("2023-11", (2023, 11))])
def test_dates_advance_one_month_per_step(run: Callable[..., CaseloadModel], start: str | None, first: tuple[int, int]) -> None:
    kwargs = {} if start is None else {"start": start}
    m = run(seed=2, months=15, **kwargs)
    reg = m.regency_table()
    expected = _months_from(*first, 16)
    assert list(reg["date"]) == expected
    assert list(reg["step"]) == list(range(16))
    dist = m.district_table()
    for step, group in dist.groupby("step"):
        assert (group["date"] == expected[int(step)]).all()  # type: ignore[call-overload]
        assert len(group) == 23


@pytest.mark.parametrize("start", ["2021-13", "21-01", "January", "2021"])
def test_bad_start_month_raises(start: str) -> None:
    with pytest.raises(ParameterError, match="start"):
        CaseloadModel(scale=0.1, start=start)


def test_official_family_count_follows_the_pkh_quota(run: Callable[..., CaseloadModel]) -> None:
    # PKH families in Kabupaten Bekasi (Dinsos): 72,554 (2021), 56,774 (2022), 46,812 (2023), x scale 0.1
    quota = {2021: round(72554 * 0.1), 2022: round(56774 * 0.1), 2023: round(46812 * 0.1)}
    m = run(seed=6, months=26, profile="official")
    reg = m.regency_table()
    # families_simulated: the simulated count; "families" is at regency scale (x 1 / scale)
    assert reg.loc[0, "families_simulated"] == quota[2021]
    for _, row in reg.iloc[1:].iterrows():
        d = row["date"]
        simulated_year = d.year if d.month > 1 else d.year - 1  # the row dated D is the state after month D - 1
        assert row["families_simulated"] == quota[simulated_year], (d, row["families_simulated"])
        assert row["families"] == pytest.approx(row["families_simulated"] * 10)
    assert reg.loc[reg["date"] == date(2022, 1, 1), "families_simulated"].item() == 7255
    assert reg.loc[reg["date"] == date(2022, 2, 1), "families_simulated"].item() == 5677
    assert reg.loc[reg["date"] == date(2023, 2, 1), "families_simulated"].item() == 4681
    cut = reg.loc[reg["date"] == date(2022, 2, 1)].iloc[0]
    assert cut["entries"] == 0
    assert cut["exits"] + cut["graduations"] == pytest.approx((7255 - 5677) * 10)  # the quota cut counts as exits


def test_paper_profile_holds_88000_families(run: Callable[..., CaseloadModel]) -> None:
    reg = run(seed=6, months=14).regency_table()
    assert (reg["families_simulated"] == 8800).all() and (reg["families"] == 88000).all()
    assert (reg["entries"].iloc[1:] == reg["exits"].iloc[1:] + reg["graduations"].iloc[1:]).all()


def test_wisn_columns_per_district(run: Callable[..., CaseloadModel]) -> None:
    m = run(seed=3, months=6)
    dist = m.district_table()
    for col in ("wisn_required", "wisn_ratio", "wisn_shortage"):
        assert col in dist.columns
    assert (dist["wisn_required"] > 0).all()
    np.testing.assert_allclose(dist["wisn_ratio"], dist["facilitators"] / dist["wisn_required"], rtol=1e-12)
    np.testing.assert_allclose(dist["wisn_shortage"], dist["wisn_required"] - dist["facilitators"], rtol=1e-12)
    reg = m.regency_table()
    per_step = dist.groupby("step")["wisn_required"].sum().to_numpy()
    np.testing.assert_allclose(reg["wisn_required"], per_step, rtol=1e-12)
    np.testing.assert_allclose(reg["wisn_ratio"], reg["facilitators"] / reg["wisn_required"], rtol=1e-12)
    # the paper's 200-300 KPM per facilitator is far above what WISN's standard times allow
    assert (reg["wisn_ratio"] < 1).all()


def test_wisn_required_grows_with_workload(run: Callable[..., CaseloadModel]) -> None:
    base = run(seed=3, months=1).regency_table().loc[1, "wisn_required"]
    more = run(seed=3, months=1, visits_target_per_family_month=1.0).regency_table().loc[1, "wisn_required"]
    assert more > 1.3 * base


# --- constructor -------------------------------------------------------------------------------


def test_unknown_parameter_names_it_with_did_you_mean() -> None:
    with pytest.raises(ParameterError, match=r"unknown parameter 'incentive_rp_mnth'\. Did you mean 'incentive_rp_month'\?"):
        CaseloadModel(scale=0.1, incentive_rp_mnth=4_000_000)
    with pytest.raises(ParameterError, match="unknown parameter 'months'"):
        CaseloadModel(scale=0.1, months=12)


def test_out_of_range_parameter_names_the_valid_range() -> None:
    with pytest.raises(ParameterError, match=r"'incentive_rp_month' = 500000 is out of range: valid range is \[1000000, 15000000\]"):
        CaseloadModel(scale=0.1, incentive_rp_month=500_000)
    with pytest.raises(ParameterError, match=r"'recruitment_lag_months' = 37 is out of range: valid range is \[0, 36\]"):
        CaseloadModel(scale=0.1, recruitment_lag_months=37)


@pytest.mark.parametrize("value", ["4000000", "4e6", True, None, [4e6]])
def test_non_number_for_a_number_raises(value: object) -> None:
    with pytest.raises(ParameterError, match="incentive_rp_month"):
        CaseloadModel(scale=0.1, incentive_rp_month=value)


@pytest.mark.parametrize(("name", "pointer"), [("evaluation_scheme", "lever 'outcome_evaluation'"),
                                              ("ideal_caseload", "caseload_cap.cap")])
def test_removed_duplicates_say_where_their_meaning_went(name: str, pointer: str) -> None:
    with pytest.raises(ParameterError, match=rf"'{name}' was removed.*{pointer}"):
        CaseloadModel(scale=0.1, **{name: 150})


def test_a_lever_setting_is_not_a_model_keyword() -> None:
    with pytest.raises(ParameterError, match=r"'caseload_cap.cap' is a lever setting"):
        CaseloadModel(scale=0.1, **{"caseload_cap.cap": 120})


@pytest.mark.parametrize("scale", [0, -0.1, 0.01, 0.049, 2.5, "0.1", True, float("nan")])
def test_bad_scale_raises(scale: object) -> None:
    with pytest.raises(ParameterError, match="scale"):
        CaseloadModel(scale=scale)  # type: ignore[arg-type]


@pytest.mark.parametrize("scale", [0.05])
def test_small_scale_keeps_a_facilitator_in_every_district(scale: float) -> None:
    m = CaseloadModel(scale=scale, rng=1, check_invariants=True)
    for _ in range(12):
        m.step()
    dist = m.district_table()
    first = dist[dist["step"] == 0]
    assert (first["facilitators"] >= 1).all() and (first["families"] >= 1).all()
    assert m.regency_table().loc[0, "families_simulated"] == max(round(88000 * scale), 23)
    assert int(m.posts.open.sum()) == 354  # facilitators are never scaled


@pytest.mark.parametrize("rng", [-1, 1.5, "7", True])
def test_bad_seed_raises(rng: object) -> None:
    with pytest.raises(ParameterError, match="rng"):
        CaseloadModel(scale=0.1, rng=rng)  # type: ignore[arg-type]


def test_unknown_profile_names_the_valid_ones() -> None:
    with pytest.raises((ParameterError, DataError), match=r"offical.*paper-2023.*official"):
        CaseloadModel(profile="offical", scale=0.1)


def test_policy_with_unknown_phase_raises() -> None:
    class Bad:
        name = "bad"
        phase = "lunch"
        when = "before"

        def setup(self, model: CaseloadModel) -> None:  # pragma: no cover - never reached
            pass

        def apply(self, model: CaseloadModel) -> None:  # pragma: no cover - never reached
            pass

    with pytest.raises(ParameterError, match=r"policy 'bad': acts 'before' 'lunch'; a lever acts 'before' or 'after'"):
        CaseloadModel(scale=0.1, policies=[Bad()])
    Bad.phase = "record"  # levers do not borrow the record phase
    with pytest.raises(ParameterError, match=r"policy 'bad': acts 'before' 'record'"):
        CaseloadModel(scale=0.1, policies=[Bad()])
    Bad.phase = "cost"  # nor sit next to cost: a lever's cost must come before the cost phase books it
    with pytest.raises(ParameterError, match=r"policy 'bad': acts 'before' 'cost'"):
        CaseloadModel(scale=0.1, policies=[Bad()])
    Bad.phase, Bad.when = "staffing", "during"
    with pytest.raises(ParameterError, match=r"policy 'bad': acts 'during' 'staffing'"):
        CaseloadModel(scale=0.1, policies=[Bad()])


def test_overrides_are_applied_and_recorded() -> None:
    m = CaseloadModel(scale=0.1, rng=1, incentive_rp_month=5_000_000, recruitment_lag_months=4.0)
    assert m.p["incentive_rp_month"] == 5_000_000.0
    assert m.p["recruitment_lag_months"] == 4 and isinstance(m.p["recruitment_lag_months"], int)
    # population growth is the data profile's unless overridden (paper-2023: held constant)
    expected = {**params.defaults(), "incentive_rp_month": 5_000_000.0, "recruitment_lag_months": 4,
                "population_growth_year": 0.0}
    assert m.parameters() == expected
    assert np.all(m.posts.incentive_rp[m.posts.filled] == 5_000_000.0)


def test_signature_lists_every_parameter_with_its_default() -> None:
    sig = inspect.signature(CaseloadModel)
    for name in ("profile", "scale", "start", "policies", "check_invariants", "rng"):
        assert name in sig.parameters
    assert sig.parameters["profile"].default == "paper-2023"
    assert sig.parameters["scale"].default == 1.0
    assert sig.parameters["incentive_rp_month"].default == 3_150_000.0
    assert sig.parameters["incentive_rp_month"].kind is inspect.Parameter.KEYWORD_ONLY
    for name in params.MODEL_PARAMS:
        assert sig.parameters[name].default == params.PARAMS[name].default, name
    assert not [n for n in sig.parameters if "." in n]  # lever settings belong to the levers
    assert "overrides" not in sig.parameters


def test_mesa_batch_run() -> None:
    results = mesa.batch_run(
        CaseloadModel,
        parameters={"scale": 0.05, "incentive_rp_month": [3_150_000, 5_000_000]},
        rng=[1, 2],
        max_steps=12,
        display_progress=False,
    )
    assert len(results) == 4
    for r in results:
        assert r["Step"] == 12
        for key in REPORTERS:
            assert key in r, key
        assert 0 < r["poverty_rate_pct"] < 100
        assert r["caseload_mean"] > 0
    combos = sorted((r["rng"], r["incentive_rp_month"]) for r in results)
    assert combos == [(1, 3_150_000), (1, 5_000_000), (2, 3_150_000), (2, 5_000_000)]
    # batch_run's runs equal direct runs with the same seed
    direct = CaseloadModel(scale=0.05, rng=2, incentive_rp_month=5_000_000)
    for _ in range(12):
        direct.step()
    (match,) = [r for r in results if r["rng"] == 2 and r["incentive_rp_month"] == 5_000_000]
    assert match["caseload_mean"] == direct.last_regency["caseload_mean"]
    assert match["poverty_rate_pct"] == direct.last_regency["poverty_rate_pct"]


def test_datacollector_collects_every_step(run: Callable[..., CaseloadModel]) -> None:
    m = run(seed=1, months=5)
    df = m.datacollector.get_model_vars_dataframe()
    assert len(df) == 6
    assert list(df.columns) == list(REPORTERS)
    reg = m.regency_table()
    np.testing.assert_array_equal(df["caseload_mean"].to_numpy(), reg["caseload_mean"].to_numpy())
