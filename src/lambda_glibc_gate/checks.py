"""(artifact facts, runtime) -> findings. One small function per rule.

Every check mirrors what Lambda would do with the file: the kernel's exec (machine,
class, byte order, interpreter, execute bit), then ld.so (every DT_NEEDED found,
every non-weak version need defined by the object that satisfied it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date

from lambda_glibc_gate import advice
from lambda_glibc_gate.elf import ElfInfo, VersionNeed
from lambda_glibc_gate.report import Finding
from lambda_glibc_gate.resolve import Resolution
from lambda_glibc_gate.versions import exceeds, glibc_key, glibc_release, is_glibc_abi_tag, parse_tag

# Lambda architecture -> ELF machine and the loader paths Amazon Linux has for it
# (glibc sysdeps/unix/sysv/linux/*/ldconfig.h; reference/runtimes.md §3a).
ELF_MACHINE = {"x86_64": "x86_64", "arm64": "aarch64"}
LAMBDA_ARCH = {"x86_64": "x86_64", "aarch64": "arm64"}
LOADERS = {
    "x86_64": {"/lib64/ld-linux-x86-64.so.2", "/usr/lib64/ld-linux-x86-64.so.2"},
    "aarch64": {
        "/lib/ld-linux-aarch64.so.1",
        "/lib64/ld-linux-aarch64.so.1",
        "/usr/lib64/ld-linux-aarch64.so.1",
    },
}
SYMBOLS_IN_MESSAGE = 3
SYMBOLS_IN_REPORT = 50
# The reason given when a library from the package or a layer lacks a version it is asked for.
BUNDLED_LACKS = "does not define it"
# glibc's match_symbol compares vna_hash before the name: a need whose hash is not the ELF hash of
# its name is never found, whatever the library defines (a damaged or tampered file).
HASH_MISMATCH = "its vna_hash is not the hash of the version name, so ld.so never matches it"


@dataclass(frozen=True)
class Target:
    """What one artifact is judged against."""

    runtime: object  # runtimes.Runtime
    architecture: str  # x86_64 | arm64
    limits: object  # runtimes.ArchLimits after --glibc / --glibcxx overrides
    glibcxx_overridden: bool = False
    glibc_overridden: bool = False
    today: date = field(default_factory=date.today)
    newer_runtimes: tuple = ()  # runtimes.Runtime, oldest first, same language
    runners: tuple = ()  # advice.RunnerImage
    library_list_complete: bool = False  # does the database list every system library?
    build_command: str | None = None  # the user's own build line (the workflow's cargo lambda build)

    @property
    def glibc(self) -> str:
        return self.limits.glibc


def toolchain_of(member: str, info: ElfInfo, build_method: str | None = None) -> str:
    """Which toolchain built the file — the fix depends on it.

    Evidence in the file wins; a SAM BuildMethod (rust-cargolambda, go1.x) fills the gap
    when a stripped executable carries none.
    """
    base = member.rsplit("/", 1)[-1]
    if base.endswith(".node") or {"napi_register_module_v1", "node_register_module_v"} & info.exports:
        return "node-addon"
    if "PyInit_" in info.exports and ".so" in base:
        return "python-extension"
    if "go" in info.markers:
        return "go"
    if "rust" in info.markers:
        return "rust"
    method = (build_method or "").lower()
    if info.is_executable and method.startswith("rust"):
        return "rust"
    if info.is_executable and method.startswith("go"):
        return "go"
    if "libstdc++.so.6" in info.needed or any(
        n.version.startswith(("GLIBCXX_", "CXXABI_")) for n in info.version_needs
    ):
        return "c++"
    return "c"


def glibc_required(info: ElfInfo) -> str | None:
    """Highest non-weak glibc release the file needs (ABI tags count as their release)."""
    releases = [glibc_release(n.version) for n in info.version_needs if not n.weak]
    releases = [r for r in releases if r]
    return max(releases, key=glibc_key) if releases else None


def versions_required(info: ElfInfo) -> dict[str, str]:
    """Highest non-weak tag per family: {"GLIBC": "GLIBC_2.38", "GLIBCXX": "GLIBCXX_3.4.30"}."""
    best: dict[str, tuple] = {}
    for need in info.version_needs:
        version = parse_tag(need.version)
        if need.weak or version is None:
            continue
        if version.family not in best or version.parts > best[version.family][0]:
            best[version.family] = (version.parts, need.version)
    return {family: tag for family, (_, tag) in sorted(best.items())}


# -- exec: what the kernel checks -------------------------------------------------------
def check_architecture(member: str, info: ElfInfo, target: Target, toolchain: str) -> list[Finding]:
    if info.elf_type not in ("exec", "dyn"):
        return []  # object files and core dumps are never exec'd or loaded: nothing to judge
    wanted = ELF_MACHINE[target.architecture]
    problems = []
    system = getattr(info, "os_abi", "linux")
    if system != "linux":
        # glibc's ld.so accepts only EI_OSABI SYSV / GNU (VALID_ELF_OSABI), and a FreeBSD libc
        # or libthr it needs does not exist on Linux anyway.
        problems.append(f"is a {_SYSTEM_NAMES.get(system, system)} binary, not a Linux one")
    if info.machine != wanted:
        problems.append(f"is built for {info.machine}")
    if info.elf_class != 64:
        problems.append(f"is a {info.elf_class}-bit ELF file")
    if info.endian != "little":
        problems.append("is big-endian")
    if not problems:
        return []
    symptom = (
        "Lambda fails with `exec format error` (Runtime.InvalidEntrypoint)"
        if info.is_executable
        else "ld.so will refuse to load it (`ELF file OS ABI invalid`)"
        if system != "linux"
        else "ld.so will refuse to load it (wrong ELF class or machine)"
    )
    binary_arch = LAMBDA_ARCH.get(info.machine, info.machine)
    return [
        Finding(
            "arch-mismatch",
            "error",
            f"{member} {' and '.join(problems)}, but the function runs on Linux {target.architecture}: {symptom}",
            member=member,
            required=info.machine,
            available=wanted,
            fixes=advice.arch_fixes(toolchain, binary_arch, target.architecture, target.glibc),
        )
    ]


_SYSTEM_NAMES = {"freebsd": "FreeBSD", "netbsd": "NetBSD", "openbsd": "OpenBSD", "solaris": "Solaris"}


def check_interpreter(member: str, info: ElfInfo, target: Target, toolchain: str) -> list[Finding]:
    if info.interpreter is None or info.machine != ELF_MACHINE[target.architecture]:
        return []
    if info.interpreter in LOADERS.get(info.machine, set()):
        return []
    kind = "musl's loader" if "musl" in info.interpreter else "a loader"
    return [
        Finding(
            "bad-interpreter",
            "error",
            f"{member} asks for {kind} {info.interpreter}, which Amazon Linux does not have: "
            "Lambda fails with `no such file or directory` when it starts it",
            member=member,
            required=info.interpreter,
            available=", ".join(sorted(LOADERS.get(info.machine, ()))),
            fixes=advice.musl_fixes(toolchain, target.architecture),
        )
    ]


def shebang_interpreter(head: bytes) -> str | None:
    """The interpreter the kernel runs for a `#!` script (binfmt_script: the first word after
    `#!`, blanks skipped), or None when the file does not start with `#!`."""
    if not head.startswith(b"#!"):
        return None
    words = head[2:].split(b"\n", 1)[0].replace(b"\t", b" ").split()
    return words[0].decode("utf-8", "backslashreplace") if words else ""


def check_bootstrap_program(member: str, head: bytes, interpreter_status) -> list[Finding]:
    """A bootstrap that is no ELF file is exec'd by the kernel as a script or not at all.

    `interpreter_status(path)` says whether the runtime (or the package, or a layer) has
    that interpreter: "present", "absent" or "unknown".
    """
    if not head.startswith(b"#!"):
        what = "is empty" if not head else "is neither an ELF executable nor a script starting with `#!`"
        return [
            Finding(
                "bootstrap-exec-format",
                "error",
                f"{member} {what}: Lambda runs it with execve, which fails with `exec format error` "
                "(Runtime.InvalidEntrypoint); a shell would guess, the kernel does not",
                member=member,
                fixes=(
                    advice.Fix(
                        "Start the script with the interpreter that runs it",
                        f"sed -i '1i #!/bin/sh' {member}",
                    ),
                ),
            )
        ]
    first_line = head.split(b"\n", 1)[0]
    if first_line.endswith(b"\r"):
        return [
            Finding(
                "bad-interpreter",
                "error",
                f"{member} starts with a shebang that ends in CR (Windows line endings): Lambda fails "
                "with `no such file or directory`",
                member=member,
                fixes=(advice.Fix("Convert the script to Unix line endings", f"sed -i 's/\\r$//' {member}"),),
            )
        ]
    interpreter = shebang_interpreter(head) or ""
    status = interpreter_status(interpreter) if interpreter else "absent"
    if status == "present":
        return []
    shown = interpreter or "(nothing)"
    if status == "unknown":
        return [
            Finding(
                "bad-interpreter",
                "warning",
                f"{member} is a script for {shown}, which is not in the package or its layers, and the "
                "runtime database cannot tell whether the image has it",
                member=member,
                required=interpreter,
            )
        ]
    return [
        Finding(
            "bad-interpreter",
            "error",
            f"{member} is a script for {shown}, which is not in the package, its layers or the "
            "runtime's image: Lambda fails with `no such file or directory` when it starts it",
            member=member,
            required=interpreter,
            fixes=(advice.Fix("Use an interpreter the image has", f"sed -i '1s|.*|#!/bin/sh|' {member}"),),
        )
    ]


# -- ld.so: libraries and versions -------------------------------------------------------
def check_libraries(
    member: str, resolutions: list[Resolution], target: Target, ctx: advice.Context | None = None
) -> list[Finding]:
    """Every DT_NEEDED must be found: in the package, a layer, or the runtime's OS."""
    findings = []
    for resolution in resolutions:
        if resolution.where == "missing" and is_musl_soname(resolution.soname):
            findings.append(_musl_library(member, resolution, target, ctx))
            continue
        if resolution.where != "missing":
            library = resolution.library
            if library is not None and getattr(library, "status", "present") == "unknown":
                findings.append(_unknown_library(member, resolution, target, getattr(library, "note", "")))
            continue
        if resolution.known_absent is None and not target.library_list_complete:
            findings.append(_unknown_library(member, resolution, target, ""))
            continue
        findings.append(_missing_library(member, resolution, target))
    return findings


