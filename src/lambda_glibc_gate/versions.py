"""Symbol-version tags (GLIBC_2.2.5, GLIBCXX_3.4.29, GCC_7.0.0 …) as comparable values.

Tags compare numerically within a family, never as strings: GLIBC_2.9 < GLIBC_2.17.
glibc has gaps (no GLIBC_2.19-2.21 or 2.37 tag exists), which numeric comparison
handles without knowing them: a runtime at 2.34 defines every real tag <= 2.34.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# Tags that carry no number but stand for the glibc release that introduced them.
# GLIBC_ABI_DT_RELR: glibc 2.36 (NEWS 2.36, elf/Versions) — binaries linked with
# -z pack-relative-relocs need it (reference/runtimes.md §3b).
GLIBC_ABI_TAG_RELEASE = {"GLIBC_ABI_DT_RELR": "2.36"}

# Families we can judge against the runtime database, keyed by tag prefix.
FAMILIES = ("GLIBC", "GLIBCXX", "CXXABI", "GCC")

_TAG = re.compile(r"^(?P<family>[A-Z][A-Z0-9_]*?)_(?P<number>\d+(?:\.\d+)*)$")


@dataclass(frozen=True, order=True)
class Version:
    """A parsed tag: family ("GLIBC") and numeric parts ((2, 38))."""

    family: str
    parts: tuple[int, ...]

    @property
    def number(self) -> str:
        return ".".join(str(part) for part in self.parts)

    @property
    def tag(self) -> str:
        return f"{self.family}_{self.number}"


@lru_cache(maxsize=4096)  # a few hundred distinct tags recur across thousands of files
def parse_tag(tag: str) -> Version | None:
    """GLIBC_2.2.5 -> Version("GLIBC", (2, 2, 5)); None for unnumbered tags."""
    if tag in GLIBC_ABI_TAG_RELEASE:
        return Version("GLIBC", number_key(GLIBC_ABI_TAG_RELEASE[tag]))
    match = _TAG.match(tag)
    if not match:
        return None
    return Version(match["family"], number_key(match["number"]))


@lru_cache(maxsize=4096)  # the runtime's limits are keyed once per version need judged
def number_key(number: str) -> tuple[int, ...]:
    """ "2.2.5" -> (2, 2, 5); "3.4.29" -> (3, 4, 29). Non-numeric parts sort first."""
    key = []
    for part in number.split("."):
        key.append(int(part) if part.isdigit() else -1)
    return tuple(key)


def glibc_key(number: str) -> tuple[int, ...]:
    """Sort key for a glibc release string such as "2.38"."""
    return number_key(number)


def is_glibc_private(tag: str) -> bool:
    return tag == "GLIBC_PRIVATE"


def is_glibc_abi_tag(tag: str) -> bool:
    """GLIBC_ABI_* marker tags (GLIBC_ABI_DT_RELR, and any later ones)."""
    return tag.startswith("GLIBC_ABI_")


def glibc_release(tag: str) -> str | None:
    """The glibc release a GLIBC_ tag needs: GLIBC_2.38 -> "2.38", GLIBC_ABI_DT_RELR -> "2.36".

    None for tags that are not GLIBC releases (GLIBC_PRIVATE, other families) and for
    GLIBC_ABI_ tags we do not know (the caller treats those as unsatisfiable).
    """
    if tag in GLIBC_ABI_TAG_RELEASE:
        return GLIBC_ABI_TAG_RELEASE[tag]
    version = parse_tag(tag)
    if version is None or version.family != "GLIBC":
        return None
    return version.number


def family_of(tag: str) -> str | None:
    """ "GLIBCXX_3.4.30" -> "GLIBCXX"; "CXXABI_TM_1" -> "CXXABI"; "GLIBC_PRIVATE" -> "GLIBC"."""
    for family in sorted(FAMILIES, key=len, reverse=True):
        if tag.startswith(family + "_"):
            return family
    return None


def exceeds(tag: str, maximum: str) -> bool:
    """True when the numbered tag is newer than the family's maximum ("3.4.29")."""
    version = parse_tag(tag)
    if version is None:
        return False
    return version.parts > number_key(maximum)
