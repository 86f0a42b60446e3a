"""Results on disk: tables as Parquet and CSV, and a manifest; every write is atomic.

A file is written to a temporary name in the same folder, flushed and fsynced, then
renamed into place, so an interrupted run never leaves a half-written result: a file is
either absent or complete. The manifest records the seed, the parameters, the data profile,
the scenario files and their sha256, package versions and the sha256 of every result file.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

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


def write_run(out: Path, regency: pd.DataFrame, district: pd.DataFrame, manifest: dict[str, Any]) -> dict[str, str]:
    """Write one run's tables (Parquet and CSV) and its manifest; return the result files' sha256."""
    out.mkdir(parents=True, exist_ok=True)
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