# musl's C library sonames (a musllinux wheel, an Alpine build): Amazon Linux has glibc only.
# musl's own soname is plain "libc.so" (glibc's is libc.so.6); auditwheel-style musllinux
# wheels graft it as libc.musl-<arch>.so.1.
MUSL_SONAME_PREFIXES = ("libc.musl-", "ld-musl-")
MUSL_SONAMES = frozenset({"libc.so"})


def is_musl_soname(soname: str) -> bool:
    return soname in MUSL_SONAMES or soname.startswith(MUSL_SONAME_PREFIXES)


def _library_details(resolution: Resolution) -> dict:
    """What every missing-library finding carries: the soname and the directories tried."""
    return {"library": resolution.soname, "searched": list(resolution.searched)}


def _musl_library(member: str, resolution: Resolution, target: Target, ctx: advice.Context | None) -> Finding:
    return Finding(
        "missing-library",
        "error",
        f"{member} was built against musl ({resolution.soname}: a musl prebuilt, a musllinux wheel or an "
        f"Alpine build), but {target.runtime.id} runs glibc: `{resolution.soname}: cannot open shared object "
        "file`. Bundling a musl libc does not help: install or build the glibc version",
        member=member,
        required=resolution.soname,
        details={**_library_details(resolution), "libc": "musl"},
        fixes=_glibc_build_fixes(ctx, target),
    )


