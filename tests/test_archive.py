"""The archive reader on real zips, folders and files: listing, reading, and the hostile-input suite.

Zips are built here with zipfile; corrupt and crafted ones by patching the bytes of a valid zip
at the offsets the zip format (APPNOTE 4.3.7 / 4.3.12) gives its header fields.
"""

from __future__ import annotations

import glob
import os
import shutil
import stat
import struct
import subprocess
import sys
import warnings
import zipfile
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambda_glibc_gate.archive import (
    Artifact,
    Limits,
    Member,
    UsageError,
    expand_paths,
    open_artifact,
    safe_name,
)

RULES = {"unsafe-archive", "unreadable-archive", "package-too-large"}
REAL_ELF = Path(os.path.realpath(sys.executable)).read_bytes()  # the interpreter: a real ELF file
assert REAL_ELF[:4] == b"\x7fELF"

# Field offsets inside a local file header and a central directory entry.
LOCAL = {"flags": 6, "method": 8, "crc": 14, "csize": 18, "usize": 22}
CENTRAL = {"flags": 8, "method": 10, "crc": 16, "csize": 20, "usize": 24, "attr": 38,
           "offset": 42}


def entry(name, data=b"", mode=0o100644, method=zipfile.ZIP_DEFLATED):
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = mode << 16
    info.compress_type = method
    return info, data


def link(name, target):
    return entry(name, target.encode(), mode=0o120777, method=zipfile.ZIP_STORED)


def write_zip(path: Path, entries) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns on the duplicate names we write on purpose
        with zipfile.ZipFile(path, "w") as archive:
            for info, data in entries:
                archive.writestr(info, data)
    return path


def central_entries(data: bytes) -> list[int]:
    """Offsets of every central directory entry, found through the end record."""
    end = data.rindex(b"PK\x05\x06")
    count, _, start = struct.unpack_from("<HLL", data, end + 10)
    offsets, at = [], start
    for _ in range(count):
        assert data[at:at + 4] == b"PK\x01\x02"
        offsets.append(at)
        name, extra, comment = struct.unpack_from("<HHH", data, at + 28)
        at += 46 + name + extra + comment
    return offsets


def patch(path: Path, index: int, field: str, value: int, size: int = 4, local: bool = True):
    """Set one header field of member `index`, in the central directory and (optionally) in
    its local header."""
    data = bytearray(path.read_bytes())
    central = central_entries(bytes(data))[index]
    fmt = "<H" if size == 2 else "<L"
    struct.pack_into(fmt, data, central + CENTRAL[field], value)
    if local:
        (header,) = struct.unpack_from("<L", data, central + CENTRAL["offset"])
        struct.pack_into(fmt, data, header + LOCAL[field], value)
    path.write_bytes(bytes(data))


def data_offset(path: Path, index: int) -> int:
    data = path.read_bytes()
    central = central_entries(data)[index]
    (header,) = struct.unpack_from("<L", data, central + CENTRAL["offset"])
    name, extra = struct.unpack_from("<HH", data, header + 26)
    return header + 30 + name + extra


def problems(artifact: Artifact, problem: str | None = None):
    return [f for f in artifact.problems
            if problem is None or f.details.get("problem") == problem]


def only(artifact: Artifact, problem: str):
    found = problems(artifact, problem)
    assert len(found) == 1, artifact.problems
    return found[0]


def names(artifact: Artifact) -> list[str]:
    return [m.name for m in artifact.members()]


def assert_one_line(artifact: Artifact):
    for finding in artifact.problems:
        assert finding.rule in RULES
        assert "\n" not in finding.message and "\r" not in finding.message
        assert finding.details.get("problem") != "internal-error", finding.message


# -- listing and reading ----------------------------------------------------------------------
def test_zip_members_have_normalised_names_modes_and_links(tmp_path):
    path = write_zip(tmp_path / "fn.zip", [
        entry("bin/", mode=0o040755),
        entry("./bin//bootstrap", REAL_ELF, mode=0o100755),
        entry("lib/libfoo.so.1", b"not elf", mode=0o100644, method=zipfile.ZIP_STORED),
        link("lib/libfoo.so", "libfoo.so.1"),
        link("bin/lib", "../lib"),
    ])
    with open_artifact(str(path)) as artifact:
        members = {m.name: m for m in artifact.members()}
        assert artifact.kind == "zip" and artifact.path == str(path)
        assert list(members) == ["bin/bootstrap", "lib/libfoo.so.1", "lib/libfoo.so", "bin/lib"]
        boot = members["bin/bootstrap"]
        assert stat.S_ISREG(boot.mode) and stat.S_IMODE(boot.mode) == 0o755
        assert boot.size == len(REAL_ELF) and not boot.is_symlink
        assert stat.S_IMODE(members["lib/libfoo.so.1"].mode) == 0o644
        assert members["lib/libfoo.so"].is_symlink
        assert members["lib/libfoo.so"].link_target == "libfoo.so.1"
        assert members["bin/lib"].link_target == "../lib"
        assert artifact.unpacked_size == len(REAL_ELF) + len(b"not elf")
        assert artifact.problems == []


def test_zip_made_without_unix_attributes_has_unknown_modes(tmp_path):
    info = zipfile.ZipInfo("handler.py")
    info.create_system = 0  # MS-DOS
    path = write_zip(tmp_path / "win.zip", [(info, b"print(1)")])
    patch(path, 0, "attr", 0x20, local=False)  # FILE_ATTRIBUTE_ARCHIVE only: no Unix bits
    with open_artifact(str(path)) as artifact:
        (member,) = artifact.members()
        assert member.mode is None and not member.is_symlink


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED,
                                    zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_every_standard_compression_reads_back_exactly(tmp_path, method):
    text = os.urandom(3000) + b"abc" * 200_000  # more than one output chunk
    path = write_zip(tmp_path / "m.zip", [entry("bin/bootstrap", REAL_ELF, method=method),
                                          entry("data.bin", text, method=method)])
    with open_artifact(str(path)) as artifact:
        boot, data = artifact.members()
        assert artifact.read_if_elf(boot) == REAL_ELF
        assert artifact.read_if_elf(data) is None
        assert artifact.read(data) == text
        assert artifact.read_head(data, 10) == text[:10]
        assert artifact.read_head(boot) == REAL_ELF[:64]
        assert artifact.problems == []


