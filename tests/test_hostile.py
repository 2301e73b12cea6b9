"""The whole tool against hostile and broken inputs (issue 5, part 4).

Every case builds a real input in a temporary folder (zips from the committed ELF fixtures,
patched at the offsets the zip format and the ELF gABI give; folders with FIFOs and symlink
loops), runs the CLI, and checks the contract of `lambda-glibc-gate scan`:

- the exit code is 0, 1 or 2 as documented (a hostile artifact is a finding: 1; only a
  path that is not there at all is 2, with a one-line error);
- no traceback, ever; --format json parses and agrees with the exit code;
- the expected finding is there, by rule id and problem, naming the member (escaped when its
  name holds control characters), and the text report carries no control characters;
- nothing is written outside the temporary folder.

Most cases run in-process through `cli.main` (fast). The bombs and a sample of the others run
as a real `python -m lambda_glibc_gate scan` with resource limits (1 GiB address space, CPU
seconds, no file may grow: RLIMIT_FSIZE 0) and an audit hook (sitecustomize) that reports any
attempt to open a file for writing or to create, rename or delete one.
"""

from __future__ import annotations

import bz2
import json
import os
import socket
import struct
import subprocess
import sys
import textwrap
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from helpers import elf_fixture as elf

from lambda_glibc_gate import cli
from lambda_glibc_gate.archive import safe_name
from lambda_glibc_gate.rules import RULES

REPO = Path(__file__).resolve().parent.parent
GOOD = "hello-glibc2.34-x86_64"  # loads on provided.al2023
BAD = "strlcpy_strtol-glibc2.38-x86_64"  # needs GLIBC_2.38
APP = "app_runpath"  # needs libfoo.so through RUNPATH $ORIGIN/lib
LIBFOO = "lib/libfoo.so"  # needs GLIBC_2.38
ELF_MAGIC = b"\x7fELF"
CONTROL = {chr(code) for code in range(32) if chr(code) != "\n"} | {"\x7f"}
GiB = 2**30
MiB = 2**20




