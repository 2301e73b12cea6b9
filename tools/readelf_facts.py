"""Facts about one ELF file as GNU readelf reports them.

Shared by the fixture build script (to verify what it built) and the drift test (to check
the committed MANIFEST.json still matches the committed files). It deliberately uses
binutils, not pyelftools, so the scanner's own reader is checked against an independent one.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

# readelf -h "Machine:" text -> the short names the manifest uses (64-bit S/390 is s390x).
MACHINES = {
    "Advanced Micro Devices X86-64": "x86_64",
    "AArch64": "aarch64",
    "Intel 80386": "i386",
    "ARM": "arm",
    "PowerPC64": "ppc64",
    "PowerPC": "ppc",
    "MIPS R3000": "mips",
    "RISC-V": "riscv",
}

_SYMBOL_LINE = re.compile(
    r"^\s*\d+:\s+\S+\s+\S+\s+(?P<type>\S+)\s+(?P<bind>\S+)\s+(?P<vis>\S+)\s+(?P<ndx>\S+)"
    r"\s+(?P<name>\S+)"
)
_VERNEED_FILE = re.compile(r"\bFile:\s*(?P<file>\S+)\s+Cnt:")
_VERNEED_AUX = re.compile(r"\bName:\s*(?P<name>\S+)\s+Flags:\s*(?P<flags>.*?)\s+Version:")
_DYNAMIC_LINE = re.compile(r"^\s*0x[0-9a-fA-F]+\s+\((?P<tag>[A-Z0-9_]+)\)\s+(?P<value>.*)$")
_BRACKETED = re.compile(r"\[(?P<text>[^\]]*)\]")
_GLIBC_RELEASE = re.compile(r"^GLIBC_(\d+)\.(\d+)(?:\.(\d+))?$")

# An ABI tag counts as the glibc release that introduced it (DESIGN.md).
GLIBC_ABI_TAGS = {"GLIBC_ABI_DT_RELR": "2.36"}

# symbols_at lists symbols for the tags that Amazon Linux 2 (glibc 2.26, GLIBCXX 3.4.24,
# CXXABI 1.3.11) or older AL1 (glibc 2.17) would not have: the ones a failure names.
SYMBOLS_AT_FLOORS = {"GLIBC": (2, 17), "GLIBCXX": (3, 4, 24), "CXXABI": (1, 3, 11)}


class ReadelfError(RuntimeError):
    """readelf is missing or could not read the file."""


def readelf_path() -> str | None:
    return shutil.which("readelf")


def _run_readelf(path: Path, *options: str) -> str:
    exe = readelf_path()
    if exe is None:
        raise ReadelfError("readelf (GNU binutils) is not installed")
    result = subprocess.run(
        [exe, "-W", *options, str(path)],
        capture_output=True,
        text=True,
        env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    if result.returncode != 0:
        raise ReadelfError(f"readelf {' '.join(options)} {path}: {result.stderr.strip()}")
    return result.stdout


def parse_header(text: str) -> dict[str, Any]:
    """readelf -h: machine, class, endianness, file type, section header count."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    elf_class = {"ELF32": 32, "ELF64": 64}[fields["Class"]]
    machine = MACHINES.get(fields["Machine"], fields["Machine"])
    if fields["Machine"] == "IBM S/390":
        machine = "s390x" if elf_class == 64 else "s390"
    return {
        "machine": machine,
        "class": elf_class,
        "endian": "big" if "big endian" in fields["Data"] else "little",
        "elf_type": fields["Type"].split()[0],
        "section_headers": int(fields["Number of section headers"].split()[0]),
    }


def parse_interpreter(text: str) -> str | None:
    """readelf -l: the PT_INTERP path, or None."""
    match = re.search(r"\[Requesting program interpreter:\s*(?P<path>[^\]]+)\]", text)
    return match.group("path") if match else None


