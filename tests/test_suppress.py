"""Accepting a finding: --ignore, the configuration file and the Action's `ignore` input.

Real zips from the committed ELF fixtures: lib/libfoo.so.1 (needs_libssl1.1-x86_64) needs
libssl.so.1.1, which provided.al2023 does not have: a missing-library error.
"""

from __future__ import annotations

import json
import os
import re
import threading
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from helpers import elf_fixture
from test_action import GOOD, elf, make_zip, run_step, workspace  # noqa: F401 - fixture

from lambda_glibc_gate import config, suppress
from lambda_glibc_gate.cli import main
from lambda_glibc_gate.rules import RULES

REPO = Path(__file__).resolve().parent.parent
NEEDS_SSL = "needs_libssl1.1-x86_64"
BAD = "strlcpy_strtol-glibc2.38-x86_64"
REPORT_SCHEMA = json.loads(resources.files("lambda_glibc_gate").joinpath("data/report-schema.json").read_text())
SARIF_SCHEMA = json.loads((REPO / "tests" / "schemas" / "sarif-2.1.0.json").read_text(encoding="utf-8"))
LAYER_REASON = "provided by layer arn:aws:lambda:eu-west-1:123456789012:layer:openssl11:3"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder (the current folder) holding fn.zip with the missing-library error."""
    monkeypatch.chdir(tmp_path)
    make_zip(tmp_path / "fn.zip", {"bootstrap": elf(GOOD), "lib/libfoo.so.1": elf_fixture(NEEDS_SSL)})
    return tmp_path


def scan_json(capsys, *argv: str) -> tuple[int, dict, str]:
    code = main(["scan", "fn.zip", "--format", "json", *argv])
    captured = capsys.readouterr()
    return code, (json.loads(captured.out) if captured.out.strip() else {}), captured.err


def findings(report: dict, rule: str) -> list[dict]:
    return [f for a in report["artifacts"] for f in a["findings"] if f["rule"] == rule]


# -- the glob grammar ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("glob", "member", "artifact", "hit"),
    [
        ("**/libfoo.so*", "lib/libfoo.so.1", "fn.zip", True),
        ("**/libfoo.so*", "libfoo.so", "fn.zip", True),  # **/ is zero or more folders
        ("**/libfoo.so*", "lib/x86_64/deep/libfoo.so.3", "fn.zip", True),
        ("libfoo.so*", "lib/libfoo.so.1", "fn.zip", True),  # no `/`: the file name at any depth
        ("lib/*.so.1", "lib/libfoo.so.1", "fn.zip", True),
        ("lib/*.so.1", "lib/sub/libfoo.so.1", "fn.zip", False),  # * stays in one folder
        ("lib/**", "lib/sub/libfoo.so.1", "fn.zip", True),
        ("lib/libfoo.so.?", "lib/libfoo.so.1", "fn.zip", True),
        ("lib/libfoo.so.[0-2]", "lib/libfoo.so.1", "fn.zip", True),
        ("lib/libfoo.so.[!1]", "lib/libfoo.so.1", "fn.zip", False),
        ("dist/*.zip", "lib/libfoo.so.1", "./dist/fn.zip", True),  # the artifact path
        ("dist/fn.zip/lib/*", "lib/libfoo.so.1", "dist\\fn.zip", True),  # artifact/member
        ("LIB/**", "lib/libfoo.so.1", "fn.zip", False),  # case-sensitive
        ("lib/libfoo.so.1", "lib/libfoo.so.10", "fn.zip", False),  # the whole path
    ],
)
def test_glob_semantics(glob, member, artifact, hit):
    entry = suppress.IgnoreEntry("missing-library", glob, "r", "test")
    finding = suppress.Finding("missing-library", "error", "m", member=member)
    assert entry.matches(finding, artifact) is hit
    assert not suppress.IgnoreEntry("glibc-too-new", glob, "r", "t").matches(finding, artifact)


def test_an_entry_without_a_glob_matches_the_rule_everywhere_and_a_glob_never_matches_report_wide():
    finding = suppress.Finding("deprecated-runtime", "warning", "m")
    assert suppress.IgnoreEntry("deprecated-runtime", None, "r", "t").matches(finding, None)
    assert not suppress.IgnoreEntry("deprecated-runtime", "**", "r", "t").matches(finding, None)


# -- the CLI: --ignore ------------------------------------------------------------------------


def test_the_finding_fails_without_an_ignore(project, capsys):
    code, report, _ = scan_json(capsys)
    assert code == 1
    (finding,) = findings(report, "missing-library")
    assert finding["severity"] == "error" and "suppressed" not in finding
    assert report["ignores"] == []


def test_ignore_flag_suppresses_keeps_the_finding_and_passes(project, capsys):
    code, report, err = scan_json(capsys, "--ignore", "missing-library:**/libfoo.so*")
    assert code == 0, err
    assert report["verdict"] == "pass"
    (finding,) = findings(report, "missing-library")
    assert finding["suppressed"] is True
    assert finding["suppression_reason"] == "--ignore missing-library:**/libfoo.so*"
    assert finding["severity"] == "error"  # unchanged: accepted, not downgraded
    assert report["counts"]["error"] == 0 and report["counts"]["suppressed"] == 1
    (binary,) = [b for a in report["artifacts"] for b in a["binaries"] if b["member"] == "lib/libfoo.so.1"]
    assert binary["result"] == "pass"
    assert report["ignores"] == [
        {
            "rule": "missing-library",
            "path": "**/libfoo.so*",
            "reason": "--ignore missing-library:**/libfoo.so*",
            "source": "--ignore",
            "matched": 1,
            "stale": False,
        }
    ]
    jsonschema.validate(report, REPORT_SCHEMA)


def test_ignore_of_one_rule_does_not_hide_another(project, capsys):
    make_zip(project / "fn.zip", {"bootstrap": elf(BAD), "lib/libfoo.so.1": elf_fixture(NEEDS_SSL)})
    code, report, _ = scan_json(capsys, "--ignore", "missing-library")
    assert code == 1
    assert [f.get("suppressed", False) for f in findings(report, "glibc-too-new")] == [False]
    assert report["counts"]["error"] >= 1 and report["counts"]["suppressed"] == 1


def test_a_glob_that_does_not_match_leaves_the_finding_and_warns_stale(project, capsys):
    code, report, err = scan_json(capsys, "--ignore", "missing-library:vendor/**")
    assert code == 1
    assert report["ignores"][0]["stale"] is True and report["ignores"][0]["matched"] == 0
    assert "missing-library:vendor/** (from --ignore) matched no finding" in err
    assert len(err.strip().splitlines()) == 1


def test_text_report_shows_suppressed_and_stale(project, capsys):
    code = main(["scan", "fn.zip", "--ignore", "missing-library:**/libfoo.so*", "--ignore", "glibc-too-new"])
    out = capsys.readouterr().out
    assert code == 0
    assert re.search(r"suppressed error \[missing-library\] lib/libfoo\.so\.1 .*\(accepted: --ignore", out)
    assert "warning: ignore entry glibc-too-new (from --ignore) matched no finding" in out
    assert out.rstrip().splitlines()[-1].startswith("PASS: 0 error(s)")
    assert "1 suppressed" in out.rstrip().splitlines()[-1]


def test_sarif_marks_the_result_suppressed_and_notes_stale_entries(project, capsys):
    argv = ["--ignore", "missing-library:**/libfoo.so*", "--ignore", "glibc-too-new"]
    assert main(["scan", "fn.zip", "--format", "sarif", *argv]) == 0
    sarif = json.loads(capsys.readouterr().out)
    jsonschema.validate(sarif, SARIF_SCHEMA)
    run = sarif["runs"][0]
    (result,) = [r for r in run["results"] if r["ruleId"] == "missing-library"]
    assert result["suppressions"] == [
        {"kind": "external", "status": "accepted", "justification": "--ignore missing-library:**/libfoo.so*"}
    ]
    notes = [n["message"]["text"] for n in run["invocations"][0]["toolExecutionNotifications"]]
    assert any("glibc-too-new" in n and "matched no finding" in n for n in notes)


def test_markdown_lists_accepted_findings_with_their_reason(project, capsys):
    assert main(["scan", "fn.zip", "--format", "markdown", "--ignore", "missing-library:**/libfoo.so*"]) == 0
    out = capsys.readouterr().out
    assert "1 accepted finding" in out
    assert "<code>lib/libfoo.so.1</code>" in out and "<code>missing-library</code> (error)" in out
    assert "❌" not in out


@pytest.mark.parametrize("value", ["nope", "nope:**/x", ":**/x", "Missing-Library"])
def test_unknown_rule_is_a_usage_error_listing_the_valid_ids(project, capsys, value):
    code = main(["scan", "fn.zip", "--ignore", value])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    if value.split(":")[0]:
        assert "unknown rule" in err
        assert all(rule in err for rule in RULES)


# -- the configuration file --------------------------------------------------------------------


PYPROJECT = f"""\
[project]
name = "my-function"

