"""Accepted findings: ignore entries `RULE[:PATH-GLOB]`, applied to a finished Report.

A team may know a finding is fine (a library that an ARN-only layer provides, a prebuilt file
nothing loads). An ignore entry marks the matching findings `suppressed` with a reason: they stay
in every report, shown as suppressed, but never count toward the verdict, the counts or the
Action's `findings` output. An entry that matches nothing is reported as stale.

This runs after scan() has built the Report (cli.py and action.py call `apply`), so the checks
never know about it.

PATH-GLOB is matched, whole, against the finding's member (its path inside the artifact), the
artifact's path, and `artifact-path/member`, with `/` as the separator (backslashes in paths
count as `/`, a leading `./` is dropped):
- `*` matches any run of characters except `/`, `?` one character except `/`,
  `[abc]` / `[!abc]` one character of (not of) a set;
- `**` matches anything, `/` included; `**/` matches zero or more whole folders, so
  `**/libfoo.so*` matches `libfoo.so.1` and `lib/x86_64/libfoo.so.1`;
- a glob without `/` also matches the last path component alone (as in .gitignore), so
  `libfoo.so*` matches `lib/libfoo.so.1` too;
- matching is case-sensitive. Without a glob the entry matches every finding of the rule,
  report-wide ones included (those have no path, so a glob never matches them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

from lambda_glibc_gate.errors import GateError
from lambda_glibc_gate.report import Finding, Report, severity_rank


class IgnoreError(GateError, ValueError):
    """An ignore entry that cannot be used; the message is one line (exit 2 / could not run)."""


@dataclass(frozen=True)
class IgnoreEntry:
    rule: str
    glob: str | None
    reason: str  # why the finding is acceptable, or where the entry came from
    source: str  # "pyproject.toml", "--ignore", "input 'ignore'"

    @property
    def spelling(self) -> str:
        return self.rule + (f":{self.glob}" if self.glob else "")

    @cached_property
    def _patterns(self) -> tuple[re.Pattern[str], bool]:
        glob = self.glob or ""
        return re.compile(glob_to_regex(glob), re.S), "/" not in glob

    def matches(self, finding: Finding, artifact_path: str | None) -> bool:
        if finding.rule != self.rule:
            return False
        if not self.glob:
            return True
        pattern, basename_too = self._patterns
        for candidate in _candidates(finding.member, artifact_path):
            if pattern.fullmatch(candidate):
                return True
            if basename_too and pattern.fullmatch(candidate.rsplit("/", 1)[-1]):
                return True
        return False


def _normal(path: str) -> str:
    path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path


def _candidates(member: str | None, artifact_path: str | None) -> list[str]:
    found = []
    if member:
        found.append(_normal(member))
    if artifact_path:
        found.append(_normal(artifact_path))
        if member:
            found.append(_normal(artifact_path).rstrip("/") + "/" + _normal(member))
    return found


def glob_to_regex(glob: str) -> str:
    """The glob grammar of the module docstring as a regular expression (for fullmatch)."""
    out: list[str] = []
    i = 0
    while i < len(glob):
        char = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif char == "*":
            out.append("[^/]*")
            i += 1
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "[" and (end := _class_end(glob, i)) > 0:
            body = glob[i + 1 : end]
            negate = body.startswith("!")
            body = body[1:] if negate else body
            escaped = re.sub(r"([\\^\[\]&~|])", r"\\\1", body)  # literal inside the set
            out.append(f"[^/{escaped}]" if negate else f"[{escaped}]")
            i = end + 1
        else:
            out.append(re.escape(char))
            i += 1
    return "".join(out)


def _class_end(glob: str, start: int) -> int:
    """Index of the `]` closing the class that opens at `start`, or -1 (then `[` is literal)."""
    j = start + 1
    if j < len(glob) and glob[j] == "!":
        j += 1
    if j < len(glob) and glob[j] == "]":
        j += 1  # a leading `]` is a member of the set
    return glob.find("]", j)


def known_rules() -> list[str]:
    from lambda_glibc_gate.rules import RULES

    return sorted(RULES)


def check_rule(rule: str, where: str) -> None:
    valid = known_rules()
    if rule not in valid:
        raise IgnoreError(f"{where}: unknown rule {rule!r}; valid rules: {', '.join(valid)}")


def parse_entry(text: str, source: str, reason: str | None = None) -> IgnoreEntry:
    """`RULE[:PATH-GLOB]` (the --ignore flag and the Action's input)."""
    spelled = text.strip()
    rule, _, glob = spelled.partition(":")
    rule, glob = rule.strip(), glob.strip()
    where = f"{source} {spelled!r}"
    if not rule:
        raise IgnoreError(f"{where}: expected RULE or RULE:PATH-GLOB")
    check_rule(rule, where)
    return IgnoreEntry(rule, glob or None, reason or f"{source} {rule + (':' + glob if glob else '')}", source)


def parse_lines(lines: Iterable[str], source: str) -> list[IgnoreEntry]:
    """One entry per line; blank lines and `#` comment lines are skipped."""
    return [parse_entry(line, source) for line in lines if line.strip() and not line.strip().startswith("#")]


def apply(report: Report, entries: Sequence[IgnoreEntry]) -> Report:
    """Mark the findings the entries match as suppressed, record each entry (stale when it
    matched nothing) in `report.ignores`, and re-judge the binaries a suppression touched."""
    if not entries:
        return report
    matched = [0] * len(entries)

    def judge(finding: Finding, artifact_path: str | None) -> bool:
        for index, entry in enumerate(entries):
            if entry.matches(finding, artifact_path):
                matched[index] += 1
                if not finding.suppressed:  # the first matching entry gives the reason
                    finding.suppressed = True
                    finding.suppression_reason = entry.reason
        return finding.suppressed

    for notice in report.notices:
        judge(notice, None)
    for artifact in report.artifacts:
        touched = {f.member for f in artifact.findings if judge(f, artifact.path)}
        for binary in artifact.binaries:
            if binary.member in touched:
                binary.result = _result(f for f in artifact.findings if f.member == binary.member)
    report.ignores = [
        {
            "rule": entry.rule,
            "path": entry.glob,
            "reason": entry.reason,
            "source": entry.source,
            "matched": count,
            "stale": count == 0,
        }
        for entry, count in zip(entries, matched, strict=True)
    ]
    return report


def _result(findings: Iterable[Finding]) -> str:
    """pass | warning | fail from the findings that still count (as checks judges a binary)."""
    worst = max((severity_rank(f.severity) for f in findings if not f.suppressed), default=0)
    return {2: "fail", 1: "warning"}.get(worst, "pass")


def stale_message(entry: dict) -> str:
    """One line for a stale entry, the same in every report."""
    spelled = entry["rule"] + (f":{entry['path']}" if entry.get("path") else "")
    return f"ignore entry {spelled} (from {entry['source']}) matched no finding; remove it if it is no longer needed"