def parse_dynamic(text: str) -> dict[str, Any]:
    """readelf -d: needed sonames in order, soname, rpath, runpath, and every raw entry."""
    needed: list[str] = []
    found: dict[str, str | None] = {"soname": None, "rpath": None, "runpath": None}
    entries: list[tuple[str, str]] = []
    for line in text.splitlines():
        match = _DYNAMIC_LINE.match(line)
        if not match:
            continue
        tag, value = match.group("tag"), match.group("value").strip()
        entries.append((tag, value))
        bracketed = _BRACKETED.search(value)
        if tag == "NEEDED" and bracketed:
            needed.append(bracketed.group("text"))
        elif tag in ("SONAME", "RPATH", "RUNPATH") and bracketed:
            found[tag.lower()] = bracketed.group("text")
    return {"needed": needed, **found, "dynamic_entries": entries}


def parse_version_needs(text: str) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """readelf -V: ({soname: [tags in file order]}, {soname: [weak tags]})."""
    needs: dict[str, list[str]] = {}
    weak: dict[str, list[str]] = {}
    in_needs = False
    current: str | None = None
    for line in text.splitlines():
        if line.startswith("Version needs section"):
            in_needs = True
            continue
        if line.startswith("Version ") and "section" in line:
            in_needs = False  # a .gnu.version / .gnu.version_d block
            continue
        if not in_needs:
            continue
        file_match = _VERNEED_FILE.search(line)
        if file_match:
            current = file_match.group("file")
            needs.setdefault(current, [])
            continue
        aux_match = _VERNEED_AUX.search(line)
        if aux_match and current is not None:
            name = aux_match.group("name")
            needs[current].append(name)
            if "WEAK" in aux_match.group("flags").upper():
                weak.setdefault(current, []).append(name)
    return needs, weak


def parse_undefined_versioned_symbols(text: str) -> dict[str, list[str]]:
    """readelf --dyn-syms: {version tag: [undefined symbol names bound to it]}."""
    by_version: dict[str, list[str]] = {}
    for line in text.splitlines():
        match = _SYMBOL_LINE.match(line)
        if not match or match.group("ndx") != "UND":
            continue
        name, at, version = match.group("name").partition("@")
        if not at:
            continue
        version = version.lstrip("@")
        by_version.setdefault(version, [])
        if name not in by_version[version]:
            by_version[version].append(name)
    return by_version


def parse_defined_symbols(text: str) -> set[str]:
    """readelf --dyn-syms: names of the symbols this file defines (exports)."""
    names = set()
    for line in text.splitlines():
        match = _SYMBOL_LINE.match(line)
        if match and match.group("ndx") != "UND":
            names.add(match.group("name").split("@")[0])
    return names


def defined_dynamic_symbols(path: Path) -> set[str]:
    return parse_defined_symbols(_run_readelf(path, "--dyn-syms"))


def parse_comment(text: str) -> list[str]:
    """readelf -p .comment: the producer strings (compiler, linker)."""
    strings = []
    for line in text.splitlines():
        match = re.match(r"^\s*\[\s*[0-9a-f]+\]\s+(?P<text>.*)$", line)
        if match:
            strings.append(match.group("text").strip())
    return strings


def glibc_version(tag: str) -> tuple[int, ...] | None:
    """GLIBC_2.38 -> (2, 38); ABI tags map to their release; anything else -> None."""
    if tag in GLIBC_ABI_TAGS:
        tag = "GLIBC_" + GLIBC_ABI_TAGS[tag]
    match = _GLIBC_RELEASE.match(tag)
    if not match:
        return None
    return tuple(int(part) for part in match.groups() if part is not None)


def glibc_required(needs: dict[str, list[str]], weak: dict[str, list[str]]) -> str | None:
    """The highest non-weak GLIBC_ version needed by any library, as "2.38", or None."""
    best: tuple[int, ...] | None = None
    for soname, tags in needs.items():
        for tag in tags:
            version = glibc_version(tag)
            if version is None or tag in weak.get(soname, []):
                continue
            if best is None or version > best:
                best = version
    return ".".join(str(part) for part in best) if best else None


