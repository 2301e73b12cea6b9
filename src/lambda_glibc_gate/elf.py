"""One ElfInfo per ELF file, read the way glibc's ld.so reads it.

ld.so never looks at section headers: it walks the program headers, the PT_DYNAMIC
array and the version tables those point at. We do the same, so a stripped binary
with no section headers is judged exactly like its unstripped twin, and section
headers that lie cannot change the verdict. We read them as ld.so does too: the dynamic
array at PT_DYNAMIC's p_vaddr (never p_offset) up to DT_NULL, the last entry of a
single-valued tag winning (elf/get-dynamic-info.h), and the version chains followed
through vn_next / vna_next / vd_next to 0, never bounded by DT_VERNEEDNUM, vn_cnt or
DT_VERDEFNUM (elf/dl-version.c). Our own caps are only sanity bounds: a file that
exceeds one is MalformedElf, never read as if it ended there. Headers, the dynamic array and the version
tables are read with `struct` directly (pyelftools' object per header costs milliseconds
per file, the largest cost for packages of many small files); pyelftools names machines
we do not know and reads the section headers in the one case ld.so's own tables cannot
give the symbol count. Every offset, count and chain is bounded: hostile files end in
MalformedElf, in bounded time, never in an exception of another kind.
"""

from __future__ import annotations

import io
import struct
from array import array
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

from elftools.common.exceptions import ELFError

from lambda_glibc_gate.text import escape

ELF_MAGIC = b"\x7fELF"

# e_machine values (glibc elf/elf.h).
MACHINES = {
    3: "i386",
    8: "mips",
    20: "ppc",
    21: "ppc64",
    22: "s390",
    40: "arm",
    62: "x86_64",
    183: "aarch64",
    243: "riscv",
}

# Dynamic tags (elf/elf.h).
DT_NULL, DT_NEEDED, DT_HASH, DT_STRTAB, DT_SYMTAB = 0, 1, 4, 5, 6
DT_STRSZ, DT_SYMENT, DT_SONAME, DT_RPATH, DT_RUNPATH = 10, 11, 14, 15, 29
DT_FLAGS_1 = 0x6FFFFFFB
DT_GNU_HASH = 0x6FFFFEF5
DT_VERSYM, DT_VERDEF, DT_VERDEFNUM = 0x6FFFFFF0, 0x6FFFFFFC, 0x6FFFFFFD
DT_VERNEED, DT_VERNEEDNUM = 0x6FFFFFFE, 0x6FFFFFFF
DF_1_PIE = 0x08000000
VER_FLG_BASE, VER_FLG_WEAK = 0x1, 0x2
VERSYM_HIDDEN = 0x8000
STB_WEAK = 2  # ELF64_ST_BIND(st_info)
SHT_DYNSYM = 11
PT_LOAD, PT_DYNAMIC, PT_INTERP, PT_NOTE = 1, 2, 3, 4
NT_GNU_ABI_TAG = 1  # "GNU" note: word 0 is the OS (elf/elf.h ELF_NOTE_OS_*), then the kernel version

# Bounds for hostile files: real binaries stay far below these.
MAX_PROGRAM_HEADERS = 4096
MAX_DYNAMIC_ENTRIES = 65536
MAX_VERSION_ENTRIES = 65536
MAX_SYMBOLS = 4_000_000
MAX_STRING = 4096
MAX_NOTES = 4096  # notes in all PT_NOTE segments together
MAX_SYMBOLS_PER_VERSION = 200  # kept for messages; the count is kept separately
# EI_OSABI (elf/elf.h ELFOSABI_*). 0 (SYSV) and 3 (GNU) are what glibc's ld.so accepts
# (VALID_ELF_OSABI); the others name the system the file was built for.
OS_ABIS = {
    1: "hpux",
    2: "netbsd",
    6: "solaris",
    7: "aix",
    8: "irix",
    9: "freebsd",
    10: "tru64",
    11: "modesto",
    12: "openbsd",
    13: "openvms",
    14: "nsk",
    15: "aros",
    16: "fenixos",
    17: "cloudabi",
    18: "openvos",
    97: "arm",
    255: "standalone",
}
# NT_GNU_ABI_TAG's OS word (ELF_NOTE_OS_LINUX, _GNU, _SOLARIS2, _FREEBSD).
GNU_ABI_TAG_OS = {0: "linux", 1: "hurd", 2: "solaris", 3: "freebsd"}
# Note owners that only their own system writes (FreeBSD crtbrand .note.tag, NetBSD/OpenBSD
# .note.netbsd.ident / .note.openbsd.ident, Android's .note.android.ident).
NOTE_OWNER_OS = {b"FreeBSD": "freebsd", b"NetBSD": "netbsd", b"OpenBSD": "openbsd", b"Android": "android"}
# Toolchain strings: executables are searched whole; libraries (where a whole-file search costs
# more than all the rest of the walk) only in windows of this size.
MARKER_WINDOW = 64 * 1024
_RUST_MARKERS = (b"/rustc/", b"rustc version", b"rust_begin_unwind")
# What plan_reading foretells of a file held in part, at most (bytes kept as it is read).
_PLAN_BUDGET = 8 * 1024 * 1024