# -- building zips ---------------------------------------------------------------------------
def make_zip(path: Path, members: list[tuple], method: int = zipfile.ZIP_DEFLATED) -> Path:
    """members: (name, data) or (name, data, mode); mode 0o120777 makes a symlink."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, data, *rest in members:
            mode = rest[0] if rest else 0o100755
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.create_system = 3
            info.external_attr = mode << 16
            info.compress_type = zipfile.ZIP_STORED if mode >> 12 == 0o12 else method
            archive.writestr(info, data)
    return path


@dataclass
class Raw:
    """One member of a zip written byte by byte: sizes, CRC and flags are whatever we say."""

    name: bytes
    data: bytes  # already compressed
    method: int = 8
    usize: int = 0
    crc: int = 0
    flags: int = 0
    mode: int = 0o100755
    extra: bytes = b""  # in the local header and the central entry


def raw_zip(path: Path, members: list[Raw]) -> Path:
    """A zip with zip64 extra fields where a size needs them (APPNOTE 4.5.3)."""
    out, central = bytearray(), bytearray()
    for member in members:
        offset = len(out)
        big = member.usize >= 0xFFFFFFFF or len(member.data) >= 0xFFFFFFFF
        extra = struct.pack("<HHQQ", 1, 16, member.usize, len(member.data)) if big else member.extra
        usize = 0xFFFFFFFF if big else member.usize
        csize = 0xFFFFFFFF if big else len(member.data)
        version = 45 if big else 20
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", version, member.flags, member.method, 0,
                           0x21, member.crc, csize, usize, len(member.name), len(extra))
        out += member.name + extra + member.data
        central_extra = (struct.pack("<HHQQQ", 1, 24, member.usize, len(member.data), offset)
                         if big else member.extra)
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 0x0300 | version, version,
                               member.flags, member.method, 0, 0x21, member.crc, csize, usize,
                               len(member.name), len(central_extra), 0, 0, 0, member.mode << 16,
                               0xFFFFFFFF if big else offset)
        central += member.name + central_extra
    start = len(out)
    out += central
    count = len(members)
    if count >= 0xFFFF or any(m.usize >= 0xFFFFFFFF for m in members):
        record = len(out)
        out += struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count,
                           len(central), start)
        out += struct.pack("<4sLQL", b"PK\x06\x07", 0, record, 1)
        out += struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF,
                           0xFFFFFFFF, 0)
    else:
        out += struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(central), start, 0)
    path.write_bytes(bytes(out))
    return path


def count_bomb(path: Path, count: int, declared: int | None = None) -> Path:
    """`count` stored empty members, bytes written directly (zipfile would take seconds); the
    end records may declare another count."""
    local, central = bytearray(), bytearray()
    for index in range(count):
        name = b"f%07d" % index
        offset = len(local)
        local += struct.pack("<4s5H3L2H", b"PK\x03\x04", 10, 0, 0, 0, 0x21, 0, 0, 0, len(name), 0)
        local += name
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 0x030A, 10, 0, 0, 0, 0x21, 0, 0, 0,
                               len(name), 0, 0, 0, 0, 0o100644 << 16, offset)
        central += name
    start, record = len(local), len(local) + len(central)
    declared = count if declared is None else declared
    tail = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, declared, declared,
                       len(central), start)
    tail += struct.pack("<4sLQL", b"PK\x06\x07", 0, record, 1)
    tail += struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    path.write_bytes(bytes(local + central + tail))
    return path


# Deflate: after a full flush the output is byte-aligned and independent of what came before,
# so one compressed MiB of zeros can be repeated to make any size in milliseconds.
def deflate_zeros(head: bytes, mebibytes: int) -> bytes:
    first = zlib.compressobj(9, zlib.DEFLATED, -15)
    first_block = first.compress(head + bytes(MiB - len(head))) + first.flush(zlib.Z_FULL_FLUSH)
    zeros = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros_block = zeros.compress(bytes(MiB)) + zeros.flush(zlib.Z_FULL_FLUSH)
    final = zlib.compressobj(9, zlib.DEFLATED, -15).flush()  # an empty final block
    return first_block + zeros_block * (mebibytes - 1) + final


# bzip2: a stream is "BZh9", whole blocks (bit-aligned, each with its CRC), an end marker and
# the combined CRC. Repeating the block bzip2 makes of 16 MiB of zeros gives GiBs from KBs.
_BZ_BLOCK, _BZ_END = 0x314159265359, 0x177245385090


def _bz2_block(data: bytes) -> tuple[int, int, int]:
    """(bits, bit length, CRC) of the one block bzip2 makes of `data`."""
    stream = bz2.compress(data, 9)
    bits, total = int.from_bytes(stream[4:], "big"), (len(stream) - 4) * 8
    for pad in range(8):
        if (bits >> (pad + 32)) & (2**48 - 1) == _BZ_END:
            length = total - pad - 80
            block = bits >> (pad + 80)
            assert block >> (length - 48) == _BZ_BLOCK
            return block, length, (block >> (length - 80)) & 0xFFFFFFFF
    raise AssertionError("no bzip2 end-of-stream marker")


def bzip2_zeros(head: bytes, blocks: int, block_size: int = 16 * MiB) -> bytes:
    stream, length, combined = 0, 0, 0
    first, rest = _bz2_block(head + bytes(block_size - len(head))), _bz2_block(bytes(block_size))
    for block, bits, crc in [first] + [rest] * (blocks - 1):
        stream, length = (stream << bits) | block, length + bits
        combined = (((combined << 1) | (combined >> 31)) & 0xFFFFFFFF) ^ crc
    stream, length = (stream << 80) | (_BZ_END << 32) | combined, length + 80
    pad = -length % 8
    return b"BZh9" + (stream << pad).to_bytes((length + pad) // 8, "big")


def test_the_bombs_are_what_they_claim(tmp_path):
    # GIVEN the bomb builders; THEN their streams really inflate as claimed (checked on a
    # small size: the format is the same at any size)
    deflated = deflate_zeros(ELF_MAGIC, 3)
    assert zlib.decompress(deflated, -15) == ELF_MAGIC + bytes(3 * MiB - 4)
    compressed = bzip2_zeros(ELF_MAGIC, 3, block_size=MiB)
    assert bz2.decompress(compressed) == ELF_MAGIC + bytes(3 * MiB - 4)
    assert len(bzip2_zeros(ELF_MAGIC, 256)) < 16 * 1024  # 4 GiB from under 16 KB


# -- patching zips and ELF files -----------------------------------------------------------
def central_offsets(data: bytes) -> list[int]:
    end = data.rindex(b"PK\x05\x06")
    count, _, start = struct.unpack_from("<HLL", data, end + 10)
    offsets, at = [], start
    for _ in range(count):
        offsets.append(at)
        name, extra, comment = struct.unpack_from("<HHH", data, at + 28)
        at += 46 + name + extra + comment
    return offsets


def patch_zip(path: Path, index: int, central: dict[int, tuple[str, int]],
              local: dict[int, tuple[str, int]] | None = None) -> Path:
    """Overwrite fields {offset: (struct format, value)} in member `index`'s central entry and
    local header."""
    data = bytearray(path.read_bytes())
    at = central_offsets(bytes(data))[index]
    (header,) = struct.unpack_from("<L", data, at + 42)
    for offset, (fmt, value) in central.items():
        struct.pack_into("<" + fmt, data, at + offset, value)
    for offset, (fmt, value) in (local or {}).items():
        struct.pack_into("<" + fmt, data, header + offset, value)
    path.write_bytes(bytes(data))
    return path


class Elf64:
    """Field access on a little-endian ELF64 fixture (enough for the patches below)."""

    def __init__(self, data: bytes) -> None:
        self.data = bytearray(data)
        self.phoff, = struct.unpack_from("<Q", data, 0x20)
        self.phnum, = struct.unpack_from("<H", data, 0x38)

    def segments(self) -> list[tuple[int, int, int, int, int]]:
        """(header offset, p_type, p_offset, p_vaddr, p_filesz)"""
        out = []
        for index in range(self.phnum):
            at = self.phoff + index * 56
            p_type, _, p_offset, p_vaddr, _, p_filesz = struct.unpack_from("<IIQQQQ", self.data, at)
            out.append((at, p_type, p_offset, p_vaddr, p_filesz))
        return out

    def offset_of(self, address: int) -> int:
        for _, p_type, p_offset, p_vaddr, p_filesz in self.segments():
            if p_type == 1 and p_vaddr <= address < p_vaddr + p_filesz:
                return address - p_vaddr + p_offset
        raise AssertionError(f"{address:#x} is not loaded")

    def dynamic(self) -> list[tuple[int, int, int]]:
        """(entry offset, d_tag, d_val) up to DT_NULL"""
        _, _, offset, _, size = next(s for s in self.segments() if s[1] == 2)
        out = []
        for at in range(offset, offset + size, 16):
            tag, value = struct.unpack_from("<qQ", self.data, at)
            out.append((at, tag, value))
            if tag == 0:
                break
        return out

    def tag(self, tag: int) -> tuple[int, int]:
        return next((at, value) for at, d_tag, value in self.dynamic() if d_tag == tag)

    def set_tag(self, tag: int, value: int, new_tag: int | None = None) -> None:
        at, _ = self.tag(tag)
        struct.pack_into("<qQ", self.data, at, tag if new_tag is None else new_tag, value)

    def dynstr(self, text: bytes) -> int:
        """Index of `text` in the dynamic string table."""
        strtab = self.offset_of(self.tag(DT_STRTAB)[1])
        _, size = self.tag(DT_STRSZ)
        return bytes(self.data[strtab:strtab + size]).index(text + b"\0")

    def verneed(self) -> int:
        return self.offset_of(self.tag(DT_VERNEED)[1])

    def put(self, offset: int, fmt: str, *values: int) -> Elf64:
        struct.pack_into("<" + fmt, self.data, offset, *values)
        return self

    def bytes(self) -> bytes:
        return bytes(self.data)


DT_STRTAB, DT_STRSZ, DT_FLAGS, DT_FLAGS_1 = 5, 10, 30, 0x6FFFFFFB
DT_VERDEF, DT_VERDEFNUM, DT_VERNEED, DT_VERNEEDNUM = 0x6FFFFFFC, 0x6FFFFFFD, 0x6FFFFFFE, 0x6FFFFFFF


def with_verdef(chain: Callable[[Elf64, int, int], None] | None = None) -> bytes:
    """libfoo.so with a version-definition table (none of the fixtures has one): DT_FLAGS and
    DT_FLAGS_1 become DT_VERDEF / DT_VERDEFNUM, the records go over machine code (never read
    by the scanner). The base definition names the soname, the second one FOO_1 ... reusing the
    string "GLIBC_2.38". `chain` may break the records afterwards."""
    lib = Elf64(elf(LIBFOO))
    text_offset, text_address = _code_area(elf(LIBFOO))
    lib.set_tag(DT_FLAGS, text_address, new_tag=DT_VERDEF)
    lib.set_tag(DT_FLAGS_1, 2, new_tag=DT_VERDEFNUM)
    soname, version = lib.dynstr(b"libfoo.so"), lib.dynstr(b"GLIBC_2.38")
    # Elf64_Verdef: version, flags, ndx, cnt (half); hash, aux, next (word) = 20 bytes
    # Elf64_Verdaux: name, next (word) = 8 bytes
    lib.put(text_offset, "HHHHIII", 1, 1, 1, 1, 0, 20, 28)  # VER_FLG_BASE
    lib.put(text_offset + 20, "II", soname, 0)
    lib.put(text_offset + 28, "HHHHIII", 1, 0, 2, 1, 0, 20, 0)
    lib.put(text_offset + 48, "II", version, 0)
    if chain is not None:
        chain(lib, text_offset, text_address)
    return lib.bytes()


def _code_area(data: bytes, size: int = 56) -> tuple[int, int]:
    """(offset, address) of `size` bytes of machine code (the executable PT_LOAD): the scanner
    never reads them, so they can hold crafted records. Checked against the fixture's own
    section headers: no table the reader uses lies there."""
    import io

    from elftools.elf.elffile import ELFFile

    parsed = ELFFile(io.BytesIO(data))
    code = next(s for s in parsed.iter_segments() if s["p_type"] == "PT_LOAD" and s["p_flags"] & 1)
    offset, address = code["p_offset"], code["p_vaddr"]
    assert code["p_filesz"] >= size
    for section in parsed.iter_sections():
        if section["sh_flags"] & 2 and not section["sh_flags"] & 4:  # SHF_ALLOC, not SHF_EXECINSTR
            start, end = section["sh_offset"], section["sh_offset"] + section["sh_size"]
            assert end <= offset or start >= offset + size, section.name
    return offset, address


def test_the_verdef_patch_is_a_real_version_definition():
    # GIVEN libfoo.so with the crafted table; THEN the reader (and pyelftools, independently)
    # see the definition, so the broken variants below break a table that was valid
    import io

    from elftools.elf.elffile import ELFFile

    from lambda_glibc_gate.elf import read_elf

    data = with_verdef()
    assert read_elf(data).version_defs == ("GLIBC_2.38",)
    dynamic = next(s for s in ELFFile(io.BytesIO(data)).iter_segments() if s["p_type"] == "PT_DYNAMIC")
    tags = {tag.entry.d_tag for tag in dynamic.iter_tags()}
    assert {"DT_VERDEF", "DT_VERDEFNUM"} <= tags


def verneed_of_i386_made_cyclic() -> bytes:
    """hello-glibc2.17-i386 with a two-entry version-need cycle, as a 32-bit loader computes
    it (vn_next wraps modulo 2**32): A.vn_next = -16 -> B, B.vn_next = +16 -> A."""
    data = bytearray(elf("hello-glibc2.17-i386"))
    phoff, = struct.unpack_from("<I", data, 0x1C)
    phnum, = struct.unpack_from("<H", data, 0x2C)
    loads, dynamic = [], None
    for index in range(phnum):
        p_type, p_offset, p_vaddr, _, p_filesz = struct.unpack_from("<IIIII", data, phoff + index * 32)
        if p_type == 1:
            loads.append((p_vaddr, p_filesz, p_offset))
        elif p_type == 2:
            dynamic = (p_offset, p_filesz)
    assert dynamic is not None
    tags = {}
    for at in range(dynamic[0], dynamic[0] + dynamic[1], 8):
        tag, value = struct.unpack_from("<iI", data, at)
        tags[tag] = (at, value)
    address = tags[DT_VERNEED][1]
    entry = next(address - v + o for v, s, o in loads if v <= address < v + s)
    struct.pack_into("<iI", data, tags[DT_VERNEEDNUM][0], DT_VERNEEDNUM, 2)
    version, count, file_name, aux, _ = struct.unpack_from("<HHIII", data, entry)
    struct.pack_into("<HHIII", data, entry, version, count, file_name, aux, 2**32 - 16)
    struct.pack_into("<HHIII", data, entry - 16, version, count, file_name, aux + 16, 16)
    return bytes(data)


# -- running the tool ----------------------------------------------------------------------
@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    text: str  # the text report of the same scan ("" when it could not run)

    @property
    def report(self) -> dict:
        return json.loads(self.stdout)

    def findings(self) -> list[dict]:
        return [f for artifact in self.report["artifacts"] for f in artifact["findings"]]


def scan_in_process(capsys, paths: list[str], *options: str) -> Run:
    results = []
    for output_format in ("json", "text"):
        code = cli.main(["scan", *paths, "--format", output_format, "--no-color", *options])
        captured = capsys.readouterr()
        results.append((code, captured.out, captured.err))
    (code, out, err), (text_code, text, _) = results
    assert code == text_code
    return Run(code, out, err, text)


SITECUSTOMIZE = """
import os, sys

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_CHANGES = {"os.mkdir", "os.rename", "os.replace", "os.remove", "os.rmdir", "os.symlink",
            "os.link", "os.truncate", "os.chmod", "os.chown", "os.utime", "os.mkfifo",
            "os.mknod", "shutil.copyfile", "shutil.copytree", "shutil.move", "shutil.rmtree",
            "tempfile.mkstemp", "tempfile.mkdtemp"}

