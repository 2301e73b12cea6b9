"""The report model (findings, binaries, artifacts) and its JSON form.

The JSON field names are a contract (DESIGN.md): add fields freely, rename none.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("note", "warning", "error")
FAIL_ON_CHOICES = ("error", "warning", "never")


def severity_rank(severity: str) -> int:
    """note < warning < error."""
    return SEVERITIES.index(severity)



# The JSON report's contract version: 1.x adds fields, 2 would rename or remove one.
SCHEMA_VERSION = "1.1"
SCHEMA_BASE = "https://raw.githubusercontent.com/lambda-glibc-gate/lambda-glibc-gate"

@dataclass(frozen=True)
class Fix:
    """One concrete way out, shown as a code block in its own language."""

    title: str  # one line: "Build against glibc 2.34 with cargo-lambda"
    code: str  # the text to paste
    language: str = "shell"  # shell | yaml | toml | text

    def to_json(self) -> dict[str, str]:
        return {"title": self.title, "code": self.code, "language": self.language}


@dataclass
class Finding:
    rule: str  # stable kebab-case id, e.g. "glibc-too-new"
    severity: str  # "error" | "warning" | "note"
    message: str  # one line a user reads: what, where, why
    member: str | None = None  # path inside the artifact, None for the artifact itself
    required: str | None = None  # e.g. "2.38" / "GLIBCXX_3.4.30"
    available: str | None = None  # e.g. "2.34"
    symbols: tuple[str, ...] = ()  # "__isoc23_strtol@GLIBC_2.38", most relevant first
    fixes: tuple[Fix, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)  # rule-specific extras
    # Accepted by an ignore entry (suppress.py): still reported, never counted or failing.
    suppressed: bool = False
    suppression_reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule,
            "severity": self.severity,
            "member": self.member,
            "message": self.message,
        }
        if self.suppressed:
            out["suppressed"] = True
            out["suppression_reason"] = self.suppression_reason
        if self.required is not None:
            out["required"] = self.required
        if self.available is not None:
            out["available"] = self.available
        if self.symbols:
            out["symbols"] = list(self.symbols)
        if self.fixes:
            out["fixes"] = [fix.to_json() for fix in self.fixes]
        out.update(self.details)
        return out


@dataclass
class BinaryReport:
    """Facts about one ELF member that could be read (the `binaries` list)."""

    member: str
    machine: str
    elf_class: int
    interpreter: str | None
    static: bool
    needed: tuple[str, ...]
    glibc_required: str | None  # highest non-weak GLIBC_ version, "2.38"; ABI tags mapped
    toolchain: str  # rust | go | c | c++ | python-extension | node-addon
    versions_required: dict[str, str] = field(default_factory=dict)  # family -> max tag
    package: str | None = None  # "cryptography 44.0.0 (wheel ...)" / "sharp 0.33.5 (npm)"
    result: str = "pass"  # pass | warning | fail — filled in by checks

    def to_json(self) -> dict[str, Any]:
        return {
            "member": self.member,
            "machine": self.machine,
            "class": self.elf_class,
            "interpreter": self.interpreter,
            "static": self.static,
            "needed": list(self.needed),
            "glibc_required": self.glibc_required,
            "versions_required": dict(self.versions_required),
            "toolchain": self.toolchain,
            "package": self.package,
            "result": self.result,
        }


@dataclass
class ArtifactReport:
    path: str  # as the user named it (relative when they gave it relative)
    kind: str  # zip | directory | file
    runtime: str  # the runtime id this artifact was judged against
    architecture: str  # x86_64 | arm64
    findings: list[Finding] = field(default_factory=list)
    binaries: list[BinaryReport] = field(default_factory=list)
    function: str | None = None  # function name when the runtime came from a template
    unpacked_size: int = 0
    glibc: str | None = None  # the glibc this artifact was judged against (after --glibc)
    template: str | None = None  # the template that declares its function (runtime auto)
    template_line: int | None = None  # the line of that function's definition

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "runtime": self.runtime,
            "architecture": self.architecture,
            "function": self.function,
            "template": {"path": self.template, "line": self.template_line} if self.template else None,
            "glibc": self.glibc,
            "unpacked_size": self.unpacked_size,
            "findings": [finding.to_json() for finding in self.findings],
            "binaries": [binary.to_json() for binary in self.binaries],
        }


@dataclass
class Report:
    runtime: dict[str, Any]  # {"id", "os", "glibc", "architecture", ...}, or {"id": "auto"}
    artifacts: list[ArtifactReport]
    fail_on: str = "error"
    notices: list[Finding] = field(default_factory=list)  # report-wide (runtime hint)
    # The ignore entries applied (suppress.py), each {"rule", "path", "reason", "source",
    # "matched", "stale"}; a stale one matched nothing.
    ignores: list[dict[str, Any]] = field(default_factory=list)

    def all_findings(self) -> list[Finding]:
        found = list(self.notices)
        for artifact in self.artifacts:
            found.extend(artifact.findings)
        return found

    def count(self, severity: str) -> int:
        """Findings of this severity that count: suppressed ones never do."""
        return sum(1 for f in self.all_findings() if f.severity == severity and not f.suppressed)

    @property
    def suppressed_count(self) -> int:
        return sum(1 for finding in self.all_findings() if finding.suppressed)

    @property
    def stale_ignores(self) -> list[dict[str, Any]]:
        return [entry for entry in self.ignores if entry.get("stale")]

    @property
    def verdict(self) -> str:
        """ "fail" when any finding that is not suppressed is at or above the fail-on level."""
        if self.fail_on == "never":
            return "pass"
        floor = severity_rank(self.fail_on)
        failing = any(severity_rank(f.severity) >= floor for f in self.all_findings() if not f.suppressed)
        return "fail" if failing else "pass"

    @property
    def max_glibc(self) -> str | None:
        """Highest glibc any binary needs, e.g. "2.38" (None when no binary needs one)."""
        from lambda_glibc_gate.versions import glibc_key

        needs = [b.glibc_required for a in self.artifacts for b in a.binaries if b.glibc_required]
        return max(needs, key=glibc_key) if needs else None

    def to_json(self) -> dict[str, Any]:
        from lambda_glibc_gate import __version__

        return {
            # The schema at the release's tag: fields are added in minor versions, never renamed.
            "$schema": f"{SCHEMA_BASE}/v{__version__}/src/lambda_glibc_gate/data/report-schema.json",
            "schema_version": SCHEMA_VERSION,
            "tool": {"name": "lambda-glibc-gate", "version": __version__},
            "verdict": self.verdict,
            "fail_on": self.fail_on,
            "runtime": self.runtime,
            "max_glibc": self.max_glibc,
            "counts": {**{s: self.count(s) for s in reversed(SEVERITIES)}, "suppressed": self.suppressed_count},
            "notices": [finding.to_json() for finding in self.notices],
            "artifacts": [artifact.to_json() for artifact in self.artifacts],
            "ignores": [dict(entry) for entry in self.ignores],
        }

    def dumps(self, pretty: bool = True) -> str:
        """The JSON report; compact when a machine reads it (indenting uses the slow encoder)."""
        return json.dumps(self.to_json(), indent=2 if pretty else None)
