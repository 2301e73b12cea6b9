"""ld.so's search for every DT_NEEDED: found in the package, a layer or the runtime's OS, or not
(missing-library; a musl libc is never there)."""

from __future__ import annotations

from lambda_glibc_gate import advice
from lambda_glibc_gate.checks.target import Target
from lambda_glibc_gate.report import Finding
from lambda_glibc_gate.resolve import Resolution


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
        return advice.loadable_build_fixes(package, target.architecture, target.glibc, target.runtime.id)
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
