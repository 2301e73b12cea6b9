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
