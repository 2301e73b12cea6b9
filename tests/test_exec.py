"""bootstrap as the kernel's execve sees it: ELF, a `#!` script with an interpreter that exists, or
`exec format error`; duplicate zip entries judged as extracted (the last copy)."""

from __future__ import annotations

import warnings
import zipfile
from datetime import date

import pytest
from helpers import elf_fixture

from lambda_glibc_gate.scan import ScanOptions, scan

TODAY = date(2026, 11, 27)


def run(path, **options):
    options.setdefault("today", TODAY)
    return scan([path], ScanOptions(**options))


def findings(report, rule):
    return [f for f in report.all_findings() if f.rule == rule]


def test_a_text_bootstrap_without_shebang_is_an_exec_format_error(make_zip):
    # GIVEN a bootstrap that a shell would run but execve refuses
    report = run(make_zip({"bootstrap": b"cd $LAMBDA_TASK_ROOT\nexec ./app\n"}))
    # THEN it fails with the kernel's own words
    (finding,) = findings(report, "bootstrap-exec-format")
    assert finding.severity == "error" and "exec format error" in finding.message
    assert report.verdict == "fail"


def test_an_empty_bootstrap_is_an_exec_format_error(make_zip):
    (finding,) = findings(run(make_zip({"bootstrap": b""})), "bootstrap-exec-format")
    assert "is empty" in finding.message


def test_a_script_for_an_interpreter_in_the_package_passes(make_zip):
    package = make_zip({"bootstrap": b"#!/var/task/bin/app\n", "bin/app": elf_fixture("hello-glibc2.34-x86_64")})
    report = run(package)
    assert not findings(report, "bootstrap-exec-format") and not findings(report, "bad-interpreter")


def test_a_script_for_an_interpreter_missing_from_the_package_fails(make_zip):
    (finding,) = findings(run(make_zip({"bootstrap": b"#! /var/task/node/bin/node --flag\n"})), "bad-interpreter")
    assert finding.severity == "error" and finding.required == "/var/task/node/bin/node"


def test_a_script_with_crlf_after_the_shebang_fails(make_zip):
    (finding,) = findings(run(make_zip({"bootstrap": b"#!/bin/sh\r\necho hi\r\n"})), "bad-interpreter")
    assert "CR" in finding.message


def test_the_last_of_two_bootstrap_entries_is_judged(tmp_path):
    # GIVEN a zip with a good bootstrap first and one needing glibc 2.38 last (extractors keep the last)
    path = tmp_path / "dup.zip"
    with warnings.catch_warnings(), zipfile.ZipFile(path, "w") as archive:
        warnings.simplefilter("ignore")
        for fixture in ("hello-glibc2.34-x86_64", "strlcpy_strtol-glibc2.38-x86_64"):
            info = zipfile.ZipInfo("bootstrap", date_time=(2026, 1, 1, 0, 0, 0))
            info.create_system, info.external_attr = 3, 0o100755 << 16
            archive.writestr(info, elf_fixture(fixture))
    report = run(str(path))
    # THEN the copy on disk after extraction is the one that fails
    (finding,) = findings(report, "glibc-too-new")
    assert finding.required == "2.38"
    assert any("last copy" in f.message for f in findings(report, "unsafe-archive"))


LINK = 0o120777


@pytest.mark.parametrize(
    ("members", "why"),
    [
        ({"bootstrap": (b"bin/missing", LINK)}, "dangling"),
        ({"bootstrap": (b"a", LINK), "a": (b"bootstrap", LINK)}, "loop"),
        ({"bootstrap": (b"bin", LINK), "bin/app": elf_fixture("hello-glibc2.34-x86_64")}, "folder"),
    ],
)
def test_a_symlinked_bootstrap_that_leads_nowhere_fails(make_zip, members, why):
    report = run(make_zip(members))
    (finding,) = findings(report, "bootstrap-missing")
    assert finding.severity == "error" and "symlink" in finding.message, why


def test_a_symlinked_bootstrap_is_judged_as_the_file_it_leads_to(make_zip):
    # GIVEN bootstrap -> bin/app, a mode-644 file: what is exec'd has no execute bit
    members = {"bootstrap": (b"bin/app", LINK), "bin/app": (elf_fixture("hello-glibc2.34-x86_64"), 0o100644)}
    (finding,) = findings(run(make_zip(members)), "bootstrap-not-executable")
    assert finding.severity == "error"
    # AND with the execute bit it passes
    members["bin/app"] = elf_fixture("hello-glibc2.34-x86_64")
    assert run(make_zip(members)).verdict == "pass"


def test_a_symlinked_bootstrap_to_a_script_without_shebang_fails(make_zip):
    members = {"bootstrap": (b"run.sh", LINK), "run.sh": b"exec ./app\n"}
    assert findings(run(make_zip(members)), "bootstrap-exec-format")


@pytest.mark.parametrize(
    ("runtime", "interpreter"), [("provided.al2023", b"/bin/sh"), ("nodejs22.x", b"/var/lang/bin/node")]
)
def test_a_script_for_an_interpreter_the_image_has_passes(make_zip, runtime, interpreter):
    report = run(make_zip({"bootstrap": b"#!" + interpreter + b"\nexec ./app\n"}), runtime=runtime)
    assert not findings(report, "bad-interpreter") and not findings(report, "bootstrap-exec-format")


def test_a_script_for_an_interpreter_the_database_does_not_know_is_a_warning(make_zip):
    (finding,) = findings(run(make_zip({"bootstrap": b"#!/usr/bin/perl\nprint 1\n"})), "bad-interpreter")
    assert finding.severity == "warning"
