"""The floor (c): only decompressing the ELF members of a zip, in Python, and discarding them.

Which members are ELF is decided before the clock starts, so the floor does no work a scanner
could not avoid. Two floors: Python's zipfile reader (read and discard), and raw zlib with
bounded output (what a careful reader does); the latter optionally with a faster zlib
(isal or zlib-ng) when one is installed, and on one core or several (the members split into runs
of about equal compressed size, one process per run).

As a program: python floor.py [--processes N] ZIP... finds the ELF members itself (the first
bytes of every member) and inflates them whole, with the fastest zlib installed (as the scanner
does), on N processes.
"""

from __future__ import annotations

import multiprocessing
import struct
import zipfile
import zlib
from pathlib import Path

try:  # what the scanner uses when it is installed
    from zlib_ng import zlib_ng as FASTEST
except ImportError:
    FASTEST = zlib

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


def runs(members: list[zipfile.ZipInfo], count: int) -> list[list[zipfile.ZipInfo]]:
    """`members` in `count` runs of consecutive ones, of about equal compressed size."""
    total = sum(info.compress_size for info in members)
    found: list[list[zipfile.ZipInfo]] = [[]]
    size = 0
    for info in members:
        if found[-1] and size + info.compress_size > total / count and len(found) < count:
            found.append([])
            size = 0
        found[-1].append(info)
        size += info.compress_size
    return found


def raw_floor_parallel(path: Path, members: list[zipfile.ZipInfo], module, processes: int,
                       pool: multiprocessing.pool.Pool) -> int:
    """raw_floor on `processes` cores: each process inflates one run of the members."""
    shares = runs(members, processes)
    return sum(pool.starmap(_raw_floor_by_name, [(path, share, module.__name__) for share in shares]))


def _raw_floor_by_name(path: Path, members: list[zipfile.ZipInfo], module_name: str) -> int:
    import importlib

    return raw_floor(path, members, importlib.import_module(module_name))


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


def find_and_inflate(path: str, share: int, shares: int) -> int:
    """One process's part of the floor program: the members of its run, ELF ones inflated."""
    with zipfile.ZipFile(path) as archive:
        members = runs(archive.infolist(), shares)[share] if share < shares else []
    total = 0
    with open(path, "rb") as file:
        for info in members:
            total += _inflate_if_elf(file, info)
    return total


def _inflate_if_elf(file, info: zipfile.ZipInfo) -> int:
    file.seek(info.header_offset)
    fields = _LOCAL_HEADER.unpack(file.read(_LOCAL_HEADER.size))
    file.seek(fields[-2] + fields[-1], 1)
    remaining = info.compress_size
    inflate = FASTEST.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
    total = 0
    first = True
    while remaining > 0 or (inflate is not None and inflate.unconsumed_tail):
        data = inflate.unconsumed_tail if inflate is not None and inflate.unconsumed_tail else b""
        if not data:
            data = file.read(min(1024 if first else CHUNK, remaining))
            remaining -= len(data)
            if not data:
                break
        out = inflate.decompress(data, 512 if first else CHUNK) if inflate is not None else data
        if first and len(out) >= 4:
            if out[:4] != b"\x7fELF":
                return total
            first = False
        total += len(out)
        if inflate is not None and inflate.eof:
            break
    return total


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="the floor as a program")
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--zipfile", action="store_true", help="one process, Python's zipfile reader")
    parser.add_argument("zips", nargs="+")
    args = parser.parse_args()
    if args.zipfile:
        find_and_read(args.zips)
    elif args.processes <= 1:
        for zip_path in args.zips:
            find_and_inflate(zip_path, 0, 1)
    else:
        with multiprocessing.get_context("fork").Pool(args.processes) as workers:
            for zip_path in args.zips:
                workers.starmap(find_and_inflate, [(zip_path, n, args.processes) for n in range(args.processes)])
