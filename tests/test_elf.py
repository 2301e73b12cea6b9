"""The ELF reader against the committed fixtures, and against hostile variants of them."""

from __future__ import annotations

import json
import struct
import time

import pytest
from elftools.elf.elffile import ELFFile
from helpers import FIXTURES
from helpers import elf_fixture as fixture
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambda_glibc_gate.checks import glibc_required
from lambda_glibc_gate.elf import DT_VERNEED, DT_VERNEEDNUM, MalformedElf, read_elf

MANIFEST = json.loads((FIXTURES / "MANIFEST.json").read_text())
ENTRIES = MANIFEST["fixtures"] if "fixtures" in MANIFEST else MANIFEST


def _entries():
    items = ENTRIES.items() if isinstance(ENTRIES, dict) else ((e["file"], e) for e in ENTRIES)
    return sorted(items)




@pytest.mark.parametrize(("name", "expected"), _entries(), ids=[n for n, _ in _entries()])
def test_reader_agrees_with_the_manifest(name, expected):
    # GIVEN a fixture whose facts the manifest records (checked against readelf elsewhere)
    # WHEN our reader parses it
    info = read_elf(fixture(name))
    # THEN every fact the scanner relies on matches
    assert info.machine == expected["machine"]
    assert info.elf_class == expected["class"]
    assert info.interpreter == expected["interpreter"]
    assert list(info.needed) == list(expected["needed"])
    assert glibc_required(info) == expected["glibc_required"]
    needs: dict[str, list[str]] = {}
    for need in info.version_needs:
        needs.setdefault(need.library, []).append(need.version)
    expected_needs = expected.get("version_needs", {})
    assert {lib: sorted(v) for lib, v in needs.items()} == {
        lib: sorted(v if isinstance(v, list) else [x["name"] if isinstance(x, dict) else x for x in v])
        for lib, v in expected_needs.items()
    }
    for version, symbols in expected.get("symbols_at", {}).items():
        found = {s for n in info.version_needs if n.version == version for s in n.symbols}
        assert set(symbols) <= found, f"{version}: {symbols} not all in {found}"


def _first(predicate) -> str:
    for name, entry in _entries():
        if predicate(name, entry):
            return name
    pytest.skip("no fixture of that kind")


def _dynamic_fixture() -> str:
    return _first(lambda n, e: e.get("version_needs") and e["class"] == 64 and not e.get("stripped_sections")
                  and "no_section" not in n and "nosect" not in n)


def _patch_dynamic(data: bytes, tag: int, value: int) -> bytes:
    """Rewrite the d_val of `tag` in PT_DYNAMIC (a 64-bit little-endian fixture)."""
    import io

    elf = ELFFile(io.BytesIO(data))
    segment = next(s for s in elf.iter_segments() if s["p_type"] == "PT_DYNAMIC")
    buffer = bytearray(data)
    for offset in range(segment["p_offset"], segment["p_offset"] + segment["p_filesz"], 16):
        d_tag, _ = struct.unpack_from("<qQ", buffer, offset)
        if d_tag == tag:
            struct.pack_into("<qQ", buffer, offset, d_tag, value)
            return bytes(buffer)
    pytest.skip("tag not present")


def test_version_needs_pointing_outside_the_file_are_malformed():
    data = _patch_dynamic(fixture(_dynamic_fixture()), DT_VERNEED, 0x7FFF_FFFF_0000)
    with pytest.raises(MalformedElf):
        read_elf(data)


def test_a_huge_version_need_count_is_bounded():
    # GIVEN a verneed count of 2**32-1 (a cyclic or absurd chain)
    data = _patch_dynamic(fixture(_dynamic_fixture()), DT_VERNEEDNUM, 0xFFFF_FFFF)
    # WHEN read; THEN it ends quickly, either parsed (vn_next ends the chain) or malformed
    started = time.perf_counter()
    try:
        read_elf(data)
    except MalformedElf:
        pass
    assert time.perf_counter() - started < 5


def test_absurd_program_header_count_is_malformed():
    data = bytearray(fixture(_dynamic_fixture()))
    struct.pack_into("<H", data, 56, 0xFFFF)  # e_phnum of ELF64
    with pytest.raises(MalformedElf):
        read_elf(bytes(data))


@pytest.mark.parametrize("keep", [4, 20, 64, 200, 1000])
def test_truncated_files_never_raise_anything_but_malformed(keep):
    data = fixture(_dynamic_fixture())[:keep]
    try:
        read_elf(data)
    except MalformedElf as error:
        assert "\n" not in str(error)


def test_not_elf_is_rejected():
    with pytest.raises(MalformedElf):
        read_elf(b"#!/bin/sh\necho hi\n")


def test_stripped_sections_fall_back_to_the_dynamic_segment():
    # GIVEN a fixture with no section headers at all, and its unstripped twin if present
    name = _first(lambda n, e: "nosect" in n or "no_section" in n or "stripped" in n)
    info = read_elf(fixture(name))
    # THEN the version needs are still read, from PT_DYNAMIC alone
    assert info.version_needs
    assert glibc_required(info) == dict(_entries())[name]["glibc_required"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzzed_fixtures_raise_only_malformed(data):
    name = data.draw(st.sampled_from([n for n, _ in _entries()]))
    original = bytearray(fixture(name))
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(original) - 1))
        original[position] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        original = original[: data.draw(st.integers(0, len(original)))]
    started = time.perf_counter()
    try:
        read_elf(bytes(original))
    except MalformedElf:
        pass
    assert time.perf_counter() - started < 5


def test_thousands_of_load_segments_over_one_window_cost_no_copies():
    # GIVEN a 225 KB library whose 4,000 PT_LOAD headers all start at offset 0 (each a 64 KB window)
    import tracemalloc

    phnum, phentsize = 4000, 56
    header = bytearray(64)
    header[:16] = b"\x7fELF\x02\x01\x01" + bytes(9)
    struct.pack_into("<HHIQQQIHHHHHH", header, 16, 3, 62, 1, 0, 64, 0, 0, 64, phentsize, phnum, 64, 0, 0)
    phdr = struct.pack("<IIQQQQQQ", 1, 4, 0, 0, 0, 64 + phnum * phentsize, 64 + phnum * phentsize, 4096)
    data = bytes(header) + phdr * phnum
    # WHEN it is read
    tracemalloc.start()
    info = read_elf(data)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # THEN the toolchain search allocated no copy per window (it was 4,000 x 64 KB = 256 MB)
    assert info.markers == frozenset()
    assert peak < 8 * 2**20
