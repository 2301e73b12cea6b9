"""glibc's own symbol tables: which version tags each symbol has, per architecture.

The data (data/glibc_symbols.json, built by tools/build_glibc_symbols.py from the glibc
abilists zig ships) answers what a rebuild would do: a build against glibc X binds each
call to the symbol's default version in X (its newest tag <= X), and cannot link a symbol
that X lacks. That is what decides whether relinking against the runtime's glibc (zig,
cargo-lambda's `.2.34` suffix) or building on an older runner fixes a binary.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

from lambda_glibc_gate.runtimes import ELF_MACHINE
from lambda_glibc_gate.versions import glibc_key

# Lambda / ELF architecture names -> the table's.
_ARCH = {**ELF_MACHINE, "aarch64": "aarch64"}  # the table is keyed by ELF machine names
_AARCH64_FIRST = "2.17"  # aarch64's first glibc: older x86_64 tags read as this

# Header redirects: what the same source line references under another glibc's headers.
# glibc >= 2.38 headers turn strtol/sscanf... into __isoc23_* (C2X mode, on with _GNU_SOURCE;
# reference/runtimes.md §5b); -D_FILE_OFFSET_BITS=64 turns fcntl into fcntl64 from 2.28;
# before 2.33 the stat family were inline wrappers of __xstat & co (glibc commit 8ed005daf0).
_STAT_WRAPPERS = {
    "stat": "__xstat",
    "fstat": "__fxstat",
    "lstat": "__lxstat",
    "fstatat": "__fxstatat",
    "stat64": "__xstat64",
    "fstat64": "__fxstat64",
    "lstat64": "__lxstat64",
    "fstatat64": "__fxstatat64",
    "mknod": "__xmknod",
    "mknodat": "__xmknodat",
}
_REDIRECT_SINCE = {"fcntl64": ("fcntl", "2.28"), **{new: (old, "2.33") for new, old in _STAT_WRAPPERS.items()}}


@lru_cache(maxsize=1)
def _table() -> dict[str, dict[str, tuple[str, ...]]]:
    """{arch: {symbol: tags ascending}} for x86_64 and aarch64."""
    raw = json.loads(resources.files("lambda_glibc_gate").joinpath("data/glibc_symbols.json").read_text())
    table: dict[str, dict[str, tuple[str, ...]]] = {"x86_64": {}, "aarch64": {}}
    for group, by_tags in raw["symbols"].items():
        for tags_text, names in by_tags.items():
            tags = tuple(tags_text.split())
            raised = {t if glibc_key(t) >= glibc_key(_AARCH64_FIRST) else _AARCH64_FIRST for t in tags}
            arm = tuple(sorted(raised, key=glibc_key))
            for name in names.split():
                if group in ("all", "x86_64"):
                    table["x86_64"][name] = tags
                if group in ("all", "aarch64"):
                    table["aarch64"][name] = arm if group == "all" else tags
    return table


def source() -> str:
    """Where the table comes from (for messages and docs)."""
    return json.loads(resources.files("lambda_glibc_gate").joinpath("data/glibc_symbols.json").read_text())["source"]


def versions(symbol: str, arch: str) -> tuple[str, ...]:
    """Every GLIBC version tag `symbol` has on `arch` ("2.2.5", "2.34"), oldest first; () if unknown."""
    return _table()[_ARCH[arch]].get(symbol, ())


def known(symbol: str, arch: str) -> bool:
    return bool(versions(symbol, arch))


def source_forms(symbol: str) -> tuple[str, ...]:
    """The symbol and the names the same call has under other glibc headers."""
    if symbol.startswith("__isoc23_"):
        plain = symbol.removeprefix("__isoc23_")
        return (symbol, f"__isoc99_{plain}", plain)
    if symbol in _REDIRECT_SINCE:
        return (symbol, _REDIRECT_SINCE[symbol][0])
    return (symbol,)


def form_under(symbol: str, glibc: str, arch: str) -> str:
    """The name a call that became `symbol` references when built against glibc `glibc`'s headers."""
    if symbol.startswith("__isoc23_"):
        if glibc_key(glibc) >= glibc_key("2.38"):
            return symbol
        c99 = f"__isoc99_{symbol.removeprefix('__isoc23_')}"
        # the scanf family went through __isoc99_* since 2.7; strtol & co were plain
        return c99 if known(c99, arch) else symbol.removeprefix("__isoc23_")
    if symbol in _REDIRECT_SINCE:
        old, since = _REDIRECT_SINCE[symbol]
        return symbol if glibc_key(glibc) >= glibc_key(since) else old
    return symbol


def bound_version(symbol: str, glibc: str, arch: str) -> str | None:
    """The version a build against glibc `glibc` binds the call behind `symbol` to (its default
    there: the newest tag <= `glibc`); None when that glibc lacks it (the link fails)."""
    tags = [t for t in versions(form_under(symbol, glibc, arch), arch) if glibc_key(t) <= glibc_key(glibc)]
    return tags[-1] if tags else None


def binds_within(symbol: str, build_glibc: str, limit: str, arch: str) -> bool:
    """Would a build against glibc `build_glibc` bind `symbol` at a version <= `limit`?"""
    bound = bound_version(symbol, build_glibc, arch)
    return bound is not None and glibc_key(bound) <= glibc_key(limit)


def oldest_glibc_for(symbol: str, arch: str) -> str | None:
    """The oldest glibc a build can link this call against; None if the table lacks it."""
    firsts = [versions(form, arch)[0] for form in source_forms(symbol) if known(form, arch)]
    return min(firsts, key=glibc_key) if firsts else None


def oldest_glibc(symbols: Iterable[str], arch: str) -> str | None:
    """The oldest glibc a binary with these needed symbols can be rebuilt for; None if any is unknown."""
    oldest = "2.0"
    for symbol in symbols:
        first = oldest_glibc_for(symbol, arch)
        if first is None:
            return None
        oldest = max(oldest, first, key=glibc_key)
    return oldest


def missing_at(symbols: Iterable[str], glibc: str, arch: str) -> list[str]:
    """The symbols that glibc `glibc` lacks at every version: no relink against it can bind them."""
    out = []
    for symbol in symbols:
        first = oldest_glibc_for(symbol, arch)
        if first is not None and glibc_key(first) > glibc_key(glibc):
            out.append(symbol)
    return out
