"""SARIF 2.1.0 for GitHub code scanning (github/codeql-action/upload-sarif).

One rule per rule id used, one result per finding. A result points at the artifact path
relative to the repository (`%SRCROOT%`); a finding on a member of a zip names the member
in its message and in a logical location, since a zip member has no URI of its own.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from lambda_glibc_gate import __version__
from lambda_glibc_gate.render.markdown import BUILD_HOST_RULES, WorkflowLine
from lambda_glibc_gate.report import ArtifactReport, Finding, Report, severity_rank
from lambda_glibc_gate.rules import PROJECT_URL, rule_for
from lambda_glibc_gate.suppress import stale_message
from lambda_glibc_gate.text import block, escape

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
MAX_RESULTS = 25_000  # GitHub rejects a run with more results
FINGERPRINT_KEY = "lambdaGlibcGate/v1"
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _scrub(value: Any) -> Any:
    """Every string in the log (properties too: fixes, details) with its control, bidi and
    separator characters escaped (text.block keeps a fix's newlines), so the JSON encodes as
    UTF-8 and no viewer reorders or executes what it shows."""
    if isinstance(value, str):
        return block(value)
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(v) for v in value]
    return value


def _rule_name(rule_id: str) -> str:
    """glibc-too-new -> GlibcTooNew (SARIF's reportingDescriptor.name is an identifier)."""
    return "".join(part.capitalize() for part in rule_id.split("-") if part) or "Rule"


def _rule_descriptor(rule_id: str) -> dict[str, Any]:
    rule = rule_for(rule_id)
    help_text = rule.help or rule.title
    first_sentence = help_text.split(". ")[0].rstrip(".") + "."
    return {
        "id": rule_id,
        "name": _rule_name(rule_id),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": first_sentence},
        "help": {
            "text": help_text,
            "markdown": f"**{rule.title}**\n\n{help_text}",
        },
        "helpUri": f"{PROJECT_URL}#rules",
        "defaultConfiguration": {"level": rule.severity},
        "properties": {"tags": ["aws-lambda", "glibc", "portability"], "precision": "very-high"},
    }


def _clean(text: str) -> str:
    """No control, bidi or separator characters, no lone surrogates (undecodable zip names)."""
    return escape(text)


def repo_relative(path: str, base_dir: str | None = None) -> str | None:
    """The artifact path relative to the repository root in URI form, or None when outside it."""
    path = path.replace("\\", "/")
    if os.path.isabs(path):
        base = os.path.abspath(base_dir or os.getcwd())
        try:
            rel = os.path.relpath(path, base)
        except ValueError:  # another drive (Windows)
            return None
        if rel == os.pardir or rel.startswith(os.pardir + os.sep):
            return None
        path = rel.replace(os.sep, "/")
    parts = [p for p in PurePosixPath(path).parts if p not in (".", "")]
    if not parts or ".." in parts:
        return None
    return quote("/".join(parts), safe="/")


def _location(artifact: ArtifactReport, member: str | None, base_dir: str | None) -> dict[str, Any]:
    """The physical location, plus a logical one naming a zip member."""
    target = artifact.path
    if member and artifact.kind == "directory":  # a real file in the work tree
        target = f"{artifact.path.rstrip('/')}/{member}"
        member = None
    rel = repo_relative(target, base_dir)
    if rel is not None:
        artifact_location: dict[str, Any] = {"uri": rel, "uriBaseId": "%SRCROOT%"}
    else:  # outside the repository: an absolute file URI still says which file
        absolute = os.path.abspath(target).replace("\\", "/")
        artifact_location = {"uri": "file://" + quote(_SURROGATE.sub("\ufffd", absolute), safe="/")}
    location: dict[str, Any] = {
        # Binaries have no lines; GitHub shows an alert only with a startLine.
        "physicalLocation": {"artifactLocation": artifact_location, "region": {"startLine": 1}},
    }
    if member:
        location["logicalLocations"] = [
            {
                "name": _clean(member),
                "fullyQualifiedName": _clean(f"{artifact.path}/{member}"),
                "kind": "module",
            }
        ]
    return location


def _category(report: Report) -> str:
    runtime = str((report.runtime or {}).get("id") or "auto")
    architectures = sorted({a.architecture for a in report.artifacts}) or [str(report.runtime.get("architecture", ""))]
    return re.sub(r"[^A-Za-z0-9._-]", "_", f"{runtime}-{'+'.join(a for a in architectures if a) or 'x86_64'}")


def _anchor(
    artifact: ArtifactReport | None,
    finding: Finding,
    workflow_location: WorkflowLine | None,
    base_dir: str | None,
) -> dict[str, Any] | None:
    place = anchor(artifact, finding, workflow_location, base_dir)
    if place is None:
        return None
    uri = repo_relative(place[0], base_dir)
    return {"artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"}, "region": {"startLine": max(1, place[1])}}


def anchor(
    artifact: ArtifactReport | None,
    finding: Finding,
    workflow_location: WorkflowLine | None,
    base_dir: str | None,
) -> tuple[str, int] | None:
    """(path, line) in a repository file for a finding inside a built artifact: the template line
    of its function, the `runs-on:` of the job that built it (build-host findings), or the Cargo
    project of a cargo-lambda output; None keeps the artifact itself."""
    if artifact is None:
        return None
    candidates: list[tuple[str, int]] = []
    if artifact.template:
        candidates.append(_source_template(artifact.template, artifact.function, artifact.template_line))
    if finding.rule in BUILD_HOST_RULES and workflow_location is not None:
        candidates.append((str(workflow_location.path), int(workflow_location.line)))
    cargo = re.match(r"^(.*?)(?:^|/)target/lambda/", artifact.path.replace("\\", "/"))
    if cargo is not None:
        candidates.append((os.path.join(cargo.group(1), "Cargo.toml"), 1))
    root = base_dir or os.getcwd()
    for path, line in candidates:
        if repo_relative(path, base_dir) is not None and os.path.isfile(os.path.join(root, path)):
            return path, line
    return None


def _source_template(template: str, function: str | None, line: int | None) -> tuple[str, int]:
    """`sam build` output is not committed: point at the project's own template instead, at the
    function's logical id (the line of `  Name:`), when it is there."""
    parts = template.replace("\\", "/").split("/")
    if len(parts) >= 3 and parts[-3:-1] == [".aws-sam", "build"]:
        project = "/".join(parts[:-3])
        for name in ("template.yaml", "template.yml"):
            source = os.path.join(project, name) if project else name
            found = _line_of_key(source, function) if os.path.isfile(source) else None
            if found is not None:
                return source, found
    return template, line or 1


def _line_of_key(path: str, key: str | None) -> int | None:
    if not key:
        return 1
    pattern = re.compile(rf"^\s+['\"]?{re.escape(key)}['\"]?\s*:")
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for number, text in enumerate(handle, 1):
                if number > 100_000:
                    break
                if pattern.match(text):
                    return number
    except OSError:
        return None
    return 1


def _message(artifact: ArtifactReport | None, finding: Finding) -> str:
    text = _clean(finding.message)
    if artifact is not None and finding.member and finding.member not in finding.message:
        text += f" (member {_clean(finding.member)} of {_clean(artifact.path)})"
    if finding.symbols:
        shown = ", ".join(_clean(s) for s in finding.symbols[:10])
        more = len(finding.symbols) - 10
        text += f" Symbols: {shown}" + (f" and {more} more." if more > 0 else ".")
    if finding.fixes:
        text += f" Fix: {_clean(finding.fixes[0].title)}."
    return text


def _fingerprint(rule: str, artifact: ArtifactReport | None, member: str | None, n: int) -> str:
    """Stable across runs for the same rule, artifact and member (n separates repeats)."""
    path = artifact.path.replace("\\", "/") if artifact else ""
    key = "\0".join((rule, path, member or "", str(n)))
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _properties(finding: Finding) -> dict[str, Any]:
    """The finding's details (required, available, symbols, fixes …) as SARIF properties."""
    shown_elsewhere = ("rule", "severity", "member", "message")
    return {key: value for key, value in finding.to_json().items() if key not in shown_elsewhere}


def _related(location: WorkflowLine | None) -> list[dict[str, Any]]:
    if location is None:
        return []
    uri = repo_relative(str(location.path))
    if uri is None:
        return []
    return [
        {
            "id": 1,
            "physicalLocation": {
                "artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": max(1, int(location.line))},
            },
            "message": {"text": "runs-on of the job that built this binary"},
        }
    ]


