"""Facts about one ELF file, no judgement: which toolchain built it, the glibc and the highest
version of each family it needs, the CPython its file name is tagged for.

judge.py puts them in every BinaryReport; checks/ and advice.py decide what they mean for a runtime.
"""

from __future__ import annotations

import re

from lambda_glibc_gate.elf import ElfInfo
from lambda_glibc_gate.versions import glibc_key, glibc_release, parse_tag


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


# CPython's extension-module suffix: _x.cpython-312-x86_64-linux-gnu.so (PEP 3149).
_CPYTHON_TAG = re.compile(r"\.cpython-3(\d+)[a-z]*-[^/]*\.so$")


def cpython_tag(member: str) -> str | None:
    """ "3.12" for `_x.cpython-312-x86_64-linux-gnu.so`; None for abi3 and untagged files."""
    match = _CPYTHON_TAG.search(member)
    return f"3.{match.group(1)}" if match else None
