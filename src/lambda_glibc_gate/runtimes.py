"""The Lambda runtime database (data/runtimes.yaml): what each runtime offers a native binary.

Each runtime id maps to an Amazon Linux generation (glibc, libstdc++, libgcc_s, system
libraries per architecture), its deprecation dates and its family. Every fact in the YAML
carries source keys; this module validates that on load, so a bad edit fails loudly in tests
instead of giving quiet wrong answers at scan time.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from types import MappingProxyType
from typing import Any

import yaml

from lambda_glibc_gate.errors import GateError

ARCHITECTURES = ("x86_64", "arm64")  # Lambda's names; ELF aarch64 == Lambda arm64
# The one table of architecture names: Lambda's -> ELF's (also uname -m, manylinux, the zig /
# glibc abilist name), and back.
ELF_MACHINE = {"x86_64": "x86_64", "arm64": "aarch64"}
LAMBDA_ARCH = {machine: lambda_name for lambda_name, machine in ELF_MACHINE.items()}
STATUSES = ("present", "absent", "unknown")
EVIDENCE = ("observed", "derived", "inferred", "none")
# Version families a system library can define; the first four are limited by ArchLimits.
FAMILIES = ("glibc", "glibcxx", "cxxabi", "gcc", "zlib", "openssl")
UNKNOWN = "unknown"  # a fact no source gives
UNKNOWN_OS = UNKNOWN

_VERSION = re.compile(r"^\d+(\.\d+)*$")
_ARCH_ALIASES = {"x86_64": "x86_64", "amd64": "x86_64", "x64": "x86_64", "x86-64": "x86_64",
                 "arm64": "arm64", "aarch64": "arm64"}
_OS_GENERATION = {UNKNOWN_OS: 0, "al1": 1, "al2": 2, "al2023": 3}


class RuntimeDataError(ValueError):
    """The runtime database itself is inconsistent (a packaging or editing mistake)."""


class UnknownRuntimeError(GateError, ValueError):
    """A runtime id that AWS does not have (or that the database does not know)."""

    def __init__(self, runtime_id: str, known: Iterable[str]):
        self.runtime_id = runtime_id
        self.suggestions = tuple(difflib.get_close_matches(runtime_id, list(known), n=3))
        hint = f"; did you mean {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"unknown Lambda runtime {runtime_id!r}{hint}")


class UnknownArchitectureError(GateError, ValueError):
    """An architecture name that is neither Lambda's nor ELF's spelling of one."""

    def __init__(self, name: str):
        super().__init__(f"unknown architecture {name!r}; expected one of {', '.join(ARCHITECTURES)}")


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
    max_versions: Mapping[str, str | None] = field(
        default_factory=lambda: MappingProxyType({})
    )

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
    library_list_sources: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
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
                notes=(f"{self.id}: its Amazon Linux version is unknown, so its glibc is "
                       "unknown; give the glibc version to check against",),
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


# ---------------------------------------------------------------- public functions


def all_runtimes() -> dict[str, Runtime]:
    """Every runtime id, current and deprecated, in database order."""
    return dict(_database().runtimes)


def get_runtime(runtime_id: str) -> Runtime:
    runtimes = _database().runtimes
    try:
        return runtimes[runtime_id.strip()]
    except KeyError:
        raise UnknownRuntimeError(runtime_id, runtimes) from None


def operating_system(os: str) -> OperatingSystem:
    try:
        return _database().operating_systems[os]
    except KeyError:
        raise MissingFactError(f"no data for operating system {os!r}") from None


def system_libraries(os: str, arch: str) -> dict[str, SystemLibrary]:
    """Known sonames of `os` on `arch` (present, absent or unknown), keyed by soname.

    A soname missing from this dict is absent when the OS's list for that arch is complete
    (`operating_system(os).library_list_complete[arch]`), unknown otherwise.
    """
    arch = normalize_architecture(arch)
    return dict(_database().libraries.get((os, arch), {}))


def library_list_complete(os: str, arch: str) -> bool:
    """True when the database lists every soname of `os` on `arch` (unlisted = absent)."""
    found = _database().operating_systems.get(os)
    return bool(found and found.library_list_complete.get(normalize_architecture(arch), False))


def library_list_sources(os: str, arch: str) -> tuple[str, ...]:
    """Source keys of the image package list that makes `os`'s soname list on `arch` complete
    (empty when the list is not complete)."""
    found = _database().operating_systems.get(os)
    if found is None:
        return ()
    return tuple(found.library_list_sources.get(normalize_architecture(arch), ()))


def interpreters(os_id: str, runtime_id: str | None = None) -> dict[str, str]:
    """Interpreter paths a `#!` bootstrap may name -> "present" | "absent" | "unknown", as the
    database lists them for `os_id`'s Lambda images (plus what `runtime_id`'s image adds).

    A path missing from the dict is unknown: no source says whether the image has it.
    """
    return {path: entry.status for path, entry in interpreter_entries(os_id, runtime_id).items()}


def interpreter_entries(os_id: str, runtime_id: str | None = None) -> dict[str, Interpreter]:
    """Like `interpreters`, with each entry's evidence, note and sources."""
    found = _database().operating_systems.get(os_id)
    entries = dict(found.interpreters) if found is not None else {}
    if runtime_id is not None:
        entries.update(get_runtime(runtime_id).interpreters)
    return entries


