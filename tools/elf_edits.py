"""Two byte-level edits that no linker at hand produces, applied to freshly built fixtures.

- drop_section_headers: what sstrip-like tools (and some packers) leave behind; a loader
  only needs program headers, so a scanner must fall back to the dynamic segment.
- mark_version_need_weak: sets VER_FLG_WEAK on one version need. glibc's ld.so treats a
  missing weak version as a warning, not an error. lld and GNU ld (2.40) write weak
  references with a non-weak need, so the flag is set here, exactly as the gABI lays it out.
"""

from __future__ import annotations

import struct
from pathlib import Path

from elftools.elf.elffile import ELFFile

from lambda_glibc_gate.elf import elf_hash  # what vna_hash must hold for ld.so's match_symbol

VER_FLG_WEAK = 0x2


def drop_section_headers(path: Path) -> None:
    """Zero e_shoff, e_shnum and e_shstrndx; the section bytes stay but nothing points at them."""
    data = bytearray(path.read_bytes())
    is_64 = data[4] == 2
    endian = "<" if data[5] == 1 else ">"
    # e_shoff sits after e_entry/e_phoff; e_shnum and e_shstrndx are the last two header fields.
    shoff_at, shoff_format = (0x28, "Q") if is_64 else (0x20, "I")
    shnum_at = 0x3C if is_64 else 0x30
    struct.pack_into(endian + shoff_format, data, shoff_at, 0)
    struct.pack_into(endian + "HH", data, shnum_at, 0, 0)
    path.write_bytes(bytes(data))


def mark_version_need_weak(path: Path, tag: str) -> None:
    """Set VER_FLG_WEAK on the Vernaux entry named `tag` in .gnu.version_r."""
    data = bytearray(path.read_bytes())
    with path.open("rb") as stream:
        elf = ELFFile(stream)
        section = elf.get_section_by_name(".gnu.version_r")
        if section is None:
            raise ValueError(f"{path}: no .gnu.version_r section")
        strings = elf.get_section(section["sh_link"])
        endian = "<" if elf.little_endian else ">"
        offset = section["sh_offset"]
        for _ in range(section.num_versions()):
            # Elf_Verneed: vn_version, vn_cnt (half); vn_file, vn_aux, vn_next (word)
            _, count, _, aux, next_need = struct.unpack_from(endian + "HHIII", data, offset)
            aux_offset = offset + aux
            for _ in range(count):
                # Elf_Vernaux: vna_hash (word); vna_flags, vna_other (half); vna_name, vna_next
                _, flags, _, name, next_aux = struct.unpack_from(endian + "IHHII", data, aux_offset)
                if strings.get_string(name) == tag:
                    struct.pack_into(endian + "H", data, aux_offset + 4, flags | VER_FLG_WEAK)
                    path.write_bytes(bytes(data))
                    return
                aux_offset += next_aux
            offset += next_need
    raise ValueError(f"{path}: no version need named {tag}")


# -- Edits that show where readers and glibc's ld.so part ways ----------------------------------
# Each takes a real linked binary and changes a few bytes so that ld.so (glibc elf/rtld.c,
# elf/get-dynamic-info.h, elf/dl-version.c) sees a need for GLIBC_2.99 (or a search path) that a
# reader trusting counts, the first of a repeated tag or p_offset would miss. ld.so refuses each
# result; tests/test_elf_ldso.py runs them under the real loader to keep it so.

DT_NULL, DT_RPATH, DT_DEBUG = 0, 15, 21
DT_VERNEED, DT_VERNEEDNUM = 0x6FFFFFFE, 0x6FFFFFFF
PT_LOAD, PT_DYNAMIC = 1, 2