def _glibc_build_fixes(ctx: advice.Context | None, target: Target) -> tuple:
    """The glibc build of a file that was built for musl, by the toolchain or package that made it."""
    if ctx is None:
        return ()
    package = getattr(ctx.package, "name", None)
    if ctx.toolchain == "node-addon" and package:
        return advice.loadable_build_fixes(package, target.architecture, target.glibc)
    return advice.glibc_fixes(ctx, target.glibc, None, [])


def _missing_library(member: str, resolution: Resolution, target: Target) -> Finding:
    searched = ":".join(resolution.searched)
    note = getattr(resolution.known_absent, "note", "")
    package_list = _image_package_list(target) if resolution.known_absent is None else ()
    if package_list:
        note = f"not in the image's package list ({', '.join(package_list)})"
    fixes = [
        advice.Fix(
            f"Bundle {resolution.soname} (and what it needs) in the package's lib/ folder, or link it statically",
            f"mkdir -p lib && cp /path/to/{resolution.soname} lib/   # searched: {searched}",
        )
    ]
    newer = _runtime_with_library(resolution.soname, target)
    if newer is not None:
        fixes.insert(
            0, advice.runtime_fix(newer, "whose OS has it")
        )
    return Finding(
        "missing-library",
        "error",
        f"{member} needs {resolution.soname}, which is not in the package, its layers or "
        f"{target.runtime.os_name} ({target.runtime.id}){f' — {note}' if note else ''}: "
        f"`error while loading shared libraries: {resolution.soname}: cannot open shared object file`",
        member=member,
        required=resolution.soname,
        details={
            **_library_details(resolution),
            **({"newer_runtime": newer.id} if newer is not None else {}),
            **({"database_sources": list(package_list)} if package_list else {}),
        },
        fixes=tuple(fixes),
    )


