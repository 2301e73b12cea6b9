"""`--format gitlab`: GitLab Code Quality JSON (the merge-request widget), one issue per finding.

Fields as GitLab documents them (ci/testing/code_quality "Code Quality report format"):
`description`, `check_name`, `fingerprint`, `severity` (info | minor | major | critical |
blocker) and `location.path` with `location.lines.begin`. The path is a file of the repository:
the source that makes the artifact (the same anchor as SARIF's), else the artifact itself.
"""

from __future__ import annotations

import hashlib
import json

from lambda_glibc_gate.render.annotations import WorkflowLine
from lambda_glibc_gate.render.sarif import anchor, repo_relative
from lambda_glibc_gate.report import Report
from lambda_glibc_gate.text import escape

SEVERITY = {"error": "critical", "warning": "major", "note": "info"}


def render(report: Report, workflow_location: WorkflowLine | None = None, base_dir: str | None = None) -> str:
    issues = []
    seen: dict[str, int] = {}
    for artifact in report.artifacts:
        for finding in artifact.findings:
            if finding.suppressed:
                continue  # accepted: GitLab has no "suppressed" state; the JSON report keeps it
            place = anchor(artifact, finding, workflow_location, base_dir)
            path = place[0] if place else (repo_relative(artifact.path, base_dir) or artifact.path)
            line = place[1] if place else 1
            key = "\0".join((finding.rule, artifact.path, finding.member or ""))
            seen[key] = seen.get(key, 0) + 1
            where = f"{artifact.path}: {finding.member}" if finding.member else artifact.path
            issues.append(
                {
                    "type": "issue",
                    "check_name": finding.rule,
                    "description": escape(f"{where}: {finding.message}")[:2000],
                    "categories": ["Compatibility"],
                    "severity": SEVERITY.get(finding.severity, "info"),
                    "fingerprint": hashlib.sha256(f"{key}\0{seen[key]}".encode("utf-8", "surrogatepass")).hexdigest(),
                    "location": {"path": escape(path), "lines": {"begin": max(1, line)}},
                }
            )
    return json.dumps(issues, indent=2) + "\n"
