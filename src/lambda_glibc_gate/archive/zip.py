"""Zip members read straight from the file with bounded decompression, judged as an extractor
writes them (zip_layout reads the central directory and local headers)."""

from __future__ import annotations

import bz2
import lzma
import os
import stat
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator

from lambda_glibc_gate import zip_layout

try:  # installed where it has wheels (pyproject.toml): the same API, inflates about twice as fast
    from zlib_ng import zlib_ng as _fast_zlib
except ImportError:
    _fast_zlib = zlib

from lambda_glibc_gate.archive import lazy
from lambda_glibc_gate.archive.lazy import Mark
from lambda_glibc_gate.archive.reader import (
    _DRIVE_LETTER,
    _FIRST_INPUT,
    _FIRST_OUTPUT,
    _FLAG_ENCRYPTED,
    _FLAG_UTF8,
    _INPUT_CHUNK,
    _LOCAL_HEADER,
    _OUTPUT_CHUNK,
    _PLAUSIBLE_RATIO,
    _RATIO_FLOOR,
    UNREADABLE,
    UNSAFE,
    Artifact,
    Limits,
    Member,
    _link_problem,
    _Problem,
    _quoted,
    safe_name,
)

# A member read lazily (lazy.py) is fed to the decompressor in smaller pieces: a mark can only be
# taken once the input given is consumed, which with ELF's 2-10:1 happens every MB of output or so.
_MARKED_INPUT = 256 * 1024

# -- zip ---------------------------------------------------------------------------------------
def _name_problem(raw: str, max_bytes: int) -> _Problem | None:
    """Why a zip member name is unsafe or ambiguous to unpack, or None."""
    shown = _quoted(raw)
    if not raw:
        return _Problem(
            UNSAFE,
            "empty-name",
            "a zip member has an empty name: unzip tools cannot create it, and disagree on what to do instead",
        )
    if "\x00" in raw:
        return _Problem(
            UNSAFE,
            "nul-in-name",
            f"zip member {shown} has a NUL byte in its name: unzip tools cut it at "
            "different places, so what Lambda unpacks is ambiguous",
        )
    size = len(raw.encode("utf-8", "surrogateescape"))
    if size > max_bytes:
        return _Problem(
            UNSAFE,
            "name-too-long",
            f"zip member {shown} has a {size}-byte name (limit {max_bytes}): it "
            "cannot be unpacked on Lambda's file system",
            size=size,
        )
    if raw.startswith("/"):
        return _Problem(
            UNSAFE,
            "absolute-path",
            f"zip member {shown} has an absolute path: it would not land in the "
            "package folder (/var/task, or /opt for a layer); zip the package from "
            "inside its folder",
        )
    if _DRIVE_LETTER.match(raw):
        return _Problem(
            UNSAFE,
            "drive-letter",
            f"zip member {shown} starts with a Windows drive letter: it would not "
            "land in the package folder; zip the package from inside its folder",
        )
    if "\\" in raw:
        return _Problem(
            UNSAFE,
            "backslash",
            f"zip member {shown} uses backslashes: Linux unzip tools may take them as "
            "part of the file name, not as folders, so the file is not where the "
            "code looks for it (Windows PowerShell's Compress-Archive is a known "
            "cause); rebuild the zip with a tool that writes '/'",
        )
    if ".." in raw.split("/"):
        return _Problem(
            UNSAFE,
            "parent-reference",
            f"zip member {shown} has a '..' component (zip slip): it points outside "
            "the package, and unzip tools disagree on where it lands",
        )
    return None


def _normalise(raw: str) -> str:
    """ "./bin//bootstrap" -> "bin/bootstrap" (only called on names _name_problem accepted)."""
    if "//" not in raw and "." not in raw[:1] and "/." not in raw and not raw.endswith("/"):
        return raw  # the common case, kept cheap: nothing to drop
    return "/".join(part for part in raw.split("/") if part not in ("", "."))


def _zip_mode(info: zip_layout.CentralEntry) -> int | None:
    high = info.external_attr >> 16
    return high if (info.create_system == 3 or high) else None


