"""Results on disk: tables as Parquet and CSV, and a manifest; every write is atomic.

A file is written to a temporary name in the same folder, flushed and fsynced, then
renamed into place, so an interrupted run never leaves a half-written result: a file is
either absent or complete. The manifest records the seed, the parameters, the data profile,
the scenario files and their sha256, package versions and the sha256 of every result file.

A run folder (``caseload run``) is written as a set: every file goes into a hidden sibling
folder ``.NAME.new-*``, which is renamed into place when complete; an earlier result is
first renamed aside (``.NAME.old-*``) and removed afterwards. A command killed at any point
leaves either the earlier set or the new one, never a mix; the next command on the same
folder (``recover_run_folder``, under the folder's lock) puts a set moved aside back when
the new one never arrived and removes leftovers. ``verify_run_folder`` checks a run folder
against its manifest (``caseload verify``).

Locks (``FolderLock``): a command working on a folder holds ``.NAME.lock`` next to it (a run
folder) or ``DIR/.lock`` (a batch folder) through the portable ``filelock`` package; the
lock file is removed when the command ends.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd


class FolderBusy(RuntimeError):
    """Another command holds the lock of a folder."""


class FolderLock:
    """An exclusive, non-blocking lock on a lock file (portable, via ``filelock``); the file is removed on release.

    Removing a lock file on release races with a command that opened it just before: that
    command may lock the removed file while a third creates a new one. After taking the
    lock we therefore check that the path still names the file we hold, and retry if not.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock: Any = None

    def acquire(self) -> None:
        """Take the lock or raise FolderBusy (with the holder's pid when known)."""
        from filelock import FileLock, Timeout

        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(20):
            lk = FileLock(str(self.path), timeout=0, is_singleton=False)
            try:
                lk.acquire()
            except Timeout:
                who = "?"
                with contextlib.suppress(OSError, UnicodeDecodeError):
                    who = self.path.read_text(encoding="utf-8").strip() or "?"
                raise FolderBusy(who) from None
            fd = getattr(getattr(lk, "_context", None), "lock_file_fd", None)
            try:
                same = fd is None or os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except OSError:
                same = False
            if same:
                self._lock = lk
                if fd is not None:
                    with contextlib.suppress(OSError):  # the pid, for the message of a command that finds it busy
                        os.ftruncate(fd, 0)
                        os.lseek(fd, 0, os.SEEK_SET)
                        os.write(fd, str(os.getpid()).encode())
                return
            lk.release()
        raise FolderBusy("?")

    def release(self) -> None:
        """Remove the lock file and release the lock."""
        if self._lock is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()  # while still held: a command waiting on this file re-checks the path
            self._lock.release()
            self._lock = None

    def __enter__(self) -> FolderLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


PACKAGES = ("caseload-sim", "mesa", "numpy", "pandas", "scipy", "pyarrow", "solara", "dask", "distributed")


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _umask()  # read once, at import: os.umask is process-wide


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary file next to ``path``, then rename it to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; results get the usual mode
    try:
        write(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Atomically write a DataFrame as Parquet."""
    atomic_write(path, lambda tmp: df.to_parquet(tmp, index=False))


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """Atomically write a DataFrame as CSV."""
    atomic_write(path, lambda tmp: df.to_csv(tmp, index=False))


def write_json(obj: Any, path: Path) -> None:
    """Atomically write JSON (sorted keys, readable)."""

    def _w(tmp: Path) -> None:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")

    atomic_write(path, _w)


def versions() -> dict[str, str]:
    """Python and package versions."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def code_version() -> str:
    """The git commit of the code, with '+dirty' when the work tree has changes; 'unknown' outside git."""
    root = Path(__file__).resolve().parent.parent
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
        if rev.returncode != 0:
            return "unknown"
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "sim", "scenarios"], cwd=root,
                               capture_output=True, text=True, timeout=5)
        return rev.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def data_files() -> list[Path]:
    """Every data file the model reads (for hashing into manifests)."""
    from sim.districts import DATA_DIR

    return sorted(p for p in DATA_DIR.rglob("*") if p.is_file() and p.suffix in (".csv", ".toml"))


def hashes(paths: Iterable[Path | str], root: Path | None = None) -> dict[str, str]:
    """sha256 of each path, keyed by its path relative to ``root`` when given."""
    out = {}
    for p in paths:
        p = Path(p)
        key = str(p.relative_to(root)) if root and p.is_relative_to(root) else str(p)
        out[key] = sha256_file(p)
    return out


RUN_FILES = ("regency.parquet", "regency.csv", "districts.parquet", "districts.csv", "manifest.json")


