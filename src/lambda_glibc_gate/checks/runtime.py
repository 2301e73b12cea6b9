"""The runtime itself, whatever the package holds: its deprecation dates (deprecated-runtime) and
the architectures it runs on (arch-mismatch)."""

from __future__ import annotations

from lambda_glibc_gate import advice
from lambda_glibc_gate.checks.target import Target
from lambda_glibc_gate.report import Finding


def check_deprecated(target: Target) -> list[Finding]:
    runtime = target.runtime
    deprecation = getattr(runtime, "deprecation", None)
    if deprecation is None or deprecation > target.today:
        return []
    message = f"{runtime.id} is deprecated since {deprecation.isoformat()}"
    for label, day in (
        ("creating functions", getattr(runtime, "block_create", None)),
        ("updating functions", getattr(runtime, "block_update", None)),
    ):
        if day is not None:
            verb = "is blocked since" if day <= target.today else "will be blocked from"
            message += f"; {label} {verb} {day.isoformat()}"
    newer = target.newer_runtimes[0].id if target.newer_runtimes else None
    fixes = (advice.runtime_fix(target.newer_runtimes[0], first=True),) if newer else ()
    return [
        Finding(
            "deprecated-runtime",
            "warning",
            message,
            fixes=fixes,
            details={"deprecation": deprecation.isoformat()},
        )
    ]


def check_runtime_architecture(target: Target) -> list[Finding]:
    runtime = target.runtime
    if target.architecture in getattr(runtime, "architectures", (target.architecture,)):
        return []
    return [
        Finding(
            "arch-mismatch",
            "error",
            f"{runtime.id} does not run on {target.architecture} (it supports {', '.join(runtime.architectures)})",
            required=target.architecture,
            available=", ".join(runtime.architectures),
        )
    ]
