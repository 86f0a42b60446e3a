"""The `caseload` command line: help, a small run with its outputs and manifest, and clean errors."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cli import main as cli
from runs import io
from sim import params
from sim.districts import DATA_DIR, DataError, load_districts

REPO = Path(__file__).resolve().parent.parent
_script = shutil.which("caseload", path=str(Path(sys.executable).parent))
CASELOAD = [_script] if _script else [sys.executable, "-m", "cli.main"]
RESULT_FILES = ("regency.parquet", "regency.csv", "districts.parquet", "districts.csv")
SEED, MONTHS, SCALE = 7, 6, 0.05


def caseload(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CASELOAD, *args], capture_output=True, text=True, timeout=300, cwd=cwd)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- help --------------------------------------------------------------------------------------


def test_help_documents_the_commands() -> None:
    out = caseload("--help")
    assert out.returncode == 0, out.stderr
    for command in ("run", "validate", "params"):
        assert command in out.stdout
    assert "Kabupaten Bekasi" in out.stdout


def test_run_help_documents_the_options() -> None:
    out = caseload("run", "--help")
    assert out.returncode == 0, out.stderr
    for option in ("--months", "--seed", "--scale", "--out", "SCENARIO_FILE_OR_PROFILE", "20210101"):
        assert option in out.stdout


def test_params_group_help_names_every_group(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        cli.main(["params", "--help"])
    assert e.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())  # argparse wraps the line
    for group in params.GROUPS:
        assert group in help_text


def test_params_command_lists_every_parameter(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["params"]) == 0
    out = capsys.readouterr().out
    for name in params.PARAMS:
        assert f"{name} = " in out
    assert cli.main(["params", "--group", "pay"]) == 0
    out = capsys.readouterr().out
    assert "incentive_rp_month = " in out and "visit_h = " not in out


def test_params_lists_lever_settings_with_unit_bounds_and_source_under_their_lever(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["params", "--group", "caseload_cap"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("[lever caseload_cap]") and "incentive_rp_month" not in out
    line = next(ln for ln in out.splitlines() if "caseload_cap.cap = " in ln)
    assert "[50, 400] families/facilitator" in line and "[S]" in line
    assert "Levianto & Warsidi 2025" in out  # the source, on the next line
    assert cli.main(["params", "--group", "training_platform"]) == 0
    assert "a list of: technical, psychosocial" in capsys.readouterr().out


def test_params_unknown_group_exits_2_naming_the_valid_groups(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["params", "--group", "foo"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --group: unknown group 'foo'") and err.count("\n") == 1
    for group in params.GROUPS:
        assert group in err


def test_no_command_is_a_usage_error() -> None:
    out = caseload()
    assert out.returncode == 2
    assert "usage: caseload" in out.stderr


# --- a small run -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    work = tmp_path_factory.mktemp("cli-run")
    out_dir = work / "out"
    proc = caseload("run", "baseline", "--scale", str(SCALE), "--months", str(MONTHS), "--seed", str(SEED),
                    "--out", str(out_dir), cwd=work)
    return proc, out_dir


def test_run_exits_0_and_prints_the_summary(small_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    proc, _ = small_run
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    out = proc.stdout
    assert "Poverty rate" in out and "Caseload" in out
    assert f"seed {SEED}" in out and f"{MONTHS} months from 2021-01" in out
    assert "state at 2021-01-01 vs 2021-07-01" in out


def test_run_writes_the_tables(small_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, out_dir = small_run
    for name in (*RESULT_FILES, "manifest.json"):
        assert (out_dir / name).is_file(), name
    reg = pd.read_parquet(out_dir / "regency.parquet")
    dist = pd.read_parquet(out_dir / "districts.parquet")
    assert len(reg) == MONTHS + 1 and list(reg["step"]) == list(range(MONTHS + 1))
    assert len(dist) == (MONTHS + 1) * 23
    assert (reg["seed"] == SEED).all() and (dist["seed"] == SEED).all()
    assert (reg["scenario"] == "baseline").all()
    reg_csv = pd.read_csv(out_dir / "regency.csv")
    assert list(reg_csv.columns) == list(reg.columns)
    for col in ("families", "facilitators", "caseload_mean", "poverty_rate_pct", "burnout_mean"):
        pd.testing.assert_series_equal(reg_csv[col], reg[col], check_dtype=False, rtol=1e-9)
    assert list(pd.read_csv(out_dir / "districts.csv").columns) == list(dist.columns)


def test_manifest_records_the_run(small_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, out_dir = small_run
    m: dict[str, Any] = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    assert m["seed"] == SEED and m["months"] == MONTHS and m["scale"] == SCALE
    assert m["profile"] == "paper-2023" and m["start"] == "2021-01"
    # the baseline overrides nothing; population growth is the data profile's (paper-2023: 0)
    assert m["parameters"] == {**params.defaults(), "population_growth_year": 0.0}
    assert m["scenario"]["name"] == "baseline"
    assert m["versions"]["mesa"] == metadata.version("mesa")
    assert m["versions"]["numpy"] == metadata.version("numpy")
    assert set(m["parameter_sources"]) == set(params.MODEL_PARAMS)  # no lever on: no lever setting
    assert m["policies"] == {}


def test_manifest_hashes_match_the_files(small_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, out_dir = small_run
    m: dict[str, Any] = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    assert set(m["result_files"]) == set(RESULT_FILES)
    for name, digest in m["result_files"].items():
        assert digest == sha256(out_dir / name), name
    data = {str(p.relative_to(REPO)): p for p in DATA_DIR.rglob("*") if p.suffix in (".csv", ".toml")}
    assert {"sim/data/kecamatan_codes.csv", "sim/data/profiles/paper-2023.toml"} <= set(data)
    assert set(m["data_files"]) == set(data)
    for key, digest in m["data_files"].items():
        assert digest == sha256(data[key]), key


def test_run_with_a_profile_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = cli.main(["run", "official", "--scale", "0.05", "--months", "2", "--out", str(tmp_path / "o")])
    assert rc == 0
    assert "official: profile official, 2 months" in capsys.readouterr().out
    m = json.loads((tmp_path / "o" / "manifest.json").read_text(encoding="utf-8"))
    assert m["profile"] == "official" and m["seed"] == 20210101  # the documented default seed


# --- clean errors ------------------------------------------------------------------------------


def test_bad_scenario_file_exits_2_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\n\n[parameters]\nincentive_rp_mnth = 4000000\n', encoding="utf-8")
    out = caseload("run", str(bad), "--scale", "0.05", "--months", "2", "--out", str(tmp_path / "out"))
    assert out.returncode == 2
    assert out.stderr.startswith("error: ")
    assert f"{bad} line 4, key 'parameters.incentive_rp_mnth'" in out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--months", "0"], "--months = 0 is out of range: valid range is [1, 600]"),
    (["--seed", "-3"], "--seed = -3 is out of range: valid range is [0, 9223372036854775807]"),
    (["--scale", "5"], "--scale = 5.0 is out of range: valid range is [0.05, 2.0]"),
    (["--scale", "0.01"], "--scale = 0.01 is out of range: valid range is [0.05, 2.0]"),
])
def test_bad_options_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    rc = cli.main(["run", "baseline", *args, "--out", str(tmp_path / "out")])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err


def test_unknown_scenario_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run", "baselien", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: baselien: no such scenario file or profile")


def _corrupt_cell(path: Path, line: int, column: str, value: str) -> None:
    """Set one cell of a CSV (line numbers as in an editor: the header is line 1)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    rows[line - 1][rows[0].index(column)] = value
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def test_broken_data_file_names_file_line_and_column(data_copy: Path) -> None:
    load_districts(data_copy)  # the untouched copy loads
    _corrupt_cell(data_copy / "kecamatan_codes.csv", 5, "centroid_lat", "not-a-number")
    with pytest.raises(DataError) as e:
        load_districts(data_copy)
    msg = str(e.value)
    assert "kecamatan_codes.csv line 5, column 'centroid_lat'" in msg
    assert "expected a latitude" in msg and "got 'not-a-number'" in msg


