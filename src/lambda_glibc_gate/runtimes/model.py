"""What the runtime database holds: a Runtime (which carries its OS), ArchLimits, SystemLibrary,
OperatingSystem, RunnerImage, and the errors; no loading, no queries."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

from lambda_glibc_gate.architectures import normalize_architecture  # the one table of names
from lambda_glibc_gate.errors import GateError

STATUSES = ("present", "absent", "unknown")
EVIDENCE = ("observed", "derived", "inferred", "none")
# Version families a system library can define; the first four are limited by ArchLimits.
FAMILIES = ("glibc", "glibcxx", "cxxabi", "gcc", "zlib", "openssl")
UNKNOWN = "unknown"  # a fact no source gives
UNKNOWN_OS = UNKNOWN
_VERSION = re.compile(r"^\d+(\.\d+)*$")


class RuntimeDataError(ValueError):
    """The runtime database itself is inconsistent (a packaging or editing mistake)."""


class UnknownRuntimeError(GateError, ValueError):
    """A runtime id that AWS does not have (or that the database does not know)."""

    def __init__(self, runtime_id: str, known: Iterable[str]):
        import difflib  # here, not at the top: only a mistyped runtime needs it

        self.runtime_id = runtime_id
        self.suggestions = tuple(difflib.get_close_matches(runtime_id, list(known), n=3))
        hint = f"; did you mean {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"unknown Lambda runtime {runtime_id!r}{hint}")


class MissingFactError(ValueError):
    """The database cannot answer (e.g. a runtime whose OS no source names)."""


@dataclass(frozen=True)
class ArchLimits:
    """Highest symbol versions a runtime's OS defines on one architecture.

    `None` means the database does not know (the check is skipped, not passed silently:
    callers say so). A need above a limit is an error: there is no "depends on the image"
    band. Where some images of an OS are newer (AL2023's later GCC 14 libstdc++), the limit is
    the conservative one and the notes say how to override it (`--glibcxx 3.4.33`).
    """

    glibc: str
    glibcxx: str | None
    cxxabi: str | None
    gcc: str | None
    extra_tags: frozenset[str] = frozenset()
    notes: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    def limit(self, family: str) -> str | None:
        """The limit for "glibc" / "glibcxx" / "cxxabi" / "gcc"."""
        if family not in ("glibc", "glibcxx", "cxxabi", "gcc"):
            raise ValueError(f"ArchLimits has no limit for family {family!r}")
        return getattr(self, family)

    def to_json(self) -> dict[str, Any]:
        return {
            "glibc": self.glibc,
            "glibcxx": self.glibcxx,
            "cxxabi": self.cxxabi,
            "gcc": self.gcc,
            "extra_tags": sorted(self.extra_tags),
            "notes": list(self.notes),
            "sources": list(self.sources),
        }


@dataclass(frozen=True)
class SystemLibrary:
    """A soname as found (or not) in a runtime's OS image on one architecture."""

    soname: str
    status: str  # "present" | "absent" | "unknown"
    defines: tuple[str, ...]  # version families it defines; () -> versions not checked
    stub: bool
    note: str
    sources: tuple[str, ...]
    evidence: str = "none"  # observed | derived | inferred | none
    # Limits for families ArchLimits does not carry (zlib, openssl); None = not checked.
    max_versions: Mapping[str, str | None] = field(default_factory=lambda: MappingProxyType({}))

    def to_json(self) -> dict[str, Any]:
        return {
            "soname": self.soname,
            "status": self.status,
            "evidence": self.evidence,
            "defines": list(self.defines),
            "max_versions": dict(self.max_versions),
            "stub": self.stub,
            "note": self.note,
            "sources": list(self.sources),
        }


@dataclass(frozen=True)
class ArchitectureInfo:
    """ELF facts for one Lambda architecture."""

    name: str  # "x86_64" | "arm64"
    elf_machine: str  # "EM_X86_64" | "EM_AARCH64"
    e_machine: int  # 62 | 183
    interpreter: str  # PT_INTERP path of glibc's loader
    loader_soname: str
    oldest_glibc: str  # glibc's first version node on this arch
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Interpreter:
    """A program path a `#!` script may name, as found (or not) in a runtime's image."""

    path: str  # "/bin/sh"
    status: str  # "present" | "absent" | "unknown"
    evidence: str  # observed | derived | inferred | none
    note: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class OperatingSystem:
    id: str  # "al2023"
    name: str  # "Amazon Linux 2023"
    glibc: str
    limits: Mapping[str, ArchLimits]  # by architecture
    # Whether the soname list for an arch is a full image listing (an unlisted soname is then
    # absent) or partial (an unlisted soname is unknown).
    library_list_complete: Mapping[str, bool]
    library_list_notes: Mapping[str, str]
    notes: tuple[str, ...]
    sources: tuple[str, ...]
    # The source keys of the image package list behind a complete soname list, by architecture.
    library_list_sources: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    interpreters: Mapping[str, Interpreter] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Runtime:
    id: str
    family: str  # provided, go, python, nodejs, java, dotnet, ruby
    language_version: str | None
    os: str  # "al2023" (or "unknown")
    os_name: str  # "Amazon Linux 2023"
    architectures: tuple[str, ...]
    deprecation: date | None
    block_create: date | None
    block_update: date | None
    needs_bootstrap: bool  # the package's main program is a native executable
    container_only: bool  # no zip-package runtime exists
    limits: Mapping[str, ArchLimits]  # by architecture
    notes: tuple[str, ...]
    sources: tuple[str, ...]
    migrate_to: tuple[str, ...] = ()  # AWS's successors outside the family (go1.x)
    # The OperatingSystem this runtime was parsed with (None when its OS is unknown): facts
    # come from the database the runtime belongs to, not from the packaged one.
    operating_system: OperatingSystem | None = field(default=None, repr=False, compare=False)
    # Interpreters this runtime's image adds to its OS's (e.g. /var/lang/bin/node).
    interpreters: Mapping[str, Interpreter] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def glibc(self) -> str | None:
        return self.operating_system.glibc if self.operating_system is not None else None

    def supports(self, arch: str) -> bool:
        return normalize_architecture(arch) in self.architectures

    def limits_for(self, arch: str) -> ArchLimits:
        """The OS limits on `arch`, whether or not this runtime offers that arch.

        An arch the OS has no Lambda environment for (AL1 arm64) yields only the OS glibc;
        the architecture check reports the mismatch itself.
        """
        arch = normalize_architecture(arch)
        if self.os == UNKNOWN_OS:
            # Fail closed: "unknown" sorts below every real version, so any GLIBC need fails
            # until the user states the image's glibc (--glibc).
            return ArchLimits(
                glibc=UNKNOWN,
                glibcxx=None,
                cxxabi=None,
                gcc=None,
                notes=(
                    f"{self.id}: its Amazon Linux version is unknown, so its glibc is "
                    "unknown; give the glibc version to check against",
                ),
                sources=self.sources,
            )
        if arch in self.limits:
            return self.limits[arch]
        os = self.operating_system
        return ArchLimits(
            glibc=os.glibc if os is not None else "",
            glibcxx=None,
            cxxabi=None,
            gcc=None,
            notes=(f"{self.os_name} has no {arch} Lambda environment; only its glibc is known",),
            sources=os.sources if os is not None else self.sources,
        )

    def is_deprecated(self, today: date) -> bool:
        """Deprecated on `today`: its deprecation (or, lacking one, a block) date has passed."""
        dates = [d for d in (self.deprecation, self.block_create, self.block_update) if d]
        return bool(dates) and min(dates) <= today

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "family": self.family,
            "language_version": self.language_version,
            "os": self.os,
            "os_name": self.os_name,
            "glibc": self.glibc,
            "architectures": list(self.architectures),
            "deprecation": _iso(self.deprecation),
            "block_create": _iso(self.block_create),
            "block_update": _iso(self.block_update),
            "needs_bootstrap": self.needs_bootstrap,
            "container_only": self.container_only,
            "limits": {arch: limits.to_json() for arch, limits in self.limits.items()},
            "migrate_to": list(self.migrate_to),
            "notes": list(self.notes),
            "sources": list(self.sources),
        }


