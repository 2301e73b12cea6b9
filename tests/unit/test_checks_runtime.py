"""checks.runtime and checks.target: the runtime itself, and the Target one file sees."""

from __future__ import annotations

from built import target

from lambda_glibc_gate.checks.runtime import check_deprecated, check_runtime_architecture
from lambda_glibc_gate.checks.target import for_member


def test_a_deprecated_runtime_is_a_warning_that_names_its_dates_and_successor():
    # GIVEN provided.al2, deprecated on 2026-07-31, updates blocked from 2027-03-03 (today: 2026-11-27)
    (finding,) = check_deprecated(target("provided.al2"))
    assert finding.rule == "deprecated-runtime" and finding.severity == "warning"
    assert finding.message == (
        "provided.al2 is deprecated since 2026-07-31; updating functions will be blocked from 2027-03-03"
    )
    assert finding.details == {"deprecation": "2026-07-31"}
    (fix,) = finding.fixes
    assert fix.title == "Move the function to provided.al2023 (supported until 2029-06-30)"
    assert fix.code == "Runtime: provided.al2023" and fix.language == "yaml"


def test_a_block_that_has_passed_is_said_in_the_past():
    (finding,) = check_deprecated(target("python3.8"))
    assert "creating functions is blocked since 2025-02-28" in finding.message
    assert finding.fixes[0].code == "Runtime: python3.11"


def test_a_supported_runtime_is_not_deprecated():
    assert check_deprecated(target("provided.al2023")) == []


def test_a_runtime_without_the_architecture_is_an_arch_mismatch():
    (finding,) = check_runtime_architecture(target("provided", "arm64"))
    assert finding.rule == "arch-mismatch" and finding.severity == "error"
    assert finding.message == "provided does not run on arm64 (it supports x86_64)"
    assert (finding.required, finding.available) == ("arm64", "x86_64")
    assert check_runtime_architecture(target("provided.al2023", "arm64")) == []


def test_a_module_tagged_for_one_cpython_moves_only_to_that_python():
    python311 = target("python3.11")
    assert [r.id for r in python311.newer_runtimes] == ["python3.12", "python3.13", "python3.14"]
    tagged = for_member(python311, "pkg/_x.cpython-313-x86_64-linux-gnu.so")
    assert [r.id for r in tagged.newer_runtimes] == ["python3.13"]
    assert for_member(python311, "pkg/_x.abi3.so") is python311
    provided = target("provided.al2")
    assert for_member(provided, "pkg/_x.cpython-313-x86_64-linux-gnu.so") is provided