def test_broken_data_file_exits_2_without_traceback(
    data_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _corrupt_cell(data_copy / "kecamatan_codes.csv", 9, "polygon_area_km2_derived", "-4")
    monkeypatch.setattr("sim.districts.DATA_DIR", data_copy)
    rc = cli.main(["run", "baseline", "--scale", "0.05", "--months", "1", "--out", str(tmp_path / "out")])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert "kecamatan_codes.csv line 9, column 'polygon_area_km2_derived'" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


# --- result files --------------------------------------------------------------------------------


def test_atomic_write_leaves_no_temporary_files(tmp_path: Path) -> None:
    df = pd.DataFrame({"a": [1, 2]})
    io.write_csv(df, tmp_path / "x.csv")
    io.write_parquet(df, tmp_path / "x.parquet")
    io.write_json({"k": 1}, tmp_path / "x.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.csv", "x.json", "x.parquet"]
    with pytest.raises(ZeroDivisionError):
        io.atomic_write(tmp_path / "y.csv", lambda _tmp: 1 / 0)  # type: ignore[func-returns-value]
    assert not (tmp_path / "y.csv").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.csv", "x.json", "x.parquet"]


def test_result_files_get_ordinary_permissions(tmp_path: Path) -> None:
    plain = tmp_path / "plain.csv"
    plain.write_text("a\n1\n", encoding="utf-8")
    io.write_csv(pd.DataFrame({"a": [1]}), tmp_path / "atomic.csv")
    assert os.stat(tmp_path / "atomic.csv").st_mode & 0o777 == os.stat(plain).st_mode & 0o777
