"""ld.so's version check: every non-weak version need defined by the object that satisfied it
(glibc-too-new, glibc-private, libstdcxx-too-new, missing-symbol-version, weak-version)."""

from __future__ import annotations

from lambda_glibc_gate import advice
from lambda_glibc_gate.checks.target import Target
from lambda_glibc_gate.demangle import in_message
from lambda_glibc_gate.elf import ElfInfo, VersionNeed
from lambda_glibc_gate.report import Finding
from lambda_glibc_gate.resolve import Resolution
from lambda_glibc_gate.versions import exceeds, glibc_key, glibc_release, is_glibc_abi_tag, parse_tag

SYMBOLS_IN_MESSAGE = 3
SYMBOLS_IN_REPORT = 50
# The reason given when a library from the package or a layer lacks a version it is asked for.
BUNDLED_LACKS = "does not define it"
# glibc's match_symbol compares vna_hash before the name: a need whose hash is not the ELF hash of
# its name is never found, whatever the library defines (a damaged or tampered file).
HASH_MISMATCH = "its vna_hash is not the hash of the version name, so ld.so never matches it"


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
    """ "GLIBC_2.38 (`strlcpy`, `__isoc23_strtol`), GLIBC_2.36 (`arc4random`) and 4 more", newest first;
    `std::thread::join()` (`_ZNSt6thread4joinEv`) for a C++ or Rust name."""
    parts = []
    budget = shown
    hidden = 0
    for need, _ in sorted(failing, key=lambda item: _tag_sort(item[0].version), reverse=True):
        count = max(need.symbol_count, len(need.symbols))
        names = list(need.symbols[: max(budget, 0)])
        budget -= len(names)
        hidden += count - len(names)
        if names:
            # C++ / Rust names readable first (demangle.in_message); _symbols keeps them mangled
            parts.append(f"{need.version} (" + ", ".join(in_message(n) for n in names) + ")")
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