class _Inflate:
    """Raw deflate with the interface of bz2/lzma decompressors (needs_input, eof)."""

    def __init__(self) -> None:
        self._zlib = _fast_zlib.decompressobj(-zlib.MAX_WBITS)

    @property
    def eof(self) -> bool:
        return self._zlib.eof

    @property
    def needs_input(self) -> bool:
        return not self._zlib.unconsumed_tail

    def decompress(self, data: bytes, max_length: int) -> bytes:
        tail = self._zlib.unconsumed_tail
        return self._zlib.decompress(tail + data if tail else data, max_length)

    def copy(self) -> _Inflate:
        """The state as it is now (zlib's inflateCopy: the window and the pending match)."""
        copied = _Inflate.__new__(_Inflate)
        copied._zlib = self._zlib.copy()
        return copied


class _ZipLzma:
    """LZMA as zip stores it (APPNOTE 5.8.8): version (2), properties size (2), properties,
    then a raw LZMA1 stream, whose end marker is optional."""

    def __init__(self) -> None:
        self._header = b""
        self._lzma: lzma.LZMADecompressor | None = None

    @property
    def eof(self) -> bool:
        return self._lzma is not None and self._lzma.eof

    @property
    def needs_input(self) -> bool:
        return self._lzma is None or self._lzma.needs_input

    def decompress(self, data: bytes, max_length: int) -> bytes:
        if self._lzma is None:
            self._header += data
            if len(self._header) < 4:
                return b""
            (props_size,) = struct.unpack("<H", self._header[2:4])
            if props_size != 5:
                raise lzma.LZMAError(f"LZMA properties of {props_size} bytes, expected 5")
            if len(self._header) < 9:
                return b""
            props, data = self._header[4:9], self._header[9:]
            pb_lp, lc = divmod(props[0], 9)
            pb, lp = divmod(pb_lp, 5)
            options = {
                "id": lzma.FILTER_LZMA1,
                "lc": lc,
                "lp": lp,
                "pb": pb,
                "dict_size": int.from_bytes(props[1:5], "little"),
            }
            self._lzma = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[options])
        return self._lzma.decompress(data, max_length)


_DECOMPRESSORS: dict[int, Callable[[], object]] = {
    zipfile.ZIP_DEFLATED: _Inflate,
    zipfile.ZIP_BZIP2: bz2.BZ2Decompressor,
    zipfile.ZIP_LZMA: _ZipLzma,
}
_CORRUPT_DATA = (zlib.error, _fast_zlib.error, lzma.LZMAError, OSError, EOFError, ValueError)


def declared_entry_count(path: str) -> int | None:
    """Entries the end-of-central-directory record declares (zip64 too); None if not found."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            tail_size = min(size, 22 + 65535 + 20)  # EOCD + the longest comment + zip64 locator
            handle.seek(size - tail_size)
            tail = handle.read(tail_size)
            end = tail.rfind(b"PK\x05\x06")
            if end < 0 or end + 22 > len(tail):
                return None
            (entries,) = struct.unpack_from("<H", tail, end + 10)
            locator = end - 20
            if entries == 0xFFFF and locator >= 0 and tail[locator : locator + 4] == b"PK\x06\x07":
                (zip64_at,) = struct.unpack_from("<Q", tail, locator + 8)
                handle.seek(zip64_at)
                record = handle.read(56)
                if record[:4] == b"PK\x06\x06" and len(record) == 56:
                    (entries,) = struct.unpack_from("<Q", record, 32)
            return entries
    except (OSError, struct.error, ValueError):
        return None


def largest_declared_member(path: str, limits: Limits = Limits()) -> int | None:  # noqa: B008 - frozen
    """The largest uncompressed size a zip's central directory declares, or None when it cannot
    be read or holds more than `limits.max_members` entries (counted, not taken from the end
    record, so a lying count is refused before any entry is built). For sizing work up front
    (parallel.estimated_memory) without zipfile, whose parsing of such a directory costs
    hundreds of MB."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except OSError:
        return None
    try:
        entries, _, count = zip_layout.read_central_directory(fd, limits.max_members)
    except Exception:  # noqa: BLE001 - malformed input raises many types
        return None
    finally:
        os.close(fd)
    if count > limits.max_members:
        return None
    return max((entry.file_size for entry in entries), default=0)


