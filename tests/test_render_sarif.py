"""SARIF output, validated against the official SARIF 2.1.0 JSON schema.

tests/schemas/sarif-2.1.0.json is `sarif-2.1.0-rtm.5.json` (the final 2.1.0 schema, the one
SchemaStore serves) copied unchanged from the npm package @microsoft/jest-sarif 1.0.0-beta.0
(MIT), file lib/schemas/sarif-2.1.0-rtm.5.json; sha256 2d99159ae54a3eea97f81781cff48780548657c35949f4b7f25e99a2ba4de4f8.
"""

from __future__ import annotations

import _ctypes
import functools
import hashlib
import json
import os
import platform
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambda_glibc_gate.render import sarif
from lambda_glibc_gate.report import ArtifactReport, Finding, Fix, Report
from lambda_glibc_gate.rules import RULES
from lambda_glibc_gate.scan import ScanOptions, scan

SCHEMA_PATH = Path(__file__).parent / "schemas" / "sarif-2.1.0.json"
SCHEMA_SHA256 = "2d99159ae54a3eea97f81781cff48780548657c35949f4b7f25e99a2ba4de4f8"
RUNTIME = {"id": "provided.al2023", "glibc": "2.34"}


@functools.cache
def schema_validator():
    schema = json.loads(SCHEMA_PATH.read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


@pytest.fixture
def validator():
    return schema_validator()


@dataclass(frozen=True)
class Where:
    path: str
    line: int
    value: str


def finding(rule: str, severity: str, member: str | None = "bootstrap", **extra) -> Finding:
    return Finding(rule=rule, severity=severity, message=f"{member or 'package'}: {rule}", member=member, **extra)


def report(*findings: Finding, path: str = "target/lambda/api/bootstrap.zip", kind: str = "zip") -> Report:
    artifact = ArtifactReport(path=path, kind=kind, runtime="provided.al2023", architecture="x86_64")
    artifact.findings.extend(findings)
    return Report(runtime=dict(RUNTIME), artifacts=[artifact])


def failing() -> Report:
    return report(
        finding(
            "glibc-too-new",
            "error",
            required="2.38",
            available="2.34",
            symbols=("__isoc23_strtol@GLIBC_2.38", "strlcpy@GLIBC_2.38"),
            fixes=(Fix("Build against glibc 2.34", "cargo lambda build --target x86_64-unknown-linux-gnu.2.34"),),
        ),
        finding("libstdcxx-too-new", "warning", member="lib/libfoo.so", required="GLIBCXX_3.4.30"),
        finding("static-binary", "note", member="extensions/agent"),
        finding("package-too-large", "error", member=None),
    )


def rendered(rep: Report, **kwargs) -> dict:
    return json.loads(sarif.render(rep, **kwargs))


def test_schema_file_is_the_one_cited():
    assert hashlib.sha256(SCHEMA_PATH.read_bytes()).hexdigest() == SCHEMA_SHA256


def test_failing_report_is_valid_sarif(validator):
    log = rendered(failing(), workflow_location=Where(".github/workflows/build.yml", 12, "ubuntu-latest"))
    validator.validate(log)
    assert log["version"] == "2.1.0"
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "lambda-glibc-gate" and driver["version"] and driver["informationUri"]


def test_one_rule_per_rule_id_used_with_help(validator):
    rep = failing()
    rep.artifacts[0].findings.append(finding("glibc-too-new", "error", member="lib/other.so"))
    run = rendered(rep)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    used = list(dict.fromkeys(f.rule for f in rep.all_findings()))
    assert sorted(r["id"] for r in rules) == sorted(used)
    for rule in rules:
        known = RULES[rule["id"]]
        assert rule["shortDescription"]["text"] == known.title
        assert rule["help"]["text"] == known.help and known.title in rule["help"]["markdown"]
        assert rule["fullDescription"]["text"] and rule["name"].isidentifier()
        assert rule["defaultConfiguration"]["level"] == known.severity
        assert rule["properties"]["tags"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_levels_follow_severities():
    rep = failing()
    results = rendered(rep)["runs"][0]["results"]
    by_rule = {r["ruleId"]: r["level"] for r in results}
    for f in rep.all_findings():
        assert by_rule[f.rule] == f.severity
    levels = [r["level"] for r in results]
    assert levels == sorted(levels, key=["error", "warning", "note"].index)


def test_zip_member_is_named_in_message_and_logical_location():
    results = rendered(failing())["runs"][0]["results"]
    libfoo = next(r for r in results if r["ruleId"] == "libstdcxx-too-new")
    location = libfoo["locations"][0]
    artifact = location["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": "target/lambda/api/bootstrap.zip", "uriBaseId": "%SRCROOT%"}
    assert location["physicalLocation"]["region"]["startLine"] == 1
    assert location["logicalLocations"][0]["name"] == "lib/libfoo.so"
    assert "lib/libfoo.so" in libfoo["message"]["text"]
    package = next(r for r in results if r["ruleId"] == "package-too-large")
    assert "logicalLocations" not in package["locations"][0]


def test_symbols_and_fix_reach_the_message_and_properties():
    result = rendered(failing())["runs"][0]["results"][0]
    assert result["ruleId"] == "glibc-too-new"
    assert "__isoc23_strtol@GLIBC_2.38" in result["message"]["text"]
    assert "Build against glibc 2.34" in result["message"]["text"]
    assert result["properties"]["required"] == "2.38" and result["properties"]["available"] == "2.34"
    assert result["properties"]["fixes"][0]["language"] == "shell"


def test_directory_member_is_a_real_file_uri(validator):
    log = rendered(
        report(finding("glibc-too-new", "error", member="bin/my tool"), path="./build/fn/", kind="directory")
    )
    validator.validate(log)
    location = log["runs"][0]["results"][0]["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "build/fn/bin/my%20tool"
    assert "logicalLocations" not in location


def test_absolute_paths_are_made_relative_to_the_repository(tmp_path, validator):
    inside = os.path.join(str(tmp_path), "target", "fn.zip")
    log = rendered(report(finding("glibc-too-new", "error"), path=inside), base_dir=str(tmp_path))
    validator.validate(log)
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri == {"uri": "target/fn.zip", "uriBaseId": "%SRCROOT%"}
    outside = rendered(report(finding("glibc-too-new", "error"), path="/elsewhere/fn.zip"), base_dir=str(tmp_path))
    validator.validate(outside)
    uri = outside["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri == {"uri": "file:///elsewhere/fn.zip"}


def test_fingerprints_are_stable_and_distinct():
    def prints(rep: Report) -> list[str]:
        return [r["partialFingerprints"]["lambdaGlibcGate/v1"] for r in rendered(rep)["runs"][0]["results"]]

    first, second = prints(failing()), prints(failing())
    assert first == second and len(set(first)) == len(first)
    moved = prints(report(finding("glibc-too-new", "error"), path="other.zip"))
    assert moved[0] != first[0]
    twice = prints(report(finding("missing-library", "error"), finding("missing-library", "error")))
    assert len(set(twice)) == 2


def test_report_wide_notice_sits_on_the_first_artifact(validator):
    rep = failing()
    rep.notices.append(Finding("deprecated-runtime", "warning", "provided.al2 is deprecated"))
    log = rendered(rep)
    validator.validate(log)
    notice = next(r for r in log["runs"][0]["results"] if r["ruleId"] == "deprecated-runtime")
    assert notice["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == rep.artifacts[0].path


def test_runs_on_line_is_a_related_location_of_build_host_findings():
    log = rendered(failing(), workflow_location=Where(".github/workflows/build.yml", 12, "ubuntu-latest"))
    results = log["runs"][0]["results"]
    glibc = next(r for r in results if r["ruleId"] == "glibc-too-new")
    related = glibc["relatedLocations"][0]["physicalLocation"]
    assert related["artifactLocation"]["uri"] == ".github/workflows/build.yml"
    assert related["region"]["startLine"] == 12
    assert "relatedLocations" not in next(r for r in results if r["ruleId"] == "package-too-large")


def test_passing_report_has_no_results(validator):
    log = rendered(report())
    validator.validate(log)
    assert log["runs"][0]["results"] == [] and log["runs"][0]["tool"]["driver"]["rules"] == []


def test_unknown_rule_id_still_gets_a_rule(validator):
    log = rendered(report(finding("brand-new-check", "warning")))
    validator.validate(log)
    assert log["runs"][0]["tool"]["driver"]["rules"][0]["id"] == "brand-new-check"


def test_result_cap_keeps_the_worst_and_says_so(monkeypatch, validator):
    monkeypatch.setattr(sarif, "MAX_RESULTS", 3)
    notes = [finding("static-binary", "note", member=f"n{i}") for i in range(5)]
    errors = [finding("glibc-too-new", "error", member=f"e{i}") for i in range(2)]
    log = rendered(report(*notes, *errors))
    validator.validate(log)
    run = log["runs"][0]
    assert [r["level"] for r in run["results"]] == ["error", "error", "note"]
    notification = run["invocations"][0]["toolExecutionNotifications"][0]
    assert notification["message"]["text"].startswith("4 findings left out")


@settings(max_examples=100, deadline=None)
@given(member=st.text(min_size=1, max_size=40), path=st.text(min_size=1, max_size=30))
def test_any_names_give_valid_utf8_sarif(member, path):
    text = sarif.render(report(finding("glibc-too-new", "error", member=member), path=path))
    text.encode("utf-8")  # lone surrogates (undecodable zip names) are replaced
    log = json.loads(text)
    schema_validator().validate(log)
    assert log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]


def real_package(tmp_path: Path) -> Path:
    """A zip of real ELF files: the committed fixtures, or this machine's own Python binaries."""
    fixtures = Path(__file__).parent / "fixtures" / "elf"
    elves = sorted(p for p in fixtures.glob("*") if p.is_file() and p.read_bytes()[:4] == b"\x7fELF")
    if not elves:
        elves = [Path(os.path.realpath(sys.executable)), Path(_ctypes.__file__)]
    package = tmp_path / "function.zip"
    with zipfile.ZipFile(package, "w") as archive:
        for index, elf in enumerate(elves):
            info = zipfile.ZipInfo("bootstrap" if index == 0 else f"lib/{elf.name}")
            info.external_attr = 0o100755 << 16
            archive.writestr(info, elf.read_bytes())
    return package


def test_real_scan_output_is_valid(tmp_path, validator):
    """A real zip through scan(): every rule id it produces is catalogued and the log validates."""
    package = real_package(tmp_path)
    arch = "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"
    rep = scan([str(package)], ScanOptions(runtime="provided.al2", architecture=arch))
    assert rep.artifacts[0].binaries  # the ELF files were read
    log = rendered(rep, base_dir=str(tmp_path))
    validator.validate(log)
    results = log["runs"][0]["results"]
    assert len(results) == len(rep.all_findings())
    for f in rep.all_findings():
        assert f.rule in RULES, f"rule {f.rule} is missing from rules.RULES"
    for result in results:
        location = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert location == {"uri": "function.zip", "uriBaseId": "%SRCROOT%"}


def test_a_result_is_anchored_on_the_template_line_of_its_function(tmp_path, validator):
    # GIVEN a SAM project: template.yaml in the repository, the built folder under .aws-sam/build
    (tmp_path / "template.yaml").write_text("Resources:\n  Api:\n    Type: AWS::Serverless::Function\n")
    rep = report(finding("glibc-too-new", "error"), path=".aws-sam/build/Api", kind="directory")
    rep.artifacts[0].template = ".aws-sam/build/template.yaml"
    rep.artifacts[0].function = "Api"
    (tmp_path / ".aws-sam" / "build").mkdir(parents=True)
    (tmp_path / ".aws-sam" / "build" / "template.yaml").write_text("Resources:\n  Api:\n")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        log = rendered(rep)
    finally:
        os.chdir(cwd)
    validator.validate(log)
    (result,) = log["runs"][0]["results"]
    physical = result["locations"][0]["physicalLocation"]
    # THEN the alert sits on the project's own template (committed), at the function, not on build output
    assert physical["artifactLocation"]["uri"] == "template.yaml" and physical["region"]["startLine"] == 2


def test_a_zip_finding_without_a_template_sits_on_the_build_jobs_runs_on_line(tmp_path):
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "build.yml").write_text("jobs:\n  build:\n    runs-on: ubuntu-latest\n")
    where = Where(".github/workflows/build.yml", 3, "ubuntu-latest")
    log = rendered(failing(), workflow_location=where, base_dir=str(tmp_path))
    physical = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == ".github/workflows/build.yml"
    assert physical["region"]["startLine"] == 3
    # the member stays named as a logical location
    assert log["runs"][0]["results"][0]["locations"][0]["logicalLocations"][0]["name"] == "bootstrap"


def test_each_runtime_and_architecture_is_its_own_category():
    x86 = rendered(failing())["runs"][0]["automationDetails"]["id"]
    arm = failing()
    arm.artifacts[0].architecture = "arm64"
    assert x86 == "lambda-glibc-gate/provided.al2023-x86_64/"
    assert rendered(arm)["runs"][0]["automationDetails"]["id"] == "lambda-glibc-gate/provided.al2023-arm64/"
