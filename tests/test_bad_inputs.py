"""Every bad input is one `error:` line naming the file and the key or row, exit 2, no traceback, nothing written.

The scenario files of tests/bad_inputs/ (each says what its error must name on its first
line, ``# expect: ...``; files starting with '_' are helpers that other cases extend) are
run through ``validate``, ``run``, ``batch`` and ``sweep``; cases that need the file system
(devices, pipes, long ``extends`` chains, paths out of the sandbox) are made here, as are
bad options and bad batch folders for ``compare``. Commands run in this process
(cli.main.main): an exception escaping main() fails the test, so "no traceback" is checked
exactly; a few cases run as real processes where the process matters (a named pipe, a
closed output pipe). A hypothesis test feeds arbitrary scenario texts to the loader: only
the tool's own errors may come out.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from cli import main as cli

HERE = Path(__file__).resolve().parent
CASES_DIR = HERE / "bad_inputs"
REPO = HERE.parent
HEADERLESS = {"empty.toml": "empty scenario", "utf16_bytes.toml": "not UTF-8"}

RUN = ["--months", "1", "--jobs", "1"]
COMMANDS: dict[str, Callable[[str, str], list[str]]] = {
    "validate": lambda f, out: ["validate", f],
    "run": lambda f, out: ["run", f, "--months", "1", "--out", out],
    "batch": lambda f, out: ["batch", f, "--replicates", "1", *RUN, "--out", out],
    "sweep": lambda f, out: ["sweep", f, "--param", "incentive_rp_month=3000000:4000000", "--samples", "2", *RUN,
                             "--out", out],
}


def _expectation(path: Path) -> str:
    if path.name in HEADERLESS:
        return HEADERLESS[path.name]
    first = path.read_bytes().split(b"\n", 1)[0].decode("utf-8")
    assert first.startswith("# expect: "), path
    return first.removeprefix("# expect: ")


CASES = sorted(p for p in CASES_DIR.glob("*.toml") if not p.name.startswith("_"))


def _snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _check_clean(rc: int, err: str, must: list[str], before: set[str], root: Path) -> None:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert rc == 2, err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for m in must:
        assert m in lines[0], (m, lines[0])
    assert _snapshot(root) == before, "something was written"


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder with a copy of tests/bad_inputs (so ``extends`` sees its siblings)."""
    shutil.copytree(CASES_DIR, tmp_path / "cases")
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    return tmp_path


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 55
    assert len(CASES) + len(FS_CASES) + len(OPTION_CASES) + len(FOLDER_CASES) >= 60


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("case", CASES, ids=[p.stem for p in CASES])
def test_bad_scenario_file(case: Path, command: str, work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = work / "cases" / case.name
    before = _snapshot(work)
    rc = cli.main(COMMANDS[command](str(f), str(work / "cwd" / "out")))
    _, err = capsys.readouterr()
    _check_clean(rc, err, [str(f), _expectation(case)], before, work)


# --- cases that need the file system ----------------------------------------------------------


def _fs_nonexistent(d: Path) -> tuple[str, str]:
    return str(d / "nope.toml"), "not found"


def _fs_folder(d: Path) -> tuple[str, str]:
    (d / "folder.toml").mkdir()
    return str(d / "folder.toml"), "is a folder"


def _fs_dev_zero(d: Path) -> tuple[str, str]:
    return "/dev/zero", "not a regular file"


def _fs_symlink_dev_zero(d: Path) -> tuple[str, str]:
    (d / "zero.toml").symlink_to("/dev/zero")
    return str(d / "zero.toml"), "not a regular file"


def _fs_fifo(d: Path) -> tuple[str, str]:
    os.mkfifo(d / "pipe.toml")
    return str(d / "pipe.toml"), "not a regular file"


def _fs_two_megabytes(d: Path) -> tuple[str, str]:
    (d / "big.toml").write_text('name = "x"\n' + "# padding\n" * 220_000, encoding="utf-8")
    return str(d / "big.toml"), "at most 1,048,576 bytes"


def _fs_huge_description(d: Path) -> tuple[str, str]:
    (d / "desc.toml").write_text('name = "x"\ndescription = "' + "x" * (1 << 20) + '"\n', encoding="utf-8")
    return str(d / "desc.toml"), "bytes"


def _fs_long_extends_chain(d: Path) -> tuple[str, str]:
    for i in range(1500):
        (d / f"c{i}.toml").write_text(f'name = "c{i}"\nextends = "c{i + 1}"\n', encoding="utf-8")
    (d / "c1500.toml").write_text('name = "end"\n', encoding="utf-8")
    return str(d / "c0.toml"), "chain longer than"


def _fs_extends_outside(d: Path) -> tuple[str, str]:
    secret = d.parent / "elsewhere" / "secret.toml"
    secret.parent.mkdir()
    secret.write_text('name = "SECRET-VALUE"\nmonths = "SECRET-VALUE"\n', encoding="utf-8")
    (d / "sub").mkdir()
    (d / "sub" / "x.toml").write_text('name = "x"\nextends = "../../elsewhere/secret"\n', encoding="utf-8")
    return str(d / "sub" / "x.toml"), "outside the folders"


def _fs_extends_symlink_out(d: Path) -> tuple[str, str]:
    secret = d.parent / "elsewhere2" / "secret.toml"
    secret.parent.mkdir()
    secret.write_text('name = "SECRET-VALUE"\nmonths = "SECRET-VALUE"\n', encoding="utf-8")
    (d / "link.toml").symlink_to(secret)
    (d / "y.toml").write_text('name = "y"\nextends = "link"\n', encoding="utf-8")
    return str(d / "y.toml"), "outside the folders"


def _fs_readme(d: Path) -> tuple[str, str]:
    shutil.copy(REPO / "README.md", d / "README.md")
    return str(d / "README.md"), "not valid TOML"


FS_CASES = [_fs_nonexistent, _fs_folder, _fs_dev_zero, _fs_symlink_dev_zero, _fs_fifo, _fs_two_megabytes,
            _fs_huge_description, _fs_long_extends_chain, _fs_extends_outside, _fs_extends_symlink_out, _fs_readme]


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("make", FS_CASES, ids=[f.__name__[4:] for f in FS_CASES])
def test_bad_scenario_path(make: Callable[[Path], tuple[str, str]], command: str, work: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    d = work / "fs"
    d.mkdir()
    f, expect = make(d)
    before = _snapshot(work)
    rc = cli.main(COMMANDS[command](f, str(work / "cwd" / "out")))
    _, err = capsys.readouterr()
    _check_clean(rc, err, [f if command != "validate" or f != "/dev/zero" else "/dev/zero", expect], before, work)
    assert "SECRET-VALUE" not in err  # nothing read from outside the sandbox is echoed


def test_a_named_pipe_does_not_hang_a_real_process(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "p.toml")
    r = subprocess.run([sys.executable, "-m", "cli", "validate", str(tmp_path / "p.toml")], capture_output=True,
                       text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert r.returncode == 2 and r.stderr.startswith("error: ") and "Traceback" not in r.stderr


def test_readme_is_named_as_a_file_not_as_missing(work: Path, capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    assert cli.main(["validate", "README.md"]) == 2 and cli.main(["run", "README.md", "--out", str(work / "o")]) == 2
    err = capsys.readouterr().err
    assert "README.md: not valid TOML" in err and "no such scenario" not in err


# --- bad options ------------------------------------------------------------------------------------

SEED_OVER = str(2**63)
OPTION_CASES: list[tuple[list[str], str, tuple[str, ...]]] = [
    # (options, expected text, commands it applies to)
    (["--seed", SEED_OVER], "--seed", ("run", "batch", "sweep")),
    (["--seed", "-1"], "--seed", ("run", "batch", "sweep")),
    (["--months", "0"], "--months", ("run", "batch", "sweep")),
    (["--months", "601"], "--months", ("run", "batch", "sweep")),
    (["--scale", "1e-9"], "--scale", ("run", "batch", "sweep")),
    (["--scale", "3"], "--scale", ("run", "batch", "sweep")),
    (["--scale", "nan"], "--scale", ("run", "batch", "sweep")),
    (["--scale=-inf"], "--scale", ("run", "batch", "sweep")),
    (["--jobs", "0"], "--jobs", ("batch", "sweep")),
    (["--retries", "-1"], "--retries", ("batch", "sweep")),
    (["--replicates", "0"], "--replicates", ("batch", "sweep")),
    (["--replicates", "1000000000"], "--replicates", ("batch", "sweep")),
    (["--executor", "local", "--scheduler", "tcp://127.0.0.1:9"], "--scheduler", ("batch", "sweep")),
    (["--executor", "dask", "--scheduler", "http://127.0.0.1:80"], "--scheduler", ("batch",)),
    (["--executor", "dask", "--scheduler", "tcp://127.0.0.1:9"], "--scheduler", ("batch",)),
]
OUT_CASES: list[tuple[str, str]] = [
    ("FILE", "exists and is not a folder"),
    ("FILE/sub", "is a file, not a folder"),
    ("", "an empty path"),
]


def test_run_never_replaces_a_folder_of_other_files(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # a run replaces its folder as a whole: --out . or a folder of documents must be refused, not deleted
    docs = work / "cwd" / "docs"
    docs.mkdir()
    (docs / "thesis.docx").write_text("precious", encoding="utf-8")
    for out in (str(docs), "."):
        before = _snapshot(work)
        rc = cli.main(["run", "baseline", "--months", "1", "--scale", "0.05", "--out", out])
        _, err = capsys.readouterr()
        _check_clean(rc, err, ["--out", "holds other files"], before, work)
    assert (docs / "thesis.docx").read_text(encoding="utf-8") == "precious"
SWEEP_CASES: list[tuple[list[str], str]] = [
    (["--samples", "1000000000"], "--samples"),
    (["--samples", "1"], "--samples"),
    (["--samples", "100000", "--method", "sobol", "--sensitivity"], "runs, about"),
    (["--samples", "4", "--param", "no_such_param=1:2"], "no_such_param"),
    (["--samples", "4", "--param", "hours_per_month=5:1"], "LOW must be below HIGH"),
    (["--samples", "4", "--param", "hours_per_month"], "NAME=LOW:HIGH"),
    (["--samples", "4", "--outputs", "no_such_output"], "no_such_output"),
]


def _cmd(command: str, extra: list[str], out: str) -> list[str]:
    if command == "run":
        return ["run", "baseline", *extra, "--out", out]
    if command == "batch":
        return ["batch", "baseline", "--replicates", "1", *extra, "--out", out]
    args = ["sweep", "baseline", "--samples", "2", *extra, "--out", out]
    if "--param" not in extra:
        args[2:2] = ["--param", "incentive_rp_month=3000000:4000000"]
    return args


@pytest.mark.parametrize(("extra", "expect", "command"),
                         [(o, e, c) for o, e, cs in OPTION_CASES for c in cs] + [(o, e, "sweep") for o, e in SWEEP_CASES],
                         ids=lambda v: " ".join(v) if isinstance(v, list) else str(v))
def test_bad_option(extra: list[str], expect: str, command: str, work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = _snapshot(work)
    rc = cli.main(_cmd(command, extra, str(work / "cwd" / "out")))
    _, err = capsys.readouterr()
    _check_clean(rc, err, [expect], before, work)


@pytest.mark.parametrize("command", ["run", "batch", "sweep"])
@pytest.mark.parametrize(("out", "expect"), OUT_CASES, ids=[o for o, _ in OUT_CASES])
def test_bad_out(out: str, expect: str, command: str, work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "cwd" / "FILE").write_text("not a folder\n", encoding="utf-8")
    before = _snapshot(work)
    rc = cli.main(_cmd(command, [], out))
    _, err = capsys.readouterr()
    _check_clean(rc, err, ["--out", expect], before, work)


def test_out_that_cannot_be_created(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # /proc refuses new folders even to root (chmod would not stop root)
    rc = cli.main(["run", "baseline", "--months", "1", "--scale", "0.05", "--out", "/proc/caseload-test/out"])
    _, err = capsys.readouterr()
    assert rc == 2 and err.count("\n") == 1 and err.startswith("error: --out /proc/caseload-test/out")
    assert not Path("/proc/caseload-test").exists()


# --- scheduler addresses that are not Dask -------------------------------------------------------------


@pytest.fixture
def not_dask() -> list[str]:
    """An HTTP server and a listener that never replies, both on 127.0.0.1 only."""

    class Quiet(BaseHTTPRequestHandler):
        def log_message(self, *a: object) -> None:
            pass

    http = HTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    yield [f"tcp://127.0.0.1:{http.server_port}", f"127.0.0.1:{silent.getsockname()[1]}",
           f"tls://127.0.0.1:{http.server_port}", f"tls://127.0.0.1:{silent.getsockname()[1]}"]
    http.shutdown()
    silent.close()


def test_a_scheduler_that_is_not_dask_fails_within_the_timeout(not_dask: list[str], work: Path,
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    import time

    from runs import batch

    monkeypatch.setattr(batch, "DASK_CONNECT_TIMEOUT", "2s")
    for addr in not_dask:
        before = _snapshot(work)
        t0 = time.monotonic()
        rc = cli.main(["batch", "baseline", "--replicates", "1", "--months", "1", "--executor", "dask",
                       "--scheduler", addr, "--out", str(work / "cwd" / "out")])
        took = time.monotonic() - t0
        _, err = capsys.readouterr()
        assert took < 2 + 3, (addr, took)  # the timeout plus start-up
        assert rc == 2 and err.count("\n") == 1 and err.startswith(f"error: --scheduler {addr}:"), err
        out = work / "cwd" / "out"
        assert not out.exists() and _snapshot(work) == before


# --- bad batch folders for compare ---------------------------------------------------------------------


def _manifest(d: Path, obj: object) -> None:
    d.mkdir(parents=True, exist_ok=True)
    (d / "manifest.json").write_text(json.dumps(obj), encoding="utf-8")


def _fold_file(d: Path) -> tuple[str, str]:
    (d / "f").write_text("x", encoding="utf-8")
    return str(d / "f"), "not a folder"


def _fold_empty(d: Path) -> tuple[str, str]:
    (d / "e").mkdir()
    return str(d / "e"), "no manifest.json"


def _fold_run_folder(d: Path) -> tuple[str, str]:
    _manifest(d / "r", {"seed": 1, "result_files": {"regency.csv": "0" * 64}})
    return str(d / "r"), "single 'caseload run' folder"


def _fold_runs_not_objects(d: Path) -> tuple[str, str]:
    _manifest(d / "m", {"format": "caseload-batch/1", "kind": "batch", "runs": {"a": 1, "b": [2]}})
    return str(d / "m"), "key 'runs.a'"


def _fold_runs_list(d: Path) -> tuple[str, str]:
    _manifest(d / "m", {"format": "caseload-batch/1", "kind": "batch", "runs": [1, 2]})
    return str(d / "m"), "key 'runs'"


def _fold_manifest_list(d: Path) -> tuple[str, str]:
    _manifest(d / "m", [1, 2, 3])
    return str(d / "m"), "not a batch manifest"


def _fold_manifest_garbage(d: Path) -> tuple[str, str]:
    (d / "g").mkdir()
    (d / "g" / "manifest.json").write_bytes(b"\x00\xff{{{not json")
    return str(d / "g"), "cannot read the batch manifest"


def _fold_manifest_deep(d: Path) -> tuple[str, str]:
    (d / "g").mkdir()
    (d / "g" / "manifest.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    return str(d / "g"), "manifest"


def _fold_path_traversal(d: Path) -> tuple[str, str]:
    _manifest(d / "t", {"format": "caseload-batch/1", "kind": "batch", "runs": {"a": {
        "status": "done", "files": {"regency": {"path": "../../../etc/passwd", "sha256": "0" * 64}}}}})
    return str(d / "t"), "key 'runs.a.files.regency.path'"


def _fold_garbage_parquet(d: Path) -> tuple[str, str]:
    import hashlib

    (d / "p" / "runs").mkdir(parents=True)
    junk = b"PAR1 this is not parquet PAR1"
    (d / "p" / "runs" / "a.regency.parquet").write_bytes(junk)
    (d / "p" / "runs" / "a.districts.parquet").write_bytes(junk)
    rec = {"sha256": hashlib.sha256(junk).hexdigest(), "bytes": len(junk)}
    _manifest(d / "p", {"format": "caseload-batch/1", "kind": "batch", "scenario_order": ["x"],
                        "scenarios": {"x": {}}, "runs": {"a": {
                            "status": "done", "scenario": "x", "replicate": 0, "scale": 1.0, "files": {
                                "regency": {"path": "runs/a.regency.parquet", **rec},
                                "districts": {"path": "runs/a.districts.parquet", **rec}}}}})
    return str(d / "p" / "runs" / "a.regency.parquet"), "not a readable result table"


FOLDER_CASES = [_fold_file, _fold_empty, _fold_run_folder, _fold_runs_not_objects, _fold_runs_list,
                _fold_manifest_list, _fold_manifest_garbage, _fold_manifest_deep, _fold_path_traversal,
                _fold_garbage_parquet]


@pytest.mark.parametrize("no_verify", [False, True])
@pytest.mark.parametrize("make", FOLDER_CASES, ids=[f.__name__[6:] for f in FOLDER_CASES])
def test_bad_batch_folder_for_compare(make: Callable[[Path], tuple[str, str]], no_verify: bool, work: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    d = work / "folders"
    d.mkdir()
    target, expect = make(d)
    folder = target if "runs/" not in target else str(Path(target).parent.parent)
    before = _snapshot(work)
    rc = cli.main(["compare", folder, *(["--no-verify"] if no_verify else [])])
    _, err = capsys.readouterr()
    _check_clean(rc, err, [expect], before, work)


# --- fuzzing ----------------------------------------------------------------------------------------------

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

KEYS = ["name", "extends", "description", "profile", "months", "start", "scale", "nmae", "parameters.visit_h",
        "parameters.group_size_families", "parameters.hours_per_month", "parameters.incentive_rp_month",
        "parameters.evaluation_scheme", "policies.caseload_cap.cap", "policies.supervision.ratio",
        "policies.caseload_cap.hires_per_month", "policies.regional_incentive.multiplier", "sources.x",
        "policies.nope.x", "parameters.nope"]
VALUES = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=20).map(json.dumps),
    st.sampled_from(["true", "false", "[]", "{}", "[1, 2]", "{a = 1}", '"paper-2023"', '"official"', '"2021-01"',
                     '"baseline"', "1979-05-27", "[[1], [2]]", '"../x"', '"/etc/passwd"', '""', "1e400", "-0.0"]),
)


def _toml(pairs: list[tuple[str, str]]) -> str:
    return "".join(f"{k} = {v}\n" for k, v in pairs)  # dotted keys: no table headers needed


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pairs=st.lists(st.tuples(st.sampled_from(KEYS), VALUES), max_size=8),
       noise=st.one_of(st.just(b""), st.binary(max_size=40)))
def test_fuzz_scenario_contents_raise_only_the_tools_errors(pairs: list[tuple[str, str]], noise: bytes,
                                                           tmp_path_factory: pytest.TempPathFactory) -> None:
    from runs import scenario
    from sim import params
    from sim.policies import PolicyError

    d = tmp_path_factory.mktemp("fuzz")
    f = d / "s.toml"
    f.write_bytes(_toml(pairs).encode("utf-8") + noise)
    try:
        sc = scenario.load(f)
        sc.model_kwargs()
    except (scenario.ScenarioError, params.ParameterError, PolicyError):
        pass


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=300))
def test_fuzz_arbitrary_text_raises_only_scenario_errors(text: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    from runs import scenario

    f = tmp_path_factory.mktemp("fuzzt") / "t.toml"
    f.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    try:
        scenario.load(f)
    except scenario.ScenarioError:
        pass
