"""Unbounded work from kilobytes of pull-request input: each input-driven loop has a budget.

Each case is reproduced from a small hostile input; what is asserted is the behaviour (a
note, a one-line error, a bounded count), never a timing: timings are in the commit messages
and the final report of the change that added them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambda_glibc_gate import templates
from lambda_glibc_gate.templates import (
    MAX_RESOLVED_CHARS,
    MAX_TEMPLATE_BYTES,
    MAX_YAML_NODES,
    TemplateError,
    load_functions,
)

# --- 1. reference fan-out in templates -----------------------------------------------------


def serverless_doubling(levels: int, fan_out: int = 9) -> str:
    """custom.aN is aN-1 written `fan_out` times: the runtime expands to fan_out**levels ids."""
    lines = ["service: svc", "custom:", "  a0: python3.12"]
    for level in range(1, levels + 1):
        lines.append(f"  a{level}: '" + f"${{self:custom.a{level - 1}}}" * fan_out + "'")
    lines += ["provider:", "  name: aws", f"  runtime: ${{self:custom.a{levels}}}"]
    lines += ["functions:", "  f:", "    handler: h"]
    return "\n".join(lines) + "\n"


def sub_fan_out(levels: int, fan_out: int = 9) -> dict:
    def level(n: int) -> object:
        if n == 0:
            return "python3.12"
        return {"Fn::Sub": ["${A}" * fan_out, {"A": level(n - 1)}]}

    function = {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": level(levels), "Code": "."}}
    return {"Resources": {"Fn": function}}


def test_nested_self_references_are_refused_with_a_short_note(tmp_path: Path):
    # GIVEN a 1.2 KB serverless.yml whose runtime expands to 9**8 copies of python3.12
    # (before the budget: a 47,829,690-character runtime id, 42 s)
    path = tmp_path / "serverless.yml"
    path.write_text(serverless_doubling(8))
    # WHEN its functions are read
    (target,) = load_functions(str(path))
    # THEN the runtime is unknown, and the note says why in one short line
    assert target.runtime is None
    assert "resolution budget" in (target.note or "")
    assert len(target.note or "") < 300 and "\n" not in (target.note or "")


def test_sub_fan_out_is_refused_with_a_short_note(tmp_path: Path):
    # GIVEN a 543-byte template whose Fn::Sub nesting expands to 9**7 copies (before: 10 s)
    path = tmp_path / "template.json"
    path.write_text(json.dumps(sub_fan_out(7)))
    (target,) = load_functions(str(path))
    assert target.runtime is None
    assert "resolution budget" in (target.note or "")
    assert len(target.note or "") < 300


def test_join_fan_out_is_refused(tmp_path: Path):
    items = [{"Ref": "P"}] * 5000
    document = {
        "Parameters": {"P": {"Type": "String", "Default": "python3.12"}},
        "Resources": {"Fn": {"Type": "AWS::Lambda::Function",
                             "Properties": {"Runtime": {"Fn::Join": ["", items]}, "Code": "."}}},
    }
    path = tmp_path / "template.json"
    path.write_text(json.dumps(document))
    (target,) = load_functions(str(path))
    assert target.runtime is None and "resolution budget" in (target.note or "")


def test_modest_references_still_resolve(tmp_path: Path):
    # Two levels, more than ten variables in one string: well inside the budget
    lines = ["service: svc", "custom:", "  v: '3'", "  d: '.'", "  p: python",
             "  r: ${self:custom.p}${self:custom.v}${self:custom.d}1${self:custom.v}",
             "  long: " + "${self:custom.v}" * 12,
             "provider:", "  name: aws", "  runtime: ${self:custom.r}",
             "  stage: ${self:custom.long}", "functions:", "  f:", "    handler: h"]
    path = tmp_path / "serverless.yml"
    path.write_text("\n".join(lines) + "\n")
    (target,) = load_functions(str(path))
    assert target.runtime == "python3.13"
    path = tmp_path / "template.json"
    path.write_text(json.dumps(sub_fan_out(2, fan_out=1)))
    (target,) = load_functions(str(path))
    assert target.runtime == "python3.12"


def test_a_long_runtime_never_reaches_a_message_whole(tmp_path: Path):
    # GIVEN a runtime that is a literal of MAX_RESOLVED_CHARS - 1 characters, and one longer
    for length in (200, MAX_RESOLVED_CHARS - 1, MAX_RESOLVED_CHARS * 10):
        path = tmp_path / "template.yaml"
        path.write_text(
            "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
            f"    Properties:\n      Runtime: {'p' * length}\n      Architectures: [{'a' * length}]\n"
        )
        (target,) = load_functions(str(path))
        # THEN it is not a runtime, and the note quotes a bounded part of it
        assert target.runtime is None
        assert len(target.note or "") < 500


# --- 2. template size and YAML node count ---------------------------------------------------


def test_a_template_over_cloudformations_limit_is_one_line(tmp_path: Path):
    # GIVEN a 10 MB one-line flow list (before: 406 s and 3.7 GB to compose it)
    path = tmp_path / "template.yaml"
    path.write_text("Resources: [" + ",".join(["1"] * (5 * 1024 * 1024)) + "]\n")
    # THEN it is refused unread, in one line naming the file
    with pytest.raises(TemplateError) as caught:
        load_functions(str(path))
    message = str(caught.value)
    assert message.startswith(f"{path}: larger than CloudFormation's 1 MB limit")
    assert "\n" not in message


def test_a_template_of_too_many_nodes_is_one_line(tmp_path: Path, monkeypatch):
    # GIVEN a template under 1 MB that is one flow list of more than MAX_YAML_NODES nodes
    # (before: 42 s and 394 MB for 1 MB of it); a lower limit keeps the test quick
    assert MAX_YAML_NODES * 2 < MAX_TEMPLATE_BYTES  # a 1 MB flow list would be over it
    monkeypatch.setattr(templates, "MAX_YAML_NODES", 1000)
    path = tmp_path / "template.yaml"
    path.write_text("Resources:\n  X: [" + ",".join(["1"] * 1010) + "]\n")
    with pytest.raises(TemplateError, match="template.yaml:2: cannot parse: more than 1000 YAML nodes"):
        load_functions(str(path))
    # AND a real-sized template is well inside it
    path.write_text("Resources:\n  X: [" + ",".join(["1"] * 900) + "]\n")
    assert load_functions(str(path)) == []


def test_alias_laughs_are_refused(tmp_path: Path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 9):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 10) + "]")
    path = tmp_path / "template.yaml"
    path.write_text("\n".join(lines) + "\nResources: *a8\n")
    with pytest.raises(TemplateError, match="aliases expand the document"):
        load_functions(str(path))


# --- 3. line numbers in JSON templates ------------------------------------------------------


def test_json_lines_for_thousands_of_functions(tmp_path: Path):
    # GIVEN an 880 KB CDK-style template of 9,000 functions (before: 18 s, a search of the
    # whole text per function; the timing itself is in the report, not asserted)
    resources = {
        f"Fn{index}": {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": "python3.12", "Code": "."}}
        for index in range(9000)
    }
    text = json.dumps({"Description": '"Fn5": not a key', "Resources": resources}, indent=0)
    path = tmp_path / "Stack.template.json"
    path.write_text(text)
    targets = load_functions(str(path))
    # THEN every function has the line of its own key
    lines = text.splitlines()
    assert len(targets) == 9000
    for target in (targets[0], targets[5], targets[4321], targets[-1]):
        assert lines[target.line - 1].strip() == f'"{target.name}": {{'
