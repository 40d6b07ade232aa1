"""The tests' layout (CONTRIBUTING.md, "Layout"): each test in its folder, the seed lab's facts in
one module, the long oracle runs a script, and CI linting as well as testing."""
from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import seedlab

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"


def test_every_test_module_is_in_unit_sim_or_e2e():
    flat = sorted(p.name for p in TESTS.glob("test_*.py"))
    assert not flat, f"test modules directly under tests/: {flat} (move them to unit/, sim/ or e2e/)"
    for folder in ("unit", "sim", "e2e"):
        assert list((TESTS / folder).glob("test_*.py")), folder


def test_unit_tests_need_no_simulator():
    for path in sorted(set((TESTS / "unit").glob("test_*.py")) - {Path(__file__)}):
        text = path.read_text()
        assert "pytest.mark.sim" not in text and "pytest.mark.offline" not in text, path.name


def test_sim_tests_are_marked_sim():
    for path in sorted((TESTS / "sim").glob("test_*.py")):
        assert "pytest.mark.sim" in path.read_text(), path.name


def _lab_values() -> tuple[set[str], list[set[str]]]:
    """The lab's single names, and its sets of names (the hosts, the LUNs, the nodes)."""
    consts = {k: v for k, v in vars(seedlab).items() if k.isupper()}
    single = {v for v in consts.values() if isinstance(v, str)} - {seedlab.DATACENTER}  # too common
    groups = [set(v) for k, v in consts.items() if isinstance(v, tuple) and k != "HBAS"]
    return single | set(seedlab.SCST_MODELS), groups


def _literal_lab_facts(node: ast.expr, single: set[str], groups: list[set[str]]) -> bool:
    """A module-level constant spelling the seed lab out: one of its names, a tuple or list of a
    set of them (the cluster's hosts, the SCST LUNs, the nodes) or a dict keyed by one."""
    if isinstance(node, ast.Constant):
        return node.value in single
    items = node.elts if isinstance(node, (ast.Tuple, ast.List)) else \
        node.keys if isinstance(node, ast.Dict) else []
    names = {e.value for e in items if isinstance(e, ast.Constant)}
    return len(names) == len(items) > 1 and names in groups


def test_the_seed_lab_facts_are_defined_once():
    single, groups = _lab_values()
    copies = []
    for path in sorted(TESTS.rglob("*.py")):
        if path.name in ("seedlab.py", Path(__file__).name):
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign) and _literal_lab_facts(node.value, single, groups):
                copies.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not copies, f"seed-lab constants redefined (import them from tests/seedlab.py): {copies}"


def test_the_long_oracle_runs_are_a_script():
    script = TESTS / "oracles"
    assert os.access(script, os.X_OK), script
    text = script.read_text()
    assert "tests/failover_oracle.py --estates" in text and "tests/san_oracle.py --estates" in text


def test_ci_lints_as_well_as_tests():
    commands = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    assert any(re.search(r"\bruff check \.$", c) for c in commands), commands
    assert any(re.search(r"\bmypy$", c) for c in commands), commands