class _ZipArtifact(Artifact):
    def __init__(self, path: str, limits: Limits) -> None:
        super().__init__(path, "zip", limits)
        self._infos: dict[str, zip_layout.CentralEntry] = {}
        self._member_at: dict[str, int] = {}  # name -> index in _members (duplicates: the last)
        self._raw_of: dict[str, str] = {}  # judged name -> the name as written in the zip
        self._folders: set[str] = set()  # explicit folder entries
        # where each member's data starts (its local header read at load), or why it cannot be read
        self._local: dict[zip_layout.CentralEntry, int | _Problem] = {}
        self._file = None
        self._load()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _load(self) -> None:
        declared = declared_entry_count(self.path)
        if declared is not None and declared > self.limits.max_members:
            # Refuse before zipfile builds a ZipInfo per entry: a count bomb costs memory there.
            self._check_count(declared)
            return
        try:
            self._file = open(self.path, "rb")  # noqa: SIM115 - kept open until close()
            # Parsed here, not by zipfile: the raw name bytes are needed (zip_layout), and the
            # end record's count can lie low (zipfile parses until the directory's size is used
            # up): counting first refuses a count bomb before an object is built per entry.
            infos, directory_at, real = zip_layout.read_central_directory(self._file.fileno(), self.limits.max_members)
        except Exception as error:  # noqa: BLE001 - malformed input raises many types
            self._report(
                UNREADABLE,
                "not-a-zip",
                f"cannot read {_quoted(self.path)} as a zip ({safe_name(str(error))}): Lambda would reject it as well",
            )
            self.close()
            return
        if not self._check_count(real):
            return
        if not infos:
            self._report(
                UNREADABLE, "empty-zip", "the zip is empty: a Lambda package needs at least its handler or bootstrap"
            )
            return
        self._check_overlap(infos)
        names = self._read_local_headers(infos, directory_at)
        for info, name in zip(infos, names, strict=True):
            mode, kind = _zip_kind(info, name)
            if kind == "folder-mode-file":
                kind = "file"
                self._report(
                    UNSAFE,
                    "folder-mode-file",
                    f"zip member {_quoted(name)} has a folder's mode but no trailing '/' "
                    f"({info.file_size:,} bytes): unzip and Python's zipfile write it as "
                    "a file, which is judged here; a tool that trusts the mode may make "
                    "a folder; rebuild the zip",
                    name,
                )
            if kind == "file":
                self.unpacked_size += info.file_size
            self._add(info, name, mode, kind)
        self._check_file_and_folder()
        self._check_total_size()

    # -- names and local headers: what an extractor sees ---------------------------------------
    def _read_local_headers(self, infos: list[zip_layout.CentralEntry], directory_at: int) -> list[str]:
        """Each member's local header, read once: the name judged is the one unzip writes (from
        the local header), checked against the one Python's zipfile writes (from the central
        directory); bytes between members are searched for entries the directory hides."""
        assert self._file is not None
        fd = self._file.fileno()
        names = []
        extents = []
        unicode_path = zip_layout.UNICODE_PATH_ID
        for info in infos:
            central_raw = info.raw_name
            ascii_name = central_raw.isascii()
            try:
                local = zip_layout.read_local_header(fd, info.header_offset, len(central_raw) + len(info.extra))
            except (OSError, OverflowError, ValueError):
                local = None
            if (
                ascii_name
                and local is not None
                and local.raw_name == central_raw
                and unicode_path not in local.extra
                and unicode_path not in info.extra
            ):
                # the common case, kept cheap: every reader writes an ASCII name as it is
                self._local[info] = local.data_offset
                extents.append((info.header_offset, local.data_offset + info.compress_size))
                names.append(info.orig_filename)
                continue
            central_view = zip_layout.unzip_name(central_raw, info.flag_bits, info.extra)
            if local is None:
                self._local[info] = _Problem(
                    UNREADABLE,
                    "bad-local-header",
                    f"zip member {_quoted(central_view.name)} has no valid local header: the zip "
                    "is corrupt; Lambda would reject it",
                )
                names.append(central_view.name)
                extents.append((info.header_offset, info.header_offset + _LOCAL_HEADER.size))
                continue
            self._local[info] = local.data_offset
            extents.append((info.header_offset, local.data_offset + info.compress_size))
            names.append(self._judged_name(info, central_raw, central_view, local))
        self._check_hidden_entries(fd, extents, directory_at)
        return names

    def _judged_name(
        self,
        info: zip_layout.CentralEntry,
        central_raw: bytes,
        central_view: zip_layout.NameView,
        local: zip_layout.LocalHeader,
    ) -> str:
        if local.raw_name != central_raw:
            # unzip takes the name from the local header, zipfile from the central directory
            shown = local.raw_name.decode("utf-8", "replace")
            problem = _Problem(
                UNSAFE,
                "name-mismatch",
                f"zip member {_quoted(central_view.name)} has another name in its "
                f"local header ({_quoted(shown)}): unzip tools disagree on what it "
                "is called",
            )
            self._local[info] = problem
            self._report_problem(problem, central_view.name)
            return central_view.name
        # unzip takes the UTF-8 flag from the central directory (it only warns when the local
        # header's differs: extract.c, GP11FlagsDiffer), the name and extra field from the local
        view = zip_layout.unzip_name(local.raw_name, info.flag_bits, local.extra)
        python = zip_layout.python_name(central_raw, info.flag_bits, info.extra)
        header = central_raw.decode("utf-8", "surrogateescape")
        if (local.flags ^ info.flag_bits) & _FLAG_UTF8 and not central_raw.isascii():
            self._report(
                UNSAFE,
                "flag-mismatch",
                f"zip member {_quoted(view.name)} is marked UTF-8 in one of its headers "
                "and not in the other: tools that read the local header decode its name "
                "differently from those that read the central directory; rebuild the zip",
                view.name,
            )
        if "unicode-path" in (view.source, central_view.source) or python != view.name and view.source != "raw-bytes":
            if len({view.name, central_view.name, python}) > 1 or view.name != header:
                self._report(
                    UNSAFE,
                    "unicode-path",
                    f"zip member {_quoted(header)} is renamed by an Info-ZIP Unicode Path field "
                    f"(0x7075), or its local and central headers name it differently: unzip "
                    f"writes {_quoted(view.name)}, Python 3.12's zipfile {_quoted(python)}, tools "
                    "that ignore the field the header name; rebuild the zip so they agree",
                    view.name,
                    unzip=view.name,
                    python=python,
                )
        elif view.source == "raw-bytes":
            # Without flag bit 11 the name's encoding is unknown: unzip on Linux writes these
            # bytes for a zip made on Unix (judged here), converts cp437 to Latin-1 for one made
            # on Windows, and Python's zipfile decodes cp437 (zip_layout.unzip_name).
            made_on_windows = (
                " for a zip made on Unix, but this one was made on Windows, so "
                "unzip converts them from cp437 to Latin-1"
                if info.create_system == 0
                else ""
            )
            self._report(
                UNSAFE,
                "ambiguous-name-encoding",
                f"zip member {_quoted(view.name)} has a non-ASCII name without the UTF-8 flag: "
                f"unzip writes its bytes as they are (judged here){made_on_windows}, Python's "
                f"zipfile writes {_quoted(python)}; rebuild the zip with a tool that marks UTF-8 "
                "names",
                view.name,
                severity="warning",
                python=python,
            )
        return view.name

    def _check_hidden_entries(self, fd: int, extents: list[tuple[int, int]], directory_at: int) -> None:
        """Bytes no central entry accounts for (before the first member, between members, before
        the directory) that hold a local header: unzip never sees that entry, while tools that
        stream local headers front to back unpack it. Real zips have only data descriptors
        there (12-24 bytes), which cannot hold one."""
        budget = [zip_layout.GAP_SCAN_LIMIT]
        covered = 0
        gaps = []
        for start, end in sorted(extents):
            if start > covered:
                gaps.append((covered, start))
            covered = max(covered, end)
        if directory_at > covered:
            gaps.append((covered, directory_at))
        for start, end in gaps:
            try:
                found = zip_layout.hidden_local_header(fd, start, end, budget)
            except (OSError, OverflowError, ValueError):
                return
            if found is not None:
                self._report(
                    UNSAFE,
                    "hidden-entry",
                    f"the zip holds a local file entry at byte {found:,} that its central "
                    "directory does not list: unzip never unpacks it, tools that read "
                    "the zip front to back do, so what lands on Lambda depends on the "
                    "tool; rebuild the zip",
                    offset=found,
                )
                return

    def _add(self, info: zip_layout.CentralEntry, raw: str, mode: int | None, kind: str) -> None:
        problem = _name_problem(raw, self.limits.max_name_length)
        if problem is not None:
            self._report_problem(problem, safe_name(raw))
            return
        if kind != "dir" and raw.rsplit("/", 1)[-1] in (".", ""):
            # unzip writes "bootstrap/." as "bootstrap/_", Python's zipfile as "bootstrap"
            self._report(
                UNSAFE,
                "dot-name",
                f"zip member {_quoted(raw)} is a file whose last name part is '.': "
                "extractors write it under different names (unzip 'x/_', Python's "
                "zipfile 'x'); it was not judged; rebuild the zip",
                raw,
            )
            return
        name = _normalise(raw)
        if not name:
            return
        if kind == "dir":
            self._folders.add(name)
            return
        earlier_raw = self._raw_of.get(name)
        if earlier_raw is not None and earlier_raw != raw:
            self._report(
                UNSAFE,
                "normalised-collision",
                f"zip members {_quoted(earlier_raw)} and {_quoted(raw)} are the same "
                f"path {_quoted(name)} once '.' and empty parts are dropped: extractors "
                "disagree on which one lands there; the last is judged; rebuild the "
                "zip",
                name,
            )
        elif name in self._infos:
            # unzip, Python's zipfile and other extractors write entries in order, so the last
            # copy is the one on disk: judge that one, and say so.
            self._report(
                UNSAFE,
                "duplicate",
                f"zip member {_quoted(name)} appears more than once: an extractor keeps "
                "the last copy, which is the one judged here; rebuild the zip so "
                "what runs is unambiguous",
                name,
            )
        if name in self._infos:
            earlier = self._member_at.pop(name, None)
            if earlier is not None:
                self._members[earlier] = None  # overwritten on extraction
        self._infos[name] = info
        self._raw_of[name] = raw
        target = None
        if kind == "link":
            target = self._link_target(name, info)
            if target is None:
                return
        self._member_at[name] = len(self._members)
        self._members.append(Member(name, info.file_size, mode, target is not None, target))

    def _check_file_and_folder(self) -> None:
        """A name that is a file (or link) and also the folder of other members: unzip stops
        with "checkdir error: lib exists but is not directory" and skips what is inside; other
        tools replace one with the other, depending on the order."""
        parents: dict[str, str] = {}  # folder -> one member inside it
        for name in list(self._member_at) + sorted(self._folders):
            folder = name
            while "/" in folder:
                folder = folder.rsplit("/", 1)[0]
                if folder in parents:
                    break
                parents[folder] = name
        for name in self._member_at:
            inside = parents.get(name)
            if inside is None and name not in self._folders:
                continue
            inside = inside or f"{name}/"
            self._report(
                UNSAFE,
                "file-and-folder",
                f"zip member {_quoted(name)} is a file and also a folder (of "
                f"{_quoted(inside)}): unzip fails with '{safe_name(name)} exists but is "
                "not directory', other tools keep one or the other; rebuild the zip",
                name,
            )

    def _link_target(self, name: str, info: zip_layout.CentralEntry) -> str | None:
        """A symlink member's target (its content), or None after a finding."""
        cap = self.limits.max_link_target
        if info.file_size > cap:
            self._report(
                UNSAFE,
                "link-too-long",
                f"symlink {_quoted(name)} declares a {info.file_size:,}-byte target (limit {cap:,}): not a real link",
                name,
            )
            return None
        # The member is read through the common loop as if it were a file.
        raw = self._read(Member(name, info.file_size, None, False, None), cap)
        if raw is None:
            return None
        target = raw.decode("utf-8", "surrogateescape")
        problem = _link_problem(name, target)
        if problem is not None:
            self._report_problem(problem, name)
            return None
        return target

    def _check_overlap(self, infos: list[zip_layout.CentralEntry]) -> None:
        """Members whose data overlap are the trick of non-recursive zip bombs; unzip rejects
        them. The lower bound of each member's extent is enough to prove an overlap."""
        ordered = sorted(infos, key=lambda info: info.header_offset)
        for first, second in zip(ordered, ordered[1:], strict=False):
            # a name takes at least one byte per character, in cp437 or UTF-8
            end = first.header_offset + _LOCAL_HEADER.size + len(first.orig_filename) + first.compress_size
            if second.header_offset < end:
                self._report(
                    UNSAFE,
                    "overlapping-members",
                    f"zip members {_quoted(first.orig_filename)} and "
                    f"{_quoted(second.orig_filename)} share the same bytes (a zip "
                    "bomb trick): unzip tools reject such a zip",
                )
                return

    def _reservation(self, member: Member, cap: int) -> int:
        """Only a plausible declared size: a lying one must not make the reader allocate (and
        zero) memory that the compressed data cannot fill. ELF files deflate 2-10:1."""
        info = self._infos.get(member.name)
        if info is None or info.file_size > _PLAUSIBLE_RATIO * max(info.compress_size, 1):
            return 0
        return min(info.file_size, cap)

    def _stream(self, member: Member, marks: list[Mark] | None = None, resume: Mark | None = None) -> Iterator[bytes]:
        info = self._infos.get(member.name)
        if info is None or self._file is None:
            return super()._stream(member)
        return self._member_stream(info, member.name, marks, resume)

    def _member_stream(
        self, info: zip_layout.CentralEntry, name: str, marks: list[Mark] | None = None, resume: Mark | None = None
    ) -> Iterator[bytes]:
        shown = _quoted(name)
        if info.flag_bits & _FLAG_ENCRYPTED:
            raise _Problem(
                UNREADABLE,
                "encrypted",
                f"zip member {shown} is encrypted: Lambda cannot unpack it; build the zip without a password",
            )
        make = _DECOMPRESSORS.get(info.compress_type)
        if make is None and info.compress_type != zipfile.ZIP_STORED:
            raise _Problem(
                UNREADABLE,
                "unsupported-compression",
                f"zip member {shown} uses compression method {info.compress_type}, "
                "which unzip tools do not generally support: Lambda may fail to "
                "unpack it; use deflate",
                method=info.compress_type,
            )
        file = self._file
        assert file is not None
        start = self._data_offset(info, shown)
        offset = start
        remaining = info.compress_size
        read_size = _FIRST_INPUT if marks is None and resume is None else _MARKED_INPUT
        produced = 0
        decompressor = make() if make is not None else None
        if resume is not None:  # (output offset, (input consumed, decompressor state or None))
            produced, (consumed, state) = resume
            offset += consumed
            remaining -= consumed
            if state is not None:
                decompressor = state.copy()
        next_mark = 0

        def at_boundary() -> None:
            """All input given so far is consumed: the stream can resume here."""
            nonlocal next_mark
            if marks is None or produced < next_mark:
                return
            if decompressor is not None and produced and not hasattr(decompressor, "copy"):
                return  # bzip2 / LZMA states cannot be copied: they resume only from the start
            state = decompressor.copy() if decompressor is not None and produced else None
            marks.append((produced, (offset - start, state)))
            next_mark = produced + lazy.MARK_EVERY

        def next_input() -> bytes:
            nonlocal offset, remaining, read_size
            if remaining <= 0:
                return b""
            try:
                data = _read_at(file, offset, min(read_size, remaining))
            except OSError as error:
                raise _Problem(UNREADABLE, "io-error", f"cannot read zip member {shown}: {error.strerror}") from None
            if not data:
                raise _Problem(
                    UNREADABLE,
                    "truncated",
                    f"the zip file ends inside member {shown}: it is truncated; Lambda would reject it",
                )
            offset += len(data)
            remaining -= len(data)
            if read_size == _FIRST_INPUT:
                read_size = _INPUT_CHUNK
            return data

        crc = 0
        if decompressor is None:
            outputs = _stored(next_input, at_boundary)
        else:
            outputs = _inflated(decompressor, next_input, at_boundary)
        try:
            for out in outputs:
                produced += len(out)
                if produced > info.file_size:
                    raise _Problem(
                        UNREADABLE,
                        "size-mismatch",
                        f"zip member {shown} holds more data than the "
                        f"{info.file_size:,} bytes its directory entry declares: the "
                        "zip is corrupt or crafted",
                        declared=info.file_size,
                    )
                if produced > _RATIO_FLOOR and produced > self.limits.max_ratio * max(info.compress_size, 1):
                    raise _Problem(
                        UNSAFE,
                        "ratio-bomb",
                        f"zip member {shown} expands more than "
                        f"{self.limits.max_ratio}:1 (a zip bomb?): it was not read "
                        "further and not scanned",
                        limit=self.limits.max_ratio,
                    )
                if resume is None:
                    crc = _fast_zlib.crc32(out, crc)
                yield out
        except _CORRUPT_DATA as error:
            raise _Problem(
                UNREADABLE,
                "corrupt-data",
                f"zip member {shown} has corrupt compressed data "
                f"({safe_name(str(error))}): Lambda would fail to unpack it",
            ) from None
        if resume is not None:
            return  # read in part again: the whole-member checks ran when it was read first
        if produced != info.file_size:
            raise _Problem(
                UNREADABLE,
                "truncated",
                f"zip member {shown} declares {info.file_size:,} bytes but holds "
                f"{produced:,}: the zip is truncated or corrupt",
                declared=info.file_size,
                actual=produced,
            )
        if crc != info.CRC:
            raise _Problem(
                UNREADABLE,
                "crc-mismatch",
                f"zip member {shown} fails its CRC-32 check: the zip is corrupt; Lambda would fail to unpack it",
            )

    def _data_offset(self, info: zip_layout.CentralEntry, shown: str) -> int:
        """Where the member's data starts, from its local header (read and checked at load)."""
        local = self._local.get(info)
        if isinstance(local, _Problem):
            raise local
        if local is None:
            raise _Problem(
                UNREADABLE,
                "bad-local-header",
                f"zip member {shown} has no valid local header: the zip is corrupt; Lambda would reject it",
            )
        return local


