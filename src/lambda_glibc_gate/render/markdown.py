"""GitHub-flavoured Markdown: the job summary (GITHUB_STEP_SUMMARY) and the sticky PR comment.

Every name and symbol comes from an untrusted archive, so all of it is escaped for the
context it lands in (Markdown text, HTML inside <details>, fenced code), and both
documents are kept under GitHub's size limits: a summary over 1 MiB is dropped whole,
a comment over 65,536 characters is refused.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from lambda_glibc_gate import __version__
from lambda_glibc_gate import text as untrusted
from lambda_glibc_gate.demangle import readable
from lambda_glibc_gate.report import ArtifactReport, Finding, Report, severity_rank
from lambda_glibc_gate.suppress import stale_message

COMMENT_MARKER = "<!-- lambda-glibc-gate -->"
COMMENT_LIMIT = 65_536  # characters; GitHub answers 422 above it
SUMMARY_LIMIT = 1024 * 1024  # bytes; the runner uploads nothing above it

# Rules whose fix is usually "build somewhere else": only these point at the runs-on line.
BUILD_HOST_RULES = frozenset({"glibc-too-new", "libstdcxx-too-new", "glibc-private", "arch-mismatch"})

MAX_NAME = 200  # characters of a member / artifact name shown
MAX_SYMBOLS = 30  # symbols listed per finding
MAX_CODE = 4000  # characters of one fix's code block
CODE_LANGUAGES = frozenset({"shell", "yaml", "toml", "text"})
PASSING_TABLE_ROWS = 50  # a passing run shows its table only when it is this small

ICONS = {"error": "❌", "warning": "⚠️", "note": "ℹ️", "pass": "✅"}
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]|~#!(){}])")
_ZERO_WIDTH_SPACE = "&#8203;"


class WorkflowLine(Protocol):
    """The `runs-on:` line of the job that built the binaries (workflow.WorkflowLocation)."""

    @property
    def path(self) -> str: ...

    @property
    def line(self) -> int: ...

    @property
    def value(self) -> str: ...


# --- escaping -------------------------------------------------------------------------------


def _visible(text: str, limit: int = MAX_NAME) -> str:
    """One line: non-printable characters (controls, bidi, separators) as escapes (text.escape),
    long text cut with an ellipsis."""
    text = untrusted.escape(str(text))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _defuse(text: str) -> str:
    """Stop GitHub from turning untrusted text into @mentions or links (after HTML escaping)."""
    text = text.replace("@", "@" + _ZERO_WIDTH_SPACE)
    text = text.replace("://", ":" + _ZERO_WIDTH_SPACE + "//")
    # GFM autolinks `www.` after `_`, `*`, `~`, `(` too (even an escaped `\_`): break every one.
    return re.sub(r"(?i)www\.", lambda m: m.group()[:3] + _ZERO_WIDTH_SPACE + ".", text)


def md_text(text: str, limit: int = MAX_NAME) -> str:
    """Untrusted text for a Markdown context (a paragraph or a table cell)."""
    text = _MARKDOWN_PUNCTUATION.sub(r"\\\1", _visible(text, limit))
    return _defuse(html.escape(text, quote=False))


def html_text(text: str, limit: int = MAX_NAME) -> str:
    """Untrusted text inside raw HTML (a <summary>), where Markdown is not parsed."""
    return _defuse(html.escape(_visible(text, limit), quote=True))


def md_message(text: str, limit: int = 1000) -> str:
    """A finding message: its `code spans` kept as <code>, every part escaped."""
    parts = re.split(r"`([^`]*)`", _visible(text, limit))
    return "".join(md_code(part, limit) if odd else md_text(part, limit) for odd, part in _alternate(parts))


def _alternate(parts: list[str]):
    return ((index % 2 == 1, part) for index, part in enumerate(parts) if part)


def md_code(text: str, limit: int = MAX_NAME) -> str:
    """Untrusted text shown as inline code in a Markdown context."""
    return f"<code>{md_text(text, limit)}</code>"


def fenced(code: str, language: str = "text", limit: int = MAX_CODE) -> str:
    """A fenced block that no backtick run inside the code can close."""
    code = untrusted.block(code)  # escapes every control, bidi and separator character but newlines and tabs
    if len(code) > limit:
        code = code[:limit] + "\n… (cut; the JSON report has the full text)"
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    fence = "`" * max(3, longest + 1)
    language = language if language in CODE_LANGUAGES else "text"
    return f"{fence}{language}\n{code.rstrip()}\n{fence}"


# --- facts pulled out of the report ---------------------------------------------------------


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {plural or word + 's'}"


def _counts(report: Report) -> str:
    parts = [_plural(report.count(s), s) for s in ("error", "warning") if report.count(s)]
    return ", ".join(parts) if parts else "no problems"


def _artifact_glibc(report: Report, artifact: ArtifactReport) -> str | None:
    """The glibc of the runtime this artifact was judged against, when the report says."""
    runtime = report.runtime or {}
    if runtime.get("glibc") and runtime.get("id") in (artifact.runtime, None):
        return str(runtime["glibc"])
    for finding in artifact.findings:
        if finding.rule == "glibc-too-new" and finding.available:
            return finding.available
    return None


def _runtime_phrase(report: Report) -> str:
    """`provided.al2023` (glibc 2.34); with several runtimes (runtime: auto), how many: each row
    names its own, so one heading never mixes them."""
    seen: dict[str, str | None] = {}
    runtime = report.runtime or {}
    if runtime.get("id") and runtime.get("id") != "auto":
        seen[str(runtime["id"])] = runtime.get("glibc")
    else:
        for artifact in report.artifacts:
            if artifact.runtime != "unknown":
                seen.setdefault(artifact.runtime, artifact.glibc or _artifact_glibc(report, artifact))
    if not seen:
        return "the chosen runtime"
    if len(seen) > 1:
        return f"{len(seen)} runtimes"
    ((rid, glibc),) = seen.items()
    return f"{md_code(rid)} (glibc {md_text(glibc)})" if glibc else md_code(rid)


def _is_problem(finding: Finding) -> bool:
    return finding.severity in ("error", "warning") and not finding.suppressed


def _problems(report: Report) -> list[tuple[ArtifactReport | None, Finding]]:
    """Error and warning findings, errors first, each with its artifact (None: report-wide)."""
    found: list[tuple[ArtifactReport | None, Finding]] = [(None, f) for f in report.notices if _is_problem(f)]
    for artifact in report.artifacts:
        found.extend((artifact, f) for f in artifact.findings if _is_problem(f))
    return sorted(found, key=lambda pair: -severity_rank(pair[1].severity))


def _fails(finding: Finding, fail_on: str) -> bool:
    """Does this finding fail the step (fail-on)?"""
    return fail_on != "never" and severity_rank(finding.severity) >= severity_rank(fail_on)


def _icon(finding: Finding, fail_on: str) -> str:
    """Red only for what fails the step: report-only runs show errors as warnings."""
    if _fails(finding, fail_on):
        return ICONS["error"]
    return ICONS["warning"] if finding.severity in ("error", "warning") else ICONS["note"]


def shorten_middle(text: str, limit: int) -> str:
    """A long path cut in its middle, so that the file name (its end) stays readable."""
    text = _visible(text, 10_000)
    if len(text) <= limit:
        return text
    tail = (limit - 1) * 2 // 3
    return text[: limit - 1 - tail] + "…" + text[len(text) - tail :]


@dataclass
class _Group:
    """Findings with one cause: same rule, package or library, required and available version,
    runtime. A 600-file failure of one wheel is one group, one row."""

    rule: str
    cause: str
    required: str | None
    available: str | None
    runtime: str
    items: list[tuple[ArtifactReport | None, Finding]]

    @property
    def first(self) -> tuple[ArtifactReport | None, Finding]:
        return self.items[0]

    def fails(self, fail_on: str) -> bool:
        return any(_fails(f, fail_on) for _, f in self.items)

    def rank(self, fail_on: str) -> tuple:
        worst = max(severity_rank(f.severity) for _, f in self.items)
        return (not self.fails(fail_on), -worst, -len(self.items), self.rule, self.cause)


def _runtime_label(artifact: ArtifactReport | None) -> str:
    if artifact is None:
        return ""
    return f"{artifact.runtime} (glibc {artifact.glibc})" if artifact.glibc else artifact.runtime


# Rules about one library, where the library is the cause (glibc's own libc.so.6 never is).
_LIBRARY_RULES = frozenset({"missing-library", "missing-symbol-version"})


def _cause(finding: Finding) -> str:
    details = finding.details or {}
    library = details.get("library") if finding.rule in _LIBRARY_RULES else None
    return str(details.get("package") or library or "")


def _groups(report: Report) -> list[_Group]:
    groups: dict[tuple, _Group] = {}
    for artifact, finding in _problems(report):
        runtime = _runtime_label(artifact)
        key = (finding.rule, finding.severity, _cause(finding), finding.required, finding.available, runtime)
        if key not in groups:
            groups[key] = _Group(finding.rule, _cause(finding), finding.required, finding.available, runtime, [])
        groups[key].items.append((artifact, finding))
    return sorted(groups.values(), key=lambda group: group.rank(report.fail_on))


def _where(artifact: ArtifactReport | None, finding: Finding, limit: int = 90) -> str:
    """`member` in `artifact`, shortened in the middle; the scan itself when neither."""
    if artifact is None:
        return "the scan"
    if finding.member:
        return f"{shorten_middle(finding.member, limit)} in {shorten_middle(artifact.path, 50)}"
    return shorten_middle(artifact.path, limit)


TABLE_HEADER = "| | Problem | Where | Needs | Runtime has |\n| --- | --- | --- | --- | --- |"
CHECKED_HEADER = "| Artifact | Binary | Arch | Needs glibc | Runtime |\n| --- | --- | --- | --- | --- |"


def _group_row(group: _Group, fail_on: str) -> str:
    artifact, finding = group.first
    problem = md_code(group.rule, 40) + (f" {md_text(group.cause, 80)}" if group.cause else "")
    where = md_text(_where(artifact, finding, 70), 200)
    if len(group.items) > 1:
        where = f"{len(group.items)} files, e.g. {where}"
    artifact_runtime = artifact.runtime if artifact is not None else ""
    has = md_text(group.available, 30) if group.available else "—"
    if artifact_runtime:
        runtime = md_text(artifact_runtime, 40)
        has = f"{has} ({runtime})" if group.available else runtime
    cells = (_icon(finding, fail_on), problem, where, md_text(group.required or "—", 40), has)
    return "| " + " | ".join(cells) + " |"


MAX_FILES_LISTED = 50  # files named under one group; the JSON report has all of them


def _group_detail(group: _Group, fail_on: str, code_limit: int) -> str:
    artifact, finding = group.first
    title = f"{_icon(finding, fail_on)} {html_text(group.rule, 40)}"
    if group.cause:
        title += f" {html_text(group.cause, 100)}"
    count = len(group.items)
    title += f": {html_text(_where(artifact, finding, 80), 200)}" if count == 1 else f": {count} files"
    if group.required and group.available:
        title += f" (needs {html_text(group.required, 40)}, runtime has {html_text(group.available, 40)})"
    body = [f"<details><summary>{title}</summary>", "", md_message(finding.message)]
    if count > 1:
        listed = [_where(a, f, 160) for a, f in group.items[:MAX_FILES_LISTED]]
        if count > MAX_FILES_LISTED:
            listed.append(f"… and {count - MAX_FILES_LISTED} more (the JSON report lists all)")
        body += ["", f"The {count} files:", "", fenced("\n".join(listed))]
    if finding.symbols:
        # C++ / Rust names readable first, the mangled name@VERSION kept beside them
        shown = [_visible(readable(s), 400) for s in finding.symbols[:MAX_SYMBOLS]]
        more = len(finding.symbols) - len(shown)
        if more:
            shown.append(f"… and {more} more (the JSON report lists all)")
        body += ["", "Symbols that need it:", "", fenced("\n".join(shown))]
    for fix in finding.fixes:
        body += ["", f"**{md_text(fix.title, 200)}**", "", fenced(fix.code, fix.language, code_limit)]
    body += ["", "</details>"]
    return "\n".join(body)


def _checked_rows(report: Report) -> list[str]:
    """A passing run's table of what was checked (never-loaded alternatives left out)."""
    rows = []
    for artifact in report.artifacts:
        for binary in artifact.binaries:
            if binary.result == "not-loaded":
                continue
            needs = "static" if binary.static else (binary.glibc_required or "—")
            cells = (
                md_code(shorten_middle(artifact.path, 60), 80),
                md_code(shorten_middle(binary.member, 80), 120),
                md_text(binary.machine, 20),
                md_text(needs, 20),
                md_text(_runtime_label(artifact), 60) or "—",
            )
            rows.append("| " + " | ".join(cells) + " |")
    return rows


