"""The Lambda runtime database (data/runtimes.yaml): what each runtime offers a native binary.

Each runtime id maps to an Amazon Linux generation (glibc, libstdc++, libgcc_s, system
libraries per architecture), its deprecation dates and its family. Every fact in the YAML
carries source keys; this module validates that on load, so a bad edit fails loudly in tests
instead of giving quiet wrong answers at scan time.

The package: model.py (what the database holds), load.py (reading and validating the YAML);
this module answers the queries the checks and the advice ask.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from typing import Any

from lambda_glibc_gate.architectures import (
    ARCHITECTURES,
    ELF_MACHINE,
    LAMBDA_ARCH,
    UnknownArchitectureError,
    normalize_architecture,
)
from lambda_glibc_gate.runtimes.load import _check_version, _database, parse_database
from lambda_glibc_gate.runtimes.model import (
    EVIDENCE,
    FAMILIES,
    STATUSES,
    UNKNOWN,
    UNKNOWN_OS,
    ArchitectureInfo,
    ArchLimits,
    Interpreter,
    MissingFactError,
    OperatingSystem,
    RunnerImage,
    Runtime,
    RuntimeDataError,
    SamPythonPolicy,
    SystemLibrary,
    UnknownRuntimeError,
)

__all__ = [
    "ARCHITECTURES",
    "ArchLimits",
    "ArchitectureInfo",
    "ELF_MACHINE",
    "EVIDENCE",
    "FAMILIES",
    "Interpreter",
    "LAMBDA_ARCH",
    "MissingFactError",
    "OperatingSystem",
    "RunnerImage",
    "Runtime",
    "RuntimeDataError",
    "STATUSES",
    "SamPythonPolicy",
    "SystemLibrary",
    "UNKNOWN",
    "UNKNOWN_OS",
    "UnknownArchitectureError",
    "UnknownRuntimeError",
    "all_runtimes",
    "architecture_info",
    "get_runtime",
    "glibc",
    "interpreter_entries",
    "interpreters",
    "library_list_complete",
    "library_list_sources",
    "library_search_path",
    "newer_runtimes",
    "normalize_architecture",
    "operating_system",
    "parse_database",
    "runner_images",
    "sam_python_policy",
    "source_url",
    "system_libraries",
    "with_overrides",
]


_OS_GENERATION = {UNKNOWN_OS: 0, "al1": 1, "al2": 2, "al2023": 3}  # orders runtimes of one family


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


def _upgrade_key(runtime: Runtime) -> tuple[tuple[int, ...], int]:
    """(language version, OS generation): orders runtimes of one family oldest first."""
    version = tuple(int(p) for p in re.findall(r"\d+", runtime.language_version or ""))
    return version, _OS_GENERATION.get(runtime.os, 0)
