"""The floor (c): only decompressing the ELF members of a zip, in Python, and discarding them.

Which members are ELF is decided before the clock starts, so the floor does no work a scanner
could not avoid. Two floors: Python's zipfile reader (read and discard), and raw zlib with
bounded output (what a careful reader does); the latter optionally with a faster zlib
(isal or zlib-ng) when one is installed.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path

_LOCAL_HEADER = struct.Struct("<4s5H3L2H")
CHUNK = 1024 * 1024


def elf_members(path: Path) -> list[zipfile.ZipInfo]:
    with zipfile.ZipFile(path) as archive:
        found = []
        for info in archive.infolist():
            with archive.open(info) as member:
                if member.read(4) == b"\x7fELF":
                    found.append(info)
        return found


def zipfile_floor(path: Path, members: list[zipfile.ZipInfo]) -> int:
    """zipfile: open each ELF member and read it in 1 MB chunks, discarding them."""
    total = 0
    with zipfile.ZipFile(path) as archive:
        for info in members:
            with archive.open(info) as member:
                while chunk := member.read(CHUNK):
                    total += len(chunk)
    return total


def raw_floor(path: Path, members: list[zipfile.ZipInfo], module=zlib) -> int:
    """Raw inflate straight from the file with bounded output (no CRC: the true floor)."""
    total = 0
    with open(path, "rb") as file:
        for info in members:
            file.seek(info.header_offset)
            fields = _LOCAL_HEADER.unpack(file.read(_LOCAL_HEADER.size))
            file.seek(fields[-2] + fields[-1], 1)
            remaining = info.compress_size
            if info.compress_type == zipfile.ZIP_STORED:
                while remaining > 0:
                    chunk = file.read(min(CHUNK, remaining))
                    remaining -= len(chunk)
                    total += len(chunk)
                continue
            inflate = module.decompressobj(-15)
            while not inflate.eof:
                data = inflate.unconsumed_tail
                if not data:
                    data = file.read(min(CHUNK, remaining))
                    remaining -= len(data)
                    if not data:
                        break
                total += len(inflate.decompress(data, CHUNK))
    return total


def faster_zlibs() -> list[tuple[str, object]]:
    """(name, module) of each installed drop-in zlib that inflates faster."""
    found = []
    try:
        from zlib_ng import zlib_ng

        found.append(("zlib-ng", zlib_ng))
    except ImportError:
        pass
    try:
        from isal import isal_zlib

        found.append(("isal", isal_zlib))
    except ImportError:
        pass
    return found


def find_and_read(paths: list[str]) -> int:
    """The floor as a program: for each zip, look at every member's first bytes and read the
    ELF ones whole (zipfile, read and discard), as a scanner must at the least."""
    total = 0
    for path in paths:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                with archive.open(info) as member:
                    if member.read(4) != b"\x7fELF":
                        continue
                    while chunk := member.read(CHUNK):
                        total += len(chunk)
    return total


if __name__ == "__main__":
    import sys

    find_and_read(sys.argv[1:])