def library_search_path(runtime: Runtime) -> tuple[str, ...]:
    """The runtime's default LD_LIBRARY_PATH directories, in search order."""
    return _database().search_path


def architecture_info(arch: str) -> ArchitectureInfo:
    return _database().architectures[normalize_architecture(arch)]


def normalize_architecture(name: str) -> str:
    """Lambda's name for an architecture: "aarch64" -> "arm64", "amd64" -> "x86_64"."""
    try:
        return _ARCH_ALIASES[name.strip().lower()]
    except KeyError:
        raise UnknownArchitectureError(name) from None


def newer_runtimes(runtime: Runtime, today: date) -> list[Runtime]:
    """Runtimes to move to: same family with a newer language version or newer OS (plus
    AWS's named successors, e.g. go1.x -> provided.al2023), not deprecated on `today`,
    oldest first. Container-only runtimes are offered only to container-only runtimes."""
    current = _upgrade_key(runtime)
    candidates = []
    for other in _database().runtimes.values():
        if other.id == runtime.id or other.is_deprecated(today):
            continue
        if other.container_only and not runtime.container_only:
            continue
        same_family_newer = other.family == runtime.family and _upgrade_key(other) > current
        if same_family_newer or other.id in runtime.migrate_to:
            candidates.append(other)
    return sorted(candidates, key=lambda r: (r.family != runtime.family, _upgrade_key(r), r.id))


def runner_images(include_unusable: bool = False) -> dict[str, RunnerImage]:
    """GitHub-hosted runner labels (aliases such as ubuntu-latest included).

    By default only labels a workflow can still use and whose glibc is known, so advice
    never suggests a retired image or one nobody verified; `include_unusable` lists all.
    """
    images = _database().runner_images
    return {
        label: image
        for label, image in images.items()
        if include_unusable or (image.glibc is not None and image.status != "retired")
    }


def sam_python_policy(runtime_id: str) -> SamPythonPolicy | None:
    """AWS SAM's glibc / manylinux assumption for a Python runtime, if it has one."""
    return _database().sam_python.get(runtime_id)


def with_overrides(limits: ArchLimits, glibc: str | None, glibcxx: str | None) -> ArchLimits:
    """`limits` with the user's --glibc / --glibcxx (for an image known to differ)."""
    changes: dict[str, Any] = {}
    notes = list(limits.notes)
    if glibc is not None:
        changes["glibc"] = _check_version(glibc, "--glibc")
        notes.append(f"glibc limit overridden to {glibc}")
    if glibcxx is not None:
        changes["glibcxx"] = _check_version(glibcxx, "--glibcxx")
        notes.append(f"GLIBCXX limit overridden to {glibcxx}")
    if not changes:
        return limits
    return dataclasses.replace(limits, notes=tuple(notes), **changes)


def source_url(key: str) -> str:
    try:
        return _database().sources[key]
    except KeyError:
        raise MissingFactError(f"unknown source key {key!r}") from None


# ---------------------------------------------------------------- loading