def _runner_change(groups: list[_Group], fail_on: str) -> str | None:
    """The exact new build-host line the failing groups' fixes give: a runner (runs-on:) when one
    fixes them, else the runtime's OS image (container:); None when no build host helps."""
    lines = [
        fix.code.splitlines()[0].split("#", 1)[0].strip()
        for group in groups
        if group.fails(fail_on)
        for fix in group.first[1].fixes
        if fix.code.startswith(("runs-on:", "container:"))
    ]
    return next((line for line in lines if line.startswith("runs-on:")), lines[0] if lines else None)


def _locator(report: Report, location: WorkflowLine | None, groups: list[_Group]) -> str | None:
    """Name the line to change only when changing the build host fixes it, with the new line."""
    if location is None:
        return None
    change = _runner_change(groups, report.fail_on)
    if change is None:
        return None
    value = _visible(str(location.value), 120).strip()
    if not value.startswith("runs-on"):
        value = f"runs-on: {value}"
    where = f"{md_code(location.path, 150)} line {int(location.line)}"
    container = getattr(location, "container", None)
    if change.startswith("container:"):
        now = f", which builds inside {md_code(str(container), 120)}" if container else ""
        action = f"run the build job in the runtime's own OS: add {md_code(change, 130)} to the job at {where}{now}"
    else:
        action = f"in {where} change {md_code(value, 130)} to {md_code(change, 130)}"
    return (
        f"**Build host:** {action} (or use a glibc target, below). An annotation on that line does not "
        "show in the pull request's diff when the pull request does not touch the workflow file."
    )


