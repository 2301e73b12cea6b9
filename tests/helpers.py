"""Test helpers, defined once: the committed ELF fixtures and real zips built from them.

Tests import these (`from helpers import elf_fixture, write_zip`); conftest.py only holds the
pytest fixtures built on them."""

from __future__ import annotations

import zipfile
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "elf"
EXECUTABLE = 0o100755
REGULAR = 0o100644


def elf_fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def write_zip(path: Path, members: dict[str, bytes | tuple[bytes, int | None]]) -> Path:
    """members: name -> bytes (mode 755) or (bytes, mode); mode None = no Unix bits (Windows zip)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, value in members.items():
            data, mode = value if isinstance(value, tuple) else (value, EXECUTABLE)
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            if mode is None:
                info.create_system = 0  # MS-DOS: no Unix permissions recorded
                info.external_attr = 0x20  # the DOS archive bit (0 would make zipfile write 0600)
            else:
                info.create_system = 3
                info.external_attr = mode << 16
            archive.writestr(info, data)
    return path