def test_short_members_read_whole_and_are_not_elf(tmp_path):
    path = write_zip(tmp_path / "s.zip", [entry("a", b"\x7fE"), entry("empty", b"")])
    with open_artifact(str(path)) as artifact:
        short, empty = artifact.members()
        assert artifact.read_head(short, 64) == b"\x7fE"
        assert artifact.read_if_elf(short) is None
        assert artifact.read(empty) == b"" and artifact.read_if_elf(empty) is None
        assert artifact.problems == []


def test_symlink_members_have_no_content_to_read(tmp_path):
    path = write_zip(tmp_path / "l.zip", [entry("libfoo.so.1", REAL_ELF),
                                          link("libfoo.so", "libfoo.so.1")])
    with open_artifact(str(path)) as artifact:
        _, symlink = artifact.members()
        assert artifact.read(symlink) is None and artifact.read_if_elf(symlink) is None


def test_read_if_elf_stops_after_the_first_block_of_other_files(tmp_path):
    # A stored non-ELF member with a broken CRC: only a whole read can notice.
    big = b"PKG" + os.urandom(500_000)
    path = write_zip(tmp_path / "crc.zip", [entry("data.bin", big, method=zipfile.ZIP_STORED)])
    data = bytearray(path.read_bytes())
    data[data_offset(path, 0) + 400_000] ^= 0xFF
    path.write_bytes(bytes(data))
    with open_artifact(str(path)) as artifact:
        (member,) = artifact.members()
        assert artifact.read_if_elf(member) is None
        assert artifact.problems == []
        assert artifact.read(member) is None
        assert only(artifact, "crc-mismatch").member == "data.bin"


def test_total_budget_counts_what_is_actually_read(tmp_path):
    elf = REAL_ELF + os.urandom(600_000)  # incompressible: 600 kB decompressed per read
    entries = [entry(f"data{i}.bin", os.urandom(100_000)) for i in range(20)]
    entries += [entry("a.so", elf), entry("b.so", elf)]
    path = write_zip(tmp_path / "budget.zip", entries)
    with open_artifact(str(path), Limits(max_total_bytes=1_000_000)) as artifact:
        results = [artifact.read_if_elf(m) for m in artifact.members()]
        # 20 non-ELF members hold 2 MB, but only their first blocks were decompressed
        assert results[-2] == elf
        assert results[-1] is None
        assert only(artifact, "total-too-large").rule == "unsafe-archive"
        assert artifact.read(next(artifact.members())) is None
        assert len(artifact.problems) == 1  # reported once, not once per later read


def test_read_limits(tmp_path):
    path = write_zip(tmp_path / "big.zip", [entry("big.so", REAL_ELF),
                                            entry("big.dat", b"z" * len(REAL_ELF))])
    with open_artifact(str(path), Limits(max_member_bytes=len(REAL_ELF) - 1)) as artifact:
        elf, other = artifact.members()
        assert artifact.read(elf, limit=100) is None
        assert only(artifact, "member-too-large").member == "big.so"
        assert artifact.read_if_elf(other) is None  # not ELF: no finding, whatever its size
        assert artifact.read_if_elf(elf) is None
        assert len(problems(artifact, "member-too-large")) == 1  # the same problem, once
        assert artifact.read_head(elf, 4) == b"\x7fELF"


def test_a_zip_is_recognised_by_its_bytes_not_its_name(tmp_path):
    path = write_zip(tmp_path / "function.pkg", [entry("bootstrap", REAL_ELF)])
    with open_artifact(str(path)) as artifact:
        assert artifact.kind == "zip" and names(artifact) == ["bootstrap"]


# -- folders and single files ----------------------------------------------------------------
def make_tree(root: Path) -> Path:
    (root / "bin").mkdir(parents=True)
    (root / "lib").mkdir()
    (root / "bin" / "bootstrap").write_bytes(REAL_ELF)
    (root / "bin" / "bootstrap").chmod(0o755)
    (root / "lib" / "libfoo.so.1").write_bytes(b"text")
    (root / "lib" / "libfoo.so").symlink_to("libfoo.so.1")
    (root / "a").symlink_to("b")  # a loop the walk must not follow
    (root / "b").symlink_to("a")
    (root / "lib" / "loop").symlink_to("..")
    return root


def test_folder_members_are_walked_without_following_links(tmp_path):
    root = make_tree(tmp_path / "Fn")
    with open_artifact(str(root)) as artifact:
        members = {m.name: m for m in artifact.members()}
        assert artifact.kind == "directory"
        assert sorted(members) == ["a", "b", "bin/bootstrap", "lib/libfoo.so",
                                   "lib/libfoo.so.1", "lib/loop"]
        assert stat.S_IMODE(members["bin/bootstrap"].mode) == 0o755
        assert members["lib/libfoo.so"].is_symlink
        assert members["lib/libfoo.so"].link_target == "libfoo.so.1"
        assert members["lib/loop"].link_target == ".."
        assert artifact.read_if_elf(members["bin/bootstrap"]) == REAL_ELF
        assert artifact.read_if_elf(members["lib/libfoo.so.1"]) is None
        assert artifact.read(members["lib/libfoo.so.1"]) == b"text"
        assert artifact.unpacked_size == len(REAL_ELF) + 4
        assert artifact.problems == []


def test_folder_symlinks_that_escape_are_reported(tmp_path):
    root = make_tree(tmp_path / "Fn")
    (root / "lib" / "abs.so").symlink_to("/usr/lib64/libc.so.6")
    (root / "lib" / "up.so").symlink_to("../../outside.so")
    (root / "evil\nname").symlink_to("/etc/passwd")
    with open_artifact(str(root)) as artifact:
        assert "lib/abs.so" not in names(artifact) and "lib/up.so" not in names(artifact)
        escaped = problems(artifact, "link-escapes")
        assert sorted(f.member for f in escaped) == ["evil\nname", "lib/abs.so", "lib/up.so"]
        assert all(f.severity == "error" and f.rule == "unsafe-archive" for f in escaped)
        assert any("evil\\x0aname" in f.message for f in escaped)
        assert_one_line(artifact)


