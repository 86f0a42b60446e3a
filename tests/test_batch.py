"""The batch runner: stable run ids, common seeds, manifest, resume after SIGKILL, retries, executors, CLI."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import psutil
import pytest

from cli import main as cli
from runs import batch, executors, store
from runs.scenario import load_any
from sim.rng import replicate_seeds

_script = shutil.which("caseload", path=str(Path(sys.executable).parent))
CASELOAD = [_script] if _script else [sys.executable, "-m", "cli.main"]
SEED, MONTHS, SCALE, REPS = 11, 4, 0.1, 3


def caseload(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != executors.FAULT_ENV}
    full_env.update(env or {})
    return subprocess.run([*CASELOAD, *args], capture_output=True, text=True, timeout=timeout, env=full_env)


def write_scenario(d: Path, name: str, body: str = "") -> Path:
    p = d / f"{name}.toml"
    p.write_text(f'name = "{name}"\nextends = "baseline"\ndescription = "test scenario {name}"\n{body}', encoding="utf-8")
    return p


def same_code(a: Path, b: Path) -> str:
    """A note for failed comparisons: were both folders written by the same simulator source?"""
    return f"code hashes {manifest(a).get('code_hash')} vs {manifest(b).get('code_hash')}"


def file_hashes(out: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((out / "runs").iterdir())}


def manifest(out: Path) -> dict[str, Any]:
    return json.loads((out / "manifest.json").read_text())


@pytest.fixture(scope="module")
def scen_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("scenarios")
    write_scenario(d, "pricier", "[parameters]\nincentive_rp_month = 4500000.0\n")
    return d


def batch_args(scen_dir: Path, out: Path, *extra: str, reps: int = REPS, months: int = MONTHS) -> list[str]:
    return ["batch", "baseline", str(scen_dir / "pricier.toml"), "--replicates", str(reps), "--months", str(months),
            "--seed", str(SEED), "--scale", str(SCALE), "--jobs", "2", "--out", str(out), *extra]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, scen_dir: Path) -> Path:
    """An uninterrupted batch every other test compares against."""
    out = tmp_path_factory.mktemp("reference") / "batch"
    r = caseload(*batch_args(scen_dir, out))
    assert r.returncode == 0, r.stderr
    return out


# --- planning -----------------------------------------------------------------------------------


def test_plan_gives_stable_ids_and_common_random_numbers(scen_dir: Path) -> None:
    scs = [load_any("baseline"), load_any(str(scen_dir / "pricier.toml"))]
    a = batch.plan_batch(scs, 4, master_seed=5, months=3, scale=SCALE)
    b = batch.plan_batch(scs, 4, master_seed=5, months=3, scale=SCALE)
    assert [s.run_id for s in a.specs] == [s.run_id for s in b.specs]
    assert len({s.run_id for s in a.specs}) == 8
    seeds = replicate_seeds(5, 4)
    for s in a.specs:
        assert s.seed == seeds[s.replicate]  # replicate i: the same seed in every scenario
        assert s.run_id.startswith(f"{s.scenario.name}__r{s.replicate:03d}__s{s.seed}__")
    # anything a run depends on changes its id; the replicate seeds do not depend on R
    c = batch.plan_batch(scs, 4, master_seed=5, months=4, scale=SCALE)
    assert not {s.run_id for s in a.specs} & {s.run_id for s in c.specs}
    d = batch.plan_batch(scs, 6, master_seed=5, months=3, scale=SCALE)
    assert {s.run_id for s in a.specs} <= {s.run_id for s in d.specs}


def test_plan_rejects_bad_input(scen_dir: Path) -> None:
    sc = load_any("baseline")
    with pytest.raises(store.BatchError, match="more than once"):
        batch.plan_batch([sc, sc], 2)
    with pytest.raises(store.BatchError, match="replicates"):
        batch.plan_batch([sc], 0)
    with pytest.raises(store.BatchError, match="scale"):
        batch.plan_batch([sc], 1, scale=3.0)


# --- the reference batch: files, manifest, skip on re-run ---------------------------------------------


def test_batch_writes_results_and_manifest(reference: Path) -> None:
    m = manifest(reference)
    runs = m["runs"]
    assert len(runs) == 2 * REPS and m["summary"]["done"] == 2 * REPS and m["failed"] == []
    assert m["master_seed"] == SEED and m["seeds"] == replicate_seeds(SEED, REPS)
    assert m["code_version"] and m["code_hash"] and "numpy" in m["versions"] and "pandas" in m["versions"]
    assert any(k.endswith("baseline.toml") for k in m["scenario_files"])
    assert any(k.endswith("pricier.toml") for k in m["scenario_files"])
    assert any(k.endswith("paper-2023.toml") for k in m["data_files"])
    for k, v in m["scenario_files"].items():
        p = Path(k) if Path(k).is_absolute() else store.ROOT / k
        assert hashlib.sha256(p.read_bytes()).hexdigest() == v
    names = sorted(p.name for p in (reference / "runs").iterdir())
    assert names == sorted(f"{rid}.{t}.parquet{x}" for rid in runs for t in store.TABLES for x in ("", store.SIDECAR))  # exactly once, each with its checksum
    for rid, e in runs.items():
        assert e["status"] == "done" and e["attempts"] == 1
        for rec in e["files"].values():
            assert hashlib.sha256((reference / rec["path"]).read_bytes()).hexdigest() == rec["sha256"]
            assert store.read_meta(reference / rec["path"])["run_id"] == rid  # type: ignore[index]
    reg = pd.read_parquet(reference / runs[next(iter(runs))]["files"]["regency"]["path"])
    assert reg.columns[0] == "run_id" and list(reg.columns).index("replicate") == list(reg.columns).index("scenario") + 1
    assert reg["step"].tolist() == list(range(MONTHS + 1))
    dist = pd.read_parquet(reference / runs[next(iter(runs))]["files"]["districts"]["path"])
    assert dist["step"].max() == MONTHS and dist["district"].nunique() >= 20
    # common random numbers: replicate i has the same seed in both scenarios
    by = {(e["scenario"], e["replicate"]): e["seed"] for e in runs.values()}
    assert all(by[("baseline", i)] == by[("pricier", i)] for i in range(REPS))


def test_rerun_skips_finished_runs_and_more_replicates_extend(reference: Path, scen_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "b"
    shutil.copytree(reference, out)
    before = {p.name: p.stat().st_mtime_ns for p in (out / "runs").iterdir()}
    r = caseload(*batch_args(scen_dir, out))
    assert r.returncode == 0, r.stderr
    assert f"{2 * REPS} of {2 * REPS} runs already finished" in r.stderr
    assert {p.name: p.stat().st_mtime_ns for p in (out / "runs").iterdir()} == before
    r = caseload(*batch_args(scen_dir, out, reps=REPS + 1))
    assert r.returncode == 0, r.stderr
    assert "running 2" in r.stderr
    m = manifest(out)
    assert m["replicates"] == REPS + 1 and len(m["runs"]) == 2 * (REPS + 1)
    assert all(before[n] == (out / "runs" / n).stat().st_mtime_ns for n in before)
    assert len(m["sessions"]) == 3


def test_refuses_a_folder_holding_another_batch(reference: Path, scen_dir: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "b"
    shutil.copytree(reference, out)
    before = manifest(out)
    for change, expect in (
        (["--seed", str(SEED + 1)], "seed"),
        (["--months", str(MONTHS + 1)], "months"),
        (["--scale", "0.2"], "scale"),
    ):
        args = batch_args(scen_dir, out)
        i = args.index(change[0])
        args[i + 1] = change[1]
        assert cli.main(args) == 2
        err = capsys.readouterr().err
        assert "holds a different batch" in err and expect in err and "use another --out" in err.lower()
    assert cli.main(["batch", "baseline", "--replicates", "1", "--months", str(MONTHS), "--seed", str(SEED),
                     "--scale", str(SCALE), "--out", str(out)]) == 2
    assert "scenarios only in the folder: pricier" in capsys.readouterr().err
    # an edited scenario file is a different batch too
    edited = tmp_path / "sc"
    edited.mkdir()
    write_scenario(edited, "pricier", "[parameters]\nincentive_rp_month = 5000000.0\n")
    assert cli.main(batch_args(edited, out)) == 2
    assert "pricier" in capsys.readouterr().err
    assert manifest(out)["runs"] == before["runs"]


def test_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "b")
    assert cli.main(["batch", "no-such-scenario", "--replicates", "1", "--out", out]) == 2
    assert "no such scenario" in capsys.readouterr().err
    assert cli.main(["batch", "baseline", "--replicates", "0", "--out", out]) == 2
    assert "--replicates" in capsys.readouterr().err
    assert cli.main(["batch", "baseline", "--replicates", "1", "--scale", "3", "--out", out]) == 2
    assert "scale" in capsys.readouterr().err
    assert cli.main(["batch", "baseline", "--replicates", "1", "--jobs", "0", "--out", out]) == 2
    assert cli.main(["batch", "baseline", "--replicates", "1", "--scheduler", "tcp://127.0.0.1:1", "--out", out]) == 2
    assert "--executor dask" in capsys.readouterr().err
    assert cli.main(["batch", "baseline", "--replicates", "1", "--months", "0", "--out", out]) == 2
    with pytest.raises(SystemExit) as e:
        cli.main(["batch", "baseline", "--out", out])  # --replicates is required
    assert e.value.code == 2
    (tmp_path / "junk" / "runs").mkdir(parents=True)
    (tmp_path / "junk" / "runs" / "x.parquet").write_text("x")
    assert cli.main(["batch", "baseline", "--replicates", "1", "--months", "1", "--scale", str(SCALE),
                     "--out", str(tmp_path / "junk")]) == 2
    assert "no manifest.json" in capsys.readouterr().err


def test_a_second_command_on_the_same_folder_is_refused(reference: Path, scen_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "b"
    shutil.copytree(reference, out)
    holder = store.BatchDir(out)
    holder.lock()
    try:
        r = caseload(*batch_args(scen_dir, out))
    finally:
        holder.unlock()
    assert r.returncode == 2 and "another caseload command" in r.stderr


# --- interruption -------------------------------------------------------------------------------


def _start(args: list[str]) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != executors.FAULT_ENV}
    return subprocess.Popen([*CASELOAD, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)


def _kill_when(proc: subprocess.Popen[str], out: Path, at_least: int, total: int) -> int:
    """SIGKILL ``proc`` once ``at_least`` result files exist; return how many existed."""
    deadline = time.monotonic() + 120
    n = 0
    while time.monotonic() < deadline and proc.poll() is None:
        n = len(list((out / "runs").glob("*.regency.parquet"))) if (out / "runs").is_dir() else 0
        if n >= at_least:
            break
        time.sleep(0.01)
    children = psutil.Process(proc.pid).children(recursive=True) if proc.poll() is None else []
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the batch finished before it could be killed"
    # orphaned workers notice their parent is gone and stop
    _, alive = psutil.wait_procs(children, timeout=15)
    assert not alive, f"worker processes left running after SIGKILL: {alive}"
    assert n < total
    return n


def test_sigkill_then_rerun_gives_identical_results_exactly_once(reference: Path, scen_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "killed"
    total = 2 * 8
    big = tmp_path / "big"
    proc = _start(batch_args(scen_dir, out, reps=8, months=12))
    n = _kill_when(proc, out, 3, total)
    assert n >= 3
    r = caseload(*batch_args(scen_dir, out, reps=8, months=12))
    assert r.returncode == 0, r.stderr
    assert "already finished and verified" in r.stderr
    r2 = caseload(*batch_args(scen_dir, big, reps=8, months=12))
    assert r2.returncode == 0, r2.stderr
    assert file_hashes(out) == file_hashes(big), same_code(out, big)  # bitwise identical, one pair of files per run, no temp files
    m = manifest(out)
    assert m["summary"] == {"runs": total, "done": total, "failed": 0, "pending": 0}
    assert sorted(m["runs"]) == sorted(manifest(big)["runs"])
    assert not list(out.glob(".*.tmp")) and not list((out / "runs").glob(".*"))


def test_sigkill_of_a_worker_process_is_survived(scen_dir: Path, tmp_path: Path) -> None:
    # a real dead worker (no test hook): the pool is replaced, the run retried, the results unchanged
    out, ref = tmp_path / "b", tmp_path / "ref"
    args = batch_args(scen_dir, out, reps=8, months=12)
    proc = _start(args)
    victim = None
    deadline = time.monotonic() + 60
    while victim is None and time.monotonic() < deadline and proc.poll() is None:
        finished = list((out / "runs").glob("*.parquet")) if (out / "runs").is_dir() else []
        if finished:
            workers = [c for c in psutil.Process(proc.pid).children() if "spawn_main" in " ".join(c.cmdline())]
            victim = workers[0] if workers else None
        time.sleep(0.01)
    assert victim is not None, "no worker process to kill"
    victim.kill()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert caseload(*batch_args(scen_dir, ref, reps=8, months=12)).returncode == 0
    assert file_hashes(out) == file_hashes(ref), same_code(out, ref)
    assert manifest(out)["summary"]["done"] == 16


def test_ctrl_c_stops_cleanly_and_resumes(scen_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "b"
    args = batch_args(scen_dir, out, reps=8, months=12)
    proc = _start(args)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if (out / "runs").is_dir() and list((out / "runs").glob("*.regency.parquet")):
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    if proc.returncode == 0:
        pytest.skip("the batch finished before the interrupt")
    assert proc.returncode == 130, err
    assert "re-run the same command to resume" in err and "Traceback" not in err
    m = manifest(out)
    assert m["sessions"][-1].get("finished")  # the manifest was closed properly
    r = caseload(*args)
    assert r.returncode == 0 and manifest(out)["summary"]["done"] == 16


@pytest.mark.slow
def test_repeated_sigkill_at_random_moments(scen_dir: Path, tmp_path: Path) -> None:
    import random as _random  # noqa: TID251  (chooses kill times in a test; never used by the model)

    rnd = _random.Random(3)
    out, ref = tmp_path / "killed", tmp_path / "ref"
    total = 20
    args = batch_args(scen_dir, out, reps=10, months=12)

    def done() -> int:
        return len(list((out / "runs").glob("*.regency.parquet"))) if (out / "runs").is_dir() else 0

    # one kill that certainly lands mid-batch (at least one run written, the batch not finished) ...
    mid = [_kill_when(_start(args), out, 2, total)]
    # ... then kills at random moments, some of which may land before a run or after the end
    for _ in range(4):
        proc = _start(args)
        time.sleep(rnd.uniform(0.5, 4.0))
        before = done()
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        if proc.returncode == -signal.SIGKILL and 0 < before < total:
            mid.append(before)  # killed while unfinished, with runs already written
    assert mid[0] >= 2 and all(0 < n < total for n in mid), mid
    r = caseload(*args)
    assert r.returncode == 0, r.stderr
    assert caseload(*batch_args(scen_dir, ref, reps=10, months=12)).returncode == 0
    assert file_hashes(out) == file_hashes(ref)
    assert manifest(out)["summary"]["done"] == 20


# --- failures -----------------------------------------------------------------------------------


def test_a_run_that_keeps_failing_is_reported_by_id_while_the_rest_finish(reference: Path, scen_dir: Path,
                                                                        tmp_path: Path) -> None:
    out = tmp_path / "b"
    bad = next(k for k, e in manifest(reference)["runs"].items() if e["scenario"] == "pricier" and e["replicate"] == 1)
    r = caseload(*batch_args(scen_dir, out), env={executors.FAULT_ENV: f"{bad}:raise"})
    assert r.returncode == 1
    assert f"failed: {bad}: RuntimeError" in r.stderr
    assert "attempt 2 of 3" in r.stderr  # retried twice before giving up
    m = manifest(out)
    assert m["failed"] == [bad] and m["runs"][bad]["attempts"] == 3 and m["runs"][bad]["status"] == "failed"
    assert m["summary"]["done"] == 2 * REPS - 1
    ref = file_hashes(reference)
    assert all(ref[k] == v for k, v in file_hashes(out).items()), same_code(out, reference)
    # once the cause is gone, re-running finishes the failed run only
    r = caseload(*batch_args(scen_dir, out))
    assert r.returncode == 0, r.stderr
    assert file_hashes(out) == ref, same_code(out, reference)


def test_a_dead_worker_is_replaced_and_its_run_retried(reference: Path, scen_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "b"
    r = caseload(*batch_args(scen_dir, out), env={executors.FAULT_ENV: "baseline__r001__*:crash:1"})
    assert r.returncode == 0, r.stderr
    assert "worker died" in r.stderr
    m = manifest(out)
    attempts = {e["scenario"] + str(e["replicate"]): e["attempts"] for e in m["runs"].values()}
    assert attempts.pop("baseline1") == 2  # only the run that killed its worker is charged
    assert set(attempts.values()) == {1}
    assert file_hashes(out) == file_hashes(reference), same_code(out, reference)


def test_a_worker_that_always_dies_fails_its_run_only(reference: Path, scen_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "b"
    r = caseload(*batch_args(scen_dir, out, "--retries", "1"), env={executors.FAULT_ENV: "pricier__r000__*:crash"})
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    m = manifest(out)
    assert len(m["failed"]) == 1 and m["failed"][0].startswith("pricier__r000__")
    assert "BrokenProcessPool" in m["runs"][m["failed"][0]]["error"]
    assert m["summary"]["done"] == 2 * REPS - 1


def test_a_corrupted_result_is_detected_and_run_again(reference: Path, scen_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "b"
    shutil.copytree(reference, out)
    victim = sorted((out / "runs").glob("*.districts.parquet"))[0]
    victim.write_bytes(victim.read_bytes()[:-100])
    (out / "runs" / ".stale.parquet.abc.tmp").write_bytes(b"half")
    r = caseload(*batch_args(scen_dir, out))
    assert r.returncode == 0, r.stderr
    assert "running 1" in r.stderr and "not matching the manifest" in r.stderr
    assert file_hashes(out) == file_hashes(reference), same_code(out, reference)


def test_result_files_are_adopted_when_the_manifest_was_not_updated(reference: Path, scen_dir: Path,
                                                                    tmp_path: Path) -> None:
    # a batch killed between renaming a result file and writing the manifest
    out = tmp_path / "b"
    shutil.copytree(reference, out)
    m = manifest(out)
    rid = next(iter(m["runs"]))
    m["runs"][rid] = {k: v for k, v in m["runs"][rid].items() if k != "files"} | {"status": "pending"}
    (out / "manifest.json").write_text(json.dumps(m))
    r = caseload(*batch_args(scen_dir, out))
    assert r.returncode == 0 and f"{2 * REPS} of {2 * REPS} runs already finished" in r.stderr
    assert manifest(out)["runs"][rid]["files"] == manifest(reference)["runs"][rid]["files"]


# --- executors ----------------------------------------------------------------------------------


def test_local_and_dask_localcluster_give_identical_files(reference: Path, scen_dir: Path, tmp_path: Path) -> None:
    scs = [load_any("baseline"), load_any(str(scen_dir / "pricier.toml"))]
    plan = batch.plan_batch(scs, REPS, master_seed=SEED, months=MONTHS, scale=SCALE)
    res = batch.run_plan(plan, tmp_path / "dask", jobs=2, executor="dask", stream=io.StringIO())
    assert res.ok and res.ran == 2 * REPS
    assert file_hashes(tmp_path / "dask") == file_hashes(reference), same_code(tmp_path / "dask", reference)
    res1 = batch.run_plan(plan, tmp_path / "one", jobs=1, executor="local", stream=io.StringIO())
    assert res1.ok and file_hashes(tmp_path / "one") == file_hashes(reference)


def test_dask_scheduler_that_cannot_be_reached_is_bad_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch, "DASK_CONNECT_TIMEOUT", "1s")
    plan = batch.plan_batch([load_any("baseline")], 1, months=1, scale=SCALE)
    with pytest.raises(store.BatchError, match="cannot connect"):
        batch.run_plan(plan, tmp_path / "b", executor="dask", scheduler="tcp://127.0.0.1:9", stream=io.StringIO())


# --- progress -----------------------------------------------------------------------------------


def test_progress_lines_when_not_a_terminal(reference: Path, scen_dir: Path, tmp_path: Path) -> None:
    r = caseload(*batch_args(scen_dir, tmp_path / "b"))
    assert r.returncode == 0
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("[")]
    assert len(lines) == 2 * REPS
    assert all(re.fullmatch(r"\[\d+/6\] (baseline|pricier) r\d done in \d+\.\d s, ETA \S+", ln) for ln in lines), lines
    assert lines[-1].startswith("[6/6]")


def test_progress_bar_and_eta_format() -> None:
    buf = io.StringIO()
    p = executors.Progress(4, 1, stream=buf, bar=True)
    p.step("cap-150 r3", 2.1)
    p.message("a note")
    p.close()
    assert "a note" in buf.getvalue() and "2/4" in buf.getvalue()
    buf = io.StringIO()
    p = executors.Progress(180, 11, stream=buf, bar=False)
    p.step("cap-150 r3", 2.14)
    assert re.match(r"\[12/180\] cap-150 r3 done in 2\.1 s, ETA \S+", buf.getvalue())
    assert executors.fmt_duration(190) == "3m10s" and executors.fmt_duration(45) == "45s" and executors.fmt_duration(3720) == "1h02m"