@dataclass(frozen=True)
class RunnerImage:
    """A GitHub-hosted runner label and the glibc a binary built on it links against."""

    label: str
    os_name: str
    arch: str
    glibc: str | None  # None: not verified
    glibcxx: str | None
    status: str  # ga | preview | deprecated | retired
    deprecated: date | None  # deprecation starts
    unsupported: date | None
    docker_actions: bool  # can run Docker container actions (this gate)
    note: str
    sources: tuple[str, ...]
    alias_of: str | None = None  # "ubuntu-latest" -> "ubuntu-24.04"

    def is_supported(self, today: date) -> bool:
        return self.unsupported is None or today < self.unsupported


@dataclass(frozen=True)
class SamPythonPolicy:
    """What AWS SAM's python builder assumes for a runtime when it picks wheels."""

    runtime_id: str
    glibc: str
    manylinux: str | None  # newest manylinux tag it accepts; None if the source gives none
    sources: tuple[str, ...]


@dataclass(frozen=True)
class _Database:
    sources: Mapping[str, str]
    architectures: Mapping[str, ArchitectureInfo]
    search_path: tuple[str, ...]
    operating_systems: Mapping[str, OperatingSystem]
    libraries: Mapping[tuple[str, str], Mapping[str, SystemLibrary]]
    runtimes: Mapping[str, Runtime]
    runner_images: Mapping[str, RunnerImage]
    sam_python: Mapping[str, SamPythonPolicy]


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None