@functools.cache
def _database() -> _Database:
    text = resources.files("lambda_glibc_gate").joinpath("data/runtimes.yaml").read_text("utf-8")
    # libyaml's safe loader when present: same safe semantics, ~6x faster on every CLI start.
    return parse_database(yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))


def parse_database(raw: Any) -> _Database:
    """Validate and convert the YAML document; raises RuntimeDataError naming the bad entry."""
    _expect(isinstance(raw, dict), "the document is not a mapping")
    sources = _parse_sources(raw.get("sources"))
    known_sources = frozenset(sources)
    architectures = {
        arch: _parse_arch_info(arch, entry, known_sources)
        for arch, entry in _mapping(raw, "architectures").items()
    }
    _expect(set(architectures) == set(ARCHITECTURES), "architectures must be x86_64 and arm64")
    search = _mapping(raw, "library_search_path")
    _sources_of(search, "library_search_path", known_sources)
    search_path = tuple(_string_list(search.get("default"), "library_search_path.default"))
    _expect(bool(search_path), "library_search_path.default is empty")

    operating_systems: dict[str, OperatingSystem] = {}
    libraries: dict[tuple[str, str], Mapping[str, SystemLibrary]] = {}
    for os_id, entry in _mapping(raw, "operating_systems").items():
        operating_systems[os_id] = _parse_os(os_id, entry, known_sources)
        for arch in operating_systems[os_id].limits:
            libraries[(os_id, arch)] = _parse_libraries(os_id, arch, entry, known_sources)

    runtimes: dict[str, Runtime] = {}
    for entry in _list(raw, "runtimes"):
        runtime = _parse_runtime(entry, operating_systems, known_sources)
        _expect(runtime.id not in runtimes, f"duplicate runtime id {runtime.id!r}")
        runtimes[runtime.id] = runtime
    for runtime in runtimes.values():
        for target in runtime.migrate_to:
            _expect(target in runtimes, f"{runtime.id}: migrate_to names unknown {target!r}")

    images: dict[str, RunnerImage] = {}
    for entry in _list(raw, "runner_images"):
        for image in _parse_runner_image(entry, known_sources):
            _expect(image.label not in images, f"duplicate runner label {image.label!r}")
            images[image.label] = image

    return _Database(
        sources=MappingProxyType(sources),
        architectures=MappingProxyType(architectures),
        search_path=search_path,
        operating_systems=MappingProxyType(operating_systems),
        libraries=MappingProxyType(libraries),
        runtimes=MappingProxyType(runtimes),
        runner_images=MappingProxyType(images),
        sam_python=MappingProxyType(
            _parse_sam_python(_mapping(raw, "sam_python_builder"), runtimes, known_sources)
        ),
    )


def _parse_sources(raw: Any) -> dict[str, str]:
    _expect(isinstance(raw, dict) and raw, "`sources` must be a non-empty mapping")
    sources = {}
    for key, entry in raw.items():
        _expect(isinstance(entry, dict), f"source {key!r} is not a mapping")
        url = entry.get("url")
        _expect(isinstance(url, str) and url.startswith("https://"), f"source {key!r}: bad url")
        sources[str(key)] = url
    return sources


def _parse_arch_info(arch: str, entry: Any, known: frozenset[str]) -> ArchitectureInfo:
    where = f"architectures.{arch}"
    _expect(isinstance(entry, dict), f"{where} is not a mapping")
    return ArchitectureInfo(
        name=arch,
        elf_machine=_string(entry.get("elf_machine"), f"{where}.elf_machine"),
        e_machine=_int(entry.get("e_machine"), f"{where}.e_machine"),
        interpreter=_string(entry.get("interpreter"), f"{where}.interpreter"),
        loader_soname=_string(entry.get("loader_soname"), f"{where}.loader_soname"),
        oldest_glibc=_version(entry.get("oldest_glibc"), f"{where}.oldest_glibc"),
        sources=_sources_of(entry, where, known),
    )


