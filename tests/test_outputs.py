"""What planners decide on: cost by funder (its own phase), family-weighted and equity indicators,
cost-effectiveness with Fieller intervals, the headline, and intervals of shares kept in range."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import compare, costeff, headline, report
from analysis.intervals import clip
from runs import store
from sim import metrics, population
from sim.model import CaseloadModel
from sim.policies import build_policies
from sim.processes import cost

# ---------------------------------------------------------------------------- model: cost step


def test_cost_has_its_own_phase_and_record_only_records() -> None:
    m = CaseloadModel(scale=0.1, rng=4)
    for _ in range(3):
        m.step()
    cum, lines = m.cost_cum, dict(m.cost_lines)
    rows = len(m.regency_rows)
    metrics.record(m)  # recording again must not book the month's cost a second time
    assert m.cost_cum == cum and m.cost_lines == lines and len(m.regency_rows) == rows + 1
    r = m.regency_table().iloc[3]
    # the total is the sum of the funders, and each funder the sum of its lines
    assert r["cost_rp_month"] == pytest.approx(r["cost_apbn_rp_month"] + r["cost_apbd_rp_month"])
    apbn = sum(r[f"cost_{k}_rp_month"] for k, f in cost.FUNDER.items() if f == "APBN")
    assert r["cost_apbn_rp_month"] == pytest.approx(apbn)
    # baseline: the national honorarium, the programme's supervisors and courses only: nothing for APBD
    assert r["cost_apbd_rp_month"] == 0.0
    fac = r["facilitators"]
    assert r["cost_honoraria_rp_month"] == pytest.approx(fac * m.p["incentive_rp_month"])  # facilitators: never scaled
    assert m.regency_table().iloc[0]["cost_rp_month"] == 0.0  # the initial state costs nothing
    # transfers: PKH to compliant PKH families, Sembako to Sembako families (APBN), outside the facilitation cost
    fam = m.families
    paid = (fam.active & fam.pkh & fam.compliant & ~fam.pay_held).sum() + m.pkh_arrears_month  # withheld: not paid
    pkh = paid * m.family_weight * m.p["pkh_transfer_rp_family_year"] / 12
    assert r["transfers_pkh_rp_month"] == pytest.approx(pkh)
    assert r["cost_rp_month"] < r["transfers_pkh_rp_month"] + r["transfers_sembako_rp_month"]


def test_regional_top_up_and_extra_supervision_are_paid_by_the_regency() -> None:
    pols = build_policies({"regional_incentive": {"multiplier": 1.5}, "supervision": {"ratio": 20}})
    m = CaseloadModel(scale=0.1, rng=4, policies=pols)
    m.step()
    r = m.regency_table().iloc[1]
    ps = m.posts
    f = ps.filled
    top = float((ps.incentive_rp[f] - m.p["incentive_rp_month"]).sum())
    assert top > 0 and r["cost_topup_rp_month"] == pytest.approx(top)
    n = int(f.sum())
    extra = (math.ceil(n / 20) - math.ceil(n / m.p["supervision_ratio"])) * m.p["supervisor_cost_rp_month"]
    assert extra > 0 and r["cost_supervision_apbd_rp_month"] == pytest.approx(extra)
    assert r["cost_apbd_rp_month"] == pytest.approx(top + extra)


def test_posts_the_regency_funds_are_paid_by_the_regency() -> None:
    # local_redistribution's local hires are APBD posts: their honoraria and operational
    # allowance must not be booked to Kemensos (APBN) as they were before (issue 6 review)
    pols = build_policies({"local_redistribution": {"local_hires_per_year": 60}})
    m = CaseloadModel(scale=0.1, rng=4, policies=pols)
    for _ in range(14):
        m.step()
    r = m.regency_table().iloc[-1]
    ps = m.posts
    local = np.fromiter(m.surface.apbd_posts, dtype=np.int64)
    n_local = int((ps.filled[local] & ps.open[local]).sum())
    assert n_local > 0  # some local posts were opened and filled within the year
    per_post = m.p["incentive_rp_month"] + m.p["operational_rp_month"]
    assert r["cost_local_posts_apbd_rp_month"] == pytest.approx(n_local * per_post)
    assert r["cost_honoraria_rp_month"] == pytest.approx((r["facilitators"] - n_local) * m.p["incentive_rp_month"])
    assert r["cost_apbd_rp_month"] >= n_local * per_post
    assert r["cost_rp_month"] == pytest.approx(r["cost_apbn_rp_month"] + r["cost_apbd_rp_month"])


# ---------------------------------------------------------------------------- model: family-weighted indicators


def test_family_weighted_burnout_is_the_caseload_weighted_mean_of_facilitator_burnout() -> None:
    m = CaseloadModel(scale=0.1, rng=7)
    for _ in range(5):
        m.step()
    ps = m.posts
    f = ps.filled
    w = ps.caseload[f].astype(float)
    expected = float((w * ps.burnout[f]).sum() / w.sum())
    r = m.regency_rows[-1]
    assert r["burnout_family_mean"] == pytest.approx(expected, rel=1e-9)
    # overloaded facilitators carry more families: the family's view is worse than the facilitators' mean
    assert r["burnout_family_mean"] > r["burnout_mean"]
    d = m.district_frames[-1]
    for k in range(m.n_districts):
        sel = f & (ps.district == k)
        if ps.caseload[sel].sum() > 0:
            exp_k = (ps.caseload[sel] * ps.burnout[sel]).sum() / ps.caseload[sel].sum()
            assert d["burnout_family_mean"][k] == pytest.approx(exp_k, rel=1e-9)


def test_no_contact_shares_are_one_when_no_family_can_be_visited() -> None:
    m = CaseloadModel(scale=0.1, rng=2)
    population.vacate_posts(m, np.flatnonzero(m.posts.filled))  # nobody left to visit anyone ...
    m.posts.refill_step[:] = -1  # ... and no post is refilled (posts vacant at the start included)
    for _ in range(7):
        m.step()
    fam = m.families
    r = m.regency_rows[-1]
    assert r["visits_per_family"] == 0.0 and r["p2k2_coverage"] == 0.0
    assert r["share_unvisited_3m"] == 1.0
    # a new family starts 3 months since her last visit, so only those enrolled in the last 3 months are below 6
    recent = int((fam.active & (fam.entered_step > m.steps - 3) & (fam.entered_step > 0)).sum())
    assert r["share_unvisited_6m"] == pytest.approx(1.0 - recent / m.n_families)
    assert math.isnan(r["burnout_family_mean"])  # no family has a facilitator
    assert (m.district_frames[-1]["share_unvisited_3m"] == 1.0).all()


def test_equity_helpers_on_known_values() -> None:
    v = np.array([0.9, 0.1, 0.5, np.nan])
    w = np.array([10.0, 80.0, 10.0, 5.0])
    # the worst 10% of 100 families are exactly the 10 families at 0.9
    assert metrics.worst_share_mean(v, w, 0.1) == pytest.approx(0.9)
    # the worst 20%: 10 at 0.9 and 10 at 0.5
    assert metrics.worst_share_mean(v, w, 0.2) == pytest.approx(0.7)
    # the best-off 10% when lower is worse (visits): 10 of the 80 at 0.1
    assert metrics.worst_share_mean(v, w, 0.1, high_is_bad=False) == pytest.approx(0.1)
    assert metrics.weighted_quantile(v, w, 0.9) == pytest.approx(0.5)
    assert metrics.weighted_quantile(v, w, 0.1) == pytest.approx(0.1)
    assert metrics.weighted_quantile(v, w, 0.95) == pytest.approx(0.9)


# ---------------------------------------------------------------------------- analysis: synthetic batch


REPS = 10
D_COST = 6e9          # extra cost over the run in every replicate, on average
D_GRAD = 500.0        # extra graduations, on average
MONTHS = 12


def _regency(scenario: str, rep: int, cost_month: float, grads: float, poor: float, posts: int) -> pd.DataFrame:
    steps = np.arange(MONTHS + 1)
    month = np.where(steps > 0, cost_month, 0.0)
    df = pd.DataFrame({
        "run_id": f"{scenario}-{rep}", "scenario": scenario, "replicate": rep, "seed": 100 + rep, "step": steps,
        "date": [f"{2021 + (k // 12)}-{k % 12 + 1:02d}-01" for k in steps], "scale": 1.0,
        "poverty_rate_pct": 5.0, "poor_people": poor, "caseload_mean": 200.0, "caseload_p95": 300.0,
        "share_fac_over_cap": 0.5, "burnout_mean": 0.3, "share_burned_out": 0.2, "facilitators": posts, "quits": 2,
        "visits_per_family": 0.2, "share_unvisited_3m": 0.3, "graduations_cum": np.linspace(0, grads, MONTHS + 1),
        "cost_rp_month": month, "cost_rp_cum": np.cumsum(month), "cost_per_graduation_rp": 1.0, "posts": posts,
        "families": 1000, "vacancies": 0, "cost_apbn_rp_month": month, "cost_apbd_rp_month": 0.0,
        "transfers_pkh_rp_month": np.where(steps > 0, 5e9 + (1e8 if scenario != "baseline" else 0.0), 0.0),
        "transfers_sembako_rp_month": np.where(steps > 0, 2e9, 0.0),
    })
    df.loc[0, "posts"] = 354
    return df


def write_batch(out: Path, reps: int = REPS, d_poor: np.ndarray | None = None, posterior: bool = False) -> Path:
    """A batch folder by hand: two scenarios, known costs and effects per replicate."""
    rng = np.random.default_rng(11)
    noise_c = rng.normal(0, 2e8, reps)
    noise_g = rng.normal(0, 40.0, reps)
    noise_c -= noise_c.mean()
    noise_g -= noise_g.mean()  # so the mean differences are exactly D_COST and D_GRAD
    d_poor = np.zeros(reps) if d_poor is None else d_poor
    (out / "runs").mkdir(parents=True)
    runs = {}
    for i in range(reps):
        base_grad = 1000.0 + 10 * i
        for name, cm, g, poor, posts in (
            ("baseline", 1e9, base_grad, 150_000.0, 354),
            ("cap-150", 1e9 + (D_COST + noise_c[i]) / MONTHS, base_grad + D_GRAD + noise_g[i], 150_000.0 - d_poor[i], 640),
        ):
            df = _regency(name, i, cm, g, poor, posts)
            rid = f"{name}-{i}"
            df.to_parquet(out / "runs" / f"{rid}.regency.parquet")
            runs[rid] = {"status": "done", "scale": 1.0, "files": {"regency": {"path": f"runs/{rid}.regency.parquet"}}}
    m: dict[str, object] = {"format": store.FORMAT, "kind": "batch", "scenario_order": ["baseline", "cap-150"],
                            "runs": runs, "master_seed": 1}
    if posterior:
        m["posterior"] = {"draws": 100}
    (out / "manifest.json").write_text(json.dumps(m))
    return out


def test_icer_on_a_synthetic_batch_has_known_value_and_fieller_interval(tmp_path: Path) -> None:
    c = compare.load(write_batch(tmp_path / "b"))
    row = c.icer[(c.icer["scenario"] == "cap-150") & (c.icer["effect"] == "graduation")].iloc[0]
    assert row["n"] == REPS
    assert row["d_cost_mean"] == pytest.approx(D_COST) and row["d_effect_mean"] == pytest.approx(D_GRAD)
    assert row["icer"] == pytest.approx(D_COST / D_GRAD)  # Rp12m per extra graduation
    assert row["icer_interval"] == "bounded" and row["icer_low"] < row["icer"] < row["icer_high"]
    # Fieller's bounds are where the t statistic of dC - R dE equals the critical value
    dc = costeff.paired(c.ends, "cap-150", "baseline", "cost_rp_cum").to_numpy()
    de = costeff.paired(c.ends, "cap-150", "baseline", "graduations_cum").to_numpy()
    tcrit = stats.t.ppf(0.975, REPS - 1)
    for r in (row["icer_low"], row["icer_high"]):
        z = dc - r * de
        assert abs(z.mean() / (z.std(ddof=1) / math.sqrt(REPS))) == pytest.approx(tcrit, rel=1e-6)
    assert row["boot_interval"] == "bounded" and row["boot_low"] < row["icer"] < row["boot_high"]
    # no effect on poverty at all: no finite interval, and the table says so
    pov = c.icer[(c.icer["scenario"] == "cap-150") & (c.icer["effect"] == "out_of_poverty")].iloc[0]
    assert pov["icer_interval"] == "unbounded" and math.isnan(pov["icer_low"])
    # counting the transfers too: Rp100m a month more PKH paid, over the 12 months
    tr = c.icer[(c.icer["basis"] == "facilitation + transfers") & (c.icer["effect"] == "graduation")].iloc[0]
    assert tr["d_cost_mean"] == pytest.approx(D_COST + 12 * 1e8) and tr["icer"] == pytest.approx((D_COST + 12e8) / D_GRAD)
    assert (c.icer[c.icer["basis"] == "facilitation"]["effect"].tolist()
            == ["graduation", "out_of_poverty", "home_visit", "poverty_pp"])
    # the budget: APBN per year from the monthly lines, paired difference, horizon extrapolated past the run
    b = c.budget[(c.budget["scenario"] == "cap-150") & (c.budget["line"] == "cost_apbn")].iloc[0]
    assert b["year_mean"] == pytest.approx(12e9 + D_COST) and b["last12_diff_mean"] == pytest.approx(D_COST)
    assert b["horizon_extrapolated"] and b["horizon_mean"] == pytest.approx(5 * (12e9 + D_COST))


def test_fieller_is_unbounded_when_the_effect_straddles_zero() -> None:
    dc = np.array([10.0, 11, 9, 10, 12])
    de = np.array([1.0, -1, 0.5, -0.5, 0.2])
    assert costeff.fieller(dc, de)[2] == "unbounded"
    assert costeff.bootstrap_ratio(dc, de)[2] == "unbounded"
    lo, hi, status = costeff.fieller(np.full(4, 6.0), np.full(4, 2.0))  # no sampling noise: a point
    assert status == "bounded" and lo == pytest.approx(3.0) and hi == pytest.approx(3.0)


def test_headline_text(tmp_path: Path) -> None:
    d_poor = np.linspace(800, 1200, REPS)  # 1,000 fewer poor people on average
    c = compare.load(write_batch(tmp_path / "b", d_poor=d_poor))
    lines = headline.headline(c)
    assert "UNCALIBRATED" in lines[0]
    assert not any("too few" in x for x in lines)  # 10 replicates is enough
    s = next(x for x in lines if x.startswith("cap-150"))
    assert s.startswith("cap-150 costs Rp 6.00 bn a year more than baseline (last 12 months of the run; 95% interval Rp ")
    assert "APBN Rp 6.00 bn, APBD Rp 0.00 bn, Rp 30.0 bn over 5 years, extrapolated past the run" in s
    assert "(posts 354 -> 640)" in s
    assert "buys 500 more graduations (95% interval " in s and "1,000 fewer poor people (95% interval " in s
    assert s.endswith("over the 12-month run.")
    assert any("Rp 12.00 m per extra graduation" in x for x in lines)

    few = compare.load(write_batch(tmp_path / "few", reps=3, posterior=True))
    lines = headline.headline(few)
    assert not any("UNCALIBRATED" in x for x in lines)  # a posterior in the manifest
    assert any("Only 3 replicate(s)" in x and "too few" in x for x in lines)


def test_share_intervals_stay_within_zero_and_one(tmp_path: Path) -> None:
    ends = pd.DataFrame({"scenario": ["a"] * 4 + ["b"] * 4, "replicate": [0, 1, 2, 3] * 2,
                         "step": 12, "date": "2022-01-01",
                         "share_unvisited_3m": [0.0, 0.0, 0.0, 0.04, 0.99, 1.0, 1.0, 0.95]})
    ind = compare.BY_NAME["share_unvisited_3m"]
    t = compare.summarize(ends, ["a", "b"], "a", [ind]).set_index("scenario")
    *_, lo, hi = compare.t_interval([0.0, 0.0, 0.0, 0.04])
    assert lo < 0  # the raw t-interval leaves the range ...
    assert t.loc["a", "ci_low"] == 0.0 and t.loc["a", "ci_high"] == pytest.approx(hi)  # ... the table does not
    assert t.loc["b", "ci_high"] == 1.0 and t.loc["b", "ci_low"] < 1.0
    assert -1.0 <= t.loc["b", "diff_ci_low"] <= t.loc["b", "diff_ci_high"] <= 1.0
    assert clip(-0.2, 0.5, (0.0, 1.0)) == (0.0, 0.5) and clip(-1.5, 0.3, (0.0, 1.0), diff=True) == (-1.0, 0.3)
    assert clip(-3.0, 120.0, None) == (-3.0, 120.0)
    reg = pd.DataFrame({"scenario": "a", "step": [1] * 4, "date": "2021-02-01", "share_unvisited_3m": [0.0, 0.0, 0.0, 0.04]})
    tr = report.trajectories(reg, "share_unvisited_3m")
    assert tr["lo"].iloc[0] == 0.0  # the report's bands too


def test_report_headline_icer_and_budget_sections(tmp_path: Path) -> None:
    c = compare.load(write_batch(tmp_path / "b"))
    # a synthetic batch has no district table: build the parts that need none (the full report: test_compare)
    doc = report.headline_html(c) + report.icer_html(c) + report.budget_html(c, {"baseline": "#000", "cap-150": "#111"})
    assert "UNCALIBRATED" in doc and "cap-150 costs Rp 6.00 bn a year more" in doc
    assert "unbounded: the effect is not distinguishable from 0" in doc
    assert "APBD" in doc and "Kemensos" in doc


def test_admin_backlog_is_shown_when_the_model_records_one() -> None:
    cols = ["poverty_rate_pct", "admin_backlog_hours", "share_unvisited_6m", "admin_backlog_months"]
    names = [i.name for i in compare.available(cols)]
    assert "admin_backlog_hours" in names and "share_unvisited_6m" in names
    assert "p2k2_coverage" not in names  # optional and absent
    ind = next(i for i in compare.available(cols) if i.name == "admin_backlog_hours")
    assert ind.label == "Admin backlog (hours)"
    assert "admin_backlog_hours" not in [i.name for i in compare.available(["poverty_rate_pct"])]
    # the time budget's own column has its label and unit
    backlog = next(i for i in compare.available(cols) if i.name == "admin_backlog_months")
    assert backlog.label == "Admin backlog" and "per family" in backlog.unit


def test_counts_are_divided_by_the_scale_only_in_tables_that_hold_simulated_counts() -> None:
    m = {"runs": {"a": {"scale": 0.25}, "b": {"scale": 0.5}}}
    assert compare.count_scales(m, ["posts", "families"]) == {"a": 0.25, "b": 0.5}
    assert compare.count_scales(m, ["posts", "families", "families_simulated"]) == {"a": 1.0, "b": 1.0}


def test_a_batch_of_calibrated_scenarios_is_not_called_uncalibrated() -> None:
    m = {"scenarios": {"baseline": {"posterior": "calibration/out/posterior.parquet"}, "cap-150": {"posterior": None}}}
    assert not headline.calibrated(m)  # one scenario on the defaults: the comparison is not calibrated
    m["scenarios"]["cap-150"]["posterior"] = "calibration/out/posterior.parquet"
    assert headline.calibrated(m)
    assert not headline.calibrated({"scenarios": {}}) and headline.calibrated({"posterior": {"draws": 10}})
