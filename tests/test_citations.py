"""Sources cite original works (author, year) listed in docs/REFERENCES.md, never design notes.

The project's design notes (MECHANISMS.md, EVIDENCE.md, ../shared/) are not shipped: a user
of the repository cannot follow a citation to them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim import params

ROOT = Path(__file__).resolve().parent.parent
CITING_FILES = sorted([*ROOT.glob("scenarios/*.toml"), *ROOT.glob("sim/data/profiles/*.toml"),
                       ROOT / "sim" / "data" / "README.md", ROOT / "sim" / "params.py",
                       *ROOT.glob("sim/policies/*.py"), *ROOT.glob("sim/*.py"), *ROOT.glob("sim/processes/*.py")])
FORBIDDEN = re.compile(r"MECHANISMS\.md|EVIDENCE\.md|\.\./shared|shared/(design|data|seed)")
#: "Author 2019", "Author & Other 2019", "Author et al. 2019"
CITATION = re.compile(r"\b([A-Z][A-Za-z-]+(?: & [A-Z][A-Za-z-]+| et al\.)? (?:19|20)\d\d)\b")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December", "Census", "Pemilu")


def reference_keys() -> list[str]:
    text = (ROOT / "docs" / "REFERENCES.md").read_text(encoding="utf-8")
    return re.findall(r"^- \*\*(.+?)\*\*", text, flags=re.M)


@pytest.mark.parametrize("path", CITING_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_file_cites_the_design_notes(path: Path) -> None:
    bad = [f"line {i}: {ln.strip()}" for i, ln in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
           if FORBIDDEN.search(ln)]
    assert bad == []


def test_references_file_has_the_keys_sources_use() -> None:
    keys = reference_keys()
    assert {"Levianto & Warsidi 2025", "WHO 2010", "Falch 2011", "Cook et al. 2008"} <= set(keys)

    def known(cite: str) -> bool:
        return cite.startswith(MONTHS) or any(cite in k or cite.startswith(k) for k in keys)

    missing = sorted({f"{p.name}: {c}" for p in params.PARAMS.values() for c in CITATION.findall(p.source)
                      if not known(c)})
    assert missing == []


def test_the_checker_catches_an_unknown_citation() -> None:
    assert CITATION.findall("[S] routine supervision (Rowe et al. 2022); Smith & Jones 2019") == [
        "Rowe et al. 2022", "Smith & Jones 2019"]
    assert FORBIDDEN.search("see MECHANISMS.md 7.1") and FORBIDDEN.search("../shared/data/x.csv")
