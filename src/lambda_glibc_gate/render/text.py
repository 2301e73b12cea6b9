"""The terminal report: a few lines per problem, one summary line at the end."""

from __future__ import annotations

from lambda_glibc_gate import text as untrusted
from lambda_glibc_gate.report import Finding, Report
from lambda_glibc_gate.suppress import stale_message

_COLOURS = {"error": "\033[31m", "warning": "\033[33m", "note": "\033[36m", "pass": "\033[32m"}
_RESET = "\033[0m"
_LABEL = {"error": "error", "warning": "warning", "note": "note"}


def render(report: Report, colour: bool = False, show_notes: bool = False) -> str:
    def paint(text: str, key: str) -> str:
        return f"{_COLOURS[key]}{text}{_RESET}" if colour else text

    lines: list[str] = []
    printed_fixes: set = set()
    for notice in report.notices:
        if not notice.suppressed:
            lines.append(paint(f"hint: {_printable(notice.message)}", "note"))
    for artifact in report.artifacts:
        function = f" (function {_printable(artifact.function)})" if artifact.function else ""
        glibc = artifact.glibc
        lines.append(
            f"{_printable(artifact.path)}{function}: {artifact.runtime} {artifact.architecture}"
            f"{f', glibc {glibc}' if glibc else ''} — {len(artifact.binaries)} ELF file(s)"
        )
        shown = [f for f in artifact.findings if (show_notes or f.severity != "note") and not f.suppressed]
        for finding in shown:
            repeated = bool(finding.fixes) and finding.fixes in printed_fixes
            printed_fixes.add(finding.fixes)
            lines.extend(_finding_lines(finding, paint, repeated))
        if not shown:
            lines.append("  " + paint("ok", "pass") + _static_summary(artifact))
        # Accepted findings stay visible, with the reason, but without fixes.
        for finding in artifact.findings:
            if finding.suppressed and (show_notes or finding.severity != "note"):
                lines.append(_suppressed_line(finding))
    for notice in report.notices:
        if notice.suppressed and notice.severity != "note":
            lines.append(_suppressed_line(notice))
    for entry in report.stale_ignores:
        lines.append(paint(f"warning: {_printable(stale_message(entry))}", "warning"))
    errors, warnings = report.count("error"), report.count("warning")
    verdict = report.verdict
    summary = (
        f"{verdict.upper()}: {errors} error(s), {warnings} warning(s) in "
        f"{len(report.artifacts)} artifact(s), {sum(len(a.binaries) for a in report.artifacts)} ELF file(s)"
    )
    if report.suppressed_count:
        summary += f"; {report.suppressed_count} suppressed"
    if report.max_glibc:
        summary += f"; highest glibc needed: {report.max_glibc}"
    lines.append(paint(summary, "error" if verdict == "fail" else "pass"))
    return "\n".join(lines) + "\n"


def _finding_lines(finding: Finding, paint, repeated: bool = False) -> list[str]:
    message = _printable(finding.message)
    lines = [f"  {paint(_LABEL[finding.severity], finding.severity)} [{finding.rule}] {message}"]
    if repeated:
        lines.append("    fix: as above")
    else:
        # Every fix whole: a multi-line command cut short cannot be pasted. Alternatives are
        # titled "Or ..." in advice; the "or:" label already says it.
        for index, fix in enumerate(finding.fixes):
            title = fix.title if index == 0 else _without_or(fix.title)
            lines.append(f"    {'fix:' if index == 0 else 'or: '} {_printable(title)}:")
            lines.extend(f"      {_printable(line)}" for line in fix.code.splitlines())
    return lines


def _without_or(title: str) -> str:
    return title[3:4].upper() + title[4:] if title.startswith("Or ") else title


def _suppressed_line(finding: Finding) -> str:
    reason = _printable(finding.suppression_reason or "")
    return f"  suppressed {finding.severity} [{finding.rule}] {_printable(finding.message)} (accepted: {reason})"


def _printable(text: str) -> str:
    """Messages quote untrusted strings (member names, PT_INTERP, sonames, symbols): no
    control character (an ANSI escape, a carriage return) may reach the terminal."""
    return untrusted.escape(text)


def _static_summary(artifact) -> str:
    static = sum(1 for b in artifact.binaries if b.static)
    return f" ({static} statically linked)" if static else ""