def test_folder_special_files_are_skipped_without_opening_them(tmp_path):
    root = make_tree(tmp_path / "Fn")
    os.mkfifo(root / "pipe")  # opening it would block the scan
    with open_artifact(str(root)) as artifact:
        assert "pipe" not in names(artifact)
        note = only(artifact, "special-file")
        assert note.severity == "note" and note.member == "pipe" and "FIFO" in note.message


def test_folder_file_that_vanished_is_a_finding(tmp_path):
    root = make_tree(tmp_path / "Fn")
    with open_artifact(str(root)) as artifact:
        member = next(m for m in artifact.members() if m.name == "bin/bootstrap")
        (root / "bin" / "bootstrap").unlink()
        assert artifact.read_if_elf(member) is None
        finding = only(artifact, "io-error")
        assert finding.rule == "unreadable-archive" and finding.member == "bin/bootstrap"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root reads a chmod 000 folder anyway")
def test_unreadable_subfolder_is_a_finding(tmp_path):
    root = make_tree(tmp_path / "Fn")
    (root / "secret").mkdir()
    (root / "secret").chmod(0)
    try:
        with open_artifact(str(root)) as artifact:
            assert only(artifact, "io-error").member == "secret"
    finally:
        (root / "secret").chmod(0o755)


def test_single_file_is_one_member_named_by_its_basename(tmp_path):
    (tmp_path / "target" / "lambda" / "api").mkdir(parents=True)
    binary = tmp_path / "target" / "lambda" / "api" / "bootstrap"
    binary.write_bytes(REAL_ELF)
    binary.chmod(0o755)
    with open_artifact(str(binary)) as artifact:
        (member,) = artifact.members()
        assert artifact.kind == "file" and member.name == "bootstrap"
        assert stat.S_IMODE(member.mode) == 0o755 and member.size == len(REAL_ELF)
        assert artifact.read_if_elf(member) == REAL_ELF
        assert artifact.unpacked_size == len(REAL_ELF) and artifact.problems == []


def test_paths_that_are_not_files_or_folders_are_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        open_artifact(str(tmp_path / "missing.zip"))
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(UsageError, match="not a file or a folder"):
        open_artifact(str(tmp_path / "pipe"))


# -- expand_paths ------------------------------------------------------------------------------
def test_expand_paths_globs_recursively_in_order_without_duplicates(tmp_path):
    for folder in ("target/lambda/api", "target/lambda/worker", "other"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "bootstrap.zip").write_bytes(b"x")
    literal = str(tmp_path / "other" / "bootstrap.zip")
    found = expand_paths([literal, str(tmp_path / "**" / "bootstrap.zip"), literal])
    assert found[0] == literal
    assert sorted(found[1:]) == found[1:]
    assert {os.path.relpath(p, tmp_path) for p in found} == {
        "other/bootstrap.zip", "target/lambda/api/bootstrap.zip",
        "target/lambda/worker/bootstrap.zip"}
    assert len(found) == 3


def test_expand_paths_relative_to_a_base(tmp_path):
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "fn.zip").write_bytes(b"x")
    assert expand_paths(["dist/*.zip"], base=str(tmp_path)) == [str(tmp_path / "dist/fn.zip")]


def test_expand_paths_takes_existing_paths_with_glob_characters_as_is(tmp_path):
    odd = tmp_path / "fn[1].zip"
    odd.write_bytes(b"x")
    (tmp_path / "fn1.zip").write_bytes(b"x")  # what the pattern would match as a glob
    assert expand_paths([str(odd)]) == [str(odd)]


def test_expand_paths_without_a_match_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError) as error:
        expand_paths(["nothing/**/*.zip"], base=str(tmp_path))
    assert str(error.value) == "no file matches 'nothing/**/*.zip'"


# -- hostile names -----------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "problem"), [
    ("../evil.so", "parent-reference"),
    ("lib/../../evil.so", "parent-reference"),
    ("/etc/ld.so.preload", "absolute-path"),
    ("C:\\Windows\\evil.dll", "drive-letter"),
    ("c:evil.so", "drive-letter"),
    ("lib\\libfoo.so", "backslash"),
    ("x" * 5000, "name-too-long"),
    ("", "empty-name"),
])
def test_unsafe_names_are_reported_and_skipped(tmp_path, name, problem):
    path = write_zip(tmp_path / "evil.zip", [entry(name, REAL_ELF), entry("bootstrap", REAL_ELF)])
    with open_artifact(str(path)) as artifact:
        assert names(artifact) == ["bootstrap"]
        finding = only(artifact, problem)
        assert finding.rule == "unsafe-archive" and finding.severity == "error"
        assert finding.member == safe_name(name)
        assert safe_name(name) in finding.message
        assert_one_line(artifact)


def test_nul_in_a_name_is_reported(tmp_path):
    # zipfile cuts names at NUL when writing, so the byte is patched in afterwards.
    path = write_zip(tmp_path / "nul.zip", [entry("evilXname.so", REAL_ELF)])
    path.write_bytes(path.read_bytes().replace(b"evilXname", b"evil\x00name"))
    with open_artifact(str(path)) as artifact:
        assert names(artifact) == []
        finding = only(artifact, "nul-in-name")
        assert finding.member == "evil\\x00name.so" and "evil\\x00name.so" in finding.message
        assert_one_line(artifact)


def test_control_characters_in_names_are_escaped(tmp_path):
    path = write_zip(tmp_path / "ctl.zip", [entry("../a\nb\x1b[31m\u202e.so", b"x")])
    with open_artifact(str(path)) as artifact:
        (finding,) = artifact.problems
        assert "a\\x0ab\\x1b[31m\\u202e.so" in finding.message
        assert_one_line(artifact)