def run_lock(out: Path) -> FolderLock:
    """The lock of a run folder: ``.NAME.lock`` beside it (the folder itself is replaced as a whole)."""
    out = Path(out)
    return FolderLock(out.parent / f".{out.name}.lock")


def recover_run_folder(out: Path) -> list[str]:
    """Clean up after a ``write_run`` that was killed (call with the folder's lock held); return what was done.

    A set moved aside (``.NAME.old-*``) is put back when no complete set is in place, and
    removed otherwise; an unfinished new set (``.NAME.new-*``) is removed.
    """
    out = Path(out)
    done: list[str] = []
    if not out.parent.is_dir():
        return done
    for p in sorted(out.parent.glob(f".{out.name}.new-*")):
        shutil.rmtree(p, ignore_errors=True)
        done.append(f"removed the unfinished result set {p.name}")
    for p in sorted(out.parent.glob(f".{out.name}.old-*")):
        if not out.exists():
            os.replace(p, out)
            done.append(f"restored the earlier result set from {p.name}")
        else:
            shutil.rmtree(p, ignore_errors=True)
            done.append(f"removed the replaced result set {p.name}")
    if out.is_dir():
        for p in out.glob(".*.tmp"):
            p.unlink(missing_ok=True)
    return done


def foreign_files(out: Path) -> list[str]:
    """Entries of an existing ``out`` that a run folder does not hold (write_run replaces the folder as a whole)."""
    out = Path(out)
    if not out.is_dir():
        return []
    return sorted(p.name for p in out.iterdir() if p.name not in RUN_FILES and not (p.name.startswith(".") and p.name.endswith(".tmp")))


def write_run(out: Path, regency: pd.DataFrame, district: pd.DataFrame, manifest: dict[str, Any]) -> dict[str, str]:
    """Write one run's tables (Parquet and CSV) and its manifest as one set; return the result files' sha256.

    The files go into a hidden sibling folder that replaces ``out`` once complete (see the
    module docstring); call with ``run_lock(out)`` held.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out} exists and is not a folder")
    if foreign_files(out):  # never replace (and delete) a folder holding anything but a run's files
        raise FileExistsError(f"{out} holds other files ({', '.join(foreign_files(out)[:3])})")
    recover_run_folder(out)
    tag = f"{os.getpid()}-{os.urandom(3).hex()}"
    new = out.parent / f".{out.name}.new-{tag}"
    new.mkdir()
    try:
        hashes_ = _write_run_files(new, regency, district, manifest)
        _fsync_dir(new)
        if out.exists():
            old = out.parent / f".{out.name}.old-{tag}"
            os.replace(out, old)
            os.replace(new, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(new, out)
        _fsync_dir(out.parent)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    return hashes_


def _fsync_dir(d: Path) -> None:
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def verify_run_folder(out: Path) -> list[str]:
    """Problems of a ``caseload run`` folder against its manifest: altered, missing and extra files (empty when sound)."""
    out = Path(out)
    mp = out / "manifest.json"
    try:
        m = json.loads(mp.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError) as e:
        return [f"{mp}: missing or unreadable ({e.__class__.__name__})"]
    rec = m.get("result_files") if isinstance(m, dict) else None
    if not isinstance(rec, dict) or not all(isinstance(v, str) for v in rec.values()):
        return [f"{mp}: no result_files table of sha256 (not a 'caseload run' manifest)"]
    problems = []
    for name, digest in sorted(rec.items()):
        p = out / name
        if Path(name).name != name:
            problems.append(f"{mp}: result file {name!r} is not a plain file name")
        elif not p.is_file():
            problems.append(f"missing: {p}")
        elif sha256_file(p) != digest:
            problems.append(f"altered: {p} (sha256 differs from the manifest)")
    known = {*rec, "manifest.json"}
    for p in sorted(out.iterdir()):
        if p.name not in known:
            problems.append(f"extra: {p} (not in the manifest)")
    return problems


def _write_run_files(out: Path, regency: pd.DataFrame, district: pd.DataFrame, manifest: dict[str, Any]) -> dict[str, str]:
    files = {
        "regency.parquet": lambda p: write_parquet(regency, p),
        "regency.csv": lambda p: write_csv(regency, p),
        "districts.parquet": lambda p: write_parquet(district, p),
        "districts.csv": lambda p: write_csv(district, p),
    }
    for name, fn in files.items():
        fn(out / name)
    result_hashes = {name: sha256_file(out / name) for name in files}
    root = Path(__file__).resolve().parent.parent
    manifest = {
        **manifest,
        "code_version": code_version(),
        "versions": versions(),
        "data_files": hashes(data_files(), root),
        "result_files": result_hashes,
    }
    write_json(manifest, out / "manifest.json")
    return result_hashes