def _read_at(file, offset: int, size: int) -> bytes:
    """`size` bytes at `offset`, leaving the file's position alone where the system can (pread):
    workers forked after the listing share the open file with each other (parallel.py)."""
    if _PREAD is not None:
        return _PREAD(file.fileno(), size, offset)
    file.seek(offset)
    return file.read(size)


_PREAD = getattr(os, "pread", None)  # not on Windows, where workers open the zip themselves


def _zip_kind(info: zip_layout.CentralEntry, name: str) -> tuple[int | None, str]:
    """The member's Unix mode (or None) and what it is: "dir", "link" or "file".

    A folder is a name ending in '/', whatever the mode says: that is how unzip (mapname) and
    Python's zipfile (ZipInfo.is_dir) decide, so an entry with a folder mode and no slash is
    written as a file (unzip 6.0 gives it the mode's permission bits; tested). It is judged as
    that file, with a regular-file mode, and flagged by the caller."""
    mode = _zip_mode(info)
    file_type = stat.S_IFMT(mode) if mode is not None else 0
    if name.endswith("/"):
        return mode, "dir"
    if file_type == stat.S_IFDIR and mode is not None:
        return stat.S_IFREG | stat.S_IMODE(mode), "folder-mode-file"
    return mode, "link" if file_type == stat.S_IFLNK else "file"


def _stored(next_input: Callable[[], bytes], at_boundary: Callable[[], None]) -> Iterator[bytes]:
    while True:
        at_boundary()
        data = next_input()
        if not data:
            return
        yield data


def _inflated(decompressor, next_input: Callable[[], bytes], at_boundary: Callable[[], None]) -> Iterator[bytes]:
    """Bounded decompression: each call yields at most one output chunk, so a bomb is caught
    after a chunk, not after it has filled the memory. `at_boundary` is called whenever the
    input given so far is all consumed (where a copy of the decompressor can resume)."""
    out_limit = _FIRST_OUTPUT
    while not decompressor.eof:
        if decompressor.needs_input:
            at_boundary()
            data = next_input()
        else:
            data = b""
        out = decompressor.decompress(data, out_limit)
        if out:
            yield out
            out_limit = _OUTPUT_CHUNK
        elif not data:
            return  # no input left and nothing more comes out: the size check decides
    return
