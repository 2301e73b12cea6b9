"""The job summary and PR comment: content, escaping of untrusted names, and GitHub's size limits."""

from __future__ import annotations

import _ctypes
import html
import os
import platform
import re
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from lambda_glibc_gate.render.markdown import (
    COMMENT_LIMIT,
    COMMENT_MARKER,
    PASSING_TABLE_ROWS,
    fenced,
    render_comment,
    render_summary,
)
from lambda_glibc_gate.report import ArtifactReport, BinaryReport, Finding, Fix, Report
from lambda_glibc_gate.scan import ScanOptions, scan

RUNTIME = {"id": "provided.al2023", "glibc": "2.34", "architecture": "x86_64"}


@dataclass(frozen=True)
class Where:
    """Stands in for workflow.WorkflowLocation (any object with path, line, value)."""

    path: str
    line: int
    value: str


def binary(member: str, glibc: str | None = "2.28", result: str = "pass") -> BinaryReport:
    return BinaryReport(
        member=member,
        machine="x86_64",
        elf_class=64,
        interpreter="/lib64/ld-linux-x86-64.so.2",
        static=False,
        needed=("libc.so.6",),
        glibc_required=glibc,
        toolchain="rust",
        result=result,
    )


def too_new(member: str, symbols: tuple[str, ...] = ("__isoc23_strtol@GLIBC_2.38",)) -> Finding:
    return Finding(
        rule="glibc-too-new",
        severity="error",
        message=f"{member} needs GLIBC_2.38 but provided.al2023 has glibc 2.34",
        member=member,
        required="2.38",
        available="2.34",
        symbols=symbols,
        fixes=(
            Fix(
                "Build against glibc 2.34 with cargo lambda",
                "cargo lambda build --target x86_64-unknown-linux-gnu.2.34",
            ),
            Fix("Pin the build runner", "runs-on: ubuntu-22.04", "yaml"),
            Fix("Or set the linker in .cargo/config.toml", '[target.x86_64-unknown-linux-gnu]\nlinker = "cc"', "toml"),
        ),
    )


def failing_report(member: str = "bootstrap") -> Report:
    artifact = ArtifactReport(
        path="target/lambda/api/bootstrap.zip",
        kind="zip",
        runtime="provided.al2023",
        architecture="x86_64",
        findings=[too_new(member)],
        binaries=[binary(member, "2.38", "fail"), binary("lib/libz.so.1", "2.14")],
    )
    return Report(runtime=dict(RUNTIME), artifacts=[artifact])


def passing_report(count: int = 3) -> Report:
    artifact = ArtifactReport(
        path="dist/function.zip",
        kind="zip",
        runtime="provided.al2023",
        architecture="x86_64",
        binaries=[binary(f"lib/lib{n}.so", f"2.{17 + n % 10}") for n in range(count)],
    )
    return Report(runtime=dict(RUNTIME), artifacts=[artifact])


def cells(row: str) -> list[str]:
    """Split a table row the way GitHub does: a backslash escapes the next character."""
    out, cell, chars = [], "", iter(row.strip()[1:-1])
    for char in chars:
        if char == "\\":
            cell += char + next(chars, "")
        elif char == "|":
            out.append(cell.strip())
            cell = ""
        else:
            cell += char
    return out + [cell.strip()]


def table_rows(text: str) -> list[str]:
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| ---")]
    return rows[1:]  # without the header


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(language, code) of every fenced block, with CommonMark's closing rule."""
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        opening = re.match(r"^(`{3,})(\w*)$", lines[i])
        i += 1
        if not opening:
            continue
        fence, language, code = opening.group(1), opening.group(2), []
        while i < len(lines) and not re.fullmatch(rf"`{{{len(fence)},}}", lines[i]):
            code.append(lines[i])
            i += 1
        i += 1
        blocks.append((language, "\n".join(code)))
    return blocks


def outside_code(text: str) -> str:
    """The text without its fenced code blocks (where GitHub makes no mentions or links)."""
    for _, code in fenced_blocks(text):
        text = text.replace(code, "")
    return text


# --- the failing summary -----------------------------------------------------------------------


def test_failing_summary_has_verdict_table_and_details():
    report = failing_report()
    text = render_summary(report)
    verdict = text.splitlines()[0]
    assert verdict.startswith("### ❌")
    assert "1 error" in verdict and "provided.al2023" in verdict and "glibc 2.34" in verdict
    rows = table_rows(text)
    assert len(rows) == 1  # one row per cause; passing binaries are not listed beside a failure
    (row,) = [cells(row) for row in rows]
    assert len(row) == 5 and row[0] == "❌" and "glibc-too-new" in row[1] and "bootstrap" in row[2]
    assert row[3] == "2.38" and row[4].startswith("2.34")
    assert text.count("<details>") == text.count("</details>") == 1
    assert "__isoc23_strtol@GLIBC_2.38" in text


