"""The annotations a report makes: one per failing binary (or artifact), within the runner's
per-step limits, red only for what fails the step. The Action emits them through gha.py; the CLI's
`--format github` prints the same plan as workflow commands (render/github.py)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lambda_glibc_gate.report import ArtifactReport, Finding, Report, severity_rank
from lambda_glibc_gate.text import one_line as safe_name

TITLE = "lambda-glibc-gate"
# The runner turns at most 10 errors, 10 warnings and 10 notices per step into annotations; the
# Action keeps one warning for trouble with the summary or the comment.
MAX_ANNOTATIONS = {"error": 10, "warning": 9, "notice": 10}
MAX_MESSAGE = 4000
MAX_SYMBOLS = 8
MAX_FIX_LINES = 12


class WorkflowLine:  # for type hints only: workflow.WorkflowLocation (path, line, value, job)
    path: str
    line: int
    value: str
    job: str


@dataclass(frozen=True)
class Annotation:
    kind: str  # error | warning | notice (annotation_kind)
    title: str
    message: str
    placed: bool  # on the workflow's runs-on line


def _problems(findings: Iterable[Finding]) -> list[Finding]:
    """Errors and warnings that count: accepted (suppressed) findings get no annotation."""
    return [f for f in findings if f.severity in ("error", "warning") and not f.suppressed]


def _subject(artifact: ArtifactReport | None, member: str | None) -> str:
    if artifact is None:
        return "the runtime"
    if member is None:
        return safe_name(artifact.path)
    return f"{safe_name(member)} in {safe_name(artifact.path)}"


def _finding_text(finding: Finding, runtime: str) -> list[str]:
    lines = [f"[{finding.rule}] {safe_name(finding.message, 600)}"]
    if finding.required:
        label = "glibc " if finding.rule == "glibc-too-new" else ""
        has = f"; {runtime} has {label}{safe_name(finding.available)}" if finding.available else ""
        lines.append(f"Requires: {label}{safe_name(finding.required)}{has}")
    if finding.symbols:
        shown = ", ".join(safe_name(symbol, 120) for symbol in finding.symbols[:MAX_SYMBOLS])
        more = len(finding.symbols) - MAX_SYMBOLS
        lines.append(f"Symbols: {shown}" + (f" and {more} more" if more > 0 else ""))
    for fix in finding.fixes[:1]:
        lines.append(f"Fix: {safe_name(fix.title, 300)}")
        code = fix.code.splitlines()
        lines += [f"    {safe_name(line, 300)}" for line in code[:MAX_FIX_LINES]]
        if len(code) > MAX_FIX_LINES:
            lines.append("    …")
    if len(finding.fixes) > 1:
        lines.append(f"({len(finding.fixes) - 1} more fix(es) in the job summary)")
    return lines


def cut_message(message: str, limit: int = MAX_MESSAGE) -> str:
    if len(message) <= limit:
        return message
    note = "\n… (cut here; the job summary has the rest)"
    return message[: limit - len(note)] + note


def plan_annotations(report: Report, location: WorkflowLine | None) -> list[Annotation]:
    """One annotation per failing binary (or artifact), within the runner's per-step limits.

    When there are more than fit, the last one of each kind lists the rest, so nothing is
    silently dropped.
    """
    from lambda_glibc_gate.render.markdown import BUILD_HOST_RULES

    groups: list[tuple[ArtifactReport | None, str | None, list[Finding]]] = []
    if _problems(report.notices):
        groups.append((None, None, _problems(report.notices)))
    for artifact in report.artifacts:
        by_member: dict[str | None, list[Finding]] = {}
        for finding in _problems(artifact.findings):
            by_member.setdefault(finding.member, []).append(finding)
        groups += [(artifact, member, found) for member, found in by_member.items()]

    planned: dict[str, list[Annotation]] = {"error": [], "warning": [], "notice": []}
    for artifact, member, found in groups:
        kind = annotation_kind(found, report.fail_on)
        runtime = artifact.runtime if artifact else str(report.runtime.get("id", ""))
        rules = ", ".join(dict.fromkeys(f.rule for f in found))
        title = f"{TITLE}: {rules}: {_subject(artifact, member)}"
        lines = [f"File: {_subject(artifact, member)}"]
        for finding in sorted(found, key=lambda f: f.severity != "error"):
            lines += _finding_text(finding, runtime)
        placed = location is not None and any(f.rule in BUILD_HOST_RULES for f in found)
        if placed:
            lines.append(f"Built by job '{location.job}' (runs-on: {safe_name(location.value)}); see the fixes above.")
        planned[kind].append(Annotation(kind, title[:250], cut_message("\n".join(lines)), placed))

    result: list[Annotation] = []
    for kind, items in planned.items():
        # A stale-ignore warning (run()) takes one more of the runner's 10 warnings.
        limit = MAX_ANNOTATIONS[kind] - (1 if kind == "warning" and report.stale_ignores else 0)
        if len(items) <= limit:
            result += items
            continue
        kept, rest = items[: limit - 1], items[limit - 1 :]
        names = "\n".join(item.title.removeprefix(f"{TITLE}: ") for item in rest)
        result += kept
        result.append(
            Annotation(
                kind,
                f"{TITLE}: and {len(rest)} more {'failing' if kind == 'error' else 'reported'} "
                "binaries: see the job summary",
                cut_message(f"{len(rest)} more, each in the job summary and the JSON report:\n{names}"),
                any(item.placed for item in rest),
            )
        )
    return result


def annotation_kind(findings: Sequence[Finding], fail_on: str) -> str:
    """Red only for what fails the step: with `fail-on: never` (report only) an error is a
    warning annotation and a warning a notice; with `fail-on: warning` a warning is red too."""
    worst = max(severity_rank(f.severity) for f in findings)
    if fail_on == "never":
        return "warning" if worst >= severity_rank("error") else "notice"
    if worst >= severity_rank(fail_on):
        return "error"
    return "warning"
