"""Toolchain strings (Go, Rust) are found where toolchains put them: executables are searched
whole, libraries in windows (a whole-file search of a 50 MB library costs more than the rest of
its parse)."""

from __future__ import annotations

import io

import pytest
from elftools.elf.elffile import ELFFile
from helpers import elf_fixture

from lambda_glibc_gate.elf import MARKER_WINDOW, read_elf

LIBRARY = "lib/libfoo.so"  # a shared library without an interpreter
EXECUTABLE = "hello-glibc2.34-x86_64"
RUSTC_COMMENT = b"rustc version 1.80.0 (051478957 2024-07-21)\0"  # as rustc writes .comment


def loaded_end(data: bytes) -> int:
    """Where the loaded part of the file ends (read independently, with pyelftools)."""
    segments = ELFFile(io.BytesIO(data)).iter_segments()
    return max(s["p_offset"] + s["p_filesz"] for s in segments if s["p_type"] == "PT_LOAD")


def with_marker(name: str, marker: bytes, where: str) -> bytes:
    """The fixture padded with non-loaded bytes, `marker` written at `where`: "tail" (just after
    the loaded part, where .comment is) or "deep" (in the padding, outside every window)."""
    data = bytearray(elf_fixture(name))
    data += bytes(4 * MARKER_WINDOW)
    offset = loaded_end(bytes(data)) if where == "tail" else len(data) - 2 * MARKER_WINDOW
    data[offset : offset + len(marker)] = marker
    return bytes(data)


def test_the_fixtures_have_no_markers_of_their_own():
    for name in (LIBRARY, EXECUTABLE):
        assert read_elf(elf_fixture(name)).markers == frozenset()


@pytest.mark.parametrize("name", [LIBRARY, EXECUTABLE])
def test_rustc_comment_after_the_loaded_part_is_found(name):
    assert read_elf(with_marker(name, RUSTC_COMMENT, "tail")).markers == {"rust"}


def test_an_executable_is_searched_whole():
    assert read_elf(with_marker(EXECUTABLE, b"\xff Go buildinf:", "deep")).markers == {"go"}


def test_a_library_is_searched_only_in_windows():
    info = read_elf(with_marker(LIBRARY, b"\xff Go buildinf:", "deep"))
    assert info.markers == frozenset() and info.is_library


def test_the_go_build_id_at_the_start_of_a_librarys_text_is_found():
    data = bytearray(elf_fixture(LIBRARY))
    # The first bytes of the text segment, where Go's linker writes the build ID.
    text = next(s for s in ELFFile(io.BytesIO(bytes(data))).iter_segments()
                if s["p_type"] == "PT_LOAD" and s["p_flags"] & 1)
    marker = b'\xff Go build ID: "abc/def"\n \xff'
    data[text["p_offset"] : text["p_offset"] + len(marker)] = marker
    data += bytes(4 * MARKER_WINDOW)
    assert read_elf(bytes(data)).markers == {"go"}
