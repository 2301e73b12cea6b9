"""The byte layout of a zip, read the way extractors read it: names (flag bit 11, the Info-ZIP
Unicode Path field), local headers, the real size of the central directory, and bytes that no
central entry accounts for. Facts only; archive/zip.py turns them into findings.

Two extractors are the reference, because they disagree and Lambda does not say which one it
uses: Info-ZIP unzip 6.0 (process.c, fileio.c do_string) reads each member's name and extra
field from its *local* header; Python's zipfile reads them from the *central directory*.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

FLAG_UTF8 = 0x800
UNICODE_PATH = 0x7075  # Info-ZIP Unicode Path extra field (APPNOTE 4.6.9)
UNICODE_PATH_ID = UNICODE_PATH.to_bytes(2, "little")
LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # APPNOTE 4.3.7: 30 bytes
CENTRAL_HEADER_SIZE = 46  # APPNOTE 4.3.12: the fixed part of a central directory entry
LOCAL_SIGNATURE = b"PK\x03\x04"
_CENTRAL_SIGNATURE = b"PK\x01\x02"
# Unlisted bytes searched for a hidden local header, per artifact: real zips have none beyond
# data descriptors (at most 24 bytes a member) and a self-extractor stub.
GAP_SCAN_LIMIT = 16 * 2**20
_GAP_CHUNK = 1 * 2**20


def extra_fields(extra: bytes) -> Iterator[tuple[int, bytes]]:
    """(id, body) of each extra block. A block longer than what is left ends the scan, as in
    unzip's getUnicodeData ("block length > rest ef_size")."""
    at = 0
    while at + 4 <= len(extra):
        kind, size = struct.unpack_from("<HH", extra, at)
        if at + 4 + size > len(extra):
            return
        yield kind, extra[at + 4 : at + 4 + size]
        at += 4 + size


def unicode_path(raw: bytes, extra: bytes) -> str | None:
    """The name a Unicode Path field gives `raw`, or None when there is no field that counts.

    Both readers take the field only when its version is 1 and its CRC-32 is that of the header
    name (a stale field is ignored): CPython's ZipInfo._decodeExtra (3.12+, `tp == 0x7075`,
    `up_version == 1 and up_name_crc == filename_crc`) and unzip's getUnicodeData. An empty name
    means "the header name is UTF-8" to unzip and is ignored by Python: the header name either
    way. The last valid field wins (Python keeps looping). Undecodable UTF-8 stays visible as
    surrogate escapes, so it can never equal a clean name.
    """
    if UNICODE_PATH_ID not in extra:
        return None  # the common case, kept cheap
    found = None
    crc = None
    for kind, body in extra_fields(extra):
        if kind != UNICODE_PATH or len(body) < 5:
            continue
        version, name_crc = struct.unpack_from("<BL", body)
        if crc is None:
            crc = zlib.crc32(raw)
        if version == 1 and name_crc == crc and len(body) > 5:
            found = body[5:].decode("utf-8", "surrogateescape")
    return found


@dataclass(frozen=True)
class NameView:
    """What one reader makes of a name: the text it writes, and how it got it."""

    name: str
    source: str  # "utf8-flag" | "ascii" | "unicode-path" | "raw-bytes"


def unzip_name(raw: bytes, flags: int, extra: bytes) -> NameView:
    """The name unzip 6.0 writes on Linux (UTF-8 locale), from a local header.

    With flag bit 11 the name is UTF-8 and the Unicode Path field is not consulted (fileio.c
    do_string: `if (G.pInfo->GPFIsUTF8) ... else getUnicodeData(...)`). Without it, a valid
    Unicode Path field names the file. Otherwise unzip writes the header bytes as they are for a
    zip made on Unix (Ext_ASCII_TO_Native is a no-op there), but converts OEM (cp437) bytes to
    ISO 8859-1 for one made on MS-DOS/Windows (FS_FAT_): tested with Debian's unzip 6.0,
    "lib/b\\xc3\\xa9.so" is written as those bytes from a Unix zip and as "lib/b+\\xae.so" from
    a FAT one. Python's zipfile instead decodes every such name as cp437. Raw bytes are what
    this tool judges (decoded as Linux file names are, UTF-8 with surrogate escapes); the caller
    flags a non-ASCII name without the flag, because what lands on disk depends on the tool.
    """
    if flags & FLAG_UTF8:
        return NameView(raw.decode("utf-8", "surrogateescape"), "utf8-flag")
    unicode = unicode_path(raw, extra)
    if unicode is not None:
        return NameView(unicode, "unicode-path")
    if raw.isascii():
        return NameView(raw.decode("ascii"), "ascii")
    return NameView(raw.decode("utf-8", "surrogateescape"), "raw-bytes")