def _image_package_list(target: Target) -> tuple[str, ...]:
    """URLs of the image package list that makes the database's soname list complete."""
    from lambda_glibc_gate.runtimes import library_list_sources, source_url

    if not target.library_list_complete:
        return ()
    keys = library_list_sources(getattr(target.runtime, "os", ""), target.architecture)
    return tuple(source_url(key) for key in keys)


def _runtime_with_library(soname: str, target: Target):
    """The oldest newer runtime of the same language whose OS has `soname`."""
    from lambda_glibc_gate.runtimes import system_libraries

    for runtime in target.newer_runtimes:
        if runtime.os == getattr(target.runtime, "os", None):
            continue
        entry = system_libraries(runtime.os, target.architecture).get(soname)
        if entry is not None and entry.status == "present":
            return runtime
    return None


def _unknown_library(member: str, resolution: Resolution, target: Target, note: str) -> Finding:
    why = note or "the runtime database does not list every library of this image"
    return Finding(
        "missing-library",
        "warning",
        f"{member} needs {resolution.soname}, which is not in the package or its layers, and the "
        f"database cannot tell whether {target.runtime.id} has it ({why})",
        member=member,
        required=resolution.soname,
        details={**_library_details(resolution), "database": "unknown"},
    )


def failing_needs(info: ElfInfo, resolutions: dict[str, Resolution], target: Target) -> list[tuple[VersionNeed, str]]:
    """Non-weak version needs the satisfying object does not define, with the reason."""
    failing = []
    for need in info.version_needs:
        if need.weak:
            continue
        resolution = resolutions.get(need.library)
        if not getattr(need, "hash_matches", True) and not (resolution is None or resolution.where == "missing"):
            failing.append((need, HASH_MISMATCH))
            continue
        if resolution is None or resolution.where == "missing":
            continue  # reported as missing-library
        if resolution.info is not None:  # a library from the package or a layer
            if need.version not in resolution.info.version_defs:
                failing.append((need, f"{resolution.path} {BUNDLED_LACKS}"))
            continue
        reason = _system_lacks(need.version, target.limits)
        if reason:
            failing.append((need, reason))
    return failing


def _system_lacks(tag: str, limits) -> str | None:
    if tag == "GLIBC_PRIVATE":
        return "GLIBC_PRIVATE is internal to one glibc build"
    if is_glibc_abi_tag(tag):
        release = glibc_release(tag)
        if release is None or glibc_key(release) > glibc_key(limits.glibc):
            return f"glibc {limits.glibc} has no {tag}"
        return None
    for family, maximum in (
        ("GLIBCXX_", limits.glibcxx),
        ("CXXABI_", limits.cxxabi),
        ("GCC_", limits.gcc),
        ("GLIBC_", limits.glibc),
    ):
        if tag.startswith(family):
            if tag in getattr(limits, "extra_tags", ()):
                return None
            if maximum is not None and exceeds(tag, maximum):
                return f"the runtime has {family}{maximum}"
            return None
    return None  # other families (OPENSSL_, ZLIB_ …): not in the database, not judged