def _parse_os(os_id: str, entry: Any, known: frozenset[str]) -> OperatingSystem:
    where = f"operating_systems.{os_id}"
    _expect(isinstance(entry, dict), f"{where} is not a mapping")
    glibc = _version(entry.get("glibc"), f"{where}.glibc")
    limits, complete, list_notes, list_sources = {}, {}, {}, {}
    for arch, arch_entry in _mapping(entry, "architectures", where).items():
        arch_where = f"{where}.architectures.{arch}"
        _expect(arch in ARCHITECTURES, f"{arch_where}: unknown architecture")
        limits[arch] = _parse_limits(_mapping(arch_entry, "limits", arch_where), arch_where, known)
        _expect(limits[arch].glibc == glibc, f"{arch_where}: glibc differs from the OS glibc")
        complete[arch] = bool(arch_entry.get("library_list_complete", False))
        list_notes[arch] = str(arch_entry.get("library_list_note", ""))
        keys = tuple(_string_list(arch_entry.get("library_list_source", []), f"{arch_where}.library_list_source"))
        for key in keys:
            _expect(key in known, f"{arch_where}.library_list_source: {key!r} is not in `sources`")
        # A complete list must say which image package list makes it complete.
        _expect(not complete[arch] or bool(keys), f"{arch_where}: a complete library list needs library_list_source")
        list_sources[arch] = keys
    return OperatingSystem(
        id=os_id,
        name=_string(entry.get("name"), f"{where}.name"),
        glibc=glibc,
        limits=MappingProxyType(limits),
        library_list_complete=MappingProxyType(complete),
        library_list_notes=MappingProxyType(list_notes),
        notes=tuple(_string_list(entry.get("notes", []), f"{where}.notes")),
        sources=_sources_of(entry, where, known),
        library_list_sources=MappingProxyType(list_sources),
        interpreters=_parse_interpreters(entry.get("interpreters", []), where, known),
    )


def _parse_interpreters(raw: Any, where: str, known: frozenset[str]) -> Mapping[str, Interpreter]:
    _expect(isinstance(raw, list), f"{where}.interpreters must be a list")
    found: dict[str, Interpreter] = {}
    for index, entry in enumerate(raw):
        entry_where = f"{where}.interpreters[{index}]"
        _expect(isinstance(entry, dict), f"{entry_where} is not a mapping")
        path = _string(entry.get("path"), f"{entry_where}.path")
        _expect(path.startswith("/"), f"{entry_where}: path must be absolute")
        _expect(path not in found, f"{entry_where}: duplicate path {path!r}")
        status = entry.get("status")
        _expect(status in STATUSES, f"{entry_where}: status must be one of {STATUSES}")
        evidence = entry.get("evidence", "none")
        _expect(evidence in EVIDENCE, f"{entry_where}: evidence must be one of {EVIDENCE}")
        found[path] = Interpreter(
            path=path,
            status=status,
            evidence=evidence,
            note=str(entry.get("note", "")),
            sources=_sources_of(entry, entry_where, known),
        )
    return MappingProxyType(found)


def _parse_limits(entry: dict, where: str, known: frozenset[str]) -> ArchLimits:
    where = f"{where}.limits"
    # No "warning band": a need above a limit is an error (override with --glibcxx).
    _expect("warn_upto" not in entry, f"{where}.warn_upto: no code reads it; state the limit and a note")
    return ArchLimits(
        glibc=_version(entry.get("glibc"), f"{where}.glibc"),
        glibcxx=_optional_version(entry.get("glibcxx"), f"{where}.glibcxx"),
        cxxabi=_optional_version(entry.get("cxxabi"), f"{where}.cxxabi"),
        gcc=_optional_version(entry.get("gcc"), f"{where}.gcc"),
        extra_tags=frozenset(_string_list(entry.get("extra_tags", []), f"{where}.extra_tags")),
        notes=tuple(_string_list(entry.get("notes", []), f"{where}.notes")),
        sources=_sources_of(entry, where, known),
    )


def _parse_libraries(
    os_id: str, arch: str, os_entry: dict, known: frozenset[str]
) -> Mapping[str, SystemLibrary]:
    found: dict[str, SystemLibrary] = {}
    for index, entry in enumerate(_list(os_entry, "libraries", f"operating_systems.{os_id}")):
        where = f"operating_systems.{os_id}.libraries[{index}]"
        _expect(isinstance(entry, dict), f"{where} is not a mapping")
        archs = _string_list(entry.get("arch", list(ARCHITECTURES)), f"{where}.arch")
        if arch not in archs:
            continue
        merged = {**entry, **((entry.get("per_arch") or {}).get(arch) or {})}
        library = _parse_library(merged, f"{where} ({arch})", known)
        _expect(library.soname not in found, f"{where}: duplicate soname {library.soname!r}")
        found[library.soname] = library
    return MappingProxyType(found)