class MalformedElf(Exception):
    """The file starts like ELF but ld.so could not load it; message is one line."""


class SourceError(Exception):
    """The file's bytes could not be read (a lazily held member failed to read again): a fault of
    the source, not of the file; read_elf lets it through."""


@dataclass(frozen=True)
class VersionNeed:
    """One Vernaux entry: `library` needs `version`; `symbols` bound to it."""

    library: str  # the Verneed file name: a soname such as "libc.so.6"
    version: str  # "GLIBC_2.38"
    weak: bool  # VER_FLG_WEAK: ld.so only warns when it is missing
    symbols: tuple[str, ...] = ()  # undefined dynamic symbols with this version
    symbol_count: int = 0  # may exceed len(symbols) (capped for memory)
    # Of `symbols`, those bound STB_WEAK: the program links and runs without them (Rust std's
    # statx / gettid), but ld.so still checks this version need unless the need itself is weak.
    weak_symbols: tuple[str, ...] = ()
    # vna_hash == elf_hash(version): ld.so's match_symbol compares the hash before the name,
    # so a need whose hash is wrong is never satisfied, whatever the library defines.
    hash_matches: bool = True


@dataclass(frozen=True)
class ElfInfo:
    machine: str  # "x86_64", "aarch64", "i386", … or "EM_<n>"
    elf_class: int  # 32 or 64
    endian: str  # "little" | "big"
    elf_type: str  # "exec" | "dyn" | "rel" | "core" | "other"
    interpreter: str | None  # PT_INTERP
    needed: tuple[str, ...] = ()
    rpath: tuple[str, ...] = ()
    runpath: tuple[str, ...] = ()
    soname: str | None = None
    version_needs: tuple[VersionNeed, ...] = ()
    version_defs: tuple[str, ...] = ()  # versions this object defines (base name excluded)
    is_pie: bool = False
    has_dynamic: bool = False
    has_section_headers: bool = False
    exports: frozenset[str] = field(default_factory=frozenset)  # marker exports found
    markers: frozenset[str] = field(default_factory=frozenset)  # "rust", "go" evidence
    # The system the file is for: "linux" (EI_OSABI SYSV or GNU, and no note naming another
    # system), else "freebsd", "netbsd", "openbsd", "solaris", "hurd", "android", ... from
    # EI_OSABI, then the PT_NOTE notes (NT_GNU_ABI_TAG's OS word, FreeBSD/NetBSD/OpenBSD tags).
    os_abi: str = "linux"
    # NT_GNU_ABI_TAG's minimum kernel ("3.2.0"); glibc < 2.36's ld.so (open_verify) skips a
    # library whose tag names another OS or a kernel newer than the running one.
    abi_tag_kernel: str | None = None

    @property
    def is_executable(self) -> bool:
        return self.elf_type == "exec" or self.interpreter is not None or self.is_pie

    @property
    def is_library(self) -> bool:
        return self.elf_type == "dyn" and not self.is_executable

    @property
    def static(self) -> bool:
        """Loads without ld.so: no interpreter and no libraries to load."""
        return self.interpreter is None and not self.needed and self.is_executable

    def needs_of(self, library: str) -> list[VersionNeed]:
        return [need for need in self.version_needs if need.library == library]


# Exported symbols that tell what a shared object is for.
_MARKER_EXPORTS = (b"PyInit_", b"napi_register_module_v1", b"node_register_module_v")


def is_elf(head: bytes) -> bool:
    return head[:4] == ELF_MAGIC


def read_elf(data: bytes | HeldInPart) -> ElfInfo:
    """Parse an ELF file held in memory, or held in part (archive/lazy.py: a large member whose
    other parts are read again when asked for). Raises MalformedElf with a one-line reason."""
    if not is_elf(data[:4]):
        raise MalformedElf("not an ELF file")
    if len(data) < 52:
        raise MalformedElf("truncated ELF header")
    try:
        return _Reader(data).read()
    except (MalformedElf, SourceError):
        raise
    except (
        ELFError,
        struct.error,
        ValueError,
        IndexError,
        KeyError,
        OverflowError,
        TypeError,
        AttributeError,
        UnicodeDecodeError,
        AssertionError,
    ) as error:
        # pyelftools and construct raise many types on hostile input; all mean the same.
        raise MalformedElf(_one_line(f"cannot parse: {error}")) from None
    except Exception as error:  # construct's own errors do not share a base we can name
        raise MalformedElf(_one_line(f"cannot parse: {type(error).__name__}")) from None