def test_duplicate_names_are_ambiguous(tmp_path):
    path = write_zip(tmp_path / "dup.zip", [entry("bootstrap", REAL_ELF),
                                            entry("bootstrap", b"other"),
                                            entry("./bootstrap", b"third")])
    with open_artifact(str(path)) as artifact:
        assert names(artifact) == ["bootstrap"]
        finding = only(artifact, "duplicate")
        assert finding.member == "bootstrap" and finding.rule == "unsafe-archive"


@pytest.mark.parametrize("target", ["/usr/lib64/libc.so.6", "../../etc/passwd",
                                    "./../../x.so"])
def test_symlinks_out_of_the_package_are_reported(tmp_path, target):
    path = write_zip(tmp_path / "links.zip", [link("lib/libc.so.6", target),
                                              link("lib/ok.so", "../bin/ok.so")])
    with open_artifact(str(path)) as artifact:
        assert names(artifact) == ["lib/ok.so"]
        finding = only(artifact, "link-escapes")
        assert finding.member == "lib/libc.so.6" and target in finding.message
        assert finding.rule == "unsafe-archive" and finding.severity == "error"


def test_symlink_with_an_overlong_target_is_reported(tmp_path):
    path = write_zip(tmp_path / "links.zip", [link("lib/x.so", "a/" * 100)])
    with open_artifact(str(path), Limits(max_link_target=64)) as artifact:
        assert names(artifact) == []
        assert only(artifact, "link-too-long").member == "lib/x.so"


def test_findings_of_one_kind_are_capped(tmp_path):
    path = write_zip(tmp_path / "many.zip", [entry(f"../x{i}", b"x") for i in range(30)])
    with open_artifact(str(path)) as artifact:
        listed = problems(artifact, "parent-reference")
        assert len(listed) == 20
        summary = only(artifact, "too-many-findings")
        assert summary.rule == "unsafe-archive" and summary.member is None


# -- bombs and limits --------------------------------------------------------------------------
def test_ratio_bomb_is_stopped(tmp_path):
    zeros = bytes(5 * 2**20)  # deflates about 1000:1
    path = write_zip(tmp_path / "bomb.zip", [entry("bootstrap", REAL_ELF[:64] + zeros)])
    with open_artifact(str(path), Limits(max_ratio=100)) as artifact:
        (member,) = artifact.members()
        assert artifact.read_if_elf(member) is None
        finding = only(artifact, "ratio-bomb")
        assert finding.rule == "unsafe-archive" and "100:1" in finding.message
    with open_artifact(str(path), Limits(max_ratio=2000)) as artifact:
        (member,) = artifact.members()
        assert artifact.read_if_elf(member) == REAL_ELF[:64] + zeros


def test_small_highly_compressible_members_are_not_bombs(tmp_path):
    zeros = bytes(512 * 1024)  # bzip2 shrinks this far beyond 100:1
    path = write_zip(tmp_path / "z.zip", [entry("zeros", zeros, method=zipfile.ZIP_BZIP2)])
    with open_artifact(str(path), Limits(max_ratio=100)) as artifact:
        (member,) = artifact.members()
        assert artifact.read(member) == zeros and artifact.problems == []


def test_count_bomb_is_refused_before_its_directory_is_parsed(tmp_path):
    # The end record's entry count is read first: zipfile would build an object per entry.
    path = write_zip(tmp_path / "count.zip", [entry(f"f{i}", b"") for i in range(25)])
    with open_artifact(str(path), Limits(max_members=10)) as artifact:
        assert names(artifact) == []
        finding = only(artifact, "too-many-members")
        assert "more than 10 members" in finding.message and finding.rule == "unsafe-archive"


def test_count_bomb_in_a_folder(tmp_path):
    for i in range(25):
        (tmp_path / f"f{i:02}").write_bytes(b"")
    with open_artifact(str(tmp_path), Limits(max_members=10)) as artifact:
        assert len(names(artifact)) == 10
        only(artifact, "too-many-members")


def test_package_too_large_zip_and_folder(tmp_path):
    path = write_zip(tmp_path / "fat.zip", [entry("a", b"a" * 3000), entry("b", b"b" * 3000),
                                            link("c", "a")])
    limits = Limits(lambda_unzipped_limit=5000)
    with open_artifact(str(path), limits) as artifact:
        finding = only(artifact, "unzipped-size")
        assert finding.rule == "package-too-large" and finding.severity == "error"
        assert "6,000 bytes" in finding.message and "5,000 bytes" in finding.message
        assert artifact.unpacked_size == 6000
        assert names(artifact) == ["a", "b", "c"]  # still scanned
    folder = tmp_path / "dir"
    folder.mkdir()
    (folder / "a").write_bytes(b"a" * 6000)
    with open_artifact(str(folder), limits) as artifact:
        assert only(artifact, "unzipped-size").details["size"] == 6000
    with open_artifact(str(path), Limits(lambda_unzipped_limit=6000)) as artifact:
        assert artifact.problems == []


# -- damaged and crafted zips ------------------------------------------------------------------
def test_encrypted_member_is_named(tmp_path):
    path = write_zip(tmp_path / "enc.zip", [entry("bootstrap", REAL_ELF), entry("ok", b"x")])
    patch(path, 0, "flags", 0x1, size=2)
    with open_artifact(str(path)) as artifact:
        boot, ok = artifact.members()
        assert artifact.read_if_elf(boot) is None
        finding = only(artifact, "encrypted")
        assert finding.member == "bootstrap" and finding.rule == "unreadable-archive"
        assert artifact.read(ok) == b"x"


@pytest.mark.parametrize("method", [99, 93])
def test_unknown_compression_method(tmp_path, method):
    path = write_zip(tmp_path / "m.zip", [entry("bootstrap", REAL_ELF)])
    patch(path, 0, "method", method, size=2)
    with open_artifact(str(path)) as artifact:
        (member,) = artifact.members()
        assert artifact.read_if_elf(member) is None
        finding = only(artifact, "unsupported-compression")
        assert f"method {method}" in finding.message and finding.member == "bootstrap"


