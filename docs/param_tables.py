"""Regenerate the parameter rows of docs/ODD.md from the registry (sim/params.py).

Usage, from the repository root:  python docs/param_tables.py [docs/ODD.md]

Every table row of the ODD that starts with a parameter name in backticks and has the
columns default | unit | range | tag | source / note is rewritten from sim.params; rows of
lever settings (under a heading "#### `lever`") are looked up as ``lever.setting``. Rows
of removed parameters (sim.params.REMOVED) are dropped; other rows are left as they are.
The tag column is the text in the source's leading bracket; the last column is the label
followed by the rest of the source.
"""

from __future__ import annotations

import re
import sys
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim import params  # noqa: E402  (after the path is set, for a run from a checkout)
from sim.params import Param  # noqa: E402


def _num(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        f = Fraction(v).limit_denominator(12)
        if abs(float(f) - v) < 1e-12 and f.denominator in (3, 6, 12):
            return f"{f.numerator}/{f.denominator}"
        if v.is_integer():
            v = int(v)
    if isinstance(v, int):
        return f"{v:,}"
    return f"{v:g}" if isinstance(v, float) else str(v)


def row(p: Param, key: str) -> str:
    """The ODD table row of parameter ``p``, named ``key``."""
    if p.kind == "list[str]":
        default = ", ".join(p.default) if p.default else "(none)"
        rng = "names: " + ("any of the 23 kecamatan" if p.what == "district" else ", ".join(p.choices))
    elif p.kind == "bool":
        default, rng = _num(p.default), "true / false"
    elif p.kind == "choice":
        default, rng = f"`{p.default}`", " / ".join(f"`{c}`" for c in p.choices)
    else:
        default, rng = _num(p.default), f"{_num(p.low)} – {_num(p.high)}"
    m = re.match(r"\s*\[([^\]]*)\]\s*;?\s*(.*)", p.source)
    tag, rest = (m.group(1), m.group(2)) if m else ("", p.source)
    return f"| `{key}` | {default} | {p.unit} | {rng} | {tag} | {p.label}. {rest or '—'} |"


def regenerate(text: str) -> str:
    """``text`` with every parameter row rewritten from the registry."""
    out: list[str] = []
    lever: str | None = None
    for ln in text.splitlines():
        h = re.match(r"#### `(\w+)`", ln)
        if h:
            lever = h.group(1)
        elif ln.startswith("### "):
            lever = None
        m = re.match(r"\| `([\w.]+)` \|", ln)
        if m and ln.count("|") >= 7:
            key = m.group(1)
            name = f"{lever}.{key}" if lever and f"{lever}.{key}" in params.PARAMS else key
            p = params.PARAMS.get(name)
            if p is not None:
                ln = row(p, key)
            elif name in params.REMOVED:
                continue
        out.append(ln)
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "ODD.md"
    path.write_text(regenerate(path.read_text(encoding="utf-8")), encoding="utf-8")