def test_six_hundred_failing_files_of_one_cause_are_one_row():
    # GIVEN 600 files of one wheel failing for the same reason
    report = huge_report(binaries=600, failures=600)
    for finding in report.artifacts[0].findings:
        finding.details["package"] = "numpy 2.4.0 (wheel cp312-cp312-manylinux_2_38_x86_64)"
    text = render_summary(report)
    # THEN one row with the count, one collapsed section listing files: it fits one screen
    (row,) = [cells(row) for row in table_rows(text)]
    assert "600 files" in row[2] and "numpy 2.4.0" in row[1]
    assert text.count("<details>") == 1
    assert "… and 550 more" in text
    assert len(text.split("<details>")[0].splitlines()) < 15


def test_long_paths_are_shortened_in_the_middle_so_the_file_name_stays():
    member = (
        "python/lib/python3.12/site-packages/" + "deeply/nested/" * 10 + "_speedups.cpython-312-x86_64-linux-gnu.so"
    )
    (row,) = [cells(row) for row in table_rows(render_summary(failing_report(member)))]
    assert "…" in row[2] and row[2].endswith("_64-linux-gnu.so in target/lambda/api/bootstrap.zip")


def test_each_fix_is_a_code_block_in_its_own_language():
    report = failing_report()
    blocks = fenced_blocks(render_summary(report))
    fixes = report.artifacts[0].findings[0].fixes
    for fix in fixes:
        assert (fix.language, fix.code) in blocks


def test_summary_states_the_runs_on_line_to_change_and_its_new_value():
    where = Where(".github/workflows/build.yml", 12, "ubuntu-latest")
    text = render_summary(failing_report(), workflow_location=where)
    line = next(line for line in text.splitlines() if "Build host" in line)
    assert ".github/workflows/build.yml" in line and "line 12" in line
    assert "<code>runs-on: ubuntu-latest</code> to <code>runs-on: ubuntu-22.04</code>" in line
    # A value that already carries the key is not doubled.
    text = render_summary(failing_report(), workflow_location=Where("ci.yml", 3, "runs-on: ubuntu-24.04"))
    assert "<code>runs-on: ubuntu-24.04</code>" in text and "runs-on: runs-on" not in text


def test_no_line_to_change_when_no_fix_changes_the_build_host():
    report = failing_report()
    finding = report.artifacts[0].findings[0]
    finding.fixes = tuple(fix for fix in finding.fixes if not fix.code.startswith("runs-on"))
    text = render_summary(report, workflow_location=Where("ci.yml", 3, "ubuntu-latest"))
    assert "Build host" not in text


def test_runs_on_line_names_the_build_container():
    @dataclass(frozen=True)
    class InContainer(Where):
        container: str | None = None

    report = failing_report()
    finding = report.artifacts[0].findings[0]
    finding.fixes = (Fix("Build in the runtime's OS", "container: amazonlinux:2023.6.20250317.2", "yaml"),)
    text = render_summary(report, InContainer("ci.yml", 7, "ubuntu-latest", container="rust:1.80"))
    line = next(line for line in text.splitlines() if "Build host" in line)
    assert "<code>rust:1.80</code>" in line and "line 7" in line
    assert "<code>container: amazonlinux:2023.6.20250317.2</code>" in line


def test_runs_on_line_is_left_out_when_the_build_host_is_not_the_problem():
    report = failing_report()
    report.artifacts[0].findings = [
        Finding("bootstrap-not-executable", "error", "bootstrap has mode 0644", member="bootstrap")
    ]
    text = render_summary(report, workflow_location=Where("ci.yml", 3, "ubuntu-latest"))
    assert "Build host" not in text and "ci.yml" not in text
    assert "bootstrap-not-executable" in text


def test_findings_without_a_binary_get_their_own_row():
    report = failing_report()
    report.artifacts[0].findings.append(
        Finding("malformed-elf", "warning", "lib/bad.so: truncated", member="lib/bad.so")
    )
    report.artifacts[0].findings.append(Finding("package-too-large", "error", "unpacks to 300 MB"))
    rows = [cells(row) for row in table_rows(render_summary(report))]
    where = {row[2] for row in rows}
    assert "lib/bad.so in target/lambda/api/bootstrap.zip" in where and "target/lambda/api/bootstrap.zip" in where
    assert [row[0][0] for row in rows] == sorted((row[0][0] for row in rows), key="❌⚠".index)


def test_warnings_only_pass_with_details():
    report = passing_report()
    report.artifacts[0].findings.append(
        Finding("libstdcxx-too-new", "warning", "lib/lib1.so needs GLIBCXX_3.4.30", member="lib/lib1.so")
    )
    text = render_summary(report)
    assert text.startswith("### ⚠️") and "passes" in text.splitlines()[0] and "1 warning" in text.splitlines()[0]
    assert "<details><summary>⚠️" in text