# --- assembling within a size budget --------------------------------------------------------


def _utf8_size(text: str) -> int:
    return len(text.encode("utf-8"))


def _take(blocks: Sequence[str], budget: int, measure: Callable[[str], int], sep: int) -> list[str]:
    """The leading blocks (each plus its `sep` separator characters) that fit in budget."""
    kept: list[str] = []
    used = 0
    for block in blocks:
        size = measure(block) + sep
        if used + size > budget:
            break
        kept.append(block)
        used += size
    return kept


def _cut_note(rows_left: int, rows_total: int, details_left: int, details_total: int) -> str:
    parts = []
    if rows_left:
        parts.append(f"{rows_left} of {rows_total} table rows")
    if details_left:
        parts.append(f"{details_left} of {details_total} problem details")
    return (
        f"> **Shortened:** {' and '.join(parts)} were left out to stay under GitHub's size "
        "limit. The JSON report (the Action's `report` output) has everything."
    )


def _assemble(
    head: list[str],
    rows: list[str],
    details: list[str],
    foot: list[str],
    limit: int,
    measure: Callable[[str], int],
    table_header: str = TABLE_HEADER,
) -> str:
    """Head, as many table rows and details as fit, a note on what was left out, foot."""
    fixed = sum(measure(part) + 2 for part in head + foot) + measure(table_header) + 2
    budget = limit - fixed - 400  # 400: room for the "shortened" note
    while True:
        text = _fill(head, rows, details, foot, max(0, budget), measure, table_header)
        if measure(text) <= limit or budget <= 0:
            break
        budget -= measure(text) - limit  # a wide character or a separator miscounted
    return text if measure(text) <= limit else _truncate(text, limit, measure)