def python_name(raw: bytes, flags: int, extra: bytes) -> str:
    """The name CPython 3.12+'s zipfile writes, from a central directory entry: UTF-8 with flag
    bit 11, else cp437; then a valid Unicode Path field replaces it, whatever the flag."""
    unicode = unicode_path(raw, extra)
    if unicode is not None:
        return unicode
    return raw.decode("utf-8", "surrogateescape") if flags & FLAG_UTF8 else raw.decode("cp437")


class LocalHeader(NamedTuple):  # a tuple: one is made per member
    flags: int
    raw_name: bytes
    extra: bytes
    data_offset: int


def read_local_header(fd: int, offset: int, hint: int) -> LocalHeader | None:
    """The local header at `offset` (None when there is none); `hint` is the name and extra
    size expected, so that one read usually gets it all."""
    if offset < 0:
        return None
    head = os.pread(fd, LOCAL_HEADER.size + hint + 64, offset)
    if len(head) < LOCAL_HEADER.size:
        return None
    fields = LOCAL_HEADER.unpack_from(head)
    if fields[0] != LOCAL_SIGNATURE:
        return None
    flags, name_length, extra_length = fields[2], fields[-2], fields[-1]
    end = LOCAL_HEADER.size + name_length + extra_length
    if len(head) < end:
        head = os.pread(fd, end, offset)
        if len(head) < end:
            return None
    name_end = LOCAL_HEADER.size + name_length
    return LocalHeader(flags, head[LOCAL_HEADER.size : name_end], head[name_end:end], offset + end)


def hidden_local_header(fd: int, start: int, end: int, budget: list[int]) -> int | None:
    """The offset of a local header signature in [start, end), bytes no central entry lists, or
    None. `budget` ([bytes left]) bounds the search over a whole artifact."""
    at = start
    while at < end and budget[0] > 0:
        size = min(_GAP_CHUNK, end - at, budget[0])
        chunk = os.pread(fd, size + len(LOCAL_SIGNATURE) - 1, at)
        budget[0] -= size
        found = chunk.find(LOCAL_SIGNATURE)
        if 0 <= found < size and at + found + len(LOCAL_SIGNATURE) <= end:
            return at + found
        if len(chunk) < size:
            return None
        at += size
    return None


class ZipFormatError(Exception):
    """The zip's structure cannot be read (the message says why, in zipfile's words)."""


class CentralEntry:
    """One central directory entry, with the attributes of zipfile.ZipInfo that are used here
    (header_offset already corrected for data prepended to the zip, as zipfile does)."""

    __slots__ = ("CRC", "compress_size", "compress_type", "create_system", "external_attr",
                 "extra", "file_size", "flag_bits", "header_offset", "orig_filename", "raw_name")

    def __init__(self, fields: tuple, raw_name: bytes, extra: bytes, concat: int) -> None:
        self.raw_name = raw_name
        self.flag_bits = fields[5]
        # zipfile's decoding: UTF-8 with flag bit 11 (an invalid name fails the whole zip), else
        # cp437; the name judged is decided elsewhere (unzip_name), from the raw bytes
        self.orig_filename = raw_name.decode("utf-8" if self.flag_bits & FLAG_UTF8 else "cp437")
        self.create_system = fields[2]
        self.compress_type = fields[6]
        self.CRC, self.compress_size, self.file_size = fields[9], fields[10], fields[11]
        self.external_attr = fields[17]
        self.header_offset = fields[18]
        self.extra = extra
        if extra and 0xFFFF_FFFF in (self.file_size, self.compress_size, self.header_offset):
            self._zip64(extra)
        self.header_offset += concat

    def _zip64(self, extra: bytes) -> None:
        """Sizes and offset from the zip64 extra field (0x0001), with zipfile's checks."""
        at = 0
        while len(extra) - at >= 4:
            kind, size = struct.unpack_from("<HH", extra, at)
            if at + 4 + size > len(extra):
                raise ZipFormatError(f"Corrupt extra field {kind:04x} (size={size})")
            if kind == 1:
                data = extra[at + 4 : at + 4 + size]
                try:
                    if self.file_size in (0xFFFF_FFFF_FFFF_FFFF, 0xFFFF_FFFF):
                        (self.file_size,) = struct.unpack_from("<Q", data)
                        data = data[8:]
                    if self.compress_size == 0xFFFF_FFFF:
                        (self.compress_size,) = struct.unpack_from("<Q", data)
                        data = data[8:]
                    if self.header_offset == 0xFFFF_FFFF:
                        (self.header_offset,) = struct.unpack_from("<Q", data)
                except struct.error:
                    raise ZipFormatError("Corrupt zip64 extra field") from None
            at += 4 + size