def _text(raw: bytes) -> str:
    """An ELF string (soname, interpreter, version, symbol) as safe text: these are untrusted
    and end up in one-line messages and on terminals, so undecodable bytes and control
    characters become escapes (text.escape, the one owner)."""
    return escape(raw.decode("utf-8", "backslashreplace"))


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class HeldInPart(Protocol):
    """A file held in part (archive/lazy.LazyMember): len, an index, a slice and find as bytes
    offers them, and span(offset, size) -> (buffer, position) for struct."""

    watch: object  # a MarkerSearch that saw every byte once, or None

    def __len__(self) -> int: ...
    def __getitem__(self, key: Any) -> Any: ...
    def find(self, sub: bytes, start: int = ..., end: int | None = ...) -> int: ...
    def span(self, offset: int, size: int) -> tuple[bytes, int]: ...


class MarkerSearch:
    """The toolchain strings of a whole file, seen once in windows that overlap by `overlap`
    (archive/lazy.Watch): exactly what _markers finds in the file held whole."""

    overlap = max(map(len, (b"\xff Go buildinf:", b"Go build ID:", b"Go build", b"rust", *_RUST_MARKERS))) - 1

    def __init__(self) -> None:
        self.found: frozenset[str] = frozenset()

    def update(self, window: bytes) -> None:
        if len(self.found) < 2:
            self.found |= _markers(window)


def plan_reading(head: bytes, length: int) -> tuple[list[tuple[int, int]], MarkerSearch | None]:
    """For a file read in part (archive/lazy.py): the (offset, size) ranges read_elf will read
    that the first bytes `head` foretell (the dynamic array, notes, PT_INTERP, a library's marker
    windows), and a MarkerSearch when the whole file will be searched (an executable). Only a
    hint: whatever else the reader asks for is read again."""
    reader = _Reader(head)
    header = reader.header
    interpreters, dynamic, notes = reader._segments(
        reader._program_headers(header["e_phoff"], header["e_phnum"], header["e_phentsize"])
    )
    ranges = [(offset, min(size, MAX_STRING)) for offset, size in interpreters]
    ranges += [(offset, min(size, MARKER_WINDOW)) for offset, size, _ in notes]
    segment = reader._load_holding(dynamic[0]) if dynamic is not None else None
    if segment is not None:
        vaddr, _, offset, _ = segment
        ranges.append((offset + dynamic[0] - vaddr, min(max(dynamic[1], 4096), MARKER_WINDOW)))
    executable = header["e_type"] == 2 or bool(interpreters)
    if not executable:
        ranges += reader._marker_windows(False, [(offset, size) for offset, size, _ in notes]) or []
    budget = _PLAN_BUDGET  # a hostile header may foretell thousands of windows: keep the first
    kept = []
    for offset, size in ranges:
        if budget <= 0:
            break
        kept.append((offset, min(size, budget)))
        budget -= size
    return kept, (MarkerSearch() if executable else None)