def _hook(event, args):
    if event == "open":
        path, mode, flags = args
        if isinstance(path, int):
            return  # an already open descriptor (stdout)
        writing = isinstance(flags, int) and flags & _WRITE_FLAGS
        writing = writing or (isinstance(mode, str) and any(c in mode for c in "wax+"))
        if writing:
            os.write(2, f"WRITE-ATTEMPT open {path!r} {mode!r}\\n".encode())
    elif event in _CHANGES:
        os.write(2, f"WRITE-ATTEMPT {event} {args!r}\\n".encode())

sys.addaudithook(_hook)
"""


def scan_subprocess(tmp_path: Path, paths: list[str], *options: str, text: bool = False,
                    memory: int = 1 * GiB) -> Run:
    """`python -m lambda_glibc_gate scan` with limits; cwd and TMPDIR inside tmp_path."""
    hooks = tmp_path / "_hooks"
    hooks.mkdir(exist_ok=True)
    (hooks / "sitecustomize.py").write_text(textwrap.dedent(SITECUSTOMIZE), encoding="utf-8")
    scratch = tmp_path / "_tmp"
    scratch.mkdir(exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(hooks),
        "PYTHONDONTWRITEBYTECODE": "1",
        "TMPDIR": str(scratch),
        "HOME": str(scratch),
        "LANG": "C.UTF-8",
    }

    def limits() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CPU, (120, 120))
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # growing any file kills the process

    results = []
    for output_format in ("json", "text") if text else ("json",):
        done = subprocess.run(
            [sys.executable, "-m", "lambda_glibc_gate", "scan", *paths, "--format",
             output_format, "--no-color", *options],
            cwd=tmp_path, env=env, preexec_fn=limits, capture_output=True, timeout=300,
        )
        results.append(done)
    first, second = results[0], results[-1]
    for done in results:
        err = done.stderr.decode("utf-8", "replace")
        assert "WRITE-ATTEMPT" not in err, err
    assert first.returncode == second.returncode, (first.stderr, second.stderr)
    assert list(scratch.iterdir()) == [], "the scan left files in TMPDIR"
    return Run(first.returncode, first.stdout.decode("utf-8"), first.stderr.decode("utf-8", "replace"),
               second.stdout.decode("utf-8", "replace") if text else "")


def assert_contract(run: Run) -> None:
    """What every run must do, whatever the input."""
    assert run.code in (0, 1, 2), f"exit {run.code}: {run.stderr[-2000:]}"
    assert "Traceback" not in run.stderr, run.stderr
    if run.code == 2:
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("lambda-glibc-gate: error: "), run.stderr
        return
    report = run.report
    assert report["verdict"] == ("fail" if run.code == 1 else "pass")
    for finding in run.findings():
        assert finding["rule"] in RULES, finding
        assert "\n" not in finding["message"] and "\r" not in finding["message"], finding
        assert finding.get("problem") != "internal-error", finding
    bad = {repr(char) for char in run.text if char in CONTROL}
    assert not bad, f"control characters in the text report: {bad}"


# -- the cases ---------------------------------------------------------------------------
@dataclass
class Case:
    build: Callable[[Path], list[str]]  # makes the input in the folder; the paths to scan
    code: int
    expect: list[tuple[str, str | None, str | None]] = field(default_factory=list)  # rule, member, problem
    absent: tuple[str, ...] = ()  # rules that must not appear
    glibc: dict[str, str | None] = field(default_factory=dict)  # member -> glibc_required
    subprocess: bool = False  # run as a real process with resource limits
    text: bool = False  # in a process, also render the text report (in-process runs always do)


def zip_of(*members: tuple, method: int = zipfile.ZIP_DEFLATED) -> Callable[[Path], list[str]]:
    def build(folder: Path) -> list[str]:
        return [str(make_zip(folder / "function.zip", list(members), method))]

    return build


def with_good_bootstrap(*members: tuple) -> Callable[[Path], list[str]]:
    return zip_of(("bootstrap", elf(GOOD)), *members)


def patched_zip(central: dict, local: dict | None = None, index: int = 0,
                members: tuple = (("bootstrap", elf(BAD)), ("lib/other.so", elf(LIBFOO)))):
    def build(folder: Path) -> list[str]:
        path = make_zip(folder / "function.zip", list(members))
        return [str(patch_zip(path, index, central, local))]

    return build


def bootstrap_elf(data: bytes, *others: tuple) -> Callable[[Path], list[str]]:
    return zip_of(("bootstrap", data), *others)


def elf_patch(name: str, patch: Callable[[Elf64], object]) -> bytes:
    data = Elf64(elf(name))
    patch(data)
    return data.bytes()


def raw(name: str, members: Callable[[], list[Raw]]) -> Callable[[Path], list[str]]:
    return lambda folder: [str(raw_zip(folder / name, members()))]


def nested(depth: int) -> Callable[[Path], list[str]]:
    def build(folder: Path) -> list[str]:
        inner = folder / "level0.zip"
        make_zip(inner, [("bootstrap", elf(BAD))])
        for level in range(1, depth):
            outer = folder / f"level{level}.zip"
            make_zip(outer, [(f"level{level - 1}.zip", inner.read_bytes(), 0o100644)])
            inner.unlink()
            inner = outer
        path = make_zip(folder / "function.zip", [("bootstrap", elf(GOOD)),
                                                  ("vendor/deps.zip", inner.read_bytes(), 0o100644)])
        inner.unlink()
        return [str(path)]

    return build


def overlapping(names: list[bytes]) -> Callable[[Path], list[str]]:
    """Every central entry points at the same local header (the trick of non-recursive zip
    bombs): a few KB that claim len(names) x 1 MiB."""

    def build(folder: Path) -> list[str]:
        kernel = deflate_zeros(ELF_MAGIC, 1)
        data = bytes(raw_zip(folder / "k.zip", [Raw(names[0], kernel, usize=MiB)]).read_bytes())
        (folder / "k.zip").unlink()
        at = central_offsets(data)[0]
        entry = data[at:at + 46]
        end = data.rindex(b"PK\x05\x06")
        central = b"".join(entry[:28] + struct.pack("<H", len(name)) + entry[30:] + name for name in names)
        body = data[:at] + central
        tail = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(names), len(names), len(central), at, 0)
        assert data[end:end + 4] == b"PK\x05\x06"
        path = folder / "function.zip"
        path.write_bytes(body + tail)
        return [str(path)]

    return build


def unicode_path(header: bytes, name: str) -> bytes:
    """An Info-ZIP Unicode Path extra field (0x7075) that renames `header` to `name`."""
    body = struct.pack("<BL", 1, zlib.crc32(header)) + name.encode()
    return struct.pack("<HH", 0x7075, len(body)) + body


def hidden_entry(folder: Path) -> list[str]:
    """A good bootstrap listed by the central directory, and a local entry for a bad one that
    it does not list, between the members (what a streaming extractor would unpack)."""
    path = make_zip(folder / "function.zip", [("bootstrap", elf(GOOD)), ("README", b"hi", 0o100644)])
    data = path.read_bytes()
    smuggled = make_zip(folder / "s.zip", [("bootstrap", elf(BAD))]).read_bytes()
    (folder / "s.zip").unlink()
    smuggled = smuggled[: smuggled.index(b"PK\x01\x02")]
    second = central_offsets(data)[1]
    (at,) = struct.unpack_from("<L", data, second + 42)
    out = bytearray(data[:at] + smuggled + data[at:])
    shift = len(smuggled)
    end = out.rindex(b"PK\x05\x06")
    (start,) = struct.unpack_from("<L", out, end + 16)
    struct.pack_into("<L", out, end + 16, start + shift)
    for entry in central_offsets(bytes(out)):
        (offset,) = struct.unpack_from("<L", out, entry + 42)
        if offset >= at:
            struct.pack_into("<L", out, entry + 42, offset + shift)
    path.write_bytes(bytes(out))
    return [str(path)]


def glob_through_link_loops(folder: Path) -> list[str]:
    """A cargo-lambda tree with committed links back up (`a -> ..`, `b -> ..`): a `**` that
    followed them would never end (2^depth paths)."""
    lambda_dir = folder / "target" / "lambda"
    (lambda_dir / "fn").mkdir(parents=True)
    make_zip(lambda_dir / "fn" / "bootstrap.zip", [("bootstrap", elf(GOOD))])
    (lambda_dir / "a").symlink_to("..")
    (lambda_dir / "b").symlink_to("..")
    return [str(folder / "target" / "**" / "*.zip")]


def folder_with(entries: Callable[[Path], None]) -> Callable[[Path], list[str]]:
    def build(folder: Path) -> list[str]:
        root = folder / "package"
        root.mkdir()
        entries(root)
        return [str(root)]

    return build


def weird_folder(root: Path) -> None:
    (root / "bootstrap").write_bytes(elf(GOOD))
    (root / "bootstrap").chmod(0o755)
    os.mkfifo(root / "pipe")
    (root / "dangling").symlink_to("nowhere")
    (root / "loop-a").symlink_to("loop-b")
    (root / "loop-b").symlink_to("loop-a")
    (root / "self").symlink_to("self")
    (root / "sub").mkdir()
    (root / "sub" / "parent").symlink_to("..")  # a folder loop, inside the package
    (root / "sub" / "deeper").mkdir()
    (root / "sub" / "deeper" / "root").symlink_to("../..")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(root / "sock"))


def escaping_folder(root: Path) -> None:
    (root / "bootstrap").write_bytes(elf(GOOD))
    (root / "bootstrap").chmod(0o755)
    (root / "etc").symlink_to("/etc")
    (root / "up").symlink_to("../..")


def library_loop(root: Path) -> None:
    (root / "bootstrap").write_bytes(elf(APP))
    (root / "bootstrap").chmod(0o755)
    (root / "lib").mkdir()
    (root / "lib" / "libfoo.so").symlink_to("libfoo.so.1")
    (root / "lib" / "libfoo.so.1").symlink_to("libfoo.so")


def fifo_bootstrap(root: Path) -> None:
    os.mkfifo(root / "bootstrap")


def special_path(kind: str) -> Callable[[Path], list[str]]:
    def build(folder: Path) -> list[str]:
        path = folder / "function.zip"
        if kind == "fifo":
            os.mkfifo(path)
        elif kind == "loop":
            path.symlink_to(path.name)
        return [str(path)]

    return build


def truncated(fraction: float) -> Callable[[Path], list[str]]:
    def build(folder: Path) -> list[str]:
        path = make_zip(folder / "function.zip", [("bootstrap", elf(BAD)), ("lib/x.so", elf(LIBFOO))])
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * fraction)])
        return [str(path)]

    return build


def eocd_patch(offset: int, fmt: str, value: int) -> Callable[[Path], list[str]]:
    def build(folder: Path) -> list[str]:
        path = make_zip(folder / "function.zip", [("bootstrap", elf(GOOD)), ("lib/x.so", elf(LIBFOO))])
        data = bytearray(path.read_bytes())
        struct.pack_into("<" + fmt, data, data.rindex(b"PK\x05\x06") + offset, value)
        path.write_bytes(bytes(data))
        return [str(path)]

    return build


def verneed_patch(change: Callable[[Elf64, int], object]) -> bytes:
    data = Elf64(elf(BAD))
    change(data, data.verneed())
    return data.bytes()


def libfoo_package(library: bytes) -> Callable[[Path], list[str]]:
    return zip_of(("bootstrap", elf(APP)), ("lib/libfoo.so", library))


LONG_NAME = "d/" * 2100 + "x"  # above PATH_MAX
BAD_VERDICT = {"expect": [("glibc-too-new", "bootstrap", None)], "absent": ("malformed-elf",),
               "glibc": {"bootstrap": "2.38"}}

CASES: dict[str, Case] = {
    # zip slip names: each a finding naming the (escaped) member; the good bootstrap still scanned
    "slip-parent": Case(with_good_bootstrap(("../evil", elf(BAD))), 1,
                        [("unsafe-archive", "../evil", "parent-reference")], glibc={"bootstrap": "2.34"}),
    "slip-deep-parent": Case(with_good_bootstrap(("a/../../evil", elf(BAD))), 1,
                             [("unsafe-archive", "a/../../evil", "parent-reference")]),
    "slip-absolute": Case(with_good_bootstrap(("/var/task/bootstrap2", elf(BAD))), 1,
                          [("unsafe-archive", "/var/task/bootstrap2", "absolute-path")]),
    "slip-drive-letter": Case(with_good_bootstrap(("C:/evil.so", elf(BAD))), 1,
                              [("unsafe-archive", "C:/evil.so", "drive-letter")]),
    "slip-drive-backslash": Case(with_good_bootstrap(("C:\\Windows\\evil.so", elf(BAD))), 1,
                                 [("unsafe-archive", "C:\\Windows\\evil.so", "drive-letter")]),
    "slip-backslashes": Case(with_good_bootstrap(("..\\..\\evil.so", elf(BAD))), 1,
                             [("unsafe-archive", "..\\..\\evil.so", "backslash")], subprocess=True),
    "slip-control-characters": Case(with_good_bootstrap(("../\x1b[31mred\x1b[0m\n::error::x", elf(BAD))), 1,
                                    [("unsafe-archive", "../\\x1b[31mred\\x1b[0m\\x0a::error::x",
                                      "parent-reference")], subprocess=True, text=True),
    "name-too-long": Case(with_good_bootstrap((LONG_NAME, b"x")), 1,
                          [("unsafe-archive", safe_name(LONG_NAME), "name-too-long")]),
    # symlink members
    "symlink-escapes": Case(with_good_bootstrap(("etc-passwd", "../../etc/passwd", 0o120777)), 1,
                            [("unsafe-archive", "etc-passwd", "link-escapes")]),
    "symlink-absolute": Case(with_good_bootstrap(("lib/libc.so.6", "/lib64/libc.so.6", 0o120777)), 1,
                             [("unsafe-archive", "lib/libc.so.6", "link-escapes")]),
    "symlink-nul-target": Case(with_good_bootstrap(("lib/x.so", "a\0b", 0o120777)), 1,
                               [("unsafe-archive", "lib/x.so", "bad-link-target")]),
    "symlink-in-package": Case(zip_of(("bootstrap", elf(APP)), ("lib/libfoo.so.1", elf(LIBFOO)),
                                      ("lib/libfoo.so", "libfoo.so.1", 0o120777)), 1,
                               [("glibc-too-new", "lib/libfoo.so.1", None)],
                               absent=("unsafe-archive", "missing-library"),
                               glibc={"bootstrap": "2.2.5", "lib/libfoo.so.1": "2.38"}),
    "symlink-loop-in-package": Case(zip_of(("bootstrap", elf(APP)),
                                           ("lib/libfoo.so", "libfoo.so.1", 0o120777),
                                           ("lib/libfoo.so.1", "libfoo.so", 0o120777)), 1,
                                    [("missing-library", "bootstrap", None)], absent=("unsafe-archive",)),
    # bombs: the tool stops at its limits (run with 1 GiB of address space)
    "bomb-ratio-bzip2": Case(raw("function.zip", lambda: [
        Raw(b"bootstrap", bzip2_zeros(ELF_MAGIC, 256), method=12, usize=100 * MiB)]), 1,
        [("unsafe-archive", "bootstrap", "ratio-bomb")], subprocess=True),
    "bomb-declared-4GiB": Case(raw("function.zip", lambda: [
        Raw(b"bootstrap", bzip2_zeros(ELF_MAGIC, 256), method=12, usize=4 * GiB)]), 1,
        [("unsafe-archive", "bootstrap", "member-too-large"), ("package-too-large", None, None)],
        subprocess=True),
    "bomb-deflate-lying-size": Case(raw("function.zip", lambda: [
        Raw(b"bootstrap", deflate_zeros(ELF_MAGIC, 4096), usize=MiB)]), 1,
        [("unreadable-archive", "bootstrap", "size-mismatch")], subprocess=True),
    "bomb-overlapping-duplicates": Case(overlapping([b"bootstrap"] * 5000), 1,
                                        [("unsafe-archive", None, "overlapping-members"),
                                         ("unsafe-archive", "bootstrap", "duplicate"),
                                         ("package-too-large", None, None)], subprocess=True),
    "bomb-overlapping-names": Case(overlapping([b"f%d" % i for i in range(5000)]), 1,
                                   [("unsafe-archive", None, "overlapping-members"),
                                    ("unsafe-archive", "f1", "name-mismatch")]),
    "bomb-count": Case(lambda folder: [str(count_bomb(folder / "function.zip", 200_000))], 1,
                       [("unsafe-archive", None, "too-many-members")], subprocess=True),
    # what the extractor writes is what is judged (unzip 6.0 and Python's zipfile)
    "folder-mode-without-slash": Case(raw("function.zip", lambda: [
        Raw(b"bootstrap", elf(BAD), method=0, usize=len(elf(BAD)), crc=zlib.crc32(elf(BAD)), mode=0o040755)]), 1,
        [("unsafe-archive", "bootstrap", "folder-mode-file"), ("glibc-too-new", "bootstrap", None)],
        glibc={"bootstrap": "2.38"}),
    "unicode-path-renames": Case(raw("function.zip", lambda: [
        Raw(b"bootstrap.txt", elf(BAD), method=0, usize=len(elf(BAD)), crc=zlib.crc32(elf(BAD)),
            extra=unicode_path(b"bootstrap.txt", "bootstrap"))]), 1,
        [("unsafe-archive", "bootstrap", "unicode-path"), ("glibc-too-new", "bootstrap", None)],
        glibc={"bootstrap": "2.38"}),
    "non-utf8-name": Case(raw("function.zip", lambda: [
        Raw(b"bootstrap", elf(GOOD), method=0, usize=len(elf(GOOD)), crc=zlib.crc32(elf(GOOD))),
        Raw("lib/caf\u00e9.so".encode(), b"x", method=0, usize=1, crc=zlib.crc32(b"x"))]), 0,
        [("unsafe-archive", "lib/caf\u00e9.so", "ambiguous-name-encoding")]),
    "hidden-local-entry": Case(hidden_entry, 1, [("unsafe-archive", None, "hidden-entry")],
                               glibc={"bootstrap": "2.34"}),
    "file-and-folder": Case(with_good_bootstrap(("lib", b"file", 0o100644), ("lib/libx.so", elf(BAD))), 1,
                            [("unsafe-archive", "lib", "file-and-folder")]),
    "dot-name": Case(with_good_bootstrap(("lib/libx.so/.", elf(BAD))), 1,
                     [("unsafe-archive", "lib/libx.so/.", "dot-name")]),
    "dot-name-collision": Case(with_good_bootstrap(("./bootstrap", elf(BAD))), 1,
                               [("unsafe-archive", "bootstrap", "normalised-collision")]),
    "glob-through-link-loops": Case(glob_through_link_loops, 0, absent=("unsafe-archive",),
                                    glibc={"bootstrap": "2.34"}),
    "bomb-count-lying-low": Case(lambda folder: [str(count_bomb(folder / "function.zip", 150_000, declared=1))], 1,
                                 [("unsafe-archive", None, "too-many-members")], subprocess=True),
    # nested zips are not opened: the inner bad bootstrap is not this package's bootstrap
    "nested-zips": Case(nested(40), 0, absent=("glibc-too-new", "unsafe-archive"),
                        glibc={"bootstrap": "2.34"}),
    # encryption and compression
    "encrypted-member": Case(patched_zip({8: ("H", 1)}, {6: ("H", 1)}), 1,
                             [("unreadable-archive", "bootstrap", "encrypted")]),
    "aes-method-99": Case(patched_zip({10: ("H", 99)}, {8: ("H", 99)}), 1,
                          [("unreadable-archive", "bootstrap", "unsupported-compression")]),
    # truncated and lying zips
    "truncated-half": Case(truncated(0.5), 1, [("unreadable-archive", None, "not-a-zip")]),
    "truncated-end-record": Case(truncated(0.995), 1, [("unreadable-archive", None, "not-a-zip")]),
    "empty-file-named-zip": Case(lambda folder: [str(_write(folder / "f.zip", b""))], 1,
                                 [("unreadable-archive", None, "not-a-zip")]),
    "lying-size-smaller": Case(patched_zip({24: ("L", 100)}), 1,
                               [("unreadable-archive", "bootstrap", "size-mismatch")]),
    "lying-size-larger": Case(patched_zip({24: ("L", len(elf(BAD)) + 5)}), 1,
                              [("unreadable-archive", "bootstrap", "truncated")]),
    "lying-crc": Case(patched_zip({16: ("L", 0xDEADBEEF)}, {14: ("L", 0xDEADBEEF)}), 1,
                      [("unreadable-archive", "bootstrap", "crc-mismatch")], subprocess=True),
    "lying-offset-into-data": Case(patched_zip({42: ("L", 100)}), 1,
                                   [("unreadable-archive", "bootstrap", "bad-local-header")]),
    "lying-offset-past-end": Case(patched_zip({42: ("L", 0xFFFFFF00)}), 1,
                                  [("unreadable-archive", "bootstrap", "bad-local-header")]),
    "lying-name": Case(patched_zip({46: ("B", ord("B"))}), 1,
                       [("unsafe-archive", "Bootstrap", "name-mismatch")]),
    "lying-compressed-size": Case(patched_zip({20: ("L", 10**6)}), 1,
                                  [("unsafe-archive", None, "overlapping-members")]),
    # a count that lies hides no member; an offset that lies makes every member unreadable
    "lying-entry-count": Case(eocd_patch(10, "H", 3), 1, [("glibc-too-new", "lib/x.so", None)],
                              glibc={"bootstrap": "2.34", "lib/x.so": "2.38"}),
    "lying-directory-offset": Case(eocd_patch(16, "L", 7), 1,
                                   [("unreadable-archive", "bootstrap", "bad-local-header"),
                                    ("unreadable-archive", "lib/x.so", "bad-local-header")]),
    # broken ELF files: a finding on the member, never a crash
    "truncated-elf-header": Case(bootstrap_elf(elf(BAD)[:40]), 1, [("malformed-elf", "bootstrap", None)]),
    "truncated-elf-tables": Case(bootstrap_elf(elf(BAD)[:900]), 1, [("malformed-elf", "bootstrap", None)],
                                 subprocess=True),
    "truncated-elf-name-escaped": Case(zip_of(("bootstrap", elf(GOOD)), ("lib/\x1b]0;pwn\x07.so", elf(BAD)[:900])),
                                       1, [("malformed-elf", "lib/\x1b]0;pwn\x07.so", None)]),
    "section-headers-cut-off": Case(bootstrap_elf(elf(BAD)[:struct.unpack_from("<Q", elf(BAD), 0x28)[0]]), 1,
                                    **BAD_VERDICT),
    "shnum-65535": Case(bootstrap_elf(elf_patch(BAD, lambda e: e.put(0x3C, "H", 0xFFFF))), 1, **BAD_VERDICT),
    "shoff-past-eof": Case(bootstrap_elf(elf_patch(BAD, lambda e: e.put(0x28, "Q", 2**47))), 1, **BAD_VERDICT),
    "shentsize-absurd": Case(bootstrap_elf(elf_patch(BAD, lambda e: e.put(0x3A, "H", 0xFFFF))), 1, **BAD_VERDICT),
    "shstrndx-out-of-range": Case(bootstrap_elf(elf_patch(BAD, lambda e: e.put(0x3E, "H", 0xFFFE))), 1,
                                  **BAD_VERDICT),
    "phnum-65535": Case(bootstrap_elf(elf_patch(BAD, lambda e: e.put(0x38, "H", 0xFFFF))), 1,
                        [("malformed-elf", "bootstrap", None)]),
    "phoff-past-eof": Case(bootstrap_elf(elf_patch(BAD, lambda e: e.put(0x20, "Q", 2**40))), 1,
                           [("malformed-elf", "bootstrap", None)]),
    "phentsize-wrong": Case(bootstrap_elf(elf_patch(BAD, lambda e: e.put(0x36, "H", 0x10))), 1,
                            [("malformed-elf", "bootstrap", None)]),
    "dynamic-size-absurd": Case(bootstrap_elf(elf_patch(BAD, lambda e: e.put(
        next(s[0] for s in e.segments() if s[1] == 2) + 32, "Q", 2**62))), 1, **BAD_VERDICT),
    # version-need chains (the fixture's one Verneed with three Vernaux: 2.2.5, 2.34, 2.38)
    "verneed-next-out-of-range": Case(bootstrap_elf(verneed_patch(
        lambda e, at: (e.put(at + 12, "I", 0xFFFFFFF0), e.set_tag(DT_VERNEEDNUM, 2)))), 1,
        [("malformed-elf", "bootstrap", None)]),
    "verneed-aux-out-of-range": Case(bootstrap_elf(verneed_patch(lambda e, at: e.put(at + 8, "I", 0x7FFFFFF0))), 1,
                                     [("malformed-elf", "bootstrap", None)]),
    "vernaux-next-out-of-range": Case(bootstrap_elf(verneed_patch(
        lambda e, at: e.put(at + struct.unpack_from("<I", e.data, at + 8)[0] + 12, "I", 0xFFFFFFF0))), 1,
        [("malformed-elf", "bootstrap", None)]),
    "vernaux-name-outside-strings": Case(bootstrap_elf(verneed_patch(
        lambda e, at: e.put(at + struct.unpack_from("<I", e.data, at + 8)[0] + 8, "I", 0xFFFFFF))), 1,
        [("malformed-elf", "bootstrap", None)]),
    "verneed-address-unmapped": Case(bootstrap_elf(elf_patch(BAD, lambda e: e.set_tag(DT_VERNEED, 2**44))), 1,
                                     [("malformed-elf", "bootstrap", None)]),
    # ld.so ends both chains at a zero vn_next / vna_next whatever the counts say
    "verneednum-huge": Case(bootstrap_elf(elf_patch(BAD, lambda e: e.set_tag(DT_VERNEEDNUM, 2**32 - 1))), 1,
                            **BAD_VERDICT),
    "vn-cnt-huge": Case(bootstrap_elf(verneed_patch(lambda e, at: e.put(at + 2, "H", 0xFFFF))), 1, **BAD_VERDICT),
    "verneed-cycle-32bit": Case(bootstrap_elf(verneed_of_i386_made_cyclic()), 1,
                                [("malformed-elf", "bootstrap", None)]),
    # version-definition chains (libfoo.so, loaded by bootstrap through RUNPATH)
    "verdef-valid": Case(libfoo_package(with_verdef()), 1, [("glibc-too-new", "lib/libfoo.so", None)],
                         absent=("malformed-elf",), glibc={"lib/libfoo.so": "2.38"}),
    "verdef-next-out-of-range": Case(libfoo_package(with_verdef(lambda e, at, _: e.put(at + 16, "I", 0xFFFFFFF0))),
                                     1, [("malformed-elf", "lib/libfoo.so", None)]),
    "verdef-aux-out-of-range": Case(libfoo_package(with_verdef(lambda e, at, _: e.put(at + 40, "I", 0x7FFFFFF0))),
                                    1, [("malformed-elf", "lib/libfoo.so", None)]),
    "verdaux-name-outside-strings": Case(libfoo_package(with_verdef(
        lambda e, at, _: e.put(at + 48, "I", 0xFFFFFF))), 1, [("malformed-elf", "lib/libfoo.so", None)]),
    "verdef-address-unmapped": Case(libfoo_package(with_verdef(
        lambda e, at, _: e.set_tag(DT_VERDEF, 2**44))), 1, [("malformed-elf", "lib/libfoo.so", None)]),
    # other architectures, classes and byte orders
    "wrong-endian-s390x": Case(bootstrap_elf(elf("hello-glibc2.17-s390x")), 1, [("arch-mismatch", "bootstrap", None)]),
    "32-bit-i386": Case(bootstrap_elf(elf("hello-glibc2.17-i386")), 1, [("arch-mismatch", "bootstrap", None)]),
    "32-bit-single-file": Case(lambda folder: [str(_write(folder / "bootstrap", elf("hello-glibc2.17-i386")))],
                               1, [("arch-mismatch", "bootstrap", None)]),
    "byte-order-flipped": Case(bootstrap_elf(elf_patch(BAD, lambda e: e.put(5, "B", 2))), 1,
                               [("malformed-elf", "bootstrap", None)]),
    # an x86_64 file that says ELFCLASS32: ld.so's "wrong ELF class"
    "class-flipped": Case(bootstrap_elf(elf_patch(BAD, lambda e: e.put(4, "B", 1))), 1,
                          [("arch-mismatch", "bootstrap", None)]),
    # folders: loops, FIFOs, sockets, dangling links are skipped or reported, never followed
    "folder-loops-fifo-socket": Case(folder_with(weird_folder), 0,
                                     [("unreadable-archive", "pipe", "special-file"),
                                      ("unreadable-archive", "sock", "special-file")],
                                     glibc={"bootstrap": "2.34"}, subprocess=True),
    "folder-escaping-links": Case(folder_with(escaping_folder), 1,
                                  [("unsafe-archive", "etc", "link-escapes"),
                                   ("unsafe-archive", "up", "link-escapes")]),
    "folder-library-link-loop": Case(folder_with(library_loop), 1, [("missing-library", "bootstrap", None)]),
    "folder-fifo-bootstrap": Case(folder_with(fifo_bootstrap), 1,
                                  [("unreadable-archive", "bootstrap", "special-file"),
                                   ("bootstrap-missing", None, None)]),
    # a path that is there but no file or folder is a finding (the other paths are still
    # scanned); one that is not there at all means the tool cannot run (exit 2, one line)
    "path-is-a-fifo": Case(special_path("fifo"), 1, [("unreadable-archive", None, "not-a-file")],
                           subprocess=True),
    "path-is-a-symlink-loop": Case(special_path("loop"), 2),
    "path-does-not-exist": Case(lambda folder: [str(folder / "missing.zip")], 2),
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def check_case(case: Case, run: Run) -> None:
    assert_contract(run)
    assert run.code == case.code, (run.code, run.stderr, run.stdout[:3000])
    if case.code == 2:
        return
    findings = run.findings()
    for rule, member, problem in case.expect:
        matching = [f for f in findings if f["rule"] == rule and f["member"] == member
                    and (problem is None or f.get("problem") == problem)]
        assert matching, (f"no {rule}/{problem} finding on {member!r}; found: "
                          f"{[(f['rule'], f['member'], f.get('problem')) for f in findings]}")
        if member is not None and not member.isprintable():
            # a raw name in JSON is fine (JSON escapes it); the text report shows it escaped
            assert member not in run.text
    for rule in case.absent:
        assert not [f for f in findings if f["rule"] == rule], (rule, findings)
    binaries = {b["member"]: b["glibc_required"] for a in run.report["artifacts"] for b in a["binaries"]}
    for member, glibc in case.glibc.items():
        assert binaries.get(member, "not read") == glibc, binaries


def snapshot(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


IN_PROCESS = [name for name, case in CASES.items() if not case.subprocess]
ISOLATED = [name for name, case in CASES.items() if case.subprocess]


@pytest.mark.parametrize("name", IN_PROCESS)
def test_hostile_input_in_process(name, tmp_path, capsys, monkeypatch):
    case = CASES[name]
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    paths = case.build(inputs)
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    run = scan_in_process(capsys, paths)
    assert snapshot(tmp_path) == before, "the scan wrote into its working folder"
    check_case(case, run)


@pytest.mark.parametrize("name", ISOLATED)
def test_hostile_input_in_a_limited_process(name, tmp_path):
    case = CASES[name]
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    paths = case.build(inputs)
    before = snapshot(inputs)
    run = scan_subprocess(tmp_path, paths, text=case.text)
    assert snapshot(inputs) == before
    check_case(case, run)


def test_several_hostile_artifacts_each_get_their_own_report(tmp_path, capsys):
    # GIVEN a good zip between two hostile ones
    CASES["bomb-overlapping-names"].build(tmp_path)
    hostile = tmp_path / "function.zip"
    hostile.rename(tmp_path / "a.zip")
    make_zip(tmp_path / "b.zip", [("bootstrap", elf(GOOD))])
    truncated(0.5)(tmp_path)
    (tmp_path / "function.zip").rename(tmp_path / "c.zip")
    # WHEN scanned together
    run = scan_in_process(capsys, [str(tmp_path / name) for name in ("a.zip", "b.zip", "c.zip")])
    # THEN all three are reported, the good one clean and fully read
    assert_contract(run)
    assert run.code == 1
    by_path = {Path(a["path"]).name: a for a in run.report["artifacts"]}
    assert list(by_path) == ["a.zip", "b.zip", "c.zip"]
    assert [b["glibc_required"] for b in by_path["b.zip"]["binaries"]] == ["2.34"]
    assert not [f for f in by_path["b.zip"]["findings"] if f["severity"] == "error"]
    assert any(f.get("problem") == "not-a-zip" for f in by_path["c.zip"]["findings"])


def test_the_text_report_escapes_hostile_names(tmp_path, capsys):
    # GIVEN a member whose name carries an OSC title sequence and a fake workflow command
    name = "lib/\x1b]0;owned\x07\n::error::fake.so"
    make_zip(tmp_path / "f.zip", [("bootstrap", elf(GOOD)), (name, elf(BAD))])
    # WHEN scanned; THEN the name reaches the terminal only escaped
    run = scan_in_process(capsys, [str(tmp_path / "f.zip")])
    assert_contract(run)
    assert run.code == 1
    assert "::error::fake.so" in run.text
    assert not any(line.startswith("::error::") for line in run.text.splitlines())


def test_the_write_guard_catches_a_write(tmp_path):
    # GIVEN the limited process of the cases above, asked to write its report to a file
    make_zip(tmp_path / "f.zip", [("bootstrap", elf(GOOD))])
    # THEN the guard reports the attempt (so a silent write by a hostile case cannot pass)
    with pytest.raises(AssertionError, match="WRITE-ATTEMPT open .*report.json"):
        scan_subprocess(tmp_path, [str(tmp_path / "f.zip")], "--output", str(tmp_path / "report.json"))
