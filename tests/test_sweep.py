"""Parameter sweeps: validation of ranges, designs (LHS, Sobol, Morris), resumable runs, sensitivity indices."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cli import main as cli
from runs import store, sweep
from runs.scenario import load_any
from sim import params

COMMON = ["--months", "3", "--scale", "0.1", "--jobs", "2", "--seed", "4"]


def test_parse_range_validates_names_kinds_and_bounds() -> None:
    r = sweep.parse_range("incentive_rp_month=3000000:6000000")
    assert (r.name, r.low, r.high, r.kind) == ("incentive_rp_month", 3e6, 6e6, "float")
    assert sweep.parse_range("recruitment_lag_months = 2 : 12").kind == "int"
    with pytest.raises(store.BatchError, match="Did you mean 'incentive_rp_month'"):
        sweep.parse_range("incentive_rp_mont=1:2")
    with pytest.raises(store.BatchError, match="valid range"):
        sweep.parse_range("incentive_rp_month=500000:6000000")  # below the parameter's lower bound
    with pytest.raises(store.BatchError, match="LOW must be below HIGH"):
        sweep.parse_range("visit_h=2:1")
    with pytest.raises(store.BatchError, match="cannot be swept"):
        sweep.parse_range("regional_incentive.vulnerable=0:1")
    cap = sweep.parse_range("caseload_cap.cap=100:200")  # a lever setting, by its dotted name
    assert (cap.name, cap.low, cap.high, cap.kind) == ("caseload_cap.cap", 100.0, 200.0, "int")
    with pytest.raises(store.BatchError, match=r"Did you mean 'caseload_cap\.cap'"):
        sweep.parse_range("caseload_cap.capp=100:200")
    with pytest.raises(store.BatchError, match="valid range"):
        sweep.parse_range("caseload_cap.cap=10:200")
    with pytest.raises(store.BatchError, match="NAME=LOW:HIGH"):
        sweep.parse_range("visit_h=1")
    with pytest.raises(store.BatchError, match="numbers"):
        sweep.parse_range("visit_h=a:b")
    with pytest.raises(store.BatchError, match="two integers"):
        sweep.parse_range("recruitment_lag_months=2.2:2.8")


def test_designs_have_the_documented_sizes_and_stay_in_bounds() -> None:
    ranges = [sweep.parse_range("visit_h=0.5:1.5"), sweep.parse_range("recruitment_lag_months=2:12"),
              sweep.parse_range("burnout_overload=0.1:0.9")]
    x, analysis = sweep.design(ranges, 10, "lhs", 1, False)
    assert x.shape == (10, 3) and analysis is None
    assert np.all(x >= [0.5, 2, 0.1]) and np.all(x <= [1.5, 12, 0.9])
    # Latin hypercube: one point in each of the 10 strata of every parameter
    strata = np.floor((x[:, 0] - 0.5) / 0.1).astype(int)
    assert sorted(strata) == list(range(10))
    assert np.array_equal(x, sweep.design(ranges, 10, "lhs", 1, False)[0])  # seeded
    assert sweep.design(ranges, 8, "sobol", 1, False)[0].shape == (8, 3)
    xs, a = sweep.design(ranges, 8, "sobol", 1, True)
    assert xs.shape == (8 * (3 + 2), 3) and a == "sobol"  # Saltelli, first and total order
    xm, a = sweep.design(ranges, 5, "morris", 1, True)
    assert xm.shape == (5 * (3 + 1), 3) and a == "morris"
    assert sweep.design(ranges, 10, "lhs", 1, True)[1] == "delta"
    values = [ranges[1].value(v) for v in x[:, 1]]
    assert all(isinstance(v, int) and 2 <= v <= 12 for v in values)  # integer parameters are rounded


def test_sweep_plan_uses_common_seeds_and_overrides() -> None:
    base = load_any("baseline")
    plan = sweep.plan_sweep(base, [sweep.parse_range("visit_h=0.5:1.5")], 4, seed=9, replicates=2, months=2, scale=0.1)
    assert len(plan.specs) == 8 and len({s.run_id for s in plan.specs}) == 8
    for s in plan.specs:
        assert set(s.overrides) == {"visit_h"} and s.sample is not None
        params.validate(s.overrides)
    seeds = {s.replicate: s.seed for s in plan.specs}
    assert all(s.seed == seeds[s.replicate] for s in plan.specs)  # replicate i: same seed at every point


@pytest.mark.parametrize("func", ["sobol", "morris", "delta"])
def test_sensitivity_ranks_an_influential_input_first(func: str) -> None:
    ranges = [sweep.parse_range("visit_h=0.5:1.5"), sweep.parse_range("burnout_overload=0.1:0.9")]
    method = {"sobol": "sobol", "morris": "morris", "delta": "lhs"}[func]
    x, analysis = sweep.design(ranges, 64 if func != "morris" else 20, method, 3, True)
    assert analysis == func
    y = 10 * x[:, 0] + 0.1 * x[:, 1]  # visit_h dominates
    man = {"design": {"analysis": analysis, "problem": sweep.problem_of(ranges), "matrix": x.tolist()}}
    df = pd.DataFrame({"sample": range(len(y)), "poverty_rate_pct": y})
    s = sweep.sensitivity(man, df, ["poverty_rate_pct"], 3).set_index("parameter")
    key = {"sobol": "ST", "morris": "mu_star", "delta": "delta"}[func]
    assert s.loc["visit_h", key] > s.loc["burnout_overload", key]
    if func == "sobol":
        assert s.loc["visit_h", "S1"] > 0.8


def test_sweep_cli_lhs_writes_n_samples_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "sw"
    args = ["sweep", "baseline", "--param", "incentive_rp_month=3000000:6000000", "--param", "recruitment_lag_months=2:12",
            "--samples", "5", "--replicates", "2", *COMMON, "--out", str(out)]
    assert cli.main(args) == 0
    df = pd.read_csv(out / "samples.csv")
    assert len(df) == 5 and list(df["sample"]) == list(range(5)) and (df["n_replicates"] == 2).all()
    assert (df["recruitment_lag_months"] == df["recruitment_lag_months"].round()).all()
    assert df["incentive_rp_month"].between(3e6, 6e6).all() and df["poverty_rate_pct"].notna().all()
    m = json.loads((out / "manifest.json").read_text())
    assert m["kind"] == "sweep" and m["summary"]["done"] == 10 and len(m["design"]["matrix"]) == 5
    assert not (out / "sensitivity.csv").exists()
    before = {p.name: p.stat().st_mtime_ns for p in (out / "runs").iterdir()}
    assert cli.main(args) == 0  # everything already finished
    assert {p.name: p.stat().st_mtime_ns for p in (out / "runs").iterdir()} == before
    assert cli.main([*args[:7], "7", *args[8:]]) == 2  # another design in the same folder is refused


def test_sweep_cli_sobol_sensitivity(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sw"
    rc = cli.main(["sweep", "baseline", "--param", "incentive_rp_month=3000000:6000000", "--param", "visit_h=0.5:1.5",
                   "--samples", "4", "--method", "sobol", "--sensitivity", "--outputs", "poverty_rate_pct,burnout_mean",
                   *COMMON, "--out", str(out)])
    assert rc == 0
    assert len(pd.read_csv(out / "samples.csv")) == 4 * (2 + 2)
    s = pd.read_csv(out / "sensitivity.csv")
    assert set(s["output"]) == {"poverty_rate_pct", "burnout_mean"}
    assert set(s["parameter"]) == {"incentive_rp_month", "visit_h"}
    assert {"S1", "S1_conf", "ST", "ST_conf"} <= set(s.columns) and (s["method"] == "sobol").all()
    assert "Sobol indices" in capsys.readouterr().out


def test_sweep_cli_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["sweep", "baseline", "--samples", "3", "--out", str(tmp_path / "x")]
    assert cli.main([*base, "--param", "nope=1:2"]) == 2
    assert "unknown parameter 'nope'" in capsys.readouterr().err
    assert cli.main([*base, "--param", "visit_h=0.5:1", "--param", "visit_h=1:2"]) == 2
    assert cli.main([*base, "--param", "visit_h=0.5:1", "--sensitivity", "--outputs", "poverty_rate"]) == 2
    assert "Did you mean 'poverty_rate_pct'" in capsys.readouterr().err
    assert cli.main([*base[:3], "1", *base[4:], "--param", "visit_h=0.5:1"]) == 2  # --samples 1
    assert not (tmp_path / "x").exists()