def check_versions(
    member: str,
    info: ElfInfo,
    resolutions: dict[str, Resolution],
    target: Target,
    ctx: advice.Context,
) -> list[Finding]:
    failing = failing_needs(info, resolutions, target)
    findings = []
    groups: dict[str, list[tuple[VersionNeed, str]]] = {"private": [], "glibc": [], "cxx": [], "other": []}
    for need, reason in failing:
        groups["other" if reason == HASH_MISMATCH else _group_of(need.version)].append((need, reason))
    private, glibc, cxx, other = groups["private"], groups["glibc"], groups["cxx"], groups["other"]
    if glibc:
        findings.append(_glibc_too_new(member, glibc, target, ctx))
    if private:
        findings.append(
            _versioned_finding(
                "glibc-private",
                member,
                private,
                f"{member} uses glibc's internal GLIBC_PRIVATE symbols, which only the exact glibc "
                "build it was linked against provides: it breaks on any other glibc",
                "GLIBC_PRIVATE",
                None,
                (),
            )
        )
    if cxx:
        findings.append(_libstdcxx_too_new(member, cxx, target, ctx, glibc_failing=bool(glibc)))
    if other:
        findings.append(
            _versioned_finding(
                "missing-symbol-version",
                member,
                other,
                f"{member} needs {_tags(other)} from {other[0][0].library}, which the loaded "
                f"library does not define ({other[0][1]}): ld.so fails with `version … not found`",
                other[0][0].version,
                None,
                (),
            )
        )
    weak = [
        n
        for n in info.version_needs
        if n.weak and glibc_release(n.version) and glibc_key(glibc_release(n.version)) > glibc_key(target.glibc)
    ]
    if weak and not glibc:
        findings.append(
            Finding(
                "weak-version",
                "note",
                f"{member} has weak version needs above glibc {target.glibc} ({_tags([(n, '') for n in weak])}): "
                "ld.so loads it anyway; the symbols are null at run time, which the program checks",
                member=member,
                symbols=_symbols([(n, "") for n in weak]),
            )
        )
    return findings


def _group_of(tag: str) -> str:
    """Which rule a failing version need belongs to."""
    if tag == "GLIBC_PRIVATE":
        return "private"
    if tag.startswith(("GLIBCXX_", "CXXABI_", "GCC_")):
        return "cxx"
    return "glibc" if tag.startswith("GLIBC_") else "other"


def _tags(failing: list[tuple[VersionNeed, str]]) -> str:
    tags = sorted({n.version for n, _ in failing}, key=_tag_sort, reverse=True)
    return ", ".join(tags)


def _tag_sort(tag: str) -> tuple:
    version = parse_tag(tag)
    return version.parts if version else (999,)


def _symbols(failing: list[tuple[VersionNeed, str]]) -> tuple[str, ...]:
    """symbol@VERSION, newest version first (those are the ones to get rid of)."""
    ordered = sorted(failing, key=lambda item: _tag_sort(item[0].version), reverse=True)
    out: list[str] = []
    for need, _ in ordered:
        out.extend(f"{symbol}@{need.version}" for symbol in need.symbols)
    return tuple(out[:SYMBOLS_IN_REPORT])


# Why a symbol-less tag is needed, for the message.
_TAG_MEANING = {"GLIBC_ABI_DT_RELR": "packed relative relocations from linking with -z pack-relative-relocs"}


def _needs_phrase(failing: list[tuple[VersionNeed, str]], shown: int = SYMBOLS_IN_MESSAGE) -> str:
    """ "GLIBC_2.38 (`strlcpy`, `__isoc23_strtol`), GLIBC_2.36 (`arc4random`) and 4 more", newest first."""
    parts = []
    budget = shown
    hidden = 0
    for need, _ in sorted(failing, key=lambda item: _tag_sort(item[0].version), reverse=True):
        count = max(need.symbol_count, len(need.symbols))
        names = list(need.symbols[: max(budget, 0)])
        budget -= len(names)
        hidden += count - len(names)
        if names:
            parts.append(f"{need.version} (" + ", ".join(f"`{n}`" for n in names) + ")")
        elif need.version in _TAG_MEANING:
            parts.append(f"{need.version} ({_TAG_MEANING[need.version]})")
        else:
            parts.append(need.version)
    return ", ".join(parts) + (f" and {hidden} more symbol(s)" if hidden > 0 else "")


