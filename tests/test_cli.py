"""The command line contract: exit codes, formats, one-line errors, the runtimes table."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from helpers import elf_fixture

from lambda_glibc_gate.cli import main


@pytest.fixture
def failing_zip(make_zip):
    return make_zip({"bootstrap": elf_fixture("strlcpy_strtol-glibc2.38-x86_64")})


@pytest.fixture
def passing_zip(make_zip):
    return make_zip({"bootstrap": elf_fixture("hello-glibc2.34-x86_64")})


def test_exit_codes_follow_the_contract(failing_zip, passing_zip, capsys):
    assert main(["scan", passing_zip]) == 0
    assert main(["scan", failing_zip]) == 1
    assert main(["scan", failing_zip, "--fail-on", "never"]) == 0
    assert main(["scan", failing_zip, "--glibc", "2.39"]) == 0
    assert main(["scan", passing_zip, "--runtime", "provided.al2", "--fail-on", "warning"]) == 1


def test_text_report_names_file_versions_symbols_and_fix(failing_zip, capsys):
    main(["scan", failing_zip, "--runtime", "provided.al2023"])
    out = capsys.readouterr().out
    assert "bootstrap needs glibc 2.38, but provided.al2023 has glibc 2.34" in out
    assert "__isoc23_strtol" in out and "fix:" in out
    assert out.rstrip().splitlines()[-1].startswith("FAIL: 1 error(s)")
    assert "\033[" not in out  # no colour when stdout is not a terminal


def test_json_format_is_one_object_with_the_contract(failing_zip, passing_zip, capsys):
    assert main(["scan", failing_zip, passing_zip, "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"] == "fail"
    assert [a["path"] for a in data["artifacts"]] == [failing_zip, passing_zip]
    assert data["artifacts"][0]["binaries"][0]["glibc_required"] == "2.38"


def test_sarif_format_and_output_file(failing_zip, tmp_path, capsys):
    target = tmp_path / "out.sarif"
    argv = ["scan", failing_zip, "--runtime", "provided.al2023", "--format", "sarif", "--output", str(target)]
    assert main(argv) == 1  # an explicit runtime: no runtime-assumed note beside the finding
    sarif = json.loads(target.read_text())
    assert sarif["version"] == "2.1.0"
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} == {"glibc-too-new"}
    assert "FAIL" in capsys.readouterr().out  # the text report still goes to the terminal


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["scan", "nothing/here/*.zip"], "nothing/here"),
        (["scan", "{zip}", "--runtime", "provided.al2024"], "provided.al2023"),
        (["scan", "{zip}", "--arch", "sparc"], "--arch"),
        (["scan", "{zip}", "--glibc", "latest"], "--glibc"),
        (["scan", "{zip}", "--output", "/nonexistent-dir/x.json"], "cannot write"),
    ],
)
def test_unusable_arguments_exit_2_with_one_line(argv, fragment, passing_zip, capsys):
    argv = [a.replace("{zip}", passing_zip) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert fragment in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_argparse_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["scan"])
    assert exit_info.value.code == 2


def test_environment_variables_give_defaults(failing_zip, monkeypatch):
    monkeypatch.setenv("LAMBDA_GLIBC_GATE_GLIBC", "2.39")
    assert main(["scan", failing_zip]) == 0


def test_runtimes_table_and_json(capsys):
    assert main(["runtimes"]) == 0
    table = capsys.readouterr().out
    assert "provided.al2023" in table and "2.34" in table
    assert main(["runtimes", "--format", "json"]) == 0
    runtimes = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert runtimes["python3.11"]["os"] == "al2"
    assert "provided" in runtimes and "nodejs24.x" in runtimes


def test_module_entry_point_runs_without_traceback(failing_zip):
    result = subprocess.run([sys.executable, "-m", "lambda_glibc_gate", "scan", failing_zip, "--format", "json"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert json.loads(result.stdout)["verdict"] == "fail"
    assert "Traceback" not in result.stderr


def test_an_internal_error_has_its_own_exit_code_and_one_line(monkeypatch, capsys, tmp_path):
    # GIVEN a bug inside the scanner
    import lambda_glibc_gate.scan as scan_module

    def broken(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(scan_module, "scan", broken)
    (tmp_path / "bootstrap").write_bytes(b"#!/bin/sh\n")
    # THEN exit 3 (never 1, which means findings) and one line asking for a report
    assert main(["scan", str(tmp_path / "bootstrap"), "--runtime", "provided.al2023"]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "internal error: ZeroDivisionError: boom" in err[0] and "report" in err[0]


def test_short_format_flag_force_color_and_help(monkeypatch, capsys, tmp_path):
    bootstrap = tmp_path / "bootstrap"
    bootstrap.write_bytes(b"not a program")
    assert main(["scan", str(bootstrap), "--runtime", "provided.al2023", "-f", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["schema_version"].startswith("1.")
    monkeypatch.setenv("FORCE_COLOR", "1")
    main(["scan", str(bootstrap), "--runtime", "provided.al2023"])
    assert "\033[" in capsys.readouterr().out  # coloured although stdout is no terminal
    with pytest.raises(SystemExit):
        main(["scan", "--help"])
    help_text = capsys.readouterr().out
    assert "exit codes:" in help_text and "LAMBDA_GLIBC_GATE_RUNTIME" in help_text and "examples:" in help_text
