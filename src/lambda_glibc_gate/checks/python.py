"""Python's import: an extension module tagged for another CPython is never imported
(python-abi-mismatch)."""

from __future__ import annotations

from lambda_glibc_gate import advice
from lambda_glibc_gate.binary_facts import cpython_tag
from lambda_glibc_gate.checks.target import Target
from lambda_glibc_gate.report import Finding


def check_python_abi(member: str, target: Target, toolchain: str) -> list[Finding]:
    """An extension module tagged for another CPython is never imported by this runtime's."""
    runtime = target.runtime
    if getattr(runtime, "family", None) != "python" or not runtime.language_version:
        return []
    built_for = cpython_tag(member)
    if built_for is None or built_for == runtime.language_version:
        return []
    fixes = [
        advice.pip_fix(
            runtime.language_version,
            target.glibc,
            target.architecture,
            title=f"Install the dependencies for Python {runtime.language_version}, whatever Python runs pip",
        )
    ]
    newer = next((r for r in target.newer_runtimes if r.language_version == built_for), None)
    if newer is not None:
        fixes.append(advice.runtime_fix(newer))
    return [
        Finding(
            "python-abi-mismatch",
            "error",
            f"{member} is built for CPython {built_for}; {runtime.id} cannot import it "
            f"(`No module named …`, Runtime.ImportModuleError)",
            member=member,
            required=built_for,
            available=runtime.language_version,
            fixes=tuple(fixes),
            details={"newer_runtime": newer.id} if newer is not None else {},
        )
    ]