def _glibc_too_new(member: str, failing, target: Target, ctx: advice.Context) -> Finding:
    releases = [glibc_release(n.version) or "unknown" for n, _ in failing]
    known = [r for r in releases if r != "unknown"]
    required = max(known, key=glibc_key) if known else "unknown"
    symbols = _symbols(failing)
    newer = newer_runtime_accepting(failing, target)
    package = f" [{ctx.package.describe()}]" if ctx.package is not None else ""
    message = (
        f"{member}{package} needs glibc {required}, but {target.runtime.id}"
        f"{' (--glibc override)' if target.glibc_overridden else ''} has glibc {target.glibc}: "
        f"{_needs_phrase(failing)}"
    )
    bundled = sorted({reason for _, reason in failing if reason.endswith(BUNDLED_LACKS)})
    if bundled:
        message += f" ({'; '.join(bundled)})"
    if any(r == "unknown" for r in releases):
        message += "; no glibc release up to the runtime's defines that GLIBC_ABI tag"
    message += _weak_symbols_note(failing)
    fixes = advice.glibc_fixes(ctx, required, newer, list(target.runners), [n for n, _ in failing])
    return Finding(
        "glibc-too-new",
        "error",
        message,
        member=member,
        required=required,
        available=target.glibc,
        symbols=symbols,
        fixes=fixes,
        details={
            "versions": sorted({n.version for n, _ in failing}, key=_tag_sort, reverse=True),
            "library": failing[0][0].library,
            **({"newer_runtime": newer.id} if newer is not None else {}),
        },
    )


def _weak_symbols_note(failing: list[tuple[VersionNeed, str]]) -> str:
    """Why a weak symbol still fails: `nm` shows it weak, but its version need is not."""
    weak = [(need.version, name) for need, _ in failing for name in need.weak_symbols]
    if not weak:
        return ""
    shown = ", ".join(f"`{name}`" for _, name in weak[:SYMBOLS_IN_MESSAGE])
    tags = ", ".join(sorted({version for version, _ in weak}, key=_tag_sort, reverse=True))
    return (
        f". {shown} {'is a weak symbol' if len(weak) == 1 else 'are weak symbols'}, but the version "
        f"need ({tags}) is not weak: ld.so checks it at load all the same"
    )


def newer_runtime_accepting(failing: list[tuple[VersionNeed, str]], target: Target):
    """The oldest newer runtime of the same language whose OS defines every failing version."""
    if any(reason.endswith(BUNDLED_LACKS) for _, reason in failing):
        return None  # a bundled library decides; another runtime changes nothing
    for runtime in target.newer_runtimes:
        limits = runtime.limits_for(target.architecture)
        if all(_system_lacks(need.version, limits) is None for need, _ in failing):
            return runtime
    return None


def _libstdcxx_too_new(
    member: str, failing, target: Target, ctx: advice.Context, glibc_failing: bool = False
) -> Finding:
    newer = newer_runtime_accepting(failing, target)
    symbols = _symbols(failing)
    limits = target.limits
    message = (
        f"{member} needs {_needs_phrase(failing)}, but {target.runtime.id} has GLIBCXX_{limits.glibcxx}, "
        f"CXXABI_{limits.cxxabi}, GCC_{limits.gcc}"
    )
    lagging = (
        getattr(target.runtime, "os", "") == "al2023"
        and any(n.version.startswith("GLIBCXX_") for n, _ in failing)
        and not target.glibcxx_overridden
    )
    if lagging:
        message += (
            ". Amazon Linux 2023's repository has GCC 14's libstdc++ (GLIBCXX_3.4.33), but "
            "Lambda's AL2023 runtimes kept failing with `GLIBCXX_3.4.30 not found` through "
            "2025 and manylinux_2_34 stops at 3.4.29; if your runtime image is known to be "
            "newer, pass --glibcxx 3.4.33"
        )
    return Finding(
        "libstdcxx-too-new",
        "error",
        message,
        member=member,
        required=sorted({n.version for n, _ in failing}, key=_tag_sort)[-1],
        available=f"GLIBCXX_{limits.glibcxx}",
        symbols=symbols,
        fixes=advice.libstdcxx_fixes(ctx, glibc_failing)
        + ((advice.runtime_fix(newer),) if newer is not None else ()),
        details={
            "versions": sorted({n.version for n, _ in failing}, key=_tag_sort, reverse=True),
            **({"newer_runtime": newer.id} if newer is not None else {}),
        },
    )


