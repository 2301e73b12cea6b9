"""What the language runtime's own loaders (Node's require, Python's import) pick, as loaders.py
selects it: files passed over are a note (not-loaded); a package with no build they can load is an
error (no-loadable-build)."""

from __future__ import annotations

from lambda_glibc_gate import advice
from lambda_glibc_gate.checks.target import Target
from lambda_glibc_gate.report import Finding

NOT_LOADED_EXAMPLES = 20  # members listed per note in the JSON details


def not_loaded_notes(unused: dict[str, str], sizes: dict[str, int], target: Target) -> list[Finding]:
    """Native files the function's Node / Python loader passes over: dead weight, never an error.

    One note per folder of alternatives (a package's prebuilds/, a platform package), with the size."""
    groups: dict[str, list[str]] = {}
    for member in sorted(unused):
        head, marker, _ = member.partition("/prebuilds/")
        groups.setdefault(head + marker.rstrip("/") if marker else member.rsplit("/", 1)[0], []).append(member)
    findings = []
    for folder, members in groups.items():
        size = sum(sizes.get(member, 0) for member in members)
        first = members[0]
        findings.append(
            Finding(
                "not-loaded",
                "note",
                f"{folder}: {len(members)} native file(s) ({size / 1e6:.1f} MB) that "
                f"{target.runtime.id} on {target.architecture} never loads, e.g. {first}: {unused[first]}",
                member=folder,
                details={"members": members[:NOT_LOADED_EXAMPLES], "count": len(members), "bytes": size},
            )
        )
    return findings


def check_loadable_builds(missing: list, target: Target) -> list[Finding]:
    """A package with native builds for other platforms only: its require() fails on Lambda."""
    findings = []
    for candidate in missing:
        found = ", ".join(candidate.found[:8]) + (" …" if len(candidate.found) > 8 else "")
        findings.append(
            Finding(
                "no-loadable-build",
                "error",
                f"{candidate.name} ({candidate.package}) has native builds, but none that {target.runtime.id} on "
                f"{target.architecture} loads ({candidate.how}); found: {found or 'nothing'}. Its require() "
                "fails at cold start",
                member=candidate.package,
                details={"package": candidate.name, "found": list(candidate.found[:NOT_LOADED_EXAMPLES])},
                fixes=advice.loadable_build_fixes(
                    candidate.name, target.architecture, target.glibc, target.runtime.id
                ),
            )
        )
    return findings
