"""Calibration: target files, the command's bad input, posterior draws in batches, recovery.

The statistical tests use synthetic data from the model itself (calibration.synthetic), so
they do not depend on fitted values and keep working when the model changes.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calibration import calibrate, targets
from calibration.engine import Distance
from calibration.fit import weighted_quantile
from calibration.statistics import Setup, Wanted, simulate
from calibration.synthetic import synthetic_targets, to_toml
from cli.main import main
from runs import scenario
from runs.batch import plan_batch
from sim.profiles import load_profile

SMALL = """\
name = "small"
description = "a short window for tests"

[setup]
profile = "official"
start = "2017-03"
months = 24
scale = 0.05

[discrepancy.poverty_rate_pct]
sd = 0.05
reason = "test"

[[target]]
name = "pov_2018"
statistic = "poverty_rate_pct"
at = "2018-03"
value = 4.5
obs_sd = 0.1
weight = 1.0
year = 2018
source = "test"

[[target]]
name = "pov_2019"
statistic = "poverty_rate_pct"
at = "2019-03"
value = 4.3
obs_sd = 0.1
weight = 1.0
year = 2019
source = "test"

[[target]]
name = "exits_2018"
statistic = "exit_rate_year"
at = "2019-03"
value = 0.08
obs_sd = 0.01
weight = 1.0
year = 2018
source = "test"