def test_crc_mismatch(tmp_path):
    path = write_zip(tmp_path / "crc.zip", [entry("bootstrap", REAL_ELF,
                                                  method=zipfile.ZIP_STORED)])
    data = bytearray(path.read_bytes())
    data[data_offset(path, 0) + len(REAL_ELF) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with open_artifact(str(path)) as artifact:
        (member,) = artifact.members()
        assert artifact.read_if_elf(member) is None
        assert only(artifact, "crc-mismatch").member == "bootstrap"


def test_corrupt_deflate_data(tmp_path):
    path = write_zip(tmp_path / "bad.zip", [entry("bootstrap", REAL_ELF)])
    data = bytearray(path.read_bytes())
    start = data_offset(path, 0)
    data[start:start + 16] = b"\xff" * 16  # an invalid block type right away
    path.write_bytes(bytes(data))
    with open_artifact(str(path)) as artifact:
        (member,) = artifact.members()
        assert artifact.read(member) is None
        assert problems(artifact)[0].rule == "unreadable-archive"
        assert_one_line(artifact)


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_central_directory_declaring_less_than_the_data(tmp_path, method):
    path = write_zip(tmp_path / "lie.zip", [entry("bootstrap", REAL_ELF, method=method)])
    patch(path, 0, "usize", 1000, local=False)
    with open_artifact(str(path)) as artifact:
        (member,) = artifact.members()
        assert member.size == 1000
        assert artifact.read_if_elf(member) is None
        assert "1,000 bytes" in only(artifact, "size-mismatch").message


def test_central_directory_declaring_more_than_the_data(tmp_path):
    path = write_zip(tmp_path / "lie.zip", [entry("bootstrap", REAL_ELF)])
    patch(path, 0, "usize", len(REAL_ELF) + 5000, local=False)
    with open_artifact(str(path)) as artifact:
        (member,) = artifact.members()
        assert artifact.read_if_elf(member) is None
        finding = only(artifact, "truncated")
        assert f"{len(REAL_ELF):,}" in finding.message


def test_compressed_size_past_the_end_of_the_file(tmp_path):
    path = write_zip(tmp_path / "lie.zip", [entry("bootstrap", REAL_ELF,
                                                  method=zipfile.ZIP_STORED)])
    patch(path, 0, "csize", 10**8, local=False)
    patch(path, 0, "usize", 10**8, local=False)
    with open_artifact(str(path)) as artifact:
        (member,) = artifact.members()
        assert artifact.read_if_elf(member) is None
        assert only(artifact, "truncated").rule == "unreadable-archive"


def test_local_header_with_another_name(tmp_path):
    path = write_zip(tmp_path / "names.zip", [entry("bootstrap", REAL_ELF)])
    data = path.read_bytes()
    at = data.index(b"bootstrap")  # the local header's copy comes first
    path.write_bytes(data[:at] + b"bootstrip" + data[at + 9:])
    with open_artifact(str(path)) as artifact:
        (member,) = artifact.members()
        assert artifact.read_if_elf(member) is None
        assert "bootstrip" in only(artifact, "name-mismatch").message


def test_overlapping_members_are_a_bomb_trick(tmp_path):
    path = write_zip(tmp_path / "overlap.zip", [entry("a", b"a" * 1000), entry("b", b"b" * 1000)])
    patch(path, 1, "offset", 0, local=False)
    with open_artifact(str(path)) as artifact:
        finding = only(artifact, "overlapping-members")
        assert "'a'" in finding.message and "'b'" in finding.message


def test_truncated_zip(tmp_path):
    path = write_zip(tmp_path / "cut.zip", [entry("bootstrap", REAL_ELF)])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with open_artifact(str(path)) as artifact:
        assert artifact.kind == "zip" and names(artifact) == []
        assert only(artifact, "not-a-zip").rule == "unreadable-archive"


def test_garbage_named_zip(tmp_path):
    path = tmp_path / "x.zip"
    path.write_bytes(b"<html>404 Not Found</html>")
    with open_artifact(str(path)) as artifact:
        assert artifact.kind == "zip" and names(artifact) == []
        finding = only(artifact, "not-a-zip")
        assert finding.rule == "unreadable-archive" and "x.zip" in finding.message


def test_empty_zip(tmp_path):
    path = write_zip(tmp_path / "empty.zip", [])
    with open_artifact(str(path)) as artifact:
        assert names(artifact) == []
        assert "the zip is empty" in only(artifact, "empty-zip").message


# -- fuzzing -----------------------------------------------------------------------------------
def _fuzz_base(folder: Path) -> bytes:
    path = write_zip(folder / "base.zip", [
        entry("bin/", mode=0o040755),
        entry("bin/bootstrap", REAL_ELF[:600], mode=0o100755),
        entry("lib/libz.so", REAL_ELF[:300], method=zipfile.ZIP_STORED),
        entry("data.txt", b"hello " * 50, method=zipfile.ZIP_BZIP2),
        entry("lzma.bin", b"\x7fELF" + b"ab" * 40, method=zipfile.ZIP_LZMA),
        link("lib/libz.so.1", "libz.so"),
    ])
    return path.read_bytes()


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_zips_never_raise(tmp_path, data):
    base = _fuzz_base(tmp_path)
    mutated = bytearray(base)
    directory = central_entries(base)[0]  # headers hide more parser paths than data does
    positions = st.one_of(st.integers(0, len(base) - 1), st.integers(directory, len(base) - 1))
    for position, value in data.draw(st.lists(
            st.tuples(positions, st.integers(0, 255)), max_size=6)):
        mutated[position] = value
    cut = data.draw(st.one_of(st.none(), st.integers(0, len(base))))
    if cut is not None:
        mutated = mutated[:cut]
    path = tmp_path / "fuzz.zip"
    path.write_bytes(bytes(mutated))
    with open_artifact(str(path), Limits(max_total_bytes=10**6)) as artifact:
        for member in artifact.members():
            assert isinstance(member, Member) and member.name
            assert not member.name.startswith("/") and ".." not in member.name.split("/")
            for result in (artifact.read_head(member), artifact.read_if_elf(member),
                           artifact.read(member)):
                assert result is None or isinstance(result, bytes)
        assert_one_line(artifact)


# -- safe_name ---------------------------------------------------------------------------------
def test_safe_name_escapes_and_truncates():
    assert safe_name("bin/bootstrap") == "bin/bootstrap"
    assert safe_name("a\nb\tc\x00") == "a\\x0ab\\x09c\\x00"
    assert safe_name("\u202efdp.so") == "\\u202efdp.so"
    assert safe_name(b"caf\xe9".decode("utf-8", "surrogateescape")) == "caf\\xe9"
    long = safe_name("x" * 1000)
    assert len(long) < 300 and "1000 characters" in long


def test_of_duplicate_names_the_last_copy_is_judged_as_extractors_keep_it(tmp_path):
    # GIVEN a zip whose second "bootstrap" overwrites the first on extraction (unzip, zipfile)
    path = write_zip(tmp_path / "dup.zip", [entry("bootstrap", b"#!/bin/sh\necho first\n"),
                                            entry("bootstrap", REAL_ELF, mode=0o100755)])
    with open_artifact(str(path)) as artifact:
        # WHEN it is read  THEN the one member is the last copy, and the finding says so
        (member,) = list(artifact.members())
        assert member.mode & 0o777 == 0o755
        assert artifact.read_if_elf(member) == REAL_ELF
        assert "last copy" in only(artifact, "duplicate").message


# -- what the extractor writes is what is judged ------------------------------------------------
def raw_entry(name: bytes, data: bytes, *, mode: int = 0o100755, flags: int = 0, system: int = 3,
              central_extra: bytes = b"", local_extra: bytes | None = None,
              local_name: bytes | None = None) -> dict:
    return {"name": name, "data": data, "mode": mode, "flags": flags, "system": system,
            "central_extra": central_extra,
            "local_extra": central_extra if local_extra is None else local_extra,
            "local_name": name if local_name is None else local_name}


def raw_zip_bytes(entries: list[dict], between: bytes = b"", before_directory: bytes = b"",
                  count: int | None = None) -> bytes:
    """Stored members written byte by byte: names, flags and extra fields as given; `between`
    goes after the first member's data, `before_directory` before the central directory."""
    out, central = bytearray(), bytearray()
    for index, item in enumerate(entries):
        offset = len(out)
        crc = zlib.crc32(item["data"])
        size = len(item["data"])
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, item["flags"], 0, 0, 0x21, crc, size,
                           size, len(item["local_name"]), len(item["local_extra"]))
        out += item["local_name"] + item["local_extra"] + item["data"]
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", (item["system"] << 8) | 20, 20,
                               item["flags"], 0, 0, 0x21, crc, size, size, len(item["name"]),
                               len(item["central_extra"]), 0, 0, 0, item["mode"] << 16, offset)
        central += item["name"] + item["central_extra"]
        if index == 0:
            out += between
    out += before_directory
    start = len(out)
    total = len(entries) if count is None else count
    out += central + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, total, total, len(central),
                                 start, 0)
    return bytes(out)