_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")  # APPNOTE 4.3.12, zipfile's structCentralDir
_END = struct.Struct("<4s4H2LH")  # end of central directory record
_END64_LOCATOR = struct.Struct("<4sLQL")
_END64 = struct.Struct("<4sQ2H2L4Q")
_MAX_EXTRACT_VERSION = 63  # zipfile refuses entries that need a later version


def locate_directory(fd: int) -> tuple[int, int, int]:
    """(start, size, concat) of the central directory, found exactly as zipfile's
    _EndRecData/_EndRecData64/_RealGetContents find it: the end record (the last one, or the
    one without a comment at the very end), a zip64 record right before its locator, and
    `concat`, the bytes prepended to the zip, added to every member's offset."""
    file_size = os.fstat(fd).st_size
    tail_size = min(file_size, _END.size + 65535)
    tail = os.pread(fd, tail_size, file_size - tail_size)
    if tail[-_END.size :].startswith(b"PK\x05\x06") and tail[-2:] == b"\0\0":
        at = len(tail) - _END.size
    else:
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or at + _END.size > len(tail):
            raise ZipFormatError("File is not a zip file")
    record = _END.unpack_from(tail, at)
    location = file_size - tail_size + at
    size, offset = record[5], record[6]
    concat = location - size - offset
    locator_at = location - _END64_LOCATOR.size
    if locator_at >= 0:
        locator = os.pread(fd, _END64_LOCATOR.size, locator_at)
        if len(locator) == _END64_LOCATOR.size and locator[:4] == b"PK\x06\x07":
            _, disk, _, disks = _END64_LOCATOR.unpack(locator)
            if disk != 0 or disks > 1:
                raise ZipFormatError("zipfiles that span multiple disks are not supported")
            record64_at = locator_at - _END64.size
            record64 = os.pread(fd, _END64.size, record64_at) if record64_at >= 0 else b""
            if len(record64) == _END64.size and record64[:4] == b"PK\x06\x06":
                fields = _END64.unpack(record64)
                size, offset = fields[8], fields[9]
                concat = location - size - offset - _END64.size - _END64_LOCATOR.size
    start = offset + concat
    if start < 0:
        raise ZipFormatError("Bad offset for central directory")
    return start, size, concat


def _count_entries(fd: int, start: int, size: int, stop_after: int) -> int:
    """Entries in the directory, walked in blocks (memory stays small whatever it claims),
    stopping once past `stop_after`; raises ZipFormatError as zipfile would."""
    count = 0
    at = 0
    block = b""
    block_at = 0
    while at < size:
        if at + CENTRAL_HEADER_SIZE > block_at + len(block):
            block_at = at
            block = os.pread(fd, min(size - at, _DIRECTORY_BLOCK), start + at)
        offset = at - block_at
        if len(block) - offset < CENTRAL_HEADER_SIZE:
            raise ZipFormatError("Truncated central directory")
        if block[offset : offset + 4] != _CENTRAL_SIGNATURE:
            raise ZipFormatError("Bad magic number for central directory")
        name, extra, comment = struct.unpack_from("<3H", block, offset + 28)
        at += CENTRAL_HEADER_SIZE + name + extra + comment
        count += 1
        if count > stop_after:
            break
    return count


_DIRECTORY_BLOCK = 4 * 2**20


def read_central_directory(fd: int, stop_after: int) -> tuple[list[CentralEntry], int, int]:
    """(entries, directory start, entries counted) as zipfile parses them: one after another
    until the directory's size is used up, whatever the end record's count says. The count
    can lie low, so the directory is walked (cheap, no objects) and nothing is built once
    more than `stop_after` entries are found; then the list is empty."""
    start, size, concat = locate_directory(fd)
    count = _count_entries(fd, start, size, stop_after)
    if count > stop_after:
        return [], start, count
    data = os.pread(fd, size, start) if size else b""
    unpack = _CENTRAL.unpack_from
    header = _CENTRAL.size
    entries = []
    at = 0
    while at < size:
        fields = unpack(data, at)
        if fields[3] > _MAX_EXTRACT_VERSION:
            raise ZipFormatError(f"zip file version {fields[3] / 10:.1f}")
        name_end = at + header + fields[12]
        extra_end = name_end + fields[13]
        entries.append(CentralEntry(fields, data[at + header : name_end], data[name_end:extra_end],
                                    concat))
        at = extra_end + fields[14]
    return entries, start, count