def _fill(
    head: list[str],
    rows: list[str],
    details: list[str],
    foot: list[str],
    budget: int,
    measure: Callable[[str], int],
    table_header: str = TABLE_HEADER,
) -> str:
    kept_rows = _take(rows, budget // 2 if details else budget, measure, 1)
    used = sum(measure(r) + 1 for r in kept_rows)
    kept_details = _take(details, budget - used, measure, 2)
    used += sum(measure(d) + 2 for d in kept_details)
    if len(kept_rows) < len(rows):  # details left room over: give it back to the table
        kept_rows += _take(rows[len(kept_rows) :], budget - used, measure, 1)

    parts = list(head)
    if kept_rows:
        parts.append(table_header + "\n" + "\n".join(kept_rows))
    if kept_details:
        parts.append("\n\n".join(kept_details))
    rows_left, details_left = len(rows) - len(kept_rows), len(details) - len(kept_details)
    if rows_left or details_left:
        parts.append(_cut_note(rows_left, len(rows), details_left, len(details)))
    return "\n\n".join(parts + foot) + "\n"


def _truncate(text: str, limit: int, measure: Callable[[str], int]) -> str:
    while text and measure(text) > limit:
        text = text[: max(0, len(text) - max(1, (measure(text) - limit)))]
    return text


MAX_ACCEPTED = 50  # accepted findings listed by name; the JSON report has all of them


def _accepted(report: Report) -> str | None:
    """The suppressed findings with their reasons, and the stale ignore entries."""
    pairs: list[tuple[ArtifactReport | None, Finding]] = [(None, f) for f in report.notices]
    for artifact in report.artifacts:
        pairs.extend((artifact, f) for f in artifact.findings)
    accepted = [(a, f) for a, f in pairs if f.suppressed and f.severity != "note"]
    parts = []
    if accepted:
        items = []
        for artifact, finding in accepted[:MAX_ACCEPTED]:
            where = md_code(artifact.path, 80) if artifact else "the scan"
            if finding.member:
                where = f"{md_code(finding.member, 120)} in {where}"
            reason = md_text(finding.suppression_reason or "", 300)
            items.append(f"- {where}: {md_code(finding.rule, 40)} ({finding.severity}) — {reason}")
        if len(accepted) > MAX_ACCEPTED:
            items.append(f"- … and {len(accepted) - MAX_ACCEPTED} more (the JSON report lists all)")
        parts.append(
            f"<details><summary>{_plural(len(accepted), 'accepted finding')} (ignore entries; "
            "not counted)</summary>\n\n" + "\n".join(items) + "\n\n</details>"
        )
    for entry in report.stale_ignores:
        parts.append(f"{ICONS['warning']} {md_text(stale_message(entry), 400)}")
    return "\n\n".join(parts) or None


def _footer(report: Report) -> str:
    return f"<sub>lambda-glibc-gate {__version__} · fail-on: {html_text(report.fail_on, 10)}</sub>"


def _verdict(report: Report, binaries: int) -> str:
    runtime = _runtime_phrase(report)
    artifacts = _plural(len(report.artifacts), "artifact")
    scope = f"{_plural(binaries, 'binary', 'binaries')} in {artifacts}"
    accepted = f", {_plural(report.suppressed_count, 'accepted finding')}" if report.suppressed_count else ""
    if report.verdict == "fail":
        return f"### {ICONS['error']} lambda-glibc-gate: fails on {runtime}: {_counts(report)} ({scope}{accepted})"
    if _problems(report):
        only = " (report only: fail-on is never)" if report.fail_on == "never" else ""
        return (
            f"### {ICONS['warning']} lambda-glibc-gate: passes on {runtime} with {_counts(report)}{only} "
            f"({scope}{accepted})"
        )
    highest = report.max_glibc
    needs = f"; the highest glibc needed is {md_text(highest)}" if highest else ""
    return f"{ICONS['pass']} lambda-glibc-gate: all {scope} load on {runtime}{needs}{accepted.replace(',', ';', 1)}."


def _binary_count(report: Report) -> int:
    return sum(len(artifact.binaries) for artifact in report.artifacts)


# --- public API -----------------------------------------------------------------------------


def render_summary(report: Report, workflow_location: WorkflowLine | None = None, max_bytes: int = 1_000_000) -> str:
    """The job summary: verdict, one table row per cause (a rule, its package or library, the
    versions), then per cause a collapsed section with its files, symbols and fixes.

    `workflow_location` (the `runs-on:` line of the building job) is named only when changing
    the build host fixes a failure, with the new line. At most `max_bytes` UTF-8 bytes.
    """
    limit = min(max_bytes, SUMMARY_LIMIT)
    verdict = _verdict(report, _binary_count(report))
    accepted = _accepted(report)
    groups = _groups(report)
    if not groups:
        parts = [verdict]
        checked = _checked_rows(report)
        if checked and len(checked) <= PASSING_TABLE_ROWS:
            table = CHECKED_HEADER + "\n" + "\n".join(checked)
            parts.append(f"<details><summary>What was checked</summary>\n\n{table}\n\n</details>")
        if accepted:
            parts.append(accepted)
        text = "\n\n".join(parts) + "\n"
        if _utf8_size(text) <= limit:
            return text
        return _truncate(verdict + "\n", limit, _utf8_size)
    head = [verdict]
    locator = _locator(report, workflow_location, groups)
    if locator:
        head.append(locator)
    rows = [_group_row(group, report.fail_on) for group in groups]
    details = [_group_detail(group, report.fail_on, MAX_CODE) for group in groups]
    foot = [part for part in (_passing(report), accepted) if part]
    return _assemble(head, rows, details, [*foot, _footer(report)], limit, _utf8_size)


MAX_PASSING_LISTED = 50  # artifacts named as passing beside a failure; the JSON report has all


def _passing(report: Report) -> str | None:
    """Beside the failures, the artifacts that pass, collapsed: every artifact is named."""
    passing = [a for a in report.artifacts if not any(_is_problem(f) for f in a.findings)]
    if not passing:
        return None
    items = [
        f"- {md_code(shorten_middle(a.path, 100), 120)} ({md_text(_runtime_label(a), 60)}): "
        f"{_plural(sum(b.result != 'not-loaded' for b in a.binaries), 'binary', 'binaries')}"
        for a in passing[:MAX_PASSING_LISTED]
    ]
    if len(passing) > MAX_PASSING_LISTED:
        items.append(f"- … and {len(passing) - MAX_PASSING_LISTED} more (the JSON report lists all)")
    return (
        f"<details><summary>{ICONS['pass']} {_plural(len(passing), 'artifact')} pass</summary>\n\n"
        + "\n".join(items)
        + "\n\n</details>"
    )


def comment_marker(key: str | None = None) -> str:
    """COMMENT_MARKER, plus a second hidden line naming `key` (one comment per matrix leg)."""
    if not key:
        return COMMENT_MARKER
    safe = re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9._/:@+=-]", "_", key))[:100]
    return f"{COMMENT_MARKER}\n<!-- lambda-glibc-gate key={safe} -->"


