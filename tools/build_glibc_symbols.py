#!/usr/bin/env python3
"""Turn zig's consolidated glibc abilists into src/lambda_glibc_gate/data/glibc_symbols.json.

    pip install ziglang && python tools/build_glibc_symbols.py

Zig ships one binary file, lib/libc/glibc/abilists, made from the `.abilist` files of every
glibc release (github.com/ziglang/libc-abi-tools, glibc/README.md: libraries moved between
releases, e.g. pthread_sigmask libpthread -> libc in 2.32, are corrected there). Its format
(libc-abi-tools README.md, "abilists binary format"; read by zig's src/libs/glibc.zig):

    u8 library count, NUL-terminated names ("c", "m", "pthread", ...)
    u8 version count, each u8 major, u8 minor, u8 patch (ascending)
    u8 target count, NUL-terminated triples ("x86_64-linux-gnu", ...)
    u16 function inclusions, u16 object inclusions, u16 TLS inclusions; each inclusion:
        NUL-terminated name (empty: same symbol as the previous inclusion)
        uleb128 target bitset; (objects, TLS: uleb128 size); u8 library index (bit 7: last
        inclusion of this symbol); version indexes, u8 each, bit 7 set on the last

The output keeps, for the two Lambda architectures, every symbol's version tags (union over
the libraries below: a symbol that moved from libpthread into libc in 2.34 keeps both its old
and its new version, which is what a build against an older glibc binds).
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "src" / "lambda_glibc_gate" / "data" / "glibc_symbols.json"
ARCHES = {"x86_64": "x86_64-linux-gnu", "aarch64": "aarch64-linux-gnu"}
LIBRARIES = ("c", "m", "pthread", "dl", "rt", "util", "resolv", "ld")


def ziglang_abilists() -> tuple[Path, str]:
    import importlib.metadata

    import ziglang

    path = Path(ziglang.__file__).parent / "lib" / "libc" / "glibc" / "abilists"
    return path, importlib.metadata.version("ziglang")


class Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def u8(self) -> int:
        self.pos += 1
        return self.data[self.pos - 1]

    def u16(self) -> int:
        (value,) = struct.unpack_from("<H", self.data, self.pos)
        self.pos += 2
        return value

    def cstr(self) -> str:
        end = self.data.index(b"\0", self.pos)
        text = self.data[self.pos : end].decode()
        self.pos = end + 1
        return text

    def uleb(self) -> int:
        value = shift = 0
        while True:
            byte = self.u8()
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value


def parse(data: bytes) -> tuple[list[str], list[str], list[str], dict[str, dict[str, dict[str, set[str]]]]]:
    """(libraries, versions, targets, {symbol: {target: {library: {version tag}}}})."""
    r = Reader(data)
    libraries = [r.cstr() for _ in range(r.u8())]
    versions = []
    for _ in range(r.u8()):
        major, minor, patch = r.u8(), r.u8(), r.u8()
        versions.append(f"{major}.{minor}" + (f".{patch}" if patch else ""))
    targets = [r.cstr() for _ in range(r.u8())]
    table: dict[str, dict[str, dict[str, set[str]]]] = {}
    # functions, objects, then TLS objects (zig >= 0.14 adds this third, sized, list)
    for sized in (False, True, True):
        if sized and r.pos == len(data):
            break
        name, new_symbol = "", True
        for _ in range(r.u16()):
            # The count is of inclusions; only a symbol's first inclusion carries its name,
            # and bit 7 of the library byte marks its last one.
            if new_symbol:
                name = r.cstr()
            target_set = r.uleb()
            if sized:
                r.uleb()
            lib_byte = r.u8()
            tags = []
            while True:
                byte = r.u8()
                tags.append(versions[byte & 0x7F])
                if byte & 0x80:
                    break
            library = libraries[lib_byte & 0x7F]
            for index, target in enumerate(targets):
                if target_set >> index & 1:
                    table.setdefault(name, {}).setdefault(target, {}).setdefault(library, set()).update(tags)
            new_symbol = bool(lib_byte & 0x80)
    if r.pos != len(data):
        raise ValueError(f"abilists: {len(data) - r.pos} trailing bytes (format changed?)")
    return libraries, versions, targets, table


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def build(path: Path, zig_version: str) -> dict:
    libraries, versions, targets, table = parse(path.read_bytes())
    # Inverted, to stay small: {arch: {"2.2.5 2.34": "name name ..."}}; "all" holds the symbols
    # whose aarch64 tags are the x86_64 ones with the pre-2.17 baseline read as 2.17.
    groups: dict[str, dict[str, list[str]]] = {"all": {}, "x86_64": {}, "aarch64": {}}
    for name in sorted(table):
        entry = {}
        for arch, triple in ARCHES.items():
            tags: set[str] = set()
            for library, found in table[name].get(triple, {}).items():
                if library in LIBRARIES:
                    tags |= found
            if tags:
                entry[arch] = " ".join(sorted(tags, key=_key))
        if not entry:
            continue
        if "x86_64" in entry and entry.get("aarch64") == _aarch64_view(entry["x86_64"]):
            groups["all"].setdefault(entry["x86_64"], []).append(name)
        else:
            for arch, tags_text in entry.items():
                groups[arch].setdefault(tags_text, []).append(name)
    symbols = {
        arch: {tags: " ".join(names) for tags, names in sorted(by.items(), key=lambda kv: _key(kv[0].split()[0]))}
        for arch, by in groups.items()
    }
    return {
        "source": (
            f"ziglang {zig_version} (PyPI) lib/libc/glibc/abilists: zig's consolidation of the "
            "`.abilist` files of every glibc release (github.com/ziglang/libc-abi-tools); "
            "built by tools/build_glibc_symbols.py"
        ),
        "glibc_releases": versions,
        "libraries": [f"lib{lib}" if lib != "ld" else "ld-linux" for lib in LIBRARIES],
        "format": (
            "symbols: {arch: {'version tags, ascending': 'names, space-separated'}}; under 'all' the "
            "tags are x86_64's, and aarch64's are the same with every tag below 2.17 read as 2.17 "
            "(aarch64's first glibc); tags are the union over the libraries listed"
        ),
        "symbols": symbols,
    }


def _aarch64_view(x86: str | None) -> str | None:
    if x86 is None:
        return None
    tags = sorted({t if _key(t) >= (2, 17) else "2.17" for t in x86.split()}, key=_key)
    return " ".join(tags)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--abilists", type=Path, help="default: the installed ziglang's")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    path, zig_version = ziglang_abilists() if args.abilists is None else (args.abilists, "unknown")
    data = build(path, zig_version)
    args.out.write_text(json.dumps(data, indent=1) + "\n")
    count = sum(len(names.split()) for by in data["symbols"].values() for names in by.values())
    print(f"wrote {count} symbol entries to {args.out} ({args.out.stat().st_size} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
