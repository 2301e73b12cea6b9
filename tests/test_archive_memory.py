"""A large member is held once while it is read, and a size the zip merely declares allocates
nothing. Measured in a fresh interpreter (its VmHWM: the kernel's peak of resident memory)."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from helpers import elf_fixture

MB = 2**20
MEMBER = 24 * MB

# Runs in the child: read every ELF member, report the growth of the peak resident set.
_CHILD = """
import json, sys
from lambda_glibc_gate.archive import open_artifact

def peak():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM"))

with open_artifact(sys.argv[1]) as artifact:
    members = list(artifact.members())
    before = peak()
    sizes = [len(artifact.read_if_elf(m) or b"") for m in members]
    print(json.dumps({"growth": peak() - before, "sizes": sizes,
                      "problems": [f.details.get("problem") for f in artifact.problems]}))
"""

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")


def read_in_child(path: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True,
                          timeout=120, check=True)
    return json.loads(done.stdout)


def big_elf(size: int) -> bytes:
    """A real ELF file padded with bytes that do not compress (deflate keeps them 1:1)."""
    head = elf_fixture("hello-glibc2.34-x86_64")
    return head + bytes(range(256)) * ((size - len(head)) // 256)


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_a_large_member_is_held_once(tmp_path, method):
    data = big_elf(MEMBER)
    path = tmp_path / "big.zip"
    with zipfile.ZipFile(path, "w", method, compresslevel=1) as archive:
        archive.writestr("lib/libbig.so", data)
        archive.writestr("bootstrap", elf_fixture("hello-glibc2.34-x86_64"))
    result = read_in_child(path)
    assert result["sizes"] == [len(data), len(elf_fixture("hello-glibc2.34-x86_64"))]
    assert MEMBER <= result["growth"] < 1.5 * MEMBER  # two copies (chunks + joined) would be 2x


def test_a_declared_size_is_not_allocated(tmp_path):
    """A small member that claims 200 MB: read as what it holds, then a finding."""
    path = tmp_path / "liar.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bootstrap", elf_fixture("hello-glibc2.34-x86_64"))
    raw = bytearray(path.read_bytes())
    claimed = 200 * MB
    local = raw.index(b"PK\x03\x04")
    central = raw.index(b"PK\x01\x02")
    struct.pack_into("<L", raw, local + 22, claimed)  # uncompressed size, local header
    struct.pack_into("<L", raw, central + 24, claimed)  # uncompressed size, central directory
    path.write_bytes(bytes(raw))
    result = read_in_child(path)
    assert result["sizes"] == [0] and result["problems"] == ["truncated"]
    assert result["growth"] < 16 * MB

