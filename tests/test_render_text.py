"""The terminal report prints every fix whole: a multi-line command cut short cannot be pasted."""

from __future__ import annotations

from datetime import date

from helpers import elf_fixture

from lambda_glibc_gate.render import text
from lambda_glibc_gate.scan import ScanOptions, scan


def test_every_fix_is_printed_whole_and_titled_once(make_zip):
    # GIVEN strtol built against glibc 2.39, failing on provided.al2023 with several fixes
    package = make_zip({"bootstrap": elf_fixture("strtol-glibc2.39-x86_64")})
    report = scan([package], ScanOptions(runtime="provided.al2023", today=date(2026, 11, 27)))
    finding = next(f for f in report.all_findings() if f.rule == "glibc-too-new")
    assert len(finding.fixes) >= 3 and any("\n" in f.code for f in finding.fixes[1:] + finding.fixes[:1])
    out = text.render(report)
    # THEN each line of each fix's code is there, indented under its title
    for fix in finding.fixes:
        for line in fix.code.splitlines():
            assert f"      {line}\n" in out
    # AND nothing is cut with an ellipsis, and no "or:  Or ..."
    fixes_part = out[out.index("    fix: ") :]
    assert "…" not in fixes_part
    assert "Or " not in "".join(line for line in fixes_part.splitlines() if line.startswith("    or:"))
    assert "    or:  Build on ubuntu-22.04" in out