[tool.lambda-glibc-gate]
ignore = [
  {{rule = "missing-library", path = "**/libfoo.so*", reason = "{LAYER_REASON}"}},
]
"""


def test_pyproject_table_suppresses_with_its_reason(project, capsys):
    (project / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    code, report, _ = scan_json(capsys)
    assert code == 0
    (finding,) = findings(report, "missing-library")
    assert finding["suppressed"] is True and finding["suppression_reason"] == LAYER_REASON
    assert report["ignores"][0]["source"] == "pyproject.toml"


def test_dedicated_file_wins_over_pyproject_and_adds_to_the_flag(project, capsys):
    (project / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (project / ".lambda-glibc-gate.toml").write_text(
        'ignore = [{rule = "glibc-too-new", reason = "checked by hand"}]\n', encoding="utf-8"
    )
    code, report, _ = scan_json(capsys, "--ignore", "missing-library")
    assert code == 0
    assert [(i["rule"], i["source"], i["stale"]) for i in report["ignores"]] == [
        ("glibc-too-new", ".lambda-glibc-gate.toml", True),
        ("missing-library", "--ignore", False),
    ]


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ('[tool.lambda-glibc-gate]\nignore = [{rule = "missing-library", path = "**"}]\n', "'reason' is required"),
        ('[tool.lambda-glibc-gate]\nignore = [{rule = "missing-library", reason = " "}]\n', "'reason' is required"),
        ('[tool.lambda-glibc-gate]\nignore = [{rule = "nope", reason = "x"}]\n', "unknown rule 'nope'"),
        ('[tool.lambda-glibc-gate]\nignore = ["missing-library"]\n', "each entry is a table"),
        ('[tool.lambda-glibc-gate]\nignore = [{rule = "missing-library", reason = "x", glob = "*"}]\n', "'glob'"),
        ('[tool.lambda-glibc-gate]\nignores = []\n', "unknown setting 'ignores'"),
        ('[tool.lambda-glibc-gate]\nignore = "missing-library"\n', "must be a list"),
        ("[tool.lambda-glibc-gate]\nignore = [\n", "not valid TOML"),
    ],
)
def test_bad_configuration_is_a_one_line_usage_error(project, capsys, text, phrase):
    (project / "pyproject.toml").write_text(text, encoding="utf-8")
    assert main(["scan", "fn.zip"]) == 2
    err = capsys.readouterr().err.strip()
    assert phrase in err and "pyproject.toml" in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err


def test_an_unrelated_or_broken_pyproject_is_not_our_business(project, capsys):
    (project / "pyproject.toml").write_text("[project\nname = 'x'\n", encoding="utf-8")
    assert main(["scan", "fn.zip"]) == 1


def test_python_3_10_without_tomli_is_a_clear_error_only_when_there_is_config(project, monkeypatch):
    monkeypatch.setattr(config, "_toml", lambda: None)
    (project / "pyproject.toml").write_text("[project]\nname = 'lambda-glibc-gate'\n", encoding="utf-8")
    assert config.load_ignores(".") == []
    (project / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    with pytest.raises(config.ConfigError, match=r"Python 3\.11\+ or the tomli package"):
        config.load_ignores(".")


def test_a_fifo_as_configuration_file_does_not_hang(project):
    os.mkfifo(project / ".lambda-glibc-gate.toml")
    outcome: list[BaseException] = []
    thread = threading.Thread(target=lambda: _catch(outcome), daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "reading a FIFO blocked"
    assert outcome and "not a regular file" in str(outcome[0])


def _catch(outcome: list[BaseException]) -> None:
    try:
        config.load_ignores(".")
    except config.ConfigError as error:
        outcome.append(error)


# -- the Action ---------------------------------------------------------------------------------


def _package(workspace: Path, folder: str = ".") -> None:  # noqa: F811
    make_zip(workspace / folder / "fn.zip", {"bootstrap": elf(GOOD), "lib/libfoo.so.1": elf_fixture(NEEDS_SSL)})


def test_action_fails_on_the_finding_without_an_ignore(workspace):  # noqa: F811
    _package(workspace)
    step = run_step(workspace, {"artifacts": "fn.zip"})
    assert step.returncode == 1
    assert any("missing-library" in e.properties.get("title", "") for e in step.errors())


def test_action_ignore_input_passes_and_keeps_the_finding_in_the_report(workspace):  # noqa: F811
    _package(workspace)
    step = run_step(workspace, {"artifacts": "fn.zip", "ignore": "# the layer has it\nmissing-library:**/libfoo.so*\n"})
    assert step.returncode == 0, step.stdout + step.stderr
    assert step.outputs["verdict"] == "pass" and step.outputs["findings"] == "0"
    assert step.errors() == [] and step.warnings() == []
    report = json.loads((workspace / step.outputs["report"]).read_text(encoding="utf-8"))
    (finding,) = findings(report, "missing-library")
    assert finding["suppressed"] is True
    assert finding["suppression_reason"] == "input 'ignore' missing-library:**/libfoo.so*"
    assert "accepted finding" in step.summary
    assert any("1 accepted" in line for line in step.log.plain)


def test_action_reads_the_config_in_working_directory(workspace):  # noqa: F811
    _package(workspace, "services/api")
    (workspace / "services/api/pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    step = run_step(workspace, {"artifacts": "fn.zip", "working-directory": "services/api", "sarif": "r.sarif"})
    assert step.returncode == 0, step.stdout + step.stderr
    report = json.loads((workspace / step.outputs["report"]).read_text(encoding="utf-8"))
    assert findings(report, "missing-library")[0]["suppression_reason"] == LAYER_REASON
    sarif = json.loads((workspace / "services/api/r.sarif").read_text(encoding="utf-8"))
    results = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "missing-library"]
    assert results[0]["suppressions"][0]["justification"] == LAYER_REASON


def test_action_stale_ignore_is_one_warning_and_the_verdict_stands(workspace):  # noqa: F811
    _package(workspace)
    step = run_step(workspace, {"artifacts": "fn.zip", "ignore": "missing-library:**/libfoo.so*\nglibc-too-new"})
    assert step.returncode == 0
    (warning,) = step.warnings()
    assert "stale ignore" in warning.properties["title"]
    assert "glibc-too-new (from input 'ignore') matched no finding" in warning.message


def test_action_unknown_rule_in_the_input_could_not_run(workspace):  # noqa: F811
    _package(workspace)
    step = run_step(workspace, {"artifacts": "fn.zip", "ignore": "missing-libraries:**/libfoo.so*"})
    assert step.returncode == 2
    (error,) = step.errors()
    assert "unknown rule 'missing-libraries'" in error.message and "missing-library" in error.message
    assert step.outputs == {"verdict": "error"}


def test_ignore_entries_from_the_environment_add_to_the_flags(project, capsys, monkeypatch):
    monkeypatch.setenv("LAMBDA_GLIBC_GATE_IGNORE", "missing-library:**/libfoo.so*\n")
    code, report, _ = scan_json(capsys, "--ignore", "glibc-too-new")
    assert code == 0
    assert [(i["rule"], i["stale"]) for i in report["ignores"]] == [("missing-library", False), ("glibc-too-new", True)]


def test_a_stale_ignore_warning_keeps_room_among_the_runners_ten_warnings():
    from lambda_glibc_gate import action
    from lambda_glibc_gate.report import ArtifactReport, Finding, Report

    found = [Finding("libstdcxx-too-new", "warning", f"lib{i}.so", member=f"lib{i}.so") for i in range(12)]
    report = Report({"id": "provided.al2023"}, [ArtifactReport("fn.zip", "zip", "provided.al2023", "x86_64", found)])
    assert len(action.plan_annotations(report, None)) == 9
    stale = {"rule": "glibc-too-new", "path": None, "reason": "r", "source": "t", "matched": 0, "stale": True}
    report.ignores = [stale]
    assert len(action.plan_annotations(report, None)) == 8  # + the stale warning + one for extras = 10