def render_comment(
    report: Report,
    workflow_location: WorkflowLine | None = None,
    max_chars: int = 60_000,
    run_url: str | None = None,
    key: str | None = None,
) -> str:
    """The sticky PR comment: starts with COMMENT_MARKER, lists only what fails.

    At most `max_chars` characters (never above GitHub's 65,536); `run_url` links the run
    whose job summary has the full table; `key` keeps one comment per job or matrix leg
    (pass the same key to comment.post_or_update).
    """
    marker = comment_marker(key)
    limit = min(max_chars, COMMENT_LIMIT - 1)
    verdict = _verdict(report, _binary_count(report))
    more = f"Everything in the [job summary]({run_url})." if run_url else None
    problems = _problems(report)
    accepted = _accepted(report)
    if not problems:
        return _truncate(marker + "\n" + verdict + "\n" + (f"\n{accepted}\n" if accepted else ""), limit, len)
    head = [marker + "\n" + verdict]
    groups = _groups(report)
    locator = _locator(report, workflow_location, groups)
    if locator:
        head.append(locator)
    rows = [_group_row(group, report.fail_on) for group in groups]
    details = [_group_detail(group, report.fail_on, 1500) for group in groups]
    foot = [more] if more else []
    if accepted:
        foot.insert(0, accepted)
    return _assemble(head, rows, details, foot + [_footer(report)], limit, len)