def render(
    report: Report,
    workflow_location: WorkflowLine | None = None,
    base_dir: str | None = None,
) -> str:
    """The SARIF log as JSON text.

    `base_dir` is the repository root that absolute artifact paths are made relative to
    (default: the working directory). `workflow_location`, when given, is attached to
    build-host findings as a related location (the `runs-on:` line).
    """
    pairs: list[tuple[ArtifactReport | None, Finding]] = [(None, f) for f in report.notices]
    for artifact in report.artifacts:
        pairs.extend((artifact, f) for f in artifact.findings)
    pairs.sort(key=lambda pair: -severity_rank(pair[1].severity))  # the cap keeps the worst
    dropped = max(0, len(pairs) - MAX_RESULTS)
    pairs = pairs[:MAX_RESULTS]

    rule_ids = list(dict.fromkeys(finding.rule for _, finding in pairs))
    rule_index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    first_location = _location(report.artifacts[0], None, base_dir) if report.artifacts else None
    seen: dict[tuple[str, str, str], int] = {}
    results = []
    for artifact, finding in pairs:
        key = (finding.rule, artifact.path if artifact else "", finding.member or "")
        seen[key] = seen.get(key, 0) + 1
        fingerprint = _fingerprint(finding.rule, artifact, finding.member, seen[key] - 1)
        result: dict[str, Any] = {
            "ruleId": finding.rule,
            "ruleIndex": rule_index[finding.rule],
            "level": finding.severity if finding.severity in ("error", "warning") else "note",
            "message": {"text": _message(artifact, finding)},
            # Our own key, and the line hash GitHub would otherwise compute by reading
            # the (binary) artifact: a zip has no lines, the rule+artifact+member does.
            "partialFingerprints": {
                FINGERPRINT_KEY: fingerprint,
                "primaryLocationLineHash": fingerprint,
            },
        }
        # Report-wide notices (e.g. a deprecated runtime) sit on the first artifact.
        location = _location(artifact, finding.member, base_dir) if artifact else first_location
        if location is not None:
            # Code scanning shows only results on files of the repository: a zip member is not
            # one, so the result is anchored on the source that makes the artifact.
            anchor = _anchor(artifact, finding, workflow_location, base_dir)
            if anchor is not None:
                location = {**location, "physicalLocation": anchor}
            result["locations"] = [location]
        if finding.rule in BUILD_HOST_RULES:
            related = _related(workflow_location)
            if related:
                result["relatedLocations"] = related
        properties = _properties(finding)
        if properties:
            result["properties"] = properties
        if finding.suppressed:
            # SARIF's own way to say "accepted": code scanning shows the alert as suppressed.
            result["suppressions"] = [
                {"kind": "external", "status": "accepted", "justification": _clean(finding.suppression_reason or "")}
            ]
        results.append(result)

    invocation: dict[str, Any] = {"executionSuccessful": True}
    notifications = [
        {"level": "warning", "message": {"text": _clean(stale_message(entry))}} for entry in report.stale_ignores
    ]
    if dropped:
        notifications.append(
            {
                "level": "warning",
                "message": {
                    "text": f"{dropped} findings left out: GitHub accepts at most "
                    f"{MAX_RESULTS} results per run; the JSON report has all of them."
                },
            }
        )
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    log = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "lambda-glibc-gate",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": PROJECT_URL,
                        "rules": [_rule_descriptor(rule_id) for rule_id in rule_ids],
                    }
                },
                # One category per runtime and architecture, so that matrix legs uploading to the
                # same commit do not replace each other's alerts (category = id up to its last /).
                "automationDetails": {"id": f"lambda-glibc-gate/{_category(report)}/"},
                "invocations": [invocation],
                "results": results,
                "properties": {
                    "verdict": report.verdict,
                    "failOn": report.fail_on,
                    "runtime": report.runtime,
                },
            }
        ],
    }
    return json.dumps(_scrub(log), indent=2, ensure_ascii=False) + "\n"
