"""`--format github`: the Action's annotations as workflow commands, for a CLI in a `run:` step
(runners without Docker: macOS, Windows, ubuntu-slim).

The plan is the Action's own (render/annotations.py); the command syntax and escaping are
@actions/core's (toolkit/packages/core/src/command.ts: escapeData, escapeProperty), which gha.py
reproduces with actions-toolkit for the Action; the CLI does not depend on that package, so the
two short functions are here, and a test checks they agree with gha.py on the golden strings.
Every message is escaped (no newline can start a command of its own) and `##[` is defused.
"""

from __future__ import annotations

from lambda_glibc_gate.inert import defuse_legacy
from lambda_glibc_gate.render.annotations import TITLE, WorkflowLine, plan_annotations
from lambda_glibc_gate.report import Report


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, properties: dict[str, str | int], message: str) -> str:
    shown = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items() if value)
    return f"::{name}{' ' + shown if shown else ''}::{escape_data(message)}"


def render(report: Report, workflow_location: WorkflowLine | None = None) -> str:
    """One workflow command per annotation, then the verdict as a notice or an error."""
    lines = []
    for annotation in plan_annotations(report, workflow_location):
        properties: dict[str, str | int] = {"title": annotation.title}
        if annotation.placed and workflow_location is not None:
            properties.update(file=workflow_location.path, line=workflow_location.line)
        lines.append(command(annotation.kind, properties, annotation.message))
    errors, warnings = report.count("error"), report.count("warning")
    verdict = (
        f"{report.verdict.upper()}: {errors} error(s), {warnings} warning(s) in {len(report.artifacts)} artifact(s)"
    )
    lines.append(command("error" if report.verdict == "fail" else "notice", {"title": TITLE}, verdict))
    return "\n".join(defuse_legacy(line) for line in lines) + "\n"
