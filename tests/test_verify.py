"""Result sets that stay whole and tampering that is caught.

* ``caseload verify`` flags altered, missing and extra files of batch and run folders (exit 1);
  ``compare`` refuses a folder that fails it unless --no-verify.
* Resume adopts a result file the manifest has not recorded only when it matches the
  checksum written beside it before its rename: a changed value or a flipped bit is run again.
* ``caseload run`` writes its files as one set: killed at random moments over an earlier
  result, the folder holds the earlier set or the new one, never a mix, and the next
  command removes what the kill left; two runs into one folder are refused (a lock);
  lock files and worker markers do not outlive a command.
* The Dask LocalCluster speaks TLS with temporary credentials and listens on 127.0.0.1 only.
* Usability: help texts, short-run summary wording, a closed output pipe, small Sobol samples.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

from cli import main as cli
from runs import executors, store
from runs import io as rio

REPO = Path(__file__).resolve().parent.parent
ENV = {**{k: v for k, v in os.environ.items() if k != executors.FAULT_ENV}, "PYTHONPATH": str(REPO)}
BATCH = ["batch", "baseline", "--replicates", "2", "--months", "2", "--scale", "0.05", "--seed", "5", "--jobs", "1"]


def caseload(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True, timeout=timeout,
                          env=ENV, cwd=REPO)


def hashes(d: Path) -> dict[str, str]:
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.rglob("*"))
            if p.is_file() and p.name != "manifest.json"}


@pytest.fixture(scope="module")
def ref(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ref") / "b"
    r = caseload(*BATCH, "--out", str(out))
    assert r.returncode == 0, r.stderr
    return out


def _copy(ref: Path, tmp_path: Path) -> Path:
    out = tmp_path / "b"
    shutil.copytree(ref, out)
    return out


def _parquets(out: Path) -> list[Path]:
    return sorted((out / "runs").glob("*.regency.parquet"))


def _change_a_value(p: Path) -> None:
    """Rewrite a result file with one poverty figure changed (schema metadata kept: it still names its run)."""
    tab = pq.read_table(p)
    df = tab.to_pandas()
    df.loc[df.index[-1], "poverty_rate_pct"] = 4.93
    import pyarrow as pa

    new = pa.Table.from_pandas(df, preserve_index=False).replace_schema_metadata(tab.schema.metadata)
    pq.write_table(new, p)


def _flip_a_bit(p: Path) -> None:
    data = bytearray(p.read_bytes())
    data[len(data) // 3] ^= 0x01
    p.write_bytes(bytes(data))


# --- caseload verify -------------------------------------------------------------------------------


def test_verify_passes_a_sound_batch_and_lock_files_are_gone(ref: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["verify", str(ref)]) == 0
    assert "ok" in capsys.readouterr().out
    assert not (ref / ".lock").exists() and not (ref / store.MARKER_DIR).exists()


@pytest.mark.parametrize("tamper", ["change_value", "flip_bit", "delete", "extra_file", "extra_top", "truncate"])
def test_verify_and_compare_catch_tampering(tamper: str, ref: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = _copy(ref, tmp_path)
    victim = _parquets(out)[0]
    expect = {"change_value": "altered", "flip_bit": "altered", "delete": "missing", "extra_file": "extra",
              "extra_top": "extra", "truncate": "altered"}[tamper]
    if tamper == "change_value":
        _change_a_value(victim)
    elif tamper == "flip_bit":
        _flip_a_bit(victim)
    elif tamper == "delete":
        victim.unlink()
    elif tamper == "extra_file":
        shutil.copy(victim, out / "runs" / "planted.regency.parquet")
    elif tamper == "extra_top":
        (out / "notes.txt").write_text("x", encoding="utf-8")
    else:
        victim.write_bytes(victim.read_bytes()[:-50])
    assert cli.main(["verify", str(out)]) == 1
    text = capsys.readouterr().out
    assert "FAILED" in text and expect in text
    rc = cli.main(["compare", str(out), "--csv", str(tmp_path / "c.csv")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "fails verification" in err and "--no-verify" in err
    assert not (tmp_path / "c.csv").exists()
    if tamper in ("change_value", "flip_bit", "delete", "truncate"):
        # told otherwise, compare goes on with the files that still match (the changed run is left out)
        assert cli.main(["compare", str(out), "--no-verify", "--csv", str(tmp_path / "c.csv")]) == 0
        assert "left out" in capsys.readouterr().err


# --- resume adopts only verified content -----------------------------------------------------------------


@pytest.mark.parametrize("tamper", ["change_value", "flip_bit", "no_checksum", "intact"])
def test_resume_adopts_an_unrecorded_file_only_if_its_checksum_matches(tamper: str, ref: Path, tmp_path: Path) -> None:
    # a batch killed after renaming a result file and before recording it in the manifest, then tampered with
    out = _copy(ref, tmp_path)
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    rid = next(iter(m["runs"]))
    m["runs"][rid] = {k: v for k, v in m["runs"][rid].items() if k != "files"} | {"status": "pending"}
    (out / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    victim = out / "runs" / f"{rid}.regency.parquet"
    if tamper == "change_value":
        _change_a_value(victim)
    elif tamper == "flip_bit":
        _flip_a_bit(victim)
    elif tamper == "no_checksum":
        (out / "runs" / f"{rid}.regency.parquet{store.SIDECAR}").unlink()
    r = caseload(*BATCH, "--out", str(out))
    assert r.returncode == 0, r.stderr
    if tamper == "intact":
        assert "2 of 2 runs already finished" in r.stderr
    else:
        assert "1 of 2 runs already finished" in r.stderr and "running 1" in r.stderr  # never adopted: run again
    assert hashes(out) == hashes(ref)  # and the result is the uninterrupted batch's, bit for bit
    assert cli.main(["verify", str(out)]) == 0


def test_a_killed_batch_leaves_no_temporary_folder_behind(tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"  # the batch's own temporary folder, so other processes on the machine do not interfere
    tmp.mkdir()
    out = tmp_path / "b"
    args = ["batch", "baseline", "--replicates", "6", "--months", "6", "--scale", "0.05", "--jobs", "1", "--out", str(out)]
    proc = subprocess.Popen([sys.executable, "-m", "cli", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**ENV, "TMPDIR": str(tmp)}, cwd=REPO)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (out / store.MARKER_DIR).is_dir():
        time.sleep(0.02)
    assert proc.poll() is None, "the batch ended before it could be killed"
    time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    time.sleep(1.0)  # orphaned workers stop within 0.5 s
    assert not list(tmp.glob("caseload-batch-*"))  # nothing left in the temporary folder
    r = caseload(*args)
    assert r.returncode == 0, r.stderr
    assert not (out / store.MARKER_DIR).exists() and not (out / ".lock").exists()
    assert cli.main(["verify", str(out)]) == 0


# --- caseload run: one set, locked ----------------------------------------------------------------------------

RUN = ["run", "baseline", "--months", "3", "--scale", "0.05"]


def _run_seed(out: Path) -> int | None:
    if not out.exists():
        return None
    assert rio.verify_run_folder(out) == [], rio.verify_run_folder(out)  # a whole set, never a mix
    seeds = {int(x) for x in pd.read_csv(out / "regency.csv")["seed"]} | {int(x) for x in pd.read_csv(out / "districts.csv")["seed"]}
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    seeds |= {int(m["seed"])} | {int(x) for x in pd.read_parquet(out / "regency.parquet")["seed"]}
    assert len(seeds) == 1, seeds
    return seeds.pop()


def test_killed_runs_never_leave_a_mixed_set(tmp_path: Path) -> None:
    out = tmp_path / "r"
    t0 = time.monotonic()
    assert caseload(*RUN, "--seed", "1", "--out", str(out)).returncode == 0
    took = time.monotonic() - t0  # a whole command on this machine, start-up included
    assert _run_seed(out) == 1
    kills, states = 0, set()
    for i in range(8):
        proc = subprocess.Popen([sys.executable, "-m", "cli", *RUN, "--seed", str(2 + i % 2), "--out", str(out)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV, cwd=REPO)
        # kill at moments spread over start-up, the run and the writing of the files: fractions
        # of the measured duration, so the kills land on a fast idle machine as on a loaded one
        time.sleep(took * (0.2 + 0.1 * i))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=60)
        leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name != "r")
        assert all(n.startswith(".r.") for n in leftovers), leftovers  # only hidden siblings the next command removes
        if out.exists():
            states.add(_run_seed(out))  # whatever is in place is one whole set: the earlier one or a new one
            assert caseload("verify", str(out)).returncode == 0
        else:  # killed between the two renames: the earlier set waits beside it, put back by the next command
            assert any(n.startswith(".r.old-") for n in leftovers), leftovers
            rio.recover_run_folder(out)
            states.add(_run_seed(out))
    r = caseload(*RUN, "--seed", "9", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert _run_seed(out) == 9
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]  # no .new/.old sets, no lock file
    assert kills >= 3, "too few kills landed"


def test_interrupted_set_is_recovered_by_the_next_command(tmp_path: Path) -> None:
    out = tmp_path / "r"
    assert cli.main([*RUN, "--seed", "1", "--out", str(out)]) == 0
    # killed between moving the earlier set aside and moving the new one in
    os.replace(out, tmp_path / ".r.old-1-abc")
    (tmp_path / ".r.new-1-abc").mkdir()
    (tmp_path / ".r.new-1-abc" / "regency.csv").write_text("half", encoding="utf-8")
    notes = rio.recover_run_folder(out)
    assert any("restored" in n for n in notes) and any("unfinished" in n for n in notes)
    assert _run_seed(out) == 1 and sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_two_runs_into_one_folder_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r"
    with rio.run_lock(out):
        assert cli.main([*RUN, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "another caseload command" in err and err.count("\n") == 1
    assert not out.exists()
    assert cli.main([*RUN, "--out", str(out)]) == 0  # the lock is gone with its holder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_run_folder_verification(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r"
    assert cli.main([*RUN, "--out", str(out)]) == 0
    assert cli.main(["verify", str(out)]) == 0
    (out / "regency.csv").write_text((out / "regency.csv").read_text(encoding="utf-8").replace("6.2", "4.9", 1),
                                     encoding="utf-8")
    (out / "districts.parquet").unlink()
    (out / "extra.csv").write_text("x", encoding="utf-8")
    capsys.readouterr()
    assert cli.main(["verify", str(out)]) == 1
    text = capsys.readouterr().out
    assert "altered" in text and "missing" in text and "extra" in text
    assert cli.main(["compare", str(out)]) == 2  # a run folder is not a batch
    assert "single 'caseload run' folder" in capsys.readouterr().err


@pytest.mark.parametrize(("name", "folder"), [("../../escape", "escape"), ("/tmp/abs", "tmp_abs"), ("", "scenario"),
                                              ("..", "scenario"), ("a/b", "a_b")])
def test_scenario_name_is_sanitised_for_the_default_folder(name: str, folder: str, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    f = tmp_path / "s.toml"
    f.write_text(f'name = {json.dumps(name)}\nprofile = "paper-2023"\n', encoding="utf-8")
    assert cli.main(["run", str(f), "--months", "1", "--scale", "0.05"]) == 0
    assert (tmp_path / "cwd" / "results" / folder / "manifest.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cwd", "s.toml"]  # nothing outside results/


# --- Dask LocalCluster --------------------------------------------------------------------------------------


def test_local_dask_cluster_uses_tls_and_no_public_listener() -> None:
    import psutil
    from distributed import Client
    from distributed.security import Security

    with executors.dask_client(1, None) as client:
        addr = client.scheduler.address
        assert addr.startswith("tls://127.0.0.1:")
        executors.probe_scheduler(addr, 5.0)  # a real (TLS) scheduler passes the probe
        assert client.submit(sum, [1, 2]).result() == 3
        me = psutil.Process()
        listening = [c.laddr for p in [me, *me.children(recursive=True)] for c in p.net_connections()
                     if c.status == psutil.CONN_LISTEN]
        assert listening and all(a.ip == "127.0.0.1" for a in listening), listening
        assert all(a.port != 8787 for a in listening)
        with pytest.raises(Exception):  # noqa: B017  (a plain client, or one with other credentials, is refused)
            Client(addr, timeout="3s", security=Security.temporary())
        with pytest.raises(Exception):  # noqa: B017
            Client(addr.replace("tls://", "tcp://"), timeout="3s")


# --- usability -----------------------------------------------------------------------------------------------


def test_help_texts(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["compare", "--help"])
    text = capsys.readouterr().out
    assert "95%" in text and "95%%" not in text and "--no-verify" in text
    with pytest.raises(SystemExit):
        cli.main(["params", "--help"])
    assert "source tag" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    assert "2^63-1" in capsys.readouterr().out


@pytest.mark.parametrize(("months", "phrase"), [(1, "first vs last month (the same month"), (2, "first vs last 2 months (the same"),
                                                 (30, "first vs last 12 months")])
def test_summary_names_the_months_it_averages(months: int, phrase: str, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run", "baseline", "--months", str(months), "--scale", "0.05", "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert phrase in out and "1 months" not in out
    assert ("the same month" in out) == (months < 24)


def test_closed_output_pipe_ends_quietly(ref: Path, tmp_path: Path) -> None:
    out = _copy(ref, tmp_path)
    p = subprocess.Popen([sys.executable, "-m", "cli", "compare", str(out)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=ENV, cwd=REPO)
    assert p.stdout is not None and p.stderr is not None
    p.stdout.readline()
    p.stdout.close()  # like `| head -1`
    err = p.stderr.read().decode()
    p.wait(timeout=60)
    assert "Broken pipe" not in err and "Traceback" not in err and "error" not in err, err


def test_small_sobol_sample_is_warned_about(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from cli import batch as bcli

    bcli._warn_small_sample("sobol", True, 3, 2)
    assert "far too small" in capsys.readouterr().err
    bcli._warn_small_sample("sobol", True, 1024, 2)
    assert capsys.readouterr().err == ""
    bcli._warn_small_sample("sobol", False, 3, 2)
    assert capsys.readouterr().err == ""


# --- damaged manifests --------------------------------------------------------------------------------------


def _mutations(m: dict[str, Any]) -> list[tuple[list[Any], Any]]:
    rid = next(iter(m["runs"]))
    paths: list[list[Any]] = [["failed"], ["summary"], ["scenario_order"], ["scenarios"], ["identity"], ["runs"],
                              ["format"], ["kind"], ["seeds"], ["design"]]
    paths += [["runs", rid, k] for k in ("scale", "status", "replicate", "seed", "scenario", "files", "months")]
    paths += [["runs", rid, "files", "regency"], ["runs", rid, "files", "regency", "path"],
              ["runs", rid, "files", "regency", "sha256"]]
    return [(p, v) for p in paths for v in ("DELETE", None, "x", {}, -1.5)]


def test_compare_and_verify_survive_damaged_manifests(ref: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # every damaged manifest gives an answer (ok, or one error line), never an exception
    import copy

    m0 = json.loads((ref / "manifest.json").read_text(encoding="utf-8"))
    out = _copy(ref, tmp_path)
    tried = 0
    for path, value in _mutations(m0):
        m = copy.deepcopy(m0)
        o: Any = m
        for k in path[:-1]:
            o = o[k]
        if value == "DELETE":
            o.pop(path[-1], None)
        else:
            o[path[-1]] = value
        (out / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
        for args in (["compare", str(out), "--csv", str(tmp_path / "c.csv")], ["compare", str(out), "--no-verify"],
                     ["verify", str(out)]):
            tried += 1
            rc = cli.main(args)  # an exception here fails the test
            err = capsys.readouterr().err
            assert rc in (0, 1, 2), (path, value, args)
            if rc == 2:
                assert len([ln for ln in err.splitlines() if ln.startswith("error: ")]) == 1, (path, value, err)
    assert tried >= 250