class _Edit:
    """A 64-bit little-endian ELF file being edited: its sections (from pyelftools), program
    headers and dynamic array."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data = bytearray(path.read_bytes())
        if self.data[4] != 2 or self.data[5] != 1:
            raise ValueError(f"{path}: the edits are written for ELF64 little-endian files")
        with path.open("rb") as stream:
            elf = ELFFile(stream)
            self.sections = {s.name: (s["sh_addr"], s["sh_offset"], s["sh_size"]) for s in elf.iter_sections()}

    def save(self) -> None:
        self.path.write_bytes(bytes(self.data))

    def phdrs(self) -> list[tuple[int, int, int, int, int, int]]:
        """(header offset, p_type, p_offset, p_vaddr, p_filesz, p_memsz) of each program header."""
        phoff, = struct.unpack_from("<Q", self.data, 0x20)
        phnum, = struct.unpack_from("<H", self.data, 0x38)
        out = []
        for index in range(phnum):
            at = phoff + index * 56
            p_type, _, p_offset, p_vaddr, _, p_filesz, p_memsz = struct.unpack_from("<IIQQQQQ", self.data, at)
            out.append((at, p_type, p_offset, p_vaddr, p_filesz, p_memsz))
        return out

    def dynamic(self) -> list[tuple[int, int, int]]:
        """(file offset, d_tag, d_val) of every slot of .dynamic, DT_NULL padding included."""
        _, offset, size = self.sections[".dynamic"]
        return [(at, *struct.unpack_from("<qQ", self.data, at)) for at in range(offset, offset + size, 16)]

    def slot(self, tag: int) -> int:
        return next(at for at, d_tag, _ in self.dynamic() if d_tag == tag)

    def string(self, text: bytes) -> int:
        """Offset of `text` (NUL-terminated, possibly the tail of a longer string) in .dynstr."""
        _, offset, size = self.sections[".dynstr"]
        found = self.data.find(text + b"\0", offset, offset + size)
        if found < 0:
            raise ValueError(f"{self.path}: no {text!r} in .dynstr")
        return found - offset

    def verneed(self) -> list[tuple[int, int, list[tuple[int, int]]]]:
        """(Verneed offset, vn_file, [(Vernaux offset, vna_name)]) following vn_next/vna_next."""
        _, at, _ = self.sections[".gnu.version_r"]
        out = []
        while True:
            _, _, vn_file, vn_aux, vn_next = struct.unpack_from("<HHIII", self.data, at)
            auxes, aux_at = [], at + vn_aux
            while True:
                _, _, _, vna_name, vna_next = struct.unpack_from("<IHHII", self.data, aux_at)
                auxes.append((aux_at, vna_name))
                if vna_next == 0:
                    break
                aux_at += vna_next
            out.append((at, vn_file, auxes))
            if vn_next == 0:
                return out
            at += vn_next

    def rename_version(self, old: str, new: str) -> None:
        """Rename a needed version in .dynstr (same length) and give its Vernaux the matching
        vna_hash, as a linker would have written for `new`."""
        if len(old) != len(new):
            raise ValueError("a rename in place keeps the length")
        index = self.string(old.encode())
        _, strtab, _ = self.sections[".dynstr"]
        self.data[strtab + index : strtab + index + len(old)] = new.encode()
        for _, _, auxes in self.verneed():
            for aux_at, name in auxes:
                if name == index:
                    struct.pack_into("<I", self.data, aux_at, elf_hash(new.encode()))
                    return
        raise ValueError(f"{self.path}: no version need named {old}")

    def grow_first_load(self, size: int) -> tuple[int, int]:
        """Extend the first PT_LOAD over `size` bytes of the page padding after it (bytes the
        kernel maps anyway, as mmap maps whole pages); (file offset, address) of the room."""
        at, _, p_offset, p_vaddr, p_filesz, p_memsz = next(h for h in self.phdrs() if h[1] == PT_LOAD)
        if p_filesz != p_memsz:
            raise ValueError(f"{self.path}: the first PT_LOAD has a zero-filled tail")
        room = (p_offset + p_filesz + 15) & ~15
        next_start = min(h[2] for h in self.phdrs() if h[1] == PT_LOAD and h[2] > p_offset)
        if room + size > next_start or any(self.data[room : room + size]):
            raise ValueError(f"{self.path}: no {size} bytes of zero padding after the first PT_LOAD")
        grown = room + size - p_offset
        struct.pack_into("<QQ", self.data, at + 32, grown, grown)  # p_filesz, p_memsz
        return room, p_vaddr + room - p_offset

    def benign_verneed_copy(self, real_name: str, stand_in: str) -> int:
        """A copy of .gnu.version_r in the padding after the first PT_LOAD, with the Vernaux
        named `real_name` renamed to `stand_in` (an existing string); its address."""
        _, offset, size = self.sections[".gnu.version_r"]
        room, address = self.grow_first_load(size)
        self.data[room : room + size] = self.data[offset : offset + size]
        real, replacement = self.string(real_name.encode()), self.string(stand_in.encode())
        for _, _, auxes in self.verneed():
            for aux_at, name in auxes:
                if name == real:
                    copy_at = room + aux_at - offset
                    struct.pack_into("<I", self.data, copy_at, elf_hash(stand_in.encode()))
                    struct.pack_into("<I", self.data, copy_at + 8, replacement)
        return address

    def insert_dynamic(self, before_tag: int, tag: int, value: int) -> None:
        """Insert an entry before the first `before_tag`, shifting the rest into the DT_NULL
        padding GNU ld leaves at the end of .dynamic (nothing is overwritten)."""
        slots = self.dynamic()
        used = next(index for index, (_, d_tag, _) in enumerate(slots) if d_tag == DT_NULL)
        if used + 1 >= len(slots):
            raise ValueError(f"{self.path}: no spare DT_NULL slot in .dynamic")
        where = next(index for index, (_, d_tag, _) in enumerate(slots) if d_tag == before_tag)
        for index in range(used, where, -1):
            struct.pack_into("<qQ", self.data, slots[index][0], *slots[index - 1][1:])
        struct.pack_into("<qQ", self.data, slots[where][0], tag, value)


def verneed_count_short(path: Path) -> None:
    """vn_cnt = 1 on a Verneed whose second Vernaux now needs GLIBC_2.99: ld.so follows
    vna_next to 0 (dl-version.c never reads vn_cnt); readelf -V trusts vn_cnt and shows one."""
    edit = _Edit(path)
    edit.rename_version("GLIBC_2.34", "GLIBC_2.99")
    for at, _, auxes in edit.verneed():
        if len(auxes) == 2:
            struct.pack_into("<H", edit.data, at + 2, 1)
            edit.save()
            return
    raise ValueError(f"{path}: no Verneed with two Vernaux")


def verneednum_short(path: Path) -> None:
    """DT_VERNEEDNUM = 1 while the second Verneed (libc.so.6) needs GLIBC_2.99: ld.so walks
    vn_next to 0 and never reads DT_VERNEEDNUM."""
    edit = _Edit(path)
    edit.rename_version("GLIBC_2.34", "GLIBC_2.99")
    struct.pack_into("<Q", edit.data, edit.slot(DT_VERNEEDNUM) + 8, 1)
    edit.save()


def verneed_twice(path: Path) -> None:
    """Two DT_VERNEED entries: the first points at a copy of the version needs without
    GLIBC_2.99, the last (the one elf_get_dynamic_info keeps) at the real ones needing it."""
    edit = _Edit(path)
    edit.rename_version("GLIBC_2.34", "GLIBC_2.99")
    benign = edit.benign_verneed_copy("GLIBC_2.99", "GLIBC_2.2.5")
    edit.insert_dynamic(DT_VERNEED, DT_VERNEED, benign)
    edit.save()


def dynamic_offset_decoy(path: Path) -> None:
    """PT_DYNAMIC's p_offset points at a copy of the dynamic array appended to the file, whose
    DT_VERNEED leads to version needs without GLIBC_2.99; p_vaddr still points at the real
    array (the one ld.so reads: l_ld = l_addr + p_vaddr) needing GLIBC_2.99."""
    edit = _Edit(path)
    edit.rename_version("GLIBC_2.34", "GLIBC_2.99")
    benign = edit.benign_verneed_copy("GLIBC_2.99", "GLIBC_2.2.5")
    _, offset, size = edit.sections[".dynamic"]
    decoy = bytearray(edit.data[offset : offset + size])
    at = edit.slot(DT_VERNEED) - offset
    struct.pack_into("<Q", decoy, at + 8, benign)
    decoy_at = (len(edit.data) + 15) & ~15
    edit.data += bytes(decoy_at - len(edit.data)) + decoy
    header = next(h for h in edit.phdrs() if h[1] == PT_DYNAMIC)
    struct.pack_into("<Q", edit.data, header[0] + 8, decoy_at)  # p_offset
    edit.save()


def rpath_twice(path: Path) -> None:
    """A second DT_RPATH, after the first ($ORIGIN/lib), naming /lib (the tail of the
    "$ORIGIN/lib" string): ld.so keeps only the last (elf_get_dynamic_info), so it never looks
    in $ORIGIN/lib. Written over DT_DEBUG, which only a debugger reads."""
    edit = _Edit(path)
    first = edit.slot(DT_RPATH)
    debug = edit.slot(DT_DEBUG)
    if debug < first:
        raise ValueError(f"{path}: DT_DEBUG comes before DT_RPATH")
    struct.pack_into("<qQ", edit.data, debug, DT_RPATH, edit.string(b"/lib"))
    edit.save()


ELFOSABI_FREEBSD = 9


def set_os_abi(path: Path, os_abi: int) -> None:
    """Set EI_OSABI, as FreeBSD's `brandelf -t` does (and FreeBSD's clang writes it)."""
    data = bytearray(path.read_bytes())
    data[7] = os_abi
    path.write_bytes(bytes(data))