def unicode_path_field(header_name: bytes, name: str, version: int = 1) -> bytes:
    body = struct.pack("<BL", version, zlib.crc32(header_name)) + name.encode()
    return struct.pack("<HH", 0x7075, len(body)) + body


def open_raw(tmp_path: Path, entries: list[dict], **layout) -> Artifact:
    path = tmp_path / "raw.zip"
    path.write_bytes(raw_zip_bytes(entries, **layout))
    return open_artifact(str(path))


def test_a_member_with_a_folder_mode_and_no_slash_is_judged_as_the_file_unzip_writes(tmp_path):
    # unzip 6.0 and Python's zipfile (is_dir: a trailing '/') both write it as a file
    artifact = open_raw(tmp_path, [raw_entry(b"bootstrap", REAL_ELF, mode=0o040755)])
    (member,) = artifact.members()
    assert member.name == "bootstrap" and not member.is_dir
    assert member.mode == 0o100755
    assert artifact.read_if_elf(member) == REAL_ELF
    finding = only(artifact, "folder-mode-file")
    assert finding.rule == "unsafe-archive" and finding.member == "bootstrap"


def test_a_real_folder_entry_is_still_a_folder(tmp_path):
    artifact = open_raw(tmp_path, [raw_entry(b"lib/", b"", mode=0o040755),
                                   raw_entry(b"lib/x.so", b"x", mode=0o100644)])
    assert names(artifact) == ["lib/x.so"]
    assert artifact.problems == []


def test_unicode_path_field_renames_the_member_as_unzip_and_python_do(tmp_path):
    field = unicode_path_field(b"bootstrap.txt", "bootstrap")
    artifact = open_raw(tmp_path, [raw_entry(b"bootstrap.txt", REAL_ELF, central_extra=field)])
    assert names(artifact) == ["bootstrap"]
    finding = only(artifact, "unicode-path")
    assert finding.rule == "unsafe-archive" and finding.member == "bootstrap"
    assert artifact.read_if_elf(next(artifact.members())) == REAL_ELF


def test_a_stale_unicode_path_field_is_ignored_as_both_readers_do(tmp_path):
    stale = unicode_path_field(b"other", "bootstrap")  # its CRC is not the header name's
    artifact = open_raw(tmp_path, [raw_entry(b"bootstrap.txt", b"x", central_extra=stale)])
    assert names(artifact) == ["bootstrap.txt"]
    assert artifact.problems == []


def test_a_unicode_path_field_in_one_header_only_is_a_disagreement(tmp_path):
    # unzip reads the local header's field, Python's zipfile the central one
    field = unicode_path_field(b"lib.so", "bootstrap")
    for central, local in ((field, b""), (b"", field)):
        artifact = open_raw(tmp_path, [raw_entry(b"lib.so", b"x", central_extra=central,
                                                 local_extra=local)])
        assert problems(artifact, "unicode-path"), (central, local)


