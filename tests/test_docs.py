"""The README documents every rule id, every Action input and output, and the two commands a
newcomer needs (the ones .ci/run and the Quick start use)."""

from __future__ import annotations

from pathlib import Path

import yaml

from lambda_glibc_gate.rules import RULES

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")
ACTION = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))


def test_every_rule_id_has_a_row_with_an_example():
    missing = [rule for rule in RULES if f"| `{rule}` |" not in README]
    assert missing == []


def test_every_action_input_has_a_section_and_every_output_a_row():
    assert [name for name in ACTION["inputs"] if f"#### `{name}`" not in README] == []
    assert [name for name in ACTION["outputs"] if f"| `{name}` |" not in README] == []


def test_the_readme_shows_the_command_ci_runs():
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "python -m pytest -q" in ci and "pip install -e '.[test]' && python -m pytest -q" in README
