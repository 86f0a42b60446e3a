"""Structure of the model package: imports run one way, phases -> population -> state.

The phases (sim/processes) change families and posts only through sim/population.py, which
imports neither them, the levers (sim/policies) nor sim/model.py. No phase or lever imports
sim/model.py at run time (only for type checking), and no phase calls a family or post
operation on the model object. (How levers reach the model is the lever surface's business.)
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SIM = Path(__file__).resolve().parent.parent / "sim"
LAYER = sorted([*SIM.glob("processes/*.py"), *SIM.glob("policies/*.py")])
#: operations that live in sim.population, not on CaseloadModel (the caseload recount stays a
#: model method: the warm-up replaces it while it runs, sim.warmup)
OPERATIONS = {"add_families", "enrol_families", "remove_families", "open_posts", "vacate_posts", "hire",
              "rebalance", "create_facilitators", "assign_to_least_loaded", "draw_family_traits"}


def _runtime_imports(path: Path) -> set[str]:
    """Modules imported outside ``if TYPE_CHECKING:`` blocks."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            skip.update(id(n) for child in node.body for n in ast.walk(child))
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return out


def test_population_sits_below_the_phases_and_the_model() -> None:
    sim_imports = {m for m in _runtime_imports(SIM / "population.py") if m.startswith("sim")}
    assert sim_imports <= {"sim.agents", "sim.agents.Facilitator", "sim.agents.Family", "sim.state", "sim.state.Columns"}


@pytest.mark.parametrize("path", LAYER, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_phases_and_levers_do_not_import_the_model(path: Path) -> None:
    assert not {m for m in _runtime_imports(path) if m == "sim.model" or m.startswith("sim.model.")}


@pytest.mark.parametrize("path", sorted(SIM.glob("processes/*.py")), ids=lambda p: p.name)
def test_phases_call_the_family_and_post_operations_of_population(path: Path) -> None:
    calls = [n.func.attr for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
             and isinstance(n.func.value, ast.Name) and n.func.value.id == "model" and n.func.attr in OPERATIONS]
    assert calls == [], f"{path.name} calls model.{calls[0]}: use sim.population"