def _parse_library(entry: dict, where: str, known: frozenset[str]) -> SystemLibrary:
    soname = _string(entry.get("soname"), f"{where}.soname")
    status = entry.get("status")
    _expect(status in STATUSES, f"{where}: status must be one of {STATUSES}")
    evidence = entry.get("evidence", "none")
    _expect(evidence in EVIDENCE, f"{where}: evidence must be one of {EVIDENCE}")
    defines = tuple(_string_list(entry.get("defines", []), f"{where}.defines"))
    for family in defines:
        _expect(family in FAMILIES, f"{where}: unknown version family {family!r}")
    max_versions = entry.get("max") or {}
    _expect(isinstance(max_versions, dict), f"{where}.max is not a mapping")
    for family, version in max_versions.items():
        _expect(family in defines, f"{where}.max: {family!r} is not in defines")
        _optional_version(version, f"{where}.max.{family}")
    return SystemLibrary(
        soname=soname,
        status=status,
        defines=defines,
        stub=bool(entry.get("stub", False)),
        note=str(entry.get("note", "")),
        sources=_sources_of(entry, where, known),
        evidence=evidence,
        max_versions=MappingProxyType(dict(max_versions)),
    )


def _parse_runtime(
    entry: Any, operating_systems: Mapping[str, OperatingSystem], known: frozenset[str]
) -> Runtime:
    _expect(isinstance(entry, dict), "a runtimes entry is not a mapping")
    runtime_id = _string(entry.get("id"), "runtimes[].id")
    where = f"runtime {runtime_id}"
    os_id = _string(entry.get("os"), f"{where}.os")
    notes = list(_string_list(entry.get("notes", []), f"{where}.notes"))
    operating_system = None
    if os_id == UNKNOWN_OS:
        _expect(bool(notes), f"{where}: an unknown OS needs a note saying why")
        os_name, limits = "unknown (not verified)", {}
    else:
        _expect(os_id in operating_systems, f"{where}: unknown os {os_id!r}")
        operating_system = operating_systems[os_id]
        os_name, limits = operating_system.name, dict(operating_system.limits)
    if "os_evidence" in entry:
        notes.append(f"Operating system: {entry['os_evidence']}.")
    architectures = tuple(_string_list(entry.get("architectures"), f"{where}.architectures"))
    _expect(bool(architectures), f"{where}: no architectures")
    for arch in architectures:
        _expect(arch in ARCHITECTURES, f"{where}: unknown architecture {arch!r}")
    if "arch_evidence" in entry:
        notes.append(f"Architectures: evidence {entry['arch_evidence']}.")
    language_version = entry.get("language_version")
    _expect(
        language_version is None or isinstance(language_version, str),
        f"{where}: language_version must be a quoted string or null",
    )
    return Runtime(
        id=runtime_id,
        family=_string(entry.get("family"), f"{where}.family"),
        language_version=language_version,
        os=os_id,
        os_name=os_name,
        architectures=architectures,
        deprecation=_date(entry.get("deprecation"), f"{where}.deprecation"),
        block_create=_date(entry.get("block_create"), f"{where}.block_create"),
        block_update=_date(entry.get("block_update"), f"{where}.block_update"),
        needs_bootstrap=bool(entry.get("needs_bootstrap", False)),
        container_only=bool(entry.get("container_only", False)),
        limits=MappingProxyType(limits),
        notes=tuple(notes),
        sources=_sources_of(entry, where, known),
        migrate_to=tuple(_string_list(entry.get("migrate_to", []), f"{where}.migrate_to")),
        operating_system=operating_system,
        interpreters=_parse_interpreters(entry.get("interpreters", []), where, known),
    )


