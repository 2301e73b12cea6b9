"""The unit tests keep up with the code: every rule id a check emits is asserted in a unit test
of its module's family, and every public advice function that builds a Fix is called in test_fixes.py
(the private builders, _rust_fixes, _go_fixes, _c_fixes, _pip_fix, _npm_fix, _runner_fix …, are
reached through glibc_fixes, libstdcxx_fixes and arch_fixes there)."""

from __future__ import annotations

import ast
from pathlib import Path

import lambda_glibc_gate.advice as advice_module
import lambda_glibc_gate.checks as checks_package
from lambda_glibc_gate.rules import RULES

HERE = Path(__file__).parent
CHECKS = Path(checks_package.__file__).parent


def emitted_rules(source: str) -> set[str]:
    """Rule ids in `Finding("rule-id", …)` calls, and in rule names handed on (`"glibc-private",`)."""
    rules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            if node.args[0].value in RULES:
                rules.add(node.args[0].value)
    return rules


def test_every_rule_a_check_emits_has_a_unit_test_of_its_family():
    tests = {path.name: path.read_text() for path in HERE.glob("test_checks_*.py")}
    seen = set()
    for module in sorted(CHECKS.glob("*.py")):
        rules = emitted_rules(module.read_text())
        seen |= rules
        unit = "test_checks_runtime.py" if module.stem in ("runtime", "target") else f"test_checks_{module.stem}.py"
        for rule in rules:
            assert f'"{rule}"' in tests.get(unit, ""), f"{rule} ({module.name}) has no unit test in tests/unit/{unit}"
    assert len(seen) >= 16  # the parse still finds the rules


def test_every_public_advice_function_that_builds_a_fix_is_unit_tested():
    tree = ast.parse(Path(advice_module.__file__).read_text())
    builders = {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and not node.name.startswith("_")
        and any(isinstance(n, ast.Name) and n.id == "Fix" for n in ast.walk(node))
    }
    fixes_tests = (HERE / "test_fixes.py").read_text()
    assert builders >= {"glibc_fixes", "pip_fix", "runtime_fix", "bootstrap_fix", "exec_bit_fix"}
    assert sorted(name for name in builders if f"advice.{name}(" not in fixes_tests) == []