def test_a_unicode_path_field_that_matches_the_utf8_name_is_fine(tmp_path):
    # Info-ZIP zip 3.0 writes UTF-8 names without flag bit 11 but with this field
    name = "lib/caf\u00e9.so".encode()
    field = unicode_path_field(name, "lib/caf\u00e9.so")
    artifact = open_raw(tmp_path, [raw_entry(name, b"x", central_extra=field)])
    assert names(artifact) == ["lib/caf\u00e9.so"]
    assert artifact.problems == []


def test_a_non_ascii_name_without_the_utf8_flag_is_judged_as_unzip_writes_it(tmp_path):
    artifact = open_raw(tmp_path, [raw_entry("lib/caf\u00e9.so".encode(), b"x")])
    assert names(artifact) == ["lib/caf\u00e9.so"]  # the bytes unzip writes; zipfile: cp437
    finding = only(artifact, "ambiguous-name-encoding")
    assert finding.severity == "warning" and "caf\u251c\u2310" in finding.message
    flagged = open_raw(tmp_path, [raw_entry("lib/caf\u00e9.so".encode(), b"x", flags=0x800)])
    assert names(flagged) == ["lib/caf\u00e9.so"] and flagged.problems == []


def test_a_local_entry_the_central_directory_hides_is_found(tmp_path):
    hidden = raw_zip_bytes([raw_entry(b"bootstrap", REAL_ELF[:4096])])
    hidden = hidden[: hidden.index(b"PK\x01\x02")]  # a local entry only
    for layout in ({"between": hidden}, {"before_directory": hidden}):
        artifact = open_raw(tmp_path, [raw_entry(b"a.txt", b"a"), raw_entry(b"b.txt", b"b")],
                            **layout)
        assert names(artifact) == ["a.txt", "b.txt"]
        finding = only(artifact, "hidden-entry")
        assert finding.rule == "unsafe-archive" and finding.member is None


def test_data_descriptors_between_members_are_not_hidden_entries(tmp_path):
    path = tmp_path / "streamed.zip"
    with zipfile.ZipFile(path, "w") as archive, archive.open("a.txt", "w") as member:
        member.write(b"a" * 1000)  # written with flag bit 3 and a data descriptor
    with zipfile.ZipFile(path, "a") as archive, archive.open("b.txt", "w") as member:
        member.write(b"b" * 1000)
    artifact = open_artifact(str(path))
    assert names(artifact) == ["a.txt", "b.txt"] and artifact.problems == []


@pytest.mark.parametrize("entries", [
    [("lib", b"file"), ("lib/libx.so", b"x")],
    [("lib/libx.so", b"x"), ("lib", b"file")],
    [("a/b/c", b"x"), ("a", b"file")],
])
def test_a_name_that_is_a_file_and_a_folder_is_unsafe(tmp_path, entries):
    # unzip: "checkdir error: lib exists but is not directory", the member inside is skipped
    path = write_zip(tmp_path / "f.zip", [entry(name, data) for name, data in entries])
    artifact = open_artifact(str(path))
    finding = only(artifact, "file-and-folder")
    assert finding.rule == "unsafe-archive" and finding.member in ("lib", "a")


def test_a_file_named_like_a_folder_entry_is_unsafe(tmp_path):
    path = write_zip(tmp_path / "f.zip", [entry("lib/", mode=0o040755), entry("lib", b"file")])
    assert only(open_artifact(str(path)), "file-and-folder").member == "lib"


def test_names_that_normalise_onto_another_member_are_unsafe(tmp_path):
    path = write_zip(tmp_path / "f.zip", [entry("bootstrap", REAL_ELF), entry("./bootstrap", b"x")])
    artifact = open_artifact(str(path))
    assert only(artifact, "normalised-collision").rule == "unsafe-archive"
    assert names(artifact) == ["bootstrap"]


def test_a_file_named_dot_is_not_judged_under_another_name(tmp_path):
    # unzip writes "bootstrap/." as "bootstrap/_", Python's zipfile as "bootstrap"
    path = write_zip(tmp_path / "f.zip", [entry("bootstrap/.", REAL_ELF, mode=0o100755)])
    artifact = open_artifact(str(path))
    assert names(artifact) == []
    assert only(artifact, "dot-name").rule == "unsafe-archive"


def test_a_central_directory_that_lies_about_its_count_is_refused_before_parsing(tmp_path, monkeypatch):
    entries = [raw_entry(b"f%05d" % index, b"") for index in range(3000)]
    path = tmp_path / "lying.zip"
    path.write_bytes(raw_zip_bytes(entries, count=1))
    monkeypatch.setattr(zipfile, "ZipFile", None)  # parsing would fail the test
    artifact = open_artifact(str(path), Limits(max_members=1000))
    assert only(artifact, "too-many-members").rule == "unsafe-archive"
    assert names(artifact) == []


def test_a_count_that_lies_low_within_the_limit_hides_nothing(tmp_path):
    entries = [raw_entry(b"f%d" % index, b"x") for index in range(5)]
    path = tmp_path / "lying.zip"
    path.write_bytes(raw_zip_bytes(entries, count=1))
    assert len(names(open_artifact(str(path)))) == 5


def test_expand_paths_does_not_follow_folder_links_and_ends(tmp_path):
    lambda_dir = tmp_path / "target" / "lambda"
    (lambda_dir / "fn").mkdir(parents=True)
    (lambda_dir / "fn" / "bootstrap.zip").write_bytes(b"zip")
    (lambda_dir / "a").symlink_to("..")  # a committed loop
    (lambda_dir / "b").symlink_to("..")
    (tmp_path / "target" / "twin.zip").hardlink_to(lambda_dir / "fn" / "bootstrap.zip")
    found = expand_paths(["target/**/*.zip"], base=str(tmp_path))
    assert found == [str(lambda_dir / "fn" / "bootstrap.zip")]  # the hard link is the same file
    assert expand_paths(["target/**"], base=str(tmp_path))


