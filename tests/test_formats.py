"""The formats for other CI systems, on real scans: `github` (workflow commands from a CLI step),
`gitlab` (Code Quality JSON) and `junit` (JUnit XML)."""

from __future__ import annotations

import importlib.util
import json
import sys
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

from helpers import elf_fixture
from hypothesis import given, settings
from hypothesis import strategies as st

from lambda_glibc_gate import gha
from lambda_glibc_gate.cli import FORMATS as CLI_FORMATS
from lambda_glibc_gate.cli import main
from lambda_glibc_gate.render import FORMATS, github, render
from lambda_glibc_gate.scan import ScanOptions, scan

_spec = importlib.util.spec_from_file_location(
    "runner_protocol", Path(__file__).parent / "golden" / "runner_protocol.py"
)
runner = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("runner_protocol", runner)
_spec.loader.exec_module(runner)

TODAY = date(2026, 11, 27)


def report_of(make_zip, runtime="provided.al2023", **members):
    package = make_zip(members or {"bootstrap": elf_fixture("strlcpy_strtol-glibc2.38-x86_64")})
    return scan([package], ScanOptions(runtime=runtime, today=TODAY))


def test_the_cli_offers_every_format_the_registry_renders():
    assert tuple(CLI_FORMATS) == FORMATS


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_github_escaping_is_the_actions_core_escaping(text):
    assert github.escape_data(text) == gha.escape_data(text)
    assert github.escape_property(text) == gha.escape_property(text)


def test_github_format_issues_the_actions_annotations_and_no_other_command(make_zip):
    hostile = "lib/x\n::add-mask::secret\n##[error]evil.so"
    report = report_of(
        make_zip,
        bootstrap=elf_fixture("strlcpy_strtol-glibc2.38-x86_64"),
        **{hostile: elf_fixture("strlcpy_strtol-glibc2.38-x86_64")},
    )
    log = runner.process_output(render(report, "github"))
    kinds = [a.kind for a in log.annotations]
    # THEN one error annotation per failing file plus the verdict, and no mask or other command
    assert kinds.count("error") == 3 and {c.command for c in log.commands} == {"error"}
    assert any("glibc-too-new" in a.properties.get("title", "") for a in log.annotations)


def test_gitlab_code_quality_has_gitlabs_documented_fields(make_zip):
    issues = json.loads(render(report_of(make_zip), "gitlab"))
    assert issues
    for issue in issues:
        # GitLab's Code Quality report format: these fields are required
        assert isinstance(issue["description"], str) and issue["description"]
        assert isinstance(issue["check_name"], str)
        assert issue["severity"] in ("info", "minor", "major", "critical", "blocker")
        assert isinstance(issue["location"]["path"], str)
        assert isinstance(issue["location"]["lines"]["begin"], int) and issue["location"]["lines"]["begin"] >= 1
    fingerprints = [issue["fingerprint"] for issue in issues]
    assert len(set(fingerprints)) == len(fingerprints)
    assert any(i["check_name"] == "glibc-too-new" and i["severity"] == "critical" for i in issues)


def test_junit_has_a_testcase_per_artifact_and_binary(make_zip):
    report = report_of(
        make_zip,
        bootstrap=elf_fixture("strlcpy_strtol-glibc2.38-x86_64"),
        **{"lib/ok.so": elf_fixture("napi_addon-linux-x64-glibc.node")},
    )
    root = ET.fromstring(render(report, "junit"))
    (suite,) = root.findall("testsuite")
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    assert set(cases) == {"(package)", "bootstrap", "lib/ok.so"}
    assert cases["bootstrap"].find("failure").get("type") == "glibc-too-new"
    assert cases["lib/ok.so"].find("failure") is None
    assert suite.get("failures") == "1" and suite.get("tests") == "3"


def test_the_cli_prints_each_format(make_zip, capsys):
    package = make_zip({"bootstrap": elf_fixture("hello-glibc2.34-x86_64")})
    for output_format in ("github", "gitlab", "junit"):
        assert main(["scan", package, "--runtime", "provided.al2023", "-f", output_format]) == 0
        assert capsys.readouterr().out.strip()
