"""`--format junit`: JUnit XML (Jenkins, CircleCI, Azure Pipelines, GitLab test reports).

One testsuite per artifact, one testcase per binary and one for the package as a whole; a
testcase fails with the findings at or above --fail-on, and lists the others in system-out.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from lambda_glibc_gate.report import Finding, Report, severity_rank
from lambda_glibc_gate.text import block, escape

PACKAGE = "(package)"


def _fails(finding: Finding, fail_on: str) -> bool:
    return not finding.suppressed and fail_on != "never" and severity_rank(finding.severity) >= severity_rank(fail_on)


def render(report: Report) -> str:
    suites = ET.Element("testsuites", name="lambda-glibc-gate")
    for artifact in report.artifacts:
        by_member: dict[str, list[Finding]] = {PACKAGE: []}
        for binary in artifact.binaries:
            if binary.result != "not-loaded":
                by_member.setdefault(binary.member, [])
        for finding in artifact.findings:
            by_member.setdefault(finding.member or PACKAGE, []).append(finding)
        suite = ET.SubElement(suites, "testsuite", name=escape(f"{artifact.path} ({artifact.runtime})"))
        failures = 0
        for member, findings in by_member.items():
            case = ET.SubElement(suite, "testcase", classname=escape(artifact.path), name=escape(member))
            failing = [f for f in findings if _fails(f, report.fail_on)]
            if failing:
                failures += 1
                failure = ET.SubElement(
                    case, "failure", message=escape(failing[0].message)[:1000], type=", ".join(f.rule for f in failing)
                )
                failure.text = block("\n\n".join(_detail(f) for f in failing))
            others = [f for f in findings if f not in failing]
            if others:
                ET.SubElement(case, "system-out").text = block(
                    "\n".join(f"[{f.severity}] {f.rule}: {f.message}" for f in others)
                )
        suite.set("tests", str(len(by_member)))
        suite.set("failures", str(failures))
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _detail(finding: Finding) -> str:
    lines = [f"[{finding.rule}] {finding.message}"]
    if finding.symbols:
        lines.append("symbols: " + ", ".join(finding.symbols[:20]))
    lines += [f"fix: {fix.title}\n{fix.code}" for fix in finding.fixes[:2]]
    return "\n".join(lines)