class _Reader:
    def __init__(self, data: bytes | HeldInPart) -> None:
        self.data = data
        # Held in part: struct reads through span(); bytes are read in place.
        self.in_part = not isinstance(data, (bytes, bytearray))
        # The ELF header with struct: pyelftools' ELFFile costs milliseconds per file (it
        # builds its parsers and reads the section names), more than the rest of the walk.
        ei_class, ei_data = data[4], data[5]
        if ei_class not in (1, 2):
            raise MalformedElf(f"invalid ELF class {ei_class}")
        if ei_data not in (1, 2):
            raise MalformedElf(f"invalid ELF data encoding {ei_data}")
        self.little = ei_data == 1
        self.bits = 64 if ei_class == 2 else 32
        self.order = "<" if self.little else ">"
        layout = _HEADER_64 if self.bits == 64 else _HEADER_32
        if len(data) < 16 + layout.size:
            raise MalformedElf("truncated ELF header")
        fields = self._unpack(self.order + layout.format[1:], 16)
        self.header = dict(zip(_HEADER_FIELDS, fields, strict=True))
        self.loads: list[tuple[int, int, int, int]] = []  # (vaddr, filesz, offset, memsz)
        # ld.so adds a Verneed's vn_next to a pointer: it wraps at 2**32 in a 32-bit process.
        self.address_mask = (1 << self.bits) - 1

    # -- helpers -----------------------------------------------------------------------
    def _unpack(self, fmt: str, position: int) -> tuple:
        if self.in_part:
            buffer, at = self._buffer(position, struct.calcsize(fmt))
            return struct.unpack_from(fmt, buffer, at)
        return struct.unpack_from(fmt, self.data, position)

    def _buffer(self, position: int, size: int) -> tuple[bytes, int]:
        """(buffer, at): the file's bytes from `position` (up to `size`) are buffer[at:]."""
        if self.in_part:
            return self.data.span(position, size)
        return self.data, position

    def _offset(self, address: int, size: int = 1) -> int:
        """Virtual address -> file offset through PT_LOAD, as the loader maps it."""
        for vaddr, filesz, offset, _ in self.loads:
            if vaddr <= address and address + size <= vaddr + filesz:
                return address - vaddr + offset
        raise MalformedElf(f"address {address:#x} is outside every loaded segment")

    def _check_range(self, offset: int, size: int, what: str) -> None:
        if offset < 0 or size < 0 or offset + size > len(self.data):
            raise MalformedElf(f"{what} lies outside the file (truncated?)")

    def _string(self, strtab: int, strsz: int, index: int) -> str:
        if index >= strsz:
            raise MalformedElf("string index outside the dynamic string table")
        strings, base = self.strings  # the table at `strtab`, asked for once
        start = base + index
        end = strings.find(b"\0", start, min(start + MAX_STRING, base + strsz))
        if end < 0:
            raise MalformedElf("unterminated string in the dynamic string table")
        return _text(strings[start:end])

    def _raw_string(self, index: int) -> bytes:
        """The bytes of a string _string has already checked (for the ELF hash)."""
        strings, base = self.strings
        start = base + index
        return strings[start : strings.find(b"\0", start, start + MAX_STRING)]

    # -- the walk ------------------------------------------------------------------------
    def read(self) -> ElfInfo:
        header = self.header
        machine_number = header["e_machine"]
        machine = MACHINES.get(machine_number) or _machine_name(machine_number)
        if machine == "s390" and self.bits == 64:  # EM_S390 covers both; 64-bit is s390x
            machine = "s390x"
        elf_type = {2: "exec", 3: "dyn", 1: "rel", 4: "core"}
        phnum = header["e_phnum"]
        if phnum > MAX_PROGRAM_HEADERS:
            raise MalformedElf(f"{phnum} program headers")
        self._check_range(header["e_phoff"], phnum * header["e_phentsize"], "program headers")

        interpreter = None
        interpreters, dynamic, notes = self._segments(
            self._program_headers(header["e_phoff"], phnum, header["e_phentsize"])
        )
        for p_offset, p_filesz in interpreters:
            self._check_range(p_offset, p_filesz, "PT_INTERP")
            raw = self.data[p_offset : p_offset + min(p_filesz, MAX_STRING)]
            if b"\0" not in raw:  # the kernel refuses an unterminated path (binfmt_elf)
                raise MalformedElf("PT_INTERP is not a NUL-terminated path")
            interpreter = _text(raw.split(b"\0", 1)[0])

        os_abi, kernel = self._os_abi(notes)
        info = dict(
            machine=machine,
            elf_class=self.bits,
            endian="little" if self.little else "big",
            elf_type=elf_type.get(header["e_type"], "other"),
            interpreter=interpreter,
            has_section_headers=header["e_shoff"] != 0 and header["e_shnum"] != 0,
            markers=self._markers(
                self._marker_windows(header["e_type"] == 2 or interpreter, [(o, n) for o, n, _ in notes])
            ),
            os_abi=os_abi,
            abi_tag_kernel=kernel,
        )
        if dynamic is not None:
            info.update(self._read_dynamic(*dynamic))
        return ElfInfo(**info)

    def _os_abi(self, notes: list[tuple[int, int, int]]) -> tuple[str, str | None]:
        """(os_abi, NT_GNU_ABI_TAG kernel): EI_OSABI when it names a system, else the first
        note naming one, else "linux". Notes are walked as glibc's open_verify walks them
        (ELF_NOTE_NEXT_OFFSET with the segment's alignment); a note that does not fit ends its
        segment's walk, as there."""
        linux = (0, 3, 64) if self.header["e_machine"] == 40 else (0, 3)  # arm also takes ARM_AEABI
        os_abi = None if self.data[7] in linux else OS_ABIS.get(self.data[7], f"osabi-{self.data[7]}")
        kernel = None
        seen = 0
        for offset, size, align in notes:
            align = 8 if align == 8 else 4
            end = min(offset + size, len(self.data))
            position = offset
            while position + 12 <= end:
                seen += 1
                if seen > MAX_NOTES:
                    raise MalformedElf(f"more than {MAX_NOTES} notes in PT_NOTE")
                namesz, descsz, note_type = self._unpack(self.order + "III", position)
                name_at = position + 12
                desc_at = name_at + _align(namesz, align)
                following = desc_at + _align(descsz, align)
                if following > end:
                    break
                name = self.data[name_at : name_at + namesz].rstrip(b"\0")
                if name == b"GNU" and note_type == NT_GNU_ABI_TAG and descsz >= 16 and kernel is None:
                    os_word, *version = self._unpack(self.order + "IIII", desc_at)
                    kernel = ".".join(str(part) for part in version)
                    note_os = GNU_ABI_TAG_OS.get(os_word, f"gnu-abi-os-{os_word}")
                else:
                    note_os = NOTE_OWNER_OS.get(name)
                if os_abi is None and note_os not in (None, "linux"):
                    os_abi = note_os
                position = following
        return os_abi or "linux", kernel

    def _segments(
        self, headers: list[tuple[int, ...]]
    ) -> tuple[list[tuple[int, int]], tuple[int, int] | None, list[tuple[int, int, int]]]:
        """PT_LOAD entries into self.loads; returns every PT_INTERP (p_offset, p_filesz) in order,
        the PT_DYNAMIC ld.so uses (p_vaddr, p_filesz) and every PT_NOTE (offset, size, align)."""
        interpreters: list[tuple[int, int]] = []
        dynamic: tuple[int, int] | None = None
        notes: list[tuple[int, int, int]] = []
        for p_type, p_offset, p_vaddr, p_filesz, p_memsz, p_align in headers:
            if p_type == PT_LOAD:
                self.loads.append((p_vaddr, p_filesz, p_offset, p_memsz))
            elif p_type == PT_INTERP:
                interpreters.append((p_offset, p_filesz))
            elif p_type == PT_DYNAMIC:
                # ld.so keeps the last PT_DYNAMIC (each one overwrites l_ld) and uses its p_vaddr
                dynamic = (p_vaddr, p_filesz)
            elif p_type == PT_NOTE:
                notes.append((p_offset, p_filesz, p_align))
        return interpreters, dynamic, notes

    def _load_holding(self, address: int) -> tuple[int, int, int, int] | None:
        """The PT_LOAD whose mapping (file part and zero-filled rest) holds `address`."""
        return next((load for load in self.loads if load[0] <= address < load[0] + max(load[1], load[3])), None)

    def _markers(self, windows: list[tuple[int, int]] | None) -> frozenset[str]:
        search = getattr(self.data, "watch", None) if self.in_part else None
        if windows is None and isinstance(search, MarkerSearch):
            return search.found  # the whole file was searched as it was read
        return _markers(self.data, windows)

    def _marker_windows(self, executable: object, notes: list[tuple[int, int]]) -> list[tuple[int, int]] | None:
        """(offset, size) to search for toolchain strings; None: the whole file.

        A library is searched only where toolchains put them: the start of each loaded
        segment (Go's .go.buildinfo opens the data segment, its build ID the text), PT_NOTE
        (.note.go.buildid) and the start of what follows the loaded part (.comment, where
        rustc writes "rustc version", kept by `strip`)."""
        if executable:
            return None
        windows = [(offset, min(filesz, MARKER_WINDOW)) for _, filesz, offset, _ in self.loads]
        windows += [(offset, min(size, MARKER_WINDOW)) for offset, size in notes]
        loaded_end = max((offset + filesz for _, filesz, offset, _ in self.loads), default=0)
        windows.append((loaded_end, MARKER_WINDOW))
        return windows

    def _program_headers(self, phoff: int, phnum: int, phentsize: int) -> list[tuple[int, ...]]:
        """(p_type, p_offset, p_vaddr, p_filesz, p_memsz, p_align) of each program header, read with struct:
        pyelftools' segment objects parse the section headers too (its DynamicSegment looks
        for .dynstr), so section headers past the end of the file would fail a binary that
        ld.so loads."""
        expected = 56 if self.bits == 64 else 32  # sizeof(Elf64_Phdr) / sizeof(Elf32_Phdr)
        if phnum and phentsize != expected:
            # ld.so's own check: "ELF file's phentsize not the expected size"
            raise MalformedElf(f"program header entries of {phentsize} bytes, expected {expected}")
        fmt = self.order + ("I4xQQ8xQQQ" if self.bits == 64 else "III4xII4xI")
        buffer, at = self._buffer(phoff, phnum * expected)
        return [struct.unpack_from(fmt, buffer, at + index * expected) for index in range(phnum)]

    def _dynamic_entries(self, address: int) -> list[tuple[int, int]]:
        """(d_tag, d_val) up to DT_NULL, read where ld.so reads them: at p_vaddr in the mapped
        image (rtld.c / dl-load.c: l_ld = l_addr + p_vaddr; p_offset is never used), walked
        by elf_get_dynamic_info until DT_NULL whatever p_filesz says."""
        entry = 16 if self.bits == 64 else 8
        segment = self._load_holding(address)
        if segment is None:
            raise MalformedElf(f"PT_DYNAMIC at {address:#x} is outside every loaded segment")
        vaddr, filesz, offset, memsz = segment
        start = offset + address - vaddr
        file_end = offset + filesz  # past it, up to p_memsz, the mapping is zero: a DT_NULL
        self._check_range(offset, filesz, "the segment holding PT_DYNAMIC")
        zero_end = offset + max(filesz, memsz)
        layout = struct.Struct(self.order + ("qQ" if self.bits == 64 else "iI"))
        # The file's bytes from p_vaddr on (no copy), at most one entry past the cap.
        end = min(file_end, start + (MAX_DYNAMIC_ENTRIES + 1) * entry)
        end -= (end - start) % entry
        # Held in part, the first 4 KB are asked for first: the array is rarely longer, and the
        # rest of its segment is not held.
        windows = [min(end, start + 4096), end] if self.in_part and end > start + 4096 else [end]
        for window_end in windows:
            entries: list[tuple[int, int]] = []
            buffer, at = self._buffer(start, window_end - start)
            for tag, value in layout.iter_unpack(memoryview(buffer)[at : at + window_end - start]):
                if tag == DT_NULL:
                    return entries
                entries.append((tag, value))
        if len(entries) > MAX_DYNAMIC_ENTRIES:
            raise MalformedElf(f"more than {MAX_DYNAMIC_ENTRIES} dynamic entries before DT_NULL")
        # Past p_filesz the mapping holds zeros up to p_memsz: an entry cut there ends in zeros,
        # and a whole zero entry is DT_NULL.
        if end < file_end:
            tag, value = layout.unpack(self.data[end:file_end].ljust(entry, b"\0"))
            if end + entry > zero_end:
                raise MalformedElf("the dynamic array runs past its segment without DT_NULL")
            if tag == DT_NULL:
                return entries
            entries.append((tag, value))
            end += entry
        if end + entry <= zero_end and len(entries) <= MAX_DYNAMIC_ENTRIES:
            return entries
        raise MalformedElf("the dynamic array runs past its segment without DT_NULL")

    def _read_dynamic(self, address: int, size: int) -> dict:
        if size == 0:
            # dl-load.c skips a PT_DYNAMIC with p_filesz 0 (separate debuginfo files)
            return {"has_dynamic": True}
        # elf_get_dynamic_info: info[tag] = dyn for every entry, so the LAST entry of a
        # single-valued tag wins (DT_STRTAB, DT_VERNEED, DT_SONAME, DT_RPATH, DT_RUNPATH, ...);
        # DT_NEEDED is walked in order by _dl_map_object_deps.
        tags: dict[int, int] = {}
        needed: list[int] = []
        for tag, value in self._dynamic_entries(address):
            if tag == DT_NEEDED:
                needed.append(value)
            else:
                tags[tag] = value

        if DT_STRTAB not in tags:
            if needed or DT_SONAME in tags or DT_RPATH in tags or DT_RUNPATH in tags:
                raise MalformedElf("dynamic section has names but no DT_STRTAB")
            return {"has_dynamic": True}
        strsz = tags.get(DT_STRSZ, 0)
        strtab = self._offset(tags[DT_STRTAB], max(strsz, 1))
        self._check_range(strtab, strsz, "DT_STRTAB")
        # (buffer, position of the table in it): thousands of names are looked up in it
        self.strings = self._buffer(strtab, strsz)

        def name(index: int) -> str:
            return self._string(strtab, strsz, index)

        def paths(tag: int) -> tuple[str, ...]:
            # The one (last) RPATH / RUNPATH string, a colon-separated list; entries in order.
            if tag not in tags:
                return ()
            return tuple(part for part in name(tags[tag]).split(":") if part)

        flags_1 = tags.get(DT_FLAGS_1, 0)
        needs, versions_by_index = self._read_verneed(tags, name)
        defs = self._read_verdef(tags, name)
        symbols = self._symbols_by_version(tags, strtab, strsz, set(versions_by_index))
        version_needs = tuple(
            VersionNeed(
                library=library,
                version=version,
                weak=weak,
                symbols=tuple(symbols.get(index, ([], 0, []))[0]),
                symbol_count=symbols.get(index, ([], 0, []))[1],
                weak_symbols=tuple(symbols.get(index, ([], 0, []))[2]),
                hash_matches=hash_matches,
            )
            for index, (library, version, weak, hash_matches) in needs
        )
        return {
            "has_dynamic": True,
            "needed": tuple(name(index) for index in needed),
            "rpath": paths(DT_RPATH),
            "runpath": paths(DT_RUNPATH),
            "soname": name(tags[DT_SONAME]) if DT_SONAME in tags else None,
            "version_needs": version_needs,
            "version_defs": defs,
            "is_pie": bool(flags_1 & DF_1_PIE),
            # searched in place: a C++ library's string table is megabytes, not worth a copy
            "exports": frozenset(
                marker.decode()
                for marker in _MARKER_EXPORTS
                if self.strings[0].find(marker, self.strings[1], self.strings[1] + strsz) >= 0
            ),
        }

    def _read_verneed(self, tags: dict[int, int], name) -> tuple[list, dict[int, str]]:
        """Elf_Verneed / Elf_Vernaux chains (16 bytes each in both classes), walked as
        _dl_check_map_versions walks them: vn_next and vna_next until 0. DT_VERNEEDNUM and
        vn_cnt are never read by ld.so, so they bound nothing here either."""
        if DT_VERNEED not in tags:
            return [], {}
        address = tags[DT_VERNEED]
        needs: list[tuple[int, tuple[str, str, bool, bool]]] = []
        seen: set[int] = set()
        first = True
        while True:
            if address in seen:
                raise MalformedElf("cyclic version-need chain (vn_next)")
            seen.add(address)
            position = self._offset(address, 16)
            vn_version, _, file_name, aux, next_offset = self._unpack(self.order + "HHIII", position)
            if first and vn_version != 1:  # ld.so checks the first record only
                raise MalformedElf(f"unsupported version {vn_version} of Verneed record")
            first = False
            library = name(file_name)
            aux_address = (address + aux) & self.address_mask
            aux_seen: set[int] = set()
            while True:
                if len(needs) >= MAX_VERSION_ENTRIES:
                    raise MalformedElf(f"more than {MAX_VERSION_ENTRIES} version needs")
                if aux_address in aux_seen:
                    raise MalformedElf("cyclic version-need chain (vna_next)")
                aux_seen.add(aux_address)
                aux_position = self._offset(aux_address, 16)
                vna_hash, flags, other, vna_name, vna_next = self._unpack(self.order + "IHHII", aux_position)
                version = name(vna_name)
                hash_matches = vna_hash == elf_hash(self._raw_string(vna_name))
                needs.append((other & 0x7FFF, (library, version, bool(flags & VER_FLG_WEAK), hash_matches)))
                if vna_next == 0:
                    break
                aux_address = (aux_address + vna_next) & self.address_mask
            if next_offset == 0:
                break
            address = (address + next_offset) & self.address_mask
        return needs, {index: version for index, (_, version, _, _) in needs}

    def _read_verdef(self, tags: dict[int, int], name) -> tuple[str, ...]:
        """Elf_Verdef (20 bytes) / Elf_Verdaux (8 bytes): versions this object defines, walked
        to vd_next == 0 as _dl_check_map_versions and match_symbol do (DT_VERDEFNUM and
        vd_cnt unused; the first Verdaux names the version)."""
        if DT_VERDEF not in tags:
            return ()
        address = tags[DT_VERDEF]
        defined: list[str] = []
        seen: set[int] = set()
        while True:
            if address in seen:
                raise MalformedElf("cyclic version-definition chain (vd_next)")
            if len(seen) >= MAX_VERSION_ENTRIES:
                raise MalformedElf(f"more than {MAX_VERSION_ENTRIES} version definitions")
            seen.add(address)
            position = self._offset(address, 20)
            _, flags, _, _, _, aux, next_offset = self._unpack(self.order + "HHHHIII", position)
            if not flags & VER_FLG_BASE:
                aux_position = self._offset((address + aux) & self.address_mask, 8)
                (vda_name,) = self._unpack(self.order + "I", aux_position)
                defined.append(name(vda_name))
            if next_offset == 0:
                break
            address = (address + next_offset) & self.address_mask
        return tuple(defined)

    def _symbol_count(self, tags: dict[int, int]) -> int:
        """Number of .dynsym entries, from the hash tables as ld.so would know it."""
        if DT_HASH in tags:
            position = self._offset(tags[DT_HASH], 8)
            _, nchain = self._unpack(self.order + "II", position)
            return nchain
        if DT_GNU_HASH in tags:
            return self._gnu_hash_symbol_count(tags[DT_GNU_HASH])
        from elftools.elf.elffile import ELFFile  # rarely needed: imported here

        whole = self.data[0 : len(self.data)] if self.in_part else self.data  # held in part: read whole
        for section in ELFFile(io.BytesIO(whole)).iter_sections():  # last resort: sections
            if section["sh_type"] == "SHT_DYNSYM" and section["sh_entsize"]:
                return section["sh_size"] // section["sh_entsize"]
        return 0

    def _gnu_hash_symbol_count(self, address: int) -> int:
        position = self._offset(address, 16)
        nbuckets, symoffset, bloom_size, _ = self._unpack(self.order + "IIII", position)
        word = 8 if self.bits == 64 else 4
        buckets_at = position + 16 + bloom_size * word
        self._check_range(buckets_at, nbuckets * 4, "GNU hash buckets")
        buckets = array("I", self.data[buckets_at : buckets_at + nbuckets * 4])
        if buckets.itemsize != 4:
            raise MalformedElf("unsupported platform for GNU hash")
        if (struct.pack("=I", 1) == struct.pack("<I", 1)) != self.little:
            buckets.byteswap()
        last = max(buckets, default=0)
        if last < symoffset:
            return symoffset
        chain_at = buckets_at + nbuckets * 4
        index = last
        while index < MAX_SYMBOLS:
            self._check_range(chain_at + (index - symoffset) * 4, 4, "GNU hash chain")
            (value,) = self._unpack(self.order + "I", chain_at + (index - symoffset) * 4)
            index += 1
            if value & 1:
                return index
        raise MalformedElf("GNU hash chain does not end")

    def _symbols_by_version(
        self, tags: dict[int, int], strtab: int, strsz: int, wanted: set[int]
    ) -> dict[int, tuple[list[str], int, list[str]]]:
        """Undefined dynamic symbols grouped by the version index (.gnu.version) they need:
        (names, count, the names bound STB_WEAK)."""
        if not wanted or DT_VERSYM not in tags or DT_SYMTAB not in tags:
            return {}
        count = self._symbol_count(tags)
        if count > MAX_SYMBOLS:
            raise MalformedElf(f"{count} dynamic symbols")
        if count == 0:
            return {}
        versym_at = self._offset(tags[DT_VERSYM], 2 * count)
        syment = 24 if self.bits == 64 else 16
        symtab_at = self._offset(tags[DT_SYMTAB], syment * count)
        versyms = array("H", self.data[versym_at : versym_at + 2 * count])
        if (struct.pack("=H", 1) == struct.pack("<H", 1)) != self.little:
            versyms.byteswap()
        # Name offset, st_info and section index sit at different places in the two classes.
        fmt = self.order + ("IBxH" if self.bits == 64 else "I8xBxH")
        symbols, at = self._buffer(symtab_at, syment * count)
        grouped: dict[int, tuple[list[str], int, list[str]]] = {}
        for symbol_index, raw in enumerate(versyms):
            version_index = raw & ~VERSYM_HIDDEN & 0xFFFF
            if version_index not in wanted:
                continue
            name_offset, info, shndx = struct.unpack_from(fmt, symbols, at + symbol_index * syment)
            if shndx != 0:  # defined here: not a need
                continue
            names, total, weak = grouped.get(version_index, ([], 0, []))
            if len(names) < MAX_SYMBOLS_PER_VERSION:
                names.append(self._string(strtab, strsz, name_offset))
                if info >> 4 == STB_WEAK:
                    weak.append(names[-1])
            grouped[version_index] = (names, total + 1, weak)
        return grouped