def _parse_runner_image(entry: Any, known: frozenset[str]) -> list[RunnerImage]:
    _expect(isinstance(entry, dict), "a runner_images entry is not a mapping")
    label = _string(entry.get("label"), "runner_images[].label")
    where = f"runner image {label}"
    arch = entry.get("arch")
    _expect(arch in ARCHITECTURES, f"{where}: unknown architecture {arch!r}")
    image = RunnerImage(
        label=label,
        os_name=_string(entry.get("os_name"), f"{where}.os_name"),
        arch=arch,
        glibc=_optional_version(entry.get("glibc"), f"{where}.glibc"),
        glibcxx=_optional_version(entry.get("glibcxx"), f"{where}.glibcxx"),
        status=_string(entry.get("status"), f"{where}.status"),
        deprecated=_date(entry.get("deprecated"), f"{where}.deprecated"),
        unsupported=_date(entry.get("unsupported"), f"{where}.unsupported"),
        docker_actions=bool(entry.get("docker_actions", True)),
        note=str(entry.get("note", "")),
        sources=_sources_of(entry, where, known),
    )
    aliases = _string_list(entry.get("aliases", []), f"{where}.aliases")
    return [image] + [dataclasses.replace(image, label=a, alias_of=label) for a in aliases]


def _parse_sam_python(
    entry: dict, runtimes: Mapping[str, Runtime], known: frozenset[str]
) -> dict[str, SamPythonPolicy]:
    sources = _sources_of(entry, "sam_python_builder", known)
    manylinux = _mapping(entry, "glibc_to_latest_manylinux", "sam_python_builder")
    policies = {}
    for runtime_id, glibc in _mapping(entry, "runtime_glibc", "sam_python_builder").items():
        _expect(runtime_id in runtimes, f"sam_python_builder: unknown runtime {runtime_id!r}")
        glibc = _version(glibc, f"sam_python_builder.runtime_glibc.{runtime_id}")
        policies[runtime_id] = SamPythonPolicy(runtime_id, glibc, manylinux.get(glibc), sources)
    return policies


# ---------------------------------------------------------------- small validators


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise RuntimeDataError(f"runtimes.yaml: {message}")


def _mapping(parent: Any, key: str, where: str = "") -> dict:
    value = parent.get(key) if isinstance(parent, dict) else None
    _expect(isinstance(value, dict), f"{where + '.' if where else ''}{key} must be a mapping")
    return value


def _list(parent: Any, key: str, where: str = "") -> list:
    value = parent.get(key) if isinstance(parent, dict) else None
    _expect(isinstance(value, list), f"{where + '.' if where else ''}{key} must be a list")
    return value


def _string(value: Any, where: str) -> str:
    _expect(isinstance(value, str) and value.strip() != "", f"{where} must be a non-empty string")
    return value


def _int(value: Any, where: str) -> int:
    _expect(isinstance(value, int) and not isinstance(value, bool), f"{where} must be an integer")
    return value


def _string_list(value: Any, where: str) -> list[str]:
    _expect(
        isinstance(value, list) and all(isinstance(v, str) and v for v in value),
        f"{where} must be a list of strings",
    )
    return value


def _version(value: Any, where: str) -> str:
    # Unquoted 2.34 would load as a float and lose trailing zeros; insist on strings.
    _expect(isinstance(value, str) and bool(_VERSION.match(value)), f"{where}: bad version {value!r}")
    return value


def _optional_version(value: Any, where: str) -> str | None:
    return None if value is None else _version(value, where)


def _check_version(value: str, option: str) -> str:
    if not _VERSION.match(value.strip()):
        raise ValueError(f"{option} expects a version such as 2.34, got {value!r}")
    return value.strip()


def _date(value: Any, where: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise RuntimeDataError(f"runtimes.yaml: {where}: bad date {value!r}") from None


def _sources_of(entry: Any, where: str, known: frozenset[str]) -> tuple[str, ...]:
    keys = entry.get("source") if isinstance(entry, dict) else None
    _expect(isinstance(keys, list) and bool(keys), f"{where}: needs a non-empty `source` list")
    for key in keys:
        _expect(key in known, f"{where}: source key {key!r} is not in `sources`")
    return tuple(keys)


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _upgrade_key(runtime: Runtime) -> tuple[tuple[int, ...], int]:
    """(language version, OS generation): orders runtimes of one family oldest first."""
    version = tuple(int(p) for p in re.findall(r"\d+", runtime.language_version or ""))
    return version, _OS_GENERATION.get(runtime.os, 0)
