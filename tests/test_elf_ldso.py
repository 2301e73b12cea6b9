"""The reader reads the dynamic array, version chains and notes as glibc's ld.so does.

The fixtures under tests/fixtures/elf/ldso are real binaries edited (tools/elf_edits.py) where a
reader trusting counts, the first of a repeated tag or PT_DYNAMIC's p_offset would see a file
that loads, while ld.so needs GLIBC_2.99 (or loses its library path) and refuses it. Where this
machine has a real x86_64 glibc loader, each fixture is run under it, so the fixtures cannot
drift from what the loader does. Smaller shapes (caps, counts) are edits made here, in memory.
"""

from __future__ import annotations

import json
import platform
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from helpers import FIXTURES
from helpers import elf_fixture as fixture

from lambda_glibc_gate import elf
from lambda_glibc_gate.elf import MalformedElf, read_elf

MANIFEST = json.loads((FIXTURES / "MANIFEST.json").read_text())["fixtures"]
LOADER = Path("/lib64/ld-linux-x86-64.so.2")
NEEDS_GLIBC_2_99 = [
    "ldso/vn_cnt_short-glibc2.99-x86_64",  # vn_cnt smaller than the vna_next chain
    "ldso/verneednum_short-glibc2.99-x86_64",  # DT_VERNEEDNUM smaller than the vn_next chain
    "ldso/verneed_twice-glibc2.99-x86_64",  # two DT_VERNEED: the last is the real one
    "ldso/dynamic_offset_decoy-glibc2.99-x86_64",  # p_offset at a decoy, p_vaddr at the real array
]

real_loader = pytest.mark.skipif(
    platform.system() != "Linux" or platform.machine() != "x86_64" or not LOADER.exists(),
    reason="needs the x86_64 glibc loader to run the fixtures under",
)




def run_under_loader(path: Path) -> subprocess.CompletedProcess:
    """ld.so loads `path` (and its libraries, checking every version need) before any of its
    code runs: the refused fixtures never reach main."""
    return subprocess.run([str(LOADER), str(path)], capture_output=True, text=True, timeout=30)


def loads_here(name: str) -> bool:
    """The unedited source of a fixture loads on this machine (ld.so --list: no code runs)."""
    result = subprocess.run([str(LOADER), "--list", str(FIXTURES / name)], capture_output=True, text=True)
    return result.returncode == 0 and "not found" not in result.stdout + result.stderr


# -- what the reader sees ---------------------------------------------------------------------
@pytest.mark.parametrize("name", NEEDS_GLIBC_2_99)
def test_the_reader_sees_the_need_ld_so_sees(name):
    # GIVEN a real binary edited so that only ld.so's way of reading finds its GLIBC_2.99 need
    # WHEN read
    info = read_elf(fixture(name))
    # THEN the need is there, bound to the symbol that carries it, with a hash ld.so accepts
    (need,) = [need for need in info.version_needs if need.version == "GLIBC_2.99"]
    assert need.library == "libc.so.6"
    assert "__libc_start_main" in need.symbols
    assert need.hash_matches
    assert MANIFEST[name]["glibc_required"] == "2.99"


def test_vn_cnt_is_not_what_readelf_shows_but_what_ld_so_follows():
    # GIVEN the fixture whose vn_cnt says 1 while two Vernaux are chained by vna_next
    entry = MANIFEST["ldso/vn_cnt_short-glibc2.99-x86_64"]
    # THEN readelf (trusting vn_cnt) shows one, and the reader agrees with ld.so: both
    assert entry["readelf_view"]["version_needs"] == {"libc.so.6": ["GLIBC_2.2.5"]}
    info = read_elf(fixture("ldso/vn_cnt_short-glibc2.99-x86_64"))
    assert sorted(need.version for need in info.version_needs) == ["GLIBC_2.2.5", "GLIBC_2.99"]


def test_only_the_last_rpath_counts():
    # GIVEN app_rpath with a second DT_RPATH (/lib) after its own $ORIGIN/lib
    info = read_elf(fixture("ldso/rpath_twice"))
    # THEN only the last is the search path, as elf_get_dynamic_info keeps it
    assert info.rpath == ("/lib",)
    assert info.runpath == ()
    assert read_elf(fixture("app_rpath")).rpath == ("$ORIGIN/lib",)