def test_expand_paths_matches_what_glob_matches_on_a_plain_tree(tmp_path, monkeypatch):
    for name in ("a/x.zip", "a/b/y.zip", "c/d/e/z.zip", "top.zip", ".hidden/h.zip", "a/.h.zip"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(name.encode())
    (tmp_path / ".hidden" / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    for pattern in ("**/*.zip", "a/**/*.zip", "*/*.zip", "**/e/*.zip", "a/**", "*.zip", "*/", "**/",
                    ".hidden/*/", "a/**/", "*/*.zip", ".hidden/**"):
        for path in (os.path.join(str(tmp_path), pattern), pattern):
            # hidden names match as in @actions/glob (dot: true)
            expected = set(glob.glob(path, recursive=True, include_hidden=True))
            if pattern.endswith("**"):  # glob's "a/**" gives "a/" itself; expand_paths "a"
                expected = {os.path.normpath(match) for match in expected}
            assert set(expand_paths([path])) == expected, path


def test_a_folder_artifact_with_link_loops_is_walked_once(tmp_path):
    root = tmp_path / "pkg"
    (root / "lib").mkdir(parents=True)
    (root / "lib" / "x.so").write_bytes(b"x")
    (root / "lib" / "up").symlink_to("..")
    (root / "loop").symlink_to("lib")
    artifact = open_artifact(str(root))
    assert sorted(names(artifact)) == ["lib/up", "lib/x.so", "loop"]


UNZIP_CASES = {
    "folder-mode-without-slash": [raw_entry(b"bootstrap", b"\x7fELF", mode=0o040755)],
    "unicode-path-rename": [raw_entry(b"bootstrap.txt", b"x",
                                      central_extra=unicode_path_field(b"bootstrap.txt", "bootstrap"))],
    "unicode-path-utf8": [raw_entry("lib/caf\u00e9.so".encode(), b"x",
                                    central_extra=unicode_path_field("lib/caf\u00e9.so".encode(), "lib/caf\u00e9.so"))],
    "stale-unicode-path": [raw_entry(b"a.so", b"x", central_extra=unicode_path_field(b"b.so", "c.so"))],
    "non-utf8-unix-name": [raw_entry("lib/caf\u00e9.so".encode(), b"x")],
    "utf8-flag": [raw_entry("lib/\u00fcber.so".encode(), b"x", flags=0x800)],
    "dots-and-slashes": [raw_entry(b"./a/b.so", b"x"), raw_entry(b"c//d.so", b"y"), raw_entry(b"e/./f.so", b"z")],
}


@pytest.mark.skipif(not shutil.which("unzip"), reason="Info-ZIP unzip is not installed")
@pytest.mark.parametrize("case", sorted(UNZIP_CASES))
def test_judged_names_are_the_names_unzip_writes(tmp_path, case):
    path = tmp_path / "case.zip"
    path.write_bytes(raw_zip_bytes(UNZIP_CASES[case]))
    out = tmp_path / "out"
    env = {**os.environ, "LC_ALL": "C.UTF-8"}  # unzip honours Unicode names only in a UTF-8 locale
    subprocess.run(["unzip", "-qq", "-o", str(path), "-d", str(out)], env=env, check=False,
                   capture_output=True, timeout=60)
    written = sorted(os.fsdecode(os.path.relpath(os.path.join(folder, name), os.fsencode(str(out))))
                     for folder, _, files in os.walk(os.fsencode(str(out))) for name in files)
    assert names(open_artifact(str(path))) == written


@pytest.mark.skipif(sys.version_info < (3, 12), reason="zipfile honours 0x7075 from Python 3.12")
@pytest.mark.parametrize("case", sorted(UNZIP_CASES))
def test_the_python_view_of_a_name_is_what_zipfile_reads(tmp_path, case):
    from lambda_glibc_gate.zip_layout import python_name

    path = tmp_path / "case.zip"
    path.write_bytes(raw_zip_bytes(UNZIP_CASES[case]))
    with zipfile.ZipFile(path) as archive:
        for info, item in zip(archive.infolist(), UNZIP_CASES[case], strict=True):
            assert info.filename == python_name(item["name"], item["flags"], item["central_extra"])


def test_names_the_local_and_central_headers_flag_differently_are_a_disagreement(tmp_path):
    name = "lib/caf\u00e9.so".encode()
    artifact = open_raw(tmp_path, [raw_entry(name, b"x", flags=0x800)])
    assert artifact.problems == []
    data = bytearray(raw_zip_bytes([raw_entry(name, b"x", flags=0x800)]))
    struct.pack_into("<H", data, LOCAL["flags"], 0)  # the local header drops the UTF-8 flag
    path = tmp_path / "flags.zip"
    path.write_bytes(bytes(data))
    artifact = open_artifact(str(path))
    assert names(artifact) == ["lib/caf\u00e9.so"]  # unzip takes the flag from the central directory
    assert only(artifact, "flag-mismatch").rule == "unsafe-archive"


def test_a_non_ascii_name_from_windows_says_unzip_converts_it(tmp_path):
    artifact = open_raw(tmp_path, [raw_entry("caf\u00e9.so".encode(), b"x", system=0)])
    assert "converts them from cp437 to Latin-1" in only(artifact, "ambiguous-name-encoding").message


def test_largest_declared_member_is_bounded_like_open_artifact(tmp_path):
    from lambda_glibc_gate.archive import largest_declared_member

    path = write_zip(tmp_path / "f.zip", [entry("a", b"x" * 10), entry("b", b"y" * 300)])
    assert largest_declared_member(str(path)) == 300
    lying = tmp_path / "lying.zip"
    lying.write_bytes(raw_zip_bytes([raw_entry(b"f%05d" % i, b"") for i in range(3000)], count=1))
    assert largest_declared_member(str(lying), Limits(max_members=1000)) is None
    (tmp_path / "junk.zip").write_bytes(b"PK\x03\x04junk")
    assert largest_declared_member(str(tmp_path / "junk.zip")) is None