def _family_version(tag: str) -> tuple[str, tuple[int, ...]] | None:
    family, sep, number = tag.partition("_")
    if not sep or not re.fullmatch(r"\d+(\.\d+)*", number):
        return None
    return family, tuple(int(part) for part in number.split("."))


def highest_tag(needs: dict[str, list[str]], family: str) -> str | None:
    """The highest tag of one family (GLIBCXX, CXXABI, GCC, ...), e.g. "GLIBCXX_3.4.30"."""
    best: tuple[tuple[int, ...], str] | None = None
    for tags in needs.values():
        for tag in tags:
            parsed = _family_version(tag)
            if parsed and parsed[0] == family and (best is None or parsed[1] > best[0]):
                best = (parsed[1], tag)
    return best[1] if best else None


def is_symbols_at_tag(tag: str) -> bool:
    if tag in GLIBC_ABI_TAGS:
        return True
    parsed = _family_version(tag)
    if parsed is None or parsed[0] not in SYMBOLS_AT_FLOORS:
        return False
    return parsed[1] > SYMBOLS_AT_FLOORS[parsed[0]]


def symbols_at(needs: dict[str, list[str]], undefined: dict[str, list[str]]) -> dict[str, list]:
    """{tag: sorted symbols} for every needed tag newer than the floors (possibly empty)."""
    tags = {tag for soname_tags in needs.values() for tag in soname_tags}
    return {tag: sorted(undefined.get(tag, [])) for tag in sorted(tags) if is_symbols_at_tag(tag)}


def readelf_facts(path: Path) -> dict[str, Any]:
    """Everything the manifest records, read from readelf's output."""
    header = parse_header(_run_readelf(path, "-h"))
    interpreter = parse_interpreter(_run_readelf(path, "-l"))
    dynamic = parse_dynamic(_run_readelf(path, "-d"))
    needs, weak = parse_version_needs(_run_readelf(path, "-V"))
    undefined = parse_undefined_versioned_symbols(_run_readelf(path, "--dyn-syms"))
    comment = parse_comment(_run_readelf(path, "-p", ".comment"))
    return {
        **header,
        "interpreter": interpreter,
        "static": interpreter is None and not dynamic["needed"],
        **dynamic,
        "version_needs": needs,
        "weak_version_needs": weak,
        "undefined_versioned_symbols": undefined,
        "comment": comment,
    }


# readelf -h "OS/ABI:" text and readelf -n note owners -> the ElfInfo.os_abi vocabulary.
_OS_ABI_TEXT = {"UNIX - System V": None, "UNIX - GNU": None, "UNIX - FreeBSD": "freebsd",
                "UNIX - NetBSD": "netbsd", "UNIX - OpenBSD": "openbsd", "UNIX - Solaris": "solaris"}
_NOTE_OWNERS = {"FreeBSD": "freebsd", "NetBSD": "netbsd", "OpenBSD": "openbsd", "Android": "android"}


def os_abi(path: Path) -> str:
    """The system the file is for, as readelf shows it: OS/ABI, else a note owner that only
    that system writes, else an NT_GNU_ABI_TAG naming another OS, else "linux"."""
    osabi = re.search(r"OS/ABI:\s*(?P<text>.+)", _run_readelf(path, "-h")).group("text").strip()
    if _OS_ABI_TEXT.get(osabi, osabi):
        return _OS_ABI_TEXT.get(osabi, osabi)
    notes = _run_readelf(path, "-n")
    for line in notes.splitlines():
        owner = line.split()[0] if line.strip() else ""
        if owner in _NOTE_OWNERS:
            return _NOTE_OWNERS[owner]
        tag = re.match(r"\s*OS:\s*(?P<os>\w+)", line)  # the NT_GNU_ABI_TAG line under its "GNU" owner
        if tag and tag.group("os") != "Linux":
            return tag.group("os").lower()
    return "linux"