def _versioned_finding(
    rule: str,
    member: str,
    failing,
    message: str,
    required: str,
    available: str | None,
    fixes: tuple,
) -> Finding:
    return Finding(
        rule,
        "error",
        f"{message}: {_needs_phrase(failing)}",
        member=member,
        required=required,
        available=available,
        symbols=_symbols(failing),
        fixes=fixes,
    )


# CPython's extension-module suffix: _x.cpython-312-x86_64-linux-gnu.so (PEP 3149).
_CPYTHON_TAG = re.compile(r"\.cpython-3(\d+)[a-z]*-[^/]*\.so$")


def cpython_tag(member: str) -> str | None:
    """ "3.12" for `_x.cpython-312-x86_64-linux-gnu.so`; None for abi3 and untagged files."""
    match = _CPYTHON_TAG.search(member)
    return f"3.{match.group(1)}" if match else None


def for_member(target: Target, member: str) -> Target:
    """The target as one file sees it: a module tagged for one CPython moves only to that one."""
    tag = cpython_tag(member)
    if tag is None or getattr(target.runtime, "family", None) != "python":
        return target
    return replace(target, newer_runtimes=tuple(r for r in target.newer_runtimes if r.language_version == tag))


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


def static_note(member: str, info: ElfInfo) -> list[Finding]:
    if not info.static:
        return []
    return [
        Finding(
            "static-binary",
            "note",
            f"{member} is statically linked: it needs no glibc from the runtime",
            member=member,
        )
    ]


# -- the language runtime's own loaders ----------------------------------------------------
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
                fixes=advice.loadable_build_fixes(candidate.name, target.architecture, target.glibc),
            )
        )
    return findings


# -- the package as a whole ---------------------------------------------------------------
def check_bootstrap(
    names: dict[str, int | None], layer_has_bootstrap: bool, target: Target, kind: str
) -> list[Finding]:
    """provided.* runtimes start /var/task/bootstrap (or /opt/bootstrap from a layer); go1.x runs its Handler."""
    if not getattr(target.runtime, "needs_bootstrap", False) or kind == "file":
        return []
    if "bootstrap" in names:
        return check_exec_bit("bootstrap", names["bootstrap"])
    if layer_has_bootstrap:
        return []
    elsewhere = sorted(n for n in names if n.rsplit("/", 1)[-1] == "bootstrap")
    where = f"; found {elsewhere[0]} in a subfolder" if elsewhere else ""
    return [
        Finding(
            "bootstrap-missing",
            "error",
            f"{target.runtime.id} starts /var/task/bootstrap, but the package has no bootstrap at its "
            f"root{where}: Lambda fails with `Couldn't find valid bootstrap(s)`",
            details={"found": elsewhere[:5]},
            fixes=(advice.bootstrap_fix(elsewhere[0] if elsewhere else None),),
        )
    ]


def check_bootstrap_link(link: str, target: str | None) -> list[Finding]:
    """A symlinked bootstrap runs only if its links lead to a file in the package."""
    if target is not None:
        return []
    return [
        Finding(
            "bootstrap-missing",
            "error",
            f"bootstrap is a symlink to {link}, which leads to no file in the package (it dangles, loops "
            "or names a folder): Lambda fails with `Couldn't find valid bootstrap(s)`",
            member="bootstrap",
            details={"link": link},
            fixes=(advice.bootstrap_fix(None),),
        )
    ]


def check_exec_bit(member: str, mode: int | None) -> list[Finding]:
    if mode is None:
        return [
            Finding(
                "bootstrap-not-executable",
                "warning",
                f"{member}: the zip records no Unix permissions (made on Windows?), so Lambda may "
                "extract it without the execute bit: `permission denied`",
                member=member,
                fixes=(advice.exec_bit_fix(),),
            )
        ]
    if mode & 0o111:
        return []
    return [
        Finding(
            "bootstrap-not-executable",
            "error",
            f"{member} has mode {mode & 0o777:o}, without the execute bit: Lambda fails with "
            "`fork/exec /var/task/bootstrap: permission denied`",
            member=member,
            fixes=(advice.exec_bit_fix(),),
        )
    ]


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
