"""Files in and out of the web UI: scenario upload and export, table downloads.

Upload: a scenario file sent by the browser is at most ``MAX_SCENARIO_BYTES``; it is
validated by ``runs.scenario.load`` (the command line's loader, so the messages are the
same ``error:`` lines) from a private temporary folder under a fixed name chosen here,
never under the name the client sent, and the folder is removed at once: the session
keeps the resolved Scenario in memory only. An uploaded scenario may extend a scenario of
scenarios/ by name, nothing else (no path on the server can be named from the browser).

Export: ``scenario_toml`` writes a Scenario back as a scenario file that ``caseload
validate`` accepts and that loads to the same parameters and levers.
"""

from __future__ import annotations

import dataclasses
import io
import math
import re
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import pandas as pd

from runs.scenario import SCENARIO_DIR, Scenario, ScenarioError, load

MAX_SCENARIO_BYTES = 64 * 1024
_FIXED_NAME = "uploaded.toml"
_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


class UploadError(ValueError):
    """An uploaded file that was refused; the message is an ``error:`` line."""


def display_name(name: str) -> str:
    """The client's file name, reduced to a safe base name, for messages only."""
    base = re.split(r"[\\/]", str(name or ""))[-1]
    base = re.sub(r"[^A-Za-z0-9._ -]+", "_", base).strip() or "uploaded file"
    return base[:80]


def read_capped(file_obj: Any, cap: int) -> bytes:
    """Read at most ``cap`` bytes; UploadError when there is more."""
    data = file_obj.read(cap + 1)
    if len(data) > cap:
        raise UploadError(f"error: file is larger than {cap} bytes")
    return bytes(data)


def validate_upload(name: str, data: bytes, cap: int = MAX_SCENARIO_BYTES) -> Scenario:
    """The Scenario of an uploaded file, or UploadError with the command line's message."""
    shown = display_name(name)
    if len(data) > cap:
        raise UploadError(f"error: {shown}: file is {len(data)} bytes; at most {cap} bytes are accepted")
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise UploadError(f"error: {shown}: not a text file (expected UTF-8 TOML)") from None
    except tomllib.TOMLDecodeError as e:
        raise UploadError(f"error: {shown}: not valid TOML: {e}") from None
    parent = raw.get("extends")
    if isinstance(parent, str) and not (_BARE.match(parent) and (SCENARIO_DIR / f"{parent}.toml").exists()):
        names = ", ".join(sorted(p.stem for p in SCENARIO_DIR.glob("*.toml")))
        raise UploadError(f"error: {shown}, key 'extends': an uploaded scenario can extend a scenario of "
                          f"scenarios/ by name ({names}), got {parent!r}")
    with tempfile.TemporaryDirectory(prefix="caseload-upload-") as tmp:
        path = Path(tmp) / _FIXED_NAME
        path.write_bytes(data)
        try:
            sc = load(path)
        except ScenarioError as e:
            raise UploadError("error: " + str(e).replace(str(path), shown)) from None
    chain = [shown if c == str(path) else c for c in sc.chain]
    name_out = sc.name if "name" in raw else Path(shown).stem
    return dataclasses.replace(sc, name=name_out, path=None, chain=chain)


# ---------------------------------------------------------------------------- TOML export


def _toml_key(k: str) -> str:
    return k if _BARE.match(k) else '"' + k.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"cannot write {v!r} to TOML")
        r = repr(v)
        return r if ("." in r or "e" in r) else r + ".0"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise ValueError(f"cannot write {v!r} to TOML")


def scenario_toml(sc: Scenario) -> str:
    """A scenario file for ``sc``: every parameter override and every lever setting, explicitly."""
    lines = [
        "# Scenario saved from the caseload-sim web UI.",
        f"name = {_toml_value(sc.name)}",
    ]
    if sc.description:
        lines.append(f"description = {_toml_value(sc.description)}")
    if sc.description_id:
        lines.append(f"description_id = {_toml_value(sc.description_id)}")
    lines += [f"profile = {_toml_value(sc.profile)}", f"months = {int(sc.months)}", f"start = {_toml_value(sc.start)}",
              f"scale = {_toml_value(float(sc.scale))}"]
    if sc.parameters:
        lines += ["", "[parameters]"] + [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in sc.parameters.items()]
    for lever, settings in sc.policies.items():
        lines += ["", f"[policies.{lever}]"] + [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in settings.items()]
    if sc.sources:
        lines += ["", "[sources]"] + [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in sc.sources.items()]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------- table downloads


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object and len(out) and not isinstance(out[c].iloc[0], str):
            out[c] = out[c].astype(str)
    return out


def csv_bytes(df: pd.DataFrame) -> bytes:
    """A table as CSV bytes (UTF-8)."""
    return df.to_csv(index=False).encode("utf-8")


def parquet_bytes(df: pd.DataFrame) -> bytes:
    """A table as Parquet bytes."""
    buf = io.BytesIO()
    _plain(df).to_parquet(buf, index=False)
    return buf.getvalue()