def test_report_only_errors_are_not_red():
    report = failing_report()
    report.fail_on = "never"
    text = render_summary(report)
    assert "❌" not in text and "report only" in text.splitlines()[0]


def test_notices_without_an_artifact_are_shown():
    report = failing_report()
    report.notices.append(Finding("deprecated-runtime", "warning", "provided.al2 is deprecated since 2026-07-31"))
    text = render_summary(report)
    assert "provided.al2 is deprecated since 2026\\-07\\-31" in text or "deprecated since 2026-07-31" in text
    assert "the scan" in text


def test_runtimes_from_templates_are_listed_per_artifact():
    report = failing_report()
    report.runtime = {"id": "auto"}
    report.artifacts.append(
        ArtifactReport("py/fn.zip", "zip", "python3.11", "x86_64", binaries=[binary("_cffi.so", "2.17")])
    )
    report.artifacts[0].glibc = "2.34"
    report.artifacts[1].findings.append(
        Finding("glibc-too-new", "error", "x", member="_cffi.so", required="2.28", available="2.26")
    )
    report.artifacts[1].glibc = "2.26"
    text = render_summary(report)
    verdict = text.splitlines()[0]
    # one heading never mixes runtimes; each row names its own, with its glibc
    assert "2 runtimes" in verdict and "python3.11" not in verdict
    rows = [cells(row) for row in table_rows(text)]
    assert {row[4].replace("\\", "") for row in rows} == {"2.34 (provided.al2023)", "2.26 (python3.11)"}


# --- passing -----------------------------------------------------------------------------------


def test_passing_summary_is_one_line_plus_a_collapsed_table():
    report = passing_report(3)
    text = render_summary(report)
    first, *rest = text.splitlines()
    assert first.startswith("✅") and "3 binaries" in first and f"needed is {report.max_glibc}" in first
    assert "<details><summary>What was checked</summary>" in rest
    assert len(table_rows(text)) == 3


def test_large_passing_summary_has_no_table():
    text = render_summary(passing_report(PASSING_TABLE_ROWS + 1))
    assert len(text.splitlines()) == 1 and text.startswith("✅")


def test_empty_report_passes():
    text = render_summary(Report(runtime=dict(RUNTIME), artifacts=[]))
    assert text.startswith("✅") and "0 binaries" in text


# --- size limits -------------------------------------------------------------------------------


def huge_report(binaries: int, failures: int, causes: bool = False) -> Report:
    symbols = tuple(f"symbol_{n}@GLIBC_2.38" for n in range(80))
    artifact = ArtifactReport(
        path="target/lambda/big/bootstrap.zip",
        kind="zip",
        runtime="provided.al2023",
        architecture="x86_64",
        binaries=[binary(f"lib/lib{n:05}.so") for n in range(binaries)],
    )
    for n in range(failures):
        member = f"lib/lib{n:05}.so"
        artifact.binaries[n].result = "fail"
        artifact.findings.append(too_new(member, symbols))
        if causes:  # each from its own package: one row each
            artifact.findings[-1].details["package"] = f"pkg{n:05} 1.0"
    return Report(runtime=dict(RUNTIME), artifacts=[artifact])


def test_huge_summary_stays_under_the_limit_and_says_what_was_left_out():
    report = huge_report(binaries=6000, failures=3000, causes=True)
    text = render_summary(report)
    assert len(text.encode()) <= 1_000_000
    note = next(line for line in text.splitlines() if line.startswith("> **Shortened:**"))
    shown_details = text.count("<details>")
    left = int(re.search(r"(\d+) of 3000 problem details", note).group(1))
    assert left == 3000 - shown_details > 0
    assert "JSON report" in note
    rows = table_rows(text)
    if "table rows" in note:
        assert int(re.search(r"(\d+) of 3000 table rows", note).group(1)) == 3000 - len(rows)
    assert all(cells(row)[0] == "❌" for row in rows)
    assert text.count("<details>") == text.count("</details>")


def test_small_byte_budget_is_respected():
    report = huge_report(binaries=200, failures=100)
    for limit in (2_000, 20_000, 200_000):
        text = render_summary(report, max_bytes=limit)
        assert len(text.encode()) <= limit
        assert text.startswith("### ❌")


def test_symbols_are_capped_with_a_count():
    text = render_summary(huge_report(binaries=1, failures=1))
    assert "symbol_29@GLIBC_2.38" in text and "symbol_30@GLIBC_2.38" not in text
    assert "and 50 more" in text


# --- escaping of untrusted names ---------------------------------------------------------------


