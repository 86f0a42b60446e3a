"""Scenario files: loading, inheritance and error messages that name the file, key and line."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from runs import scenario
from runs.scenario import SCENARIO_DIR, ScenarioError
from sim import params

CLI = [sys.executable, "-m", "cli.main"]


def write(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body).lstrip(), encoding="utf-8")
    return path


def load_error(path: Path) -> str:
    with pytest.raises(ScenarioError) as e:
        scenario.load(path)
    return str(e.value)


# --- the shipped scenarios -----------------------------------------------------------------------


def test_baseline_loads() -> None:
    sc = scenario.load("baseline")
    assert sc.name == "baseline"
    assert sc.path == SCENARIO_DIR / "baseline.toml"
    assert (sc.profile, sc.months, sc.start, sc.scale) == ("paper-2023", 36, "2021-01", 1.0)
    assert sc.parameters == {} and sc.policies == {}
    assert sc.description and sc.description_id
    assert sc.chain == [str(SCENARIO_DIR / "baseline.toml")]
    kwargs = sc.model_kwargs()
    assert kwargs["profile"] == "paper-2023" and kwargs["policies"] == []


def test_baseline_official_extends_baseline_and_overrides_the_profile() -> None:
    base = scenario.load("baseline")
    off = scenario.load(SCENARIO_DIR / "baseline-official.toml")
    assert off.name == "baseline-official"
    assert off.profile == "official" and base.profile == "paper-2023"
    assert (off.months, off.start, off.scale) == (base.months, base.start, base.scale)  # inherited
    assert off.description != base.description  # overridden
    assert off.chain == [str(SCENARIO_DIR / "baseline-official.toml"), str(SCENARIO_DIR / "baseline.toml")]
    assert "official.toml" in off.sources["profile"]
    assert off.as_dict()["files"] == off.chain


def test_load_any_takes_names_paths_and_profiles() -> None:
    assert scenario.load_any("baseline").name == "baseline"
    assert scenario.load_any(str(SCENARIO_DIR / "baseline.toml")).name == "baseline"
    prof = scenario.load_any("official")
    assert prof.profile == "official" and prof.path is None
    with pytest.raises(ScenarioError, match=r"no-such-thing: no such scenario file or profile\. Scenarios: .*baseline"):
        scenario.load_any("no-such-thing")


def test_inheritance_merges_parameters(tmp_path: Path) -> None:
    write(tmp_path, "parent.toml", """
        name = "parent"
        description = "the parent"
        profile = "official"
        months = 24
        [parameters]
        incentive_rp_month = 4000000
        recruitment_lag_months = 6
    """)
    child = write(tmp_path, "child.toml", """
        extends = "parent"
        months = 12
        [parameters]
        recruitment_lag_months = 3
        training_prob_month = 0.1
    """)
    sc = scenario.load(child)
    assert sc.name == "child"  # the name is not inherited: it defaults to the file's
    assert sc.profile == "official" and sc.months == 12 and sc.description == "the parent"
    assert sc.parameters == {"incentive_rp_month": 4000000, "recruitment_lag_months": 3, "training_prob_month": 0.1}
    assert sc.chain == [str(child), str(tmp_path / "parent.toml")]
    assert params.validate(sc.parameters)["recruitment_lag_months"] == 3


# --- errors ----------------------------------------------------------------------------------------


def test_unknown_top_level_key_suggests_the_right_one(tmp_path: Path) -> None:
    path = write(tmp_path, "typo.toml", """
        name = "typo"
        profle = "official"
    """)
    msg = load_error(path)
    assert msg.startswith(f"{path} line 2, key 'profle'")
    assert "unknown key 'profle'. Did you mean 'profile'?" in msg


def test_string_for_months_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "months.toml", """
        name = "m"
        months = "5"
    """)
    msg = load_error(path)
    assert msg.startswith(f"{path} line 2, key 'months'")
    assert "expected an integer, got '5'" in msg


@pytest.mark.parametrize(("body", "key", "line", "expected"), [
    ('months = 0\n', "months", 1, "months = 0 is out of range: valid range is [1, 600]"),
    ('months = 12.0\n', "months", 1, "expected an integer"),
    ('scale = 3\n', "scale", 1, "scale = 3 is out of range: valid range is [0.05, 2.0]"),
    ('scale = 0.01\n', "scale", 1, "scale = 0.01 is out of range: valid range is [0.05, 2.0]"),
    ('scale = nan\n', "scale", 1, "expected a finite number"),
    ('profile = "offical"\n', "profile", 1, "valid profiles: paper-2023, official"),
    ('start = "2021-1"\n', "start", 1, "expected a month 'YYYY-MM'"),
    ('name = 5\n', "name", 1, "expected a string"),
    ('# one\n# two\nparameters = 5\n', "parameters", 3, "expected a table"),
])
def test_bad_top_level_values(tmp_path: Path, body: str, key: str, line: int, expected: str) -> None:
    path = write(tmp_path, "bad.toml", body)
    msg = load_error(path)
    assert msg.startswith(f"{path} line {line}, key '{key}'"), msg
    assert expected in msg


def test_nan_parameter_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "nan.toml", """
        name = "nan"

        [parameters]
        incentive_rp_month = nan
    """)
    msg = load_error(path)
    assert msg.startswith(f"{path} line 4, key 'parameters.incentive_rp_month'")
    assert "expected a finite number, got nan" in msg


def test_out_of_range_parameter_names_the_range(tmp_path: Path) -> None:
    path = write(tmp_path, "range.toml", """
        [parameters]
        recruitment_lag_months = 48
    """)
    msg = load_error(path)
    assert msg.startswith(f"{path} line 2, key 'parameters.recruitment_lag_months'")
    assert "valid range is [0, 36]" in msg


def test_unknown_parameter_names_file_key_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "unknown.toml", """
        name = "unknown"
        # a comment line
        months = 12

        [parameters]
        incentive_rp_month = 4000000
        incentive_rp_mnth = 5000000
    """)
    msg = load_error(path)
    assert msg.startswith(f"{path} line 7, key 'parameters.incentive_rp_mnth'")
    assert "unknown parameter 'incentive_rp_mnth'. Did you mean 'incentive_rp_month'?" in msg


def test_inheritance_cycle_is_reported(tmp_path: Path) -> None:
    a = write(tmp_path, "a.toml", 'extends = "b"\n')
    b = write(tmp_path, "b.toml", 'extends = "a"\n')
    msg = load_error(a)
    assert "inheritance cycle" in msg
    assert f"{a} -> {b} -> {a}" in msg
    assert msg.startswith(f"{b} line 1, key 'extends'")  # the file whose extends closes the cycle


def test_self_inheritance_is_a_cycle(tmp_path: Path) -> None:
    me = write(tmp_path, "me.toml", 'extends = "me"\n')
    assert "inheritance cycle" in load_error(me)


def test_inheritance_cycle_names_the_extends_key(tmp_path: Path) -> None:
    a = write(tmp_path, "a.toml", 'name = "a"\nextends = "b"\n')
    write(tmp_path, "b.toml", 'extends = "a"\n')
    msg = load_error(a)
    assert "key 'extends'" in msg


def test_missing_parent_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "orphan.toml", """
        name = "orphan"
        extends = "no-such-parent"
    """)
    msg = load_error(path)
    assert msg.startswith(f"{path} line 2, key 'extends'")
    assert "parent scenario 'no-such-parent' not found" in msg


def test_error_in_a_parent_names_the_parent(tmp_path: Path) -> None:
    parent = write(tmp_path, "parent.toml", "[parameters]\nvisit_h = 9.0\n")
    child = write(tmp_path, "child.toml", 'extends = "parent.toml"\n')
    msg = load_error(child)
    assert msg.startswith(f"{parent} line 2, key 'parameters.visit_h'")


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    assert load_error(missing) == f"{missing}: scenario file not found"
    broken = write(tmp_path, "broken.toml", 'name = "unterminated\n')
    assert load_error(broken).startswith(f"{broken}: not valid TOML")


# --- `caseload validate` ---------------------------------------------------------------------------


def test_validate_command_accepts_good_files(tmp_path: Path) -> None:
    good = write(tmp_path, "good.toml", 'extends = "baseline-official"\nmonths = 12\n[parameters]\nvisit_h = 1.0\n')
    files = [str(SCENARIO_DIR / "baseline.toml"), str(SCENARIO_DIR / "baseline-official.toml"), str(good)]
    out = subprocess.run([*CLI, "validate", *files], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("ok  ") == len(files)
    assert out.stderr == ""


def test_validate_command_exits_2_on_a_bad_file(tmp_path: Path) -> None:
    good = write(tmp_path, "good.toml", 'extends = "baseline"\nmonths = 12\n')
    bad = write(tmp_path, "bad.toml", 'name = "bad"\nprofle = "official"\n')
    out = subprocess.run([*CLI, "validate", str(good), str(bad)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert f"ok  {good}" in out.stdout
    assert out.stderr.startswith(f"error: {bad} line 2, key 'profle'")
    assert "Did you mean 'profile'?" in out.stderr
    assert "Traceback" not in out.stderr