# ELF header after e_ident (elf/elf.h Elf64_Ehdr / Elf32_Ehdr).
_HEADER_FIELDS = (
    "e_type",
    "e_machine",
    "e_version",
    "e_entry",
    "e_phoff",
    "e_shoff",
    "e_flags",
    "e_ehsize",
    "e_phentsize",
    "e_phnum",
    "e_shentsize",
    "e_shnum",
    "e_shstrndx",
)
_HEADER_64 = struct.Struct("<HHIQQQIHHHHHH")  # the byte order is replaced per file; sizes match
_HEADER_32 = struct.Struct("<HHIIIIIHHHHHH")


def _align(size: int, alignment: int) -> int:
    return (size + alignment - 1) & ~(alignment - 1)


@lru_cache(maxsize=4096)  # the same few version names recur in every file
def elf_hash(name: bytes) -> int:
    """The SysV ELF hash (glibc dl-hash.h _dl_elf_hash), as vna_hash / vd_hash hold it."""
    value = 0
    for byte in name:
        value = (value << 4) + byte
        high = value & 0xF0000000
        value ^= high >> 24
        value &= ~high
    return value & 0xFFFFFFFF


def _machine_name(number: int) -> str:
    """A machine the checks do not know, as pyelftools spells it ("EM_SPARC"); imported only
    then, as its tables take longer to import than the rest of this module."""
    from elftools.elf.enums import ENUM_E_MACHINE

    names = {value: name for name, value in ENUM_E_MACHINE.items() if not name.startswith("_")}
    return names.get(number, str(number))


def _markers(data: bytes, windows: list[tuple[int, int]] | None = None) -> frozenset[str]:
    """Evidence of the toolchain that survives stripping (strings in the file itself), in the
    whole file or in the (offset, size) windows given. The windows are merged and searched in
    place: 4,000 PT_LOAD headers over one 64 KB window must not cost 4,000 copies of it."""
    spans = [(0, len(data))] if windows is None else merged_spans(windows, len(data))
    found = set()
    for start, end in spans:
        # One pass for a shared part first: most files have neither, and each pass costs.
        if "go" not in found and data.find(b"Go build", start, end) >= 0:
            if data.find(b"\xff Go buildinf:", start, end) >= 0 or data.find(b"Go build ID:", start, end) >= 0:
                found.add("go")
        if "rust" not in found and data.find(b"rust", start, end) >= 0:
            if any(data.find(marker, start, end) >= 0 for marker in _RUST_MARKERS):
                found.add("rust")
    return frozenset(found)


def merged_spans(windows: list[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    """(start, end) spans covering the windows once each: their total never exceeds the file."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted((max(0, offset), min(length, offset + size)) for offset, size in windows):
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged



