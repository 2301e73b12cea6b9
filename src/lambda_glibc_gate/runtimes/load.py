"""data/runtimes.yaml -> the model, validated on load: every fact has a source key that
resolves, versions and dates are well formed, a bad edit fails loudly in tests."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from datetime import date
from types import MappingProxyType
from typing import Any

from lambda_glibc_gate.architectures import ARCHITECTURES
from lambda_glibc_gate.data_files import load_data
from lambda_glibc_gate.runtimes.model import (
    _VERSION,
    EVIDENCE,
    FAMILIES,
    STATUSES,
    UNKNOWN_OS,
    ArchitectureInfo,
    ArchLimits,
    Interpreter,
    OperatingSystem,
    RunnerImage,
    Runtime,
    RuntimeDataError,
    SamPythonPolicy,
    SystemLibrary,
    _Database,
)


@functools.cache
def _database() -> _Database:
    return parse_database(load_data("runtimes.yaml"))


def parse_database(raw: Any) -> _Database:
    """Validate and convert the YAML document; raises RuntimeDataError naming the bad entry."""
    _expect(isinstance(raw, dict), "the document is not a mapping")
    sources = _parse_sources(raw.get("sources"))
    known_sources = frozenset(sources)
    architectures = {
        arch: _parse_arch_info(arch, entry, known_sources) for arch, entry in _mapping(raw, "architectures").items()
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
        sam_python=MappingProxyType(_parse_sam_python(_mapping(raw, "sam_python_builder"), runtimes, known_sources)),
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


def _parse_libraries(os_id: str, arch: str, os_entry: dict, known: frozenset[str]) -> Mapping[str, SystemLibrary]:
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


def _parse_runtime(entry: Any, operating_systems: Mapping[str, OperatingSystem], known: frozenset[str]) -> Runtime:
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