[[target]]
name = "untrained"
statistic = "untrained_share"
at = "2019-03"
value = 0.4
obs_sd = 0.1
weight = 1.0
year = 2019
source = "test"
holdout = true
"""


def _write(tmp_path: Path, text: str, name: str = "t.toml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


# ---------------------------------------------------------------------------- target files


@pytest.mark.parametrize("name", ["official", "paper"])
def test_shipped_target_files_load_and_every_target_has_a_source(name: str) -> None:
    ts = targets.load(name)
    assert ts.fitted and all(t.source and t.obs_sd > 0 for t in ts.targets)
    assert ts.discrepancy, "a model-discrepancy term is stated"
    if name == "official":
        held = {t.year for t in ts.targets if t.holdout}
        assert held == {2023} and all(t.year < 2023 for t in ts.targets if t.statistic == "poverty_rate_pct" and not t.holdout)


@pytest.mark.parametrize(("old", "new", "expect"), [
    ('statistic = "poverty_rate_pct"\nat = "2018-03"', 'statistic = "poverty_rate"\nat = "2018-03"',
     "key 'target[0].statistic'"),
    ("obs_sd = 0.1\nweight = 1.0\nyear = 2018", "obs_sd = -0.1\nweight = 1.0\nyear = 2018", "key 'target[0].obs_sd'"),
    ('at = "2018-03"', 'at = "2030-03"', "key 'target[0].at'"),
    ("months = 24", 'months = "24"', "key 'setup.months'"),
    ('profile = "official"', 'profile = "offical"', "key 'setup.profile'"),
    ("[discrepancy.poverty_rate_pct]\nsd = 0.05", "[discrepancy.poverty_rate_pct]\nsd = 0.05\nsdd = 1", "sdd"),
    ('source = "test"\n\n[[target]]\nname = "pov_2019"', 'sourc = "test"\n\n[[target]]\nname = "pov_2019"',
     "key 'target[0].sourc'"),
])
def test_bad_target_file_names_file_key_and_line(tmp_path: Path, old: str, new: str, expect: str) -> None:
    assert old in SMALL
    p = _write(tmp_path, SMALL.replace(old, new, 1))
    with pytest.raises(targets.TargetError) as e:
        targets.load(p)
    msg = str(e.value)
    assert str(p) in msg and expect in msg and " line " in msg


def test_calibrate_bad_input_exits_2_with_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = _write(tmp_path, SMALL)
    bad = _write(tmp_path, SMALL.replace("obs_sd = 0.1", "obs_sd = 0", 1), "bad.toml")
    cases = [
        [str(bad), "--params", "welfare_growth_macro_year=-0.1:0.1"],
        [str(good), "--params", "welfare_growth_macro_yr=-0.1:0.1"],
        [str(good), "--params", "welfare_growth_macro_year=0.1:-0.1"],
        [str(good), "--params", "welfare_growth_macro_year=-5:5"],
        [str(good), "--params", "welfare_growth_macro_year=-0.1:0.1", "--method", "mcmc"],
        [str(good), "--params", "welfare_growth_macro_year=-0.1:0.1", "--budget", "0"],
        [str(good)],
        [str(tmp_path / "missing.toml"), "--params", "welfare_growth_macro_year=-0.1:0.1"],
    ]
    for extra in cases:
        rc = main(["calibrate", *extra, "--out", str(tmp_path / "out"), "--jobs", "1"])
        err = capsys.readouterr().err.strip().splitlines()
        assert rc == 2, extra
        assert len(err) == 1 and err[0].startswith("error:") and "Traceback" not in err[0], (extra, err)
    assert not (tmp_path / "out" / "posterior.parquet").exists()


def test_folder_holding_another_calibration_is_refused(tmp_path: Path) -> None:
    p = _write(tmp_path, SMALL)
    o = calibrate.Options(targets=str(p), params=["welfare_growth_macro_year=-0.1:0.1"], out=tmp_path / "o",
                          method="rejection", budget=4, population=2, ppc=0, report=False)
    calibrate.run(o)
    o2 = calibrate.Options(**{**o.__dict__, "params": ["welfare_growth_macro_year=-0.2:0.1"]})
    with pytest.raises(calibrate.CalibrationError, match="another calibration"):
        calibrate.run(o2)


# ---------------------------------------------------------------------------- statistics, distance


def test_official_profile_starts_from_the_2017_figures() -> None:
    p = load_profile("official", start_year=2017)
    assert p.poverty_rate_start_pct == 4.73 and p.poor_people_start == 164000 and p.families_total == 32555
    assert load_profile("official").families_total == 72554  # the profile's own start is unchanged
    stats, reg = simulate(Setup("official", "2017-03", 13, 0.05), (Wanted("f", "pkh_families", "2018-03"),), {}, 3, True)
    assert reg is not None and reg["poverty_rate_pct"].iloc[0] == pytest.approx(4.73, abs=0.01)
    # enrolment towards the 2018 quota (67,331) from the 2017 count, at full regency scale
    row = reg[pd.to_datetime(reg["date"]) == pd.Timestamp("2018-03-01")]
    assert stats["f"] == float(row["families"].iloc[0]) and 32555 < stats["f"] <= 67331 * 1.001


def test_distance_is_zero_at_the_data_and_one_sided_targets_count_only_a_shortfall(tmp_path: Path) -> None:
    ts = targets.load(_write(tmp_path, SMALL.replace('year = 2018\nsource = "test"\n\n[[target]]\nname = "pov_2019"',
                                                     'year = 2018\nsource = "test"\nkind = "at_least"\n\n[[target]]\nname = "pov_2019"', 1)))
    d = Distance(ts)
    obs = ts.observed()
    assert d(obs) == 0.0
    assert d({**obs, "pov_2018": obs["pov_2018"] + 1.0}) == 0.0  # at_least: above is fine
    below = d({**obs, "pov_2018": obs["pov_2018"] - 0.2})
    assert below == pytest.approx(0.2 / np.hypot(0.1, 0.05))
    assert d({**obs, "untrained": 99.0}) == 0.0  # held out: never fitted
    assert d({**obs, "pov_2019": float("nan")}) == float("inf")


def test_weighted_quantile() -> None:
    x = np.arange(100.0)
    assert weighted_quantile(x, np.ones(100), 0.5) == pytest.approx(49.5)
    w = np.where(x < 50, 0.0, 1.0)
    assert weighted_quantile(x, w, 0.5) == pytest.approx(74.5)


# ---------------------------------------------------------------------------- posterior in batches


def test_posterior_draws_are_paired_across_scenarios_and_differ_across_replicates(tmp_path: Path) -> None:
    post = pd.DataFrame({"welfare_growth_macro_year": np.linspace(-0.05, 0.05, 50),
                         "recruitment_lag_months": np.arange(50) % 12 + 1.0,
                         "weight": np.linspace(1, 2, 50), "generation": 3})
    post.to_parquet(tmp_path / "post.parquet")
    _write(tmp_path, 'name = "cal"\nextends = "baseline-official"\nposterior = "post.parquet"\n', "cal.toml")
    _write(tmp_path, 'name = "child"\nextends = "cal.toml"\n[policies.supervision]\n', "child.toml")
    a, b = scenario.load(tmp_path / "cal.toml"), scenario.load(tmp_path / "child.toml")
    assert a.posterior == b.posterior == str((tmp_path / "post.parquet").resolve())
    plan = plan_batch([a, b], replicates=6, months=2, scale=0.05)
    by = {(s.scenario.name, s.replicate): s.overrides for s in plan.specs}
    for i in range(6):
        assert by[("cal", i)] == by[("child", i)]
        assert isinstance(by[("cal", i)]["recruitment_lag_months"], int)
    assert len({by[("cal", i)]["welfare_growth_macro_year"] for i in range(6)}) > 1
    # the draw is the replicate's, whatever the number of replicates
    assert plan_batch([a], replicates=2, months=2, scale=0.05).specs[1].overrides == by[("cal", 1)]


def test_bad_posterior_file_is_a_scenario_error_with_file_and_line(tmp_path: Path) -> None:
    pd.DataFrame({"no_such_parameter": [1.0], "weight": [1.0]}).to_parquet(tmp_path / "bad.parquet")
    p = _write(tmp_path, 'name = "cal"\nextends = "baseline-official"\nposterior = "bad.parquet"\n', "cal.toml")
    with pytest.raises(scenario.ScenarioError, match=r"cal.toml line 3, key 'posterior'.*no_such_parameter"):
        scenario.load(p)
    p2 = _write(tmp_path, 'name = "cal"\nposterior = "missing.parquet"\n', "cal2.toml")
    with pytest.raises(scenario.ScenarioError, match="not found"):
        scenario.load(p2)


# ---------------------------------------------------------------------------- recovery


def test_abc_smc_recovers_known_parameters_inside_the_90_percent_interval(tmp_path: Path) -> None:
    """Synthetic data from the model at a known truth (seed 11); reduced budget (240 simulations).

    Tolerance: the truth must lie inside the reported 90% interval of each parameter, and the
    posterior must be narrower than the prior for the poverty trend (it is identified).
    """
    base = targets.load(_write(tmp_path, SMALL))
    truth = {"welfare_growth_macro_year": 0.04, "natural_exit_rate_year": 0.12}
    syn = to_toml(synthetic_targets(base, truth, seed=11), tmp_path / "syn.toml")
    o = calibrate.Options(targets=str(syn), params=["welfare_growth_macro_year=-0.1:0.1", "natural_exit_rate_year=0.02:0.2"],
                          out=tmp_path / "fit", budget=240, population=40, generations=4, jobs=2, seed=5, ppc=6)
    res = calibrate.run(o)
    s = res["summary"].set_index("parameter")
    for name, v in truth.items():
        assert s.loc[name, "q05"] <= v <= s.loc[name, "q95"], (name, v, s.loc[name].to_dict())
    assert s.loc["welfare_growth_macro_year", "q95"] - s.loc["welfare_growth_macro_year", "q05"] < 0.9 * 0.2
    assert (tmp_path / "fit" / "report.html").read_text().count("<svg") >= 5
    assert scenario.load(res["scenario"]).posterior
    d = pd.read_csv(tmp_path / "fit" / "diagnostics.csv")
    names = ["welfare_growth_macro_year", "natural_exit_rate_year"]
    assert list(d.columns) == ["generation", "epsilon", "simulations", "accepted", "acceptance_rate", "ess",
                               "mean_shift", "sd_change", *[f"{k}:{n}" for n in names for k in ("mean", "sd")]]
    assert d["epsilon"].is_monotonic_decreasing
    # the last generation's stability row describes the published posterior
    post = pd.read_parquet(tmp_path / "fit" / "posterior.parquet")
    for n in names:
        assert d[f"mean:{n}"].iloc[-1] == pytest.approx(float((post[n] * post["weight"]).sum()), rel=1e-9)
    assert np.isnan(d["mean_shift"].iloc[0]) and (d["mean_shift"].iloc[1:] >= 0).all()
    assert "Stability of the last generations" in (tmp_path / "fit" / "report.html").read_text()
    # resuming a finished run adds no simulation
    n = int(d["simulations"].sum())
    calibrate.run(o)
    assert int(pd.read_csv(tmp_path / "fit" / "diagnostics.csv")["simulations"].sum()) == n


# ---------------------------------------------------------------------------- screening, checks


def test_tags_and_the_screened_set_are_the_numeric_assumptions() -> None:
    from calibration.screen import assumption_ranges, tag_of

    assert tag_of({"source": "[A] calibrate"}) == "A" and tag_of({"source": "[S] BPS"}) == "S"
    assert tag_of({"tag": "D", "source": "[A]"}) == "D"  # the registry's own tag wins
    names = {r.name for r in assumption_ranges()}
    assert "welfare_growth_macro_year" in names and "incentive_rp_month" not in names  # [S]
    assert "evaluation_scheme" not in names  # a choice, not a number


def test_morris_screening_ranks_the_poverty_trend_above_an_inert_parameter(tmp_path: Path) -> None:
    """Seeded (common random numbers, seed 3); 6 trajectories x 3 points at scale 0.05."""
    from calibration.engine import Mapper, Range
    from calibration.screen import screen

    ts = targets.load(_write(tmp_path, SMALL))
    ranges = [Range("training_cost_rp", 0.0, 5e7, "float"), Range("welfare_growth_macro_year", -0.1, 0.1, "float")]
    rank = screen(ts, tmp_path / "s", 6, 3, Mapper("local", 1), ranges=ranges)
    assert list(rank["parameter"]) == ["welfare_growth_macro_year", "training_cost_rp"]
    assert rank["score"].iloc[1] == 0.0  # cost has no effect on any target
    assert (tmp_path / "s" / "screening.csv").exists()


def test_predictive_band_includes_observation_error() -> None:
    from calibration.predictive import check_table

    ts = targets.load(Path(__file__).resolve().parent.parent / "calibration" / "targets" / "official.toml")
    stats = pd.DataFrame({t.name: np.full(20, t.value) for t in ts.targets})
    c = check_table(ts, stats, seed=1).set_index("target")
    assert c["inside_90"].all() and (c["error"] == 0).all()
    row = c.loc["poverty_rate_2019"]
    assert row["q05"] == row["q95"] == 4.01 and row["pred_q95"] - row["pred_q05"] == pytest.approx(2 * 1.645 * row["sigma"], rel=0.15)


def test_optimize_gives_a_point_estimate_that_is_never_a_posterior(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = _write(tmp_path, SMALL.replace("months = 24", "months = 13").replace('at = "2019-03"', 'at = "2018-03"'))
    rc = main(["calibrate", str(p), "--params", "welfare_growth_macro_year=-0.1:0.1", "--method", "optimize",
               "--budget", "8", "--jobs", "1", "--out", str(tmp_path / "o")])
    out = capsys.readouterr().out
    assert rc == 0 and "NOT the calibration result" in out
    assert (tmp_path / "o" / "optimize.json").exists() and not (tmp_path / "o" / "posterior.parquet").exists()


def test_stability_measures_how_far_the_posterior_moved_between_generations() -> None:
    # Two generations of one parameter on a prior of width 2: the mean moves 0 -> 0.5 (a
    # quarter of the range) and the s.d. halves; weights are normalised.
    from calibration.engine import Prior
    from calibration.fit import stability
    from runs.sweep import Range

    prior = Prior((Range("welfare_growth_macro_year", -1.0, 1.0, "float"),))
    g0 = pd.DataFrame({"welfare_growth_macro_year": [-1.0, 1.0]})
    g1 = pd.DataFrame({"welfare_growth_macro_year": [0.0, 1.0]})
    st = stability([(g0, np.array([1.0, 1.0])), (g1, np.array([2.0, 2.0]))], prior)
    assert st["mean:welfare_growth_macro_year"].tolist() == pytest.approx([0.0, 0.5])
    assert st["sd:welfare_growth_macro_year"].tolist() == pytest.approx([1.0, 0.5])
    assert np.isnan(st["mean_shift"].iloc[0])
    assert st["mean_shift"].iloc[1] == pytest.approx(0.25) and st["sd_change"].iloc[1] == pytest.approx(0.5)