# -- what the real loader does with them --------------------------------------------------------
@real_loader
@pytest.mark.parametrize("name", NEEDS_GLIBC_2_99)
def test_the_real_loader_refuses_them(name):
    source = "hello-glibc2.34-x86_64" if "vn_cnt" in name else "cxx_condvar-glibcxx3.4.30-x86_64"
    if not loads_here(source):
        pytest.skip(f"{source} itself does not load on this machine")
    # WHEN the edited binary is run under glibc's ld.so
    result = run_under_loader(FIXTURES / name)
    # THEN ld.so refuses it for the need the reader found
    assert result.returncode != 0
    assert "version `GLIBC_2.99' not found" in result.stderr


@real_loader
def test_the_real_loader_searches_only_the_last_rpath(tmp_path):
    # GIVEN the app and the library its first RPATH ($ORIGIN/lib) would find
    (tmp_path / "lib").mkdir()
    shutil.copyfile(FIXTURES / "lib" / "libfoo.so", tmp_path / "lib" / "libfoo.so")
    for name in ("app_rpath", "ldso/rpath_twice"):
        shutil.copyfile(FIXTURES / name, tmp_path / Path(name).name)
    # WHEN each is run under ld.so
    control = run_under_loader(tmp_path / "app_rpath")
    edited = run_under_loader(tmp_path / "rpath_twice")
    # THEN the unedited app finds lib/libfoo.so (whatever libfoo then needs), the edited one not
    assert "libfoo.so: cannot open shared object file" not in control.stderr
    assert edited.returncode != 0
    assert "libfoo.so: cannot open shared object file" in edited.stderr


# -- shapes made here, in memory ---------------------------------------------------------------
def _phdr(data: bytes, p_type: int) -> int:
    """Offset of the first ELF64 program header of `p_type`."""
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phnum, = struct.unpack_from("<H", data, 0x38)
    return next(phoff + i * 56 for i in range(phnum) if struct.unpack_from("<I", data, phoff + i * 56)[0] == p_type)


def test_the_dynamic_array_is_walked_to_dt_null_whatever_p_filesz_says():
    # GIVEN PT_DYNAMIC's p_filesz cut to one entry (ld.so never reads it to end the walk)
    data = bytearray(fixture("hello-glibc2.34-x86_64"))
    struct.pack_into("<Q", data, _phdr(data, elf.PT_DYNAMIC) + 32, 16)
    # THEN every entry up to DT_NULL is still read
    info = read_elf(bytes(data))
    assert "GLIBC_2.34" in {need.version for need in info.version_needs}


@pytest.mark.parametrize(("cap", "value"), [("MAX_DYNAMIC_ENTRIES", 20), ("MAX_VERSION_ENTRIES", 2)])
def test_a_walk_that_hits_its_cap_is_malformed_not_cut_short(monkeypatch, cap, value):
    # GIVEN a cap below what a real binary holds (27 dynamic entries, DT_VERNEED the 24th; 9 needs)
    monkeypatch.setattr(elf, cap, value)
    # WHEN read; THEN the file is malformed (one line), never read as if it ended there
    with pytest.raises(MalformedElf) as error:
        read_elf(fixture("cxx_condvar-glibcxx3.4.30-x86_64"))
    assert "\n" not in str(error.value)


def test_the_note_walk_is_bounded(monkeypatch):
    monkeypatch.setattr(elf, "MAX_NOTES", 2)  # zig's FreeBSD crt1 brings three notes
    with pytest.raises(MalformedElf):
        read_elf(fixture("freebsd/hello-x86_64"))


def _first_vernaux(data: bytes) -> int:
    info = read_elf(data)  # the fixture is well-formed: find .gnu.version_r through DT_VERNEED
    assert info.version_needs
    dynamic = _phdr(data, elf.PT_DYNAMIC)
    offset, = struct.unpack_from("<Q", data, dynamic + 8)
    entries = [struct.unpack_from("<qQ", data, offset + i * 16) for i in range(64)]
    verneed = dict(entries)[elf.DT_VERNEED] - 0x1000000  # hello: p_vaddr - p_offset of the first PT_LOAD
    return verneed + struct.unpack_from("<I", data, verneed + 8)[0]


def test_a_vna_hash_that_does_not_match_the_name_is_flagged():
    # GIVEN a need whose vna_hash is not elf_hash(name): match_symbol compares the hash first
    data = bytearray(fixture("hello-glibc2.34-x86_64"))
    struct.pack_into("<I", data, _first_vernaux(bytes(data)), 0x1234)
    needs = read_elf(bytes(data)).version_needs
    # THEN that need (and only it) says so
    assert [need.hash_matches for need in needs] == [False, True]


