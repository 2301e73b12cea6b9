"""The CLI in a `run:` step: nothing from a package may issue a workflow command.

A real zip whose member names carry `##[add-mask]`, `::error::` and a line break goes through
cli.main() with GITHUB_ACTIONS=true, in every format; what it prints is fed to the Python port of
the runner's parser (tests/golden/runner_protocol.py), stop-commands handling included.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import elf_fixture

from lambda_glibc_gate import inert
from lambda_glibc_gate.cli import main

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("runner_protocol", REPO / "tests" / "golden" / "runner_protocol.py")
runner = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("runner_protocol", runner)
_spec.loader.exec_module(runner)

BAD = elf_fixture("strlcpy_strtol-glibc2.38-x86_64")
GOOD = elf_fixture("hello-glibc2.34-x86_64")
HOSTILE = {
    "lib/##[add-mask]x.so": BAD,  # legacy command anywhere in a line
    "lib/a##[error]legacy::error::mid.so": BAD,
    "::error::top.so": BAD,  # at a line start wherever the name starts a line
    "lib/b\n::error::pwned\n##[add-mask]secret.so": BAD,  # a line break inside the name
    "bootstrap": GOOD,
}
FORMATS = ("text", "json", "markdown", "sarif")


@pytest.fixture
def hostile_zip(make_zip):
    return make_zip(HOSTILE, name="evil.zip")


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _no_commands(text: str) -> None:
    log = runner.process_output(text)
    assert log.commands == [], [(c.command, c.data) for c in log.commands]
    assert log.masks == [] and log.annotations == []


@pytest.mark.parametrize("output_format", FORMATS)
def test_hostile_names_issue_no_command_in_any_format(hostile_zip, output_format, monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code, out, err = _run(["scan", hostile_zip, "--format", output_format, "--notes"], capsys)
    assert code == 1
    _no_commands(out)
    _no_commands(err)
    assert "add-mask]x" in out  # the name is still there, shown defused
    assert "##[" not in out


def test_the_test_is_meaningful_outside_actions(hostile_zip, monkeypatch, capsys):
    """Without GITHUB_ACTIONS the same output would issue commands: the names do reach it."""
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    _, out, _ = _run(["scan", hostile_zip, "--format", "json"], capsys)
    assert {c.command for c in runner.process_output(out).commands} >= {"add-mask"}
    _, out, _ = _run(["scan", hostile_zip, "--format", "text"], capsys)
    assert runner.process_output(out).commands


@pytest.mark.parametrize("output_format", ("json", "sarif"))
def test_json_stays_json_with_the_same_names(hostile_zip, output_format, monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    _, out, _ = _run(["scan", hostile_zip, "--format", output_format], capsys)
    data = json.loads(out)  # no stop-commands lines around it: `| jq` and `> file` keep working
    text = json.dumps(data, ensure_ascii=False)
    assert "lib/##[add-mask]x.so" in text  # decodes to the real member name
    if output_format == "json":
        members = {f["member"] for a in data["artifacts"] for f in a["findings"]}
        assert "lib/b\n::error::pwned\n##[add-mask]secret.so" in members


def test_text_is_wrapped_in_a_random_stop_commands_block(hostile_zip, monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    _, first, _ = _run(["scan", hostile_zip], capsys)
    _, second, _ = _run(["scan", hostile_zip], capsys)
    lines = first.splitlines()
    assert lines[0].startswith("::stop-commands::")
    token = lines[0].removeprefix("::stop-commands::")
    assert len(token) == 32 and lines[-1] == f"::{token}::"
    assert second.splitlines()[0] != lines[0]


def test_text_output_file_and_terminal_report(hostile_zip, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(["scan", hostile_zip, "--format", "sarif", "--output", "r.sarif"], capsys)
    assert code == 1
    _no_commands(out)
    json.loads((tmp_path / "r.sarif").read_text(encoding="utf-8"))


def test_errors_on_stderr_are_one_inert_line(monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code, _, err = _run(["scan", "nothing\n::error::x/##[add-mask]y/*.zip"], capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    _no_commands(err)


def test_redirected_to_a_file_the_markdown_is_not_wrapped(hostile_zip, tmp_path):
    """`>> $GITHUB_STEP_SUMMARY`: the runner never reads that file as commands, the user does."""
    target = tmp_path / "summary.md"
    with open(target, "w", encoding="utf-8") as handle:
        subprocess.run(
            [sys.executable, "-m", "lambda_glibc_gate", "scan", hostile_zip, "--format", "markdown"],
            stdout=handle,
            env={"PATH": "/usr/bin:/bin", "GITHUB_ACTIONS": "true"},
            timeout=120,
            check=False,
        )
    text = target.read_text(encoding="utf-8")
    assert "stop-commands" not in text and "##[" not in text and "lambda-glibc-gate" in text


def test_inert_helpers():
    assert inert.defuse_legacy('{"a": "x##[y"}', json_text=True) == '{"a": "x#\\u0023[y"}'
    assert json.loads(inert.defuse_legacy('{"a": "x##[y"}', json_text=True)) == {"a": "x##[y"}
    assert inert.defuse_legacy("x##[y") == "x#\\x23[y"
    assert inert.can_start_command("a\n  ::error::b") and not inert.can_start_command("a ::error::b")
