"""The architecture: imports run one way, with no cycle among the project's modules.

Every ``import`` statement of every project file counts, wherever it stands (module level,
inside a function, under ``if TYPE_CHECKING``): a type-checking import is still a
dependency of the code. ``from pkg import name`` is an edge to ``pkg.name`` when that is a
module, else to ``pkg``. A package's ``__init__`` importing its own submodules is an edge
like any other; importing a submodule does not count as an edge to its parent package.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("sim", "runs", "analysis", "cli", "ui", "calibration")
TOP_FILES = ("app.py",)


def _modules() -> dict[str, Path]:
    mods: dict[str, Path] = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")) if (ROOT / pkg).is_dir() else []:
            rel = path.relative_to(ROOT).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            mods[".".join(parts)] = path
    for name in TOP_FILES:
        if (ROOT / name).exists():
            mods[name[:-3]] = ROOT / name
    return mods


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The project module ``name`` refers to (the longest prefix that is a module), or None."""
    parts = name.split(".")
    for k in range(len(parts), 0, -1):
        cand = ".".join(parts[:k])
        if cand in MODULES:
            return cand
    return None


def imports_of(module: str) -> set[str]:
    """Project modules that ``module`` imports (every import statement in its file)."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                r = _resolve(a.name)
                if r:
                    out.add(r)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_pkg else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                src = ".".join(base + ([node.module] if node.module else []))
            else:
                src = node.module or ""
            for a in node.names:
                full = f"{src}.{a.name}"
                r = full if full in MODULES else _resolve(src)
                if r:
                    out.add(r)
    out.discard(module)
    return out


GRAPH = {m: imports_of(m) for m in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component of ``graph`` with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_graph_sees_the_project() -> None:
    assert {"sim.model", "sim.params", "sim.policies.caseload_cap", "runs.runner", "cli.main"} <= set(MODULES)
    assert "sim.params" in GRAPH["sim.model"] and "sim.processes.staffing" in GRAPH["sim.model"]


def test_type_checking_imports_count() -> None:
    # sim.processes.staffing imports sim.core only under `if TYPE_CHECKING:`
    src = MODULES["sim.processes.staffing"].read_text(encoding="utf-8")
    assert "if TYPE_CHECKING:\n    from sim.core import Model" in src
    assert "sim.core" in GRAPH["sim.processes.staffing"]


def test_the_checker_finds_cycles() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_among_the_project_modules() -> None:
    assert _cycles(GRAPH) == []


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m == "sim" or m.startswith("sim.")))
def test_the_model_imports_nothing_above_it(module: str) -> None:
    above = {m for m in GRAPH[module] if m.split(".")[0] in ("runs", "analysis", "cli", "ui", "calibration", "app")}
    assert above == set(), f"{module} imports {sorted(above)}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith(("runs", "analysis"))))
def test_runs_and_analysis_do_not_import_the_faces(module: str) -> None:
    faces = {m for m in GRAPH[module] if m.split(".")[0] in ("cli", "ui", "app", "calibration")}
    assert faces == set(), f"{module} imports {sorted(faces)}"