def test_an_unsupported_verneed_version_is_malformed():
    # GIVEN vn_version 2 in the first Verneed (_dl_check_map_versions: "unsupported version")
    data = bytearray(fixture("hello-glibc2.34-x86_64"))
    struct.pack_into("<H", data, _first_vernaux(bytes(data)) - 16, 2)
    with pytest.raises(MalformedElf, match="unsupported version 2 of Verneed record"):
        read_elf(bytes(data))


# -- the system a file is for -----------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_os_abi_agrees_with_readelf(name):
    # the manifest's os_abi is readelf's (OS/ABI and notes), checked in test_fixtures_readelf
    assert read_elf(fixture(name)).os_abi == MANIFEST[name].get("os_abi", "linux")


def test_freebsd_and_linux_files_say_so():
    assert read_elf(fixture("freebsd/addon.node")).os_abi == "freebsd"  # EI_OSABI 9 and .note.tag
    assert read_elf(fixture("freebsd/hello-x86_64")).os_abi == "freebsd"  # the note alone
    linux = read_elf(fixture("hello-glibc2.34-x86_64"))
    assert linux.os_abi == "linux"
    assert linux.abi_tag_kernel == "2.0.0"  # NT_GNU_ABI_TAG: Linux, 2.0.0
    assert read_elf(fixture("musl_static-x86_64")).os_abi == "linux"  # no note at all


@pytest.mark.parametrize(("os_word", "expected"), [(1, "hurd"), (2, "solaris"), (3, "freebsd")])
def test_the_gnu_abi_tag_names_the_os(os_word, expected):
    # GIVEN hello's NT_GNU_ABI_TAG with another OS word (glibc < 2.36 open_verify skips such files)
    data = bytearray(fixture("hello-glibc2.34-x86_64"))
    note = struct.unpack_from("<Q", data, _phdr(data, elf.PT_NOTE) + 8)[0]
    assert data[note + 12 : note + 16] == b"GNU\0"
    struct.pack_into("<I", data, note + 16, os_word)
    assert read_elf(bytes(data)).os_abi == expected


def test_ei_osabi_names_the_os():
    data = bytearray(fixture("hello-glibc2.34-x86_64"))
    data[7] = 2  # ELFOSABI_NETBSD
    assert read_elf(bytes(data)).os_abi == "netbsd"
    data[7] = 3  # ELFOSABI_GNU: Linux, as glibc's VALID_ELF_OSABI accepts
    assert read_elf(bytes(data)).os_abi == "linux"


def test_only_the_last_runpath_counts():
    # GIVEN app_runpath with its DT_DEBUG turned into a second DT_RUNPATH naming /lib
    data = bytearray(fixture("app_runpath"))
    offset = struct.unpack_from("<Q", data, _phdr(data, elf.PT_DYNAMIC) + 8)[0]
    slots = {struct.unpack_from("<q", data, offset + i * 16)[0]: offset + i * 16 for i in range(64)}
    strtab = struct.unpack_from("<Q", data, slots[elf.DT_STRTAB] + 8)[0] - 0x1000000  # zig: vaddr - offset
    lib = data.find(b"$ORIGIN/lib\0") + len("$ORIGIN") - strtab
    assert slots[elf.DT_RUNPATH] < slots[21]  # DT_DEBUG comes after DT_RUNPATH
    struct.pack_into("<qQ", data, slots[21], elf.DT_RUNPATH, lib)
    # THEN the runpath is the last entry alone
    assert read_elf(bytes(data)).runpath == ("/lib",)


def test_a_need_with_a_wrong_vna_hash_fails_the_scan_as_ld_so_refuses_it(make_zip):
    # GIVEN hello (needs GLIBC_2.34, which provided.al2023 has) with that need's vna_hash damaged
    from datetime import date

    from lambda_glibc_gate.scan import ScanOptions, scan

    data = bytearray(fixture("hello-glibc2.34-x86_64"))
    struct.pack_into("<I", data, _first_vernaux(bytes(data)), 0x1234)
    report = scan([make_zip({"bootstrap": bytes(data)})], ScanOptions(today=date(2026, 11, 27)))
    # THEN it fails: match_symbol compares the hash first, so `version ... not found`
    (finding,) = [f for f in report.all_findings() if f.severity == "error"]
    assert finding.rule == "missing-symbol-version" and "vna_hash" in finding.message