def test_hostile_member_name_stays_text():
    hostile = "</details><img src=x onerror=alert(1)>|`x`**@octocat** [a](http://evil.example)\n::error::x"
    text = render_summary(failing_report(hostile)) + render_comment(failing_report(hostile))
    assert "<img" not in text and "</details><" not in text
    assert "@octocat" not in text  # no mention ping
    assert "http://evil" not in text  # no autolink
    assert "\n::error::" not in text
    for row in table_rows(text):
        assert len(cells(row)) == 5


@settings(max_examples=150, deadline=None)
@given(st.text(min_size=1, max_size=60))
def test_any_member_name_keeps_the_table_and_html_intact(name):
    report = failing_report(name)
    text = render_summary(report)
    rows = table_rows(text)
    assert len(rows) == 1 and all(len(cells(row)) == 5 for row in rows)
    assert text.count("<details>") == text.count("</details>") == 1
    without_ours = re.sub(r"</?(details|summary|code|sub)>|<!-- lambda-glibc-gate -->", "", text)
    assert "<" not in without_ours  # every other angle bracket is an entity
    assert not re.search(r"@(?!&#8203;)", outside_code(text))  # no mention outside code blocks
    text.encode("utf-8")  # no lone surrogates left


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="`~ab\n", max_size=40))
def test_fenced_code_cannot_be_closed_by_its_content(code):
    block = fenced(code, "shell")
    parsed = fenced_blocks(block + "\nafter")
    assert len(parsed) == 1 and parsed[0][0] == "shell"
    assert parsed[0][1] == code.rstrip()


def test_unknown_fix_language_falls_back_to_text():
    assert fenced("x", "<script>").startswith("```text\n")


def test_entities_decode_back_to_the_name():
    name = "node_modules/@img/sharp-linux-x64/lib/sharp<1>&co.node"
    text = render_summary(failing_report(name))
    summary = re.search(r"<summary>(.*)</summary>", text).group(1)
    assert name + " in target/lambda/api/bootstrap.zip" in html.unescape(summary).replace("\u200b", "")


# --- the PR comment ----------------------------------------------------------------------------


def test_comment_starts_with_the_marker_and_lists_only_failures():
    report = failing_report()
    text = render_comment(report, run_url="https://github.com/o/r/actions/runs/1")
    assert text.startswith(COMMENT_MARKER + "\n")
    rows = table_rows(text)
    assert len(rows) == 1 and "bootstrap" in cells(rows[0])[2]
    assert "[job summary](https://github.com/o/r/actions/runs/1)" in text


def test_passing_comment_is_short():
    text = render_comment(passing_report())
    assert text.startswith(COMMENT_MARKER) and len(text.splitlines()) == 2 and "✅" in text


def test_huge_comment_stays_under_githubs_limit():
    report = huge_report(binaries=2000, failures=1500, causes=True)
    text = render_comment(report)
    assert text.startswith(COMMENT_MARKER)
    assert len(text) <= 60_000
    assert "> **Shortened:**" in text
    assert len(render_comment(report, max_chars=10**9)) < COMMENT_LIMIT


# --- a real scan -------------------------------------------------------------------------------


def test_real_scan_renders_every_binary_and_failure(tmp_path):
    """Real ELF files in a real zip: the committed fixtures, or this machine's Python binaries."""
    fixtures = Path(__file__).parent / "fixtures" / "elf"
    elves = sorted(p for p in fixtures.glob("*") if p.is_file() and p.read_bytes()[:4] == b"\x7fELF")
    elves = elves or [Path(os.path.realpath(sys.executable)), Path(_ctypes.__file__)]
    package = tmp_path / "function.zip"
    with zipfile.ZipFile(package, "w") as archive:
        for index, elf in enumerate(elves):
            info = zipfile.ZipInfo("bootstrap" if index == 0 else f"lib/{elf.name}")
            info.external_attr = 0o100755 << 16
            archive.writestr(info, elf.read_bytes())
    arch = "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"
    report = scan([str(package)], ScanOptions(runtime="provided.al2", architecture=arch))
    binaries = report.artifacts[0].binaries
    assert binaries

    text = render_summary(report)
    assert text.startswith("### ❌" if report.verdict == "fail" else ("### ⚠️", "✅"))
    rows = [cells(row) for row in table_rows(text)]
    problems = [f for f in report.all_findings() if f.severity in ("error", "warning")]
    causes = {
        (f.rule, f.severity, str(f.details.get("package") or f.details.get("library") or ""), f.required, f.available)
        for f in problems
    }
    assert len(rows) == len(causes) == text.count("<details><summary>")
    unescaped = html.unescape(re.sub(r"\\(?=.)", "", text)).replace("\u200b", "")
    for finding in (f for artifact in report.artifacts for f in artifact.findings if f.severity != "note"):
        assert (finding.member or report.artifacts[0].path) in unescaped  # every failing file is named

    comment = render_comment(report)
    assert comment.startswith(COMMENT_MARKER) and len(comment) < COMMENT_LIMIT
