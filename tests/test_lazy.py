"""A large member held in part (archive/lazy.py) is judged exactly as the same member held whole.

The thresholds are shrunk so that the committed fixtures (real binaries of every class, byte
order and layout, and the patched ones ld.so refuses) go through every path: the first bytes,
the planned ranges, ranges read again from a mark of the stream (deflate state copies, stored
offsets, file offsets), and the fallback that holds a member whole once its re-reads cost too
much. Damaged copies of them must give the same verdict too."""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

import pytest
from helpers import FIXTURES, elf_fixture

from lambda_glibc_gate.archive import lazy, open_artifact
from lambda_glibc_gate.archive import zip as zip_kind
from lambda_glibc_gate.collect import WHOLE_UP_TO, _parse, collect
from lambda_glibc_gate.elf import ELF_MAGIC
from lambda_glibc_gate.resolve import TASK_ROOT

ELVES = sorted(
    path.relative_to(FIXTURES).as_posix()
    for path in FIXTURES.rglob("*")
    if path.is_file() and path.read_bytes()[:4] == ELF_MAGIC
)


def damaged(data: bytes, seed: int) -> bytes:
    """`data` cut short or with a few bytes overwritten in its first 8 KB (the headers)."""
    rng = random.Random(seed)
    if seed % 3 == 0:
        return data[: rng.randrange(64, len(data))]
    out = bytearray(data)
    for _ in range(4):
        out[rng.randrange(16, min(len(out), 8192))] = rng.randrange(256)
    return bytes(out)


def shrink(monkeypatch) -> None:
    """Every member is held in part, with tiny heads, blocks and mark spacing."""
    monkeypatch.setattr("lambda_glibc_gate.collect.WHOLE_UP_TO", 0)
    monkeypatch.setattr(lazy, "HEAD", 512)
    monkeypatch.setattr(lazy, "BLOCK", 256)
    monkeypatch.setattr(lazy, "MARK_EVERY", 2048)
    monkeypatch.setattr(zip_kind, "_MARKED_INPUT", 256)


@pytest.fixture
def small_thresholds(monkeypatch):
    shrink(monkeypatch)


def judged(path: Path) -> tuple[dict, list]:
    collected = collect(str(path), TASK_ROOT)
    return collected.tree.elves, sorted((f.rule, f.member, f.message) for f in collected.findings)


def write(path: Path, members: dict[str, bytes], method: int) -> Path:
    with zipfile.ZipFile(path, "w", method, compresslevel=9) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = method
            info.create_system = 3
            info.external_attr = 0o100755 << 16
            archive.writestr(info, data)
    return path


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED, "folder"],
                         ids=["deflated", "stored", "folder"])
def test_every_fixture_is_judged_alike_held_in_part(tmp_path, monkeypatch, method):
    members = {name: elf_fixture(name) for name in ELVES}
    members |= {f"damaged/{seed}/{name}": damaged(elf_fixture(name), seed)
                for seed in range(6) for name in ELVES}
    if method == "folder":
        path = tmp_path / "package"
        for name, data in members.items():
            (path / name).parent.mkdir(parents=True, exist_ok=True)
            (path / name).write_bytes(data)
    else:
        path = write(tmp_path / "package.zip", members, method)
    whole = judged(path)
    assert len(whole[0]) > len(ELVES)  # the fixtures parsed, and damaged copies among them
    assert any(rule == "malformed-elf" for rule, _, _ in whole[1])
    shrink(monkeypatch)
    assert judged(path) == whole


def test_re_reads_past_their_limit_hold_the_member_whole(tmp_path, monkeypatch, small_thresholds):
    path = write(tmp_path / "package.zip", {name: elf_fixture(name) for name in ELVES}, zipfile.ZIP_DEFLATED)
    monkeypatch.setattr("lambda_glibc_gate.collect.WHOLE_UP_TO", 10**9)
    whole = judged(path)
    monkeypatch.setattr("lambda_glibc_gate.collect.WHOLE_UP_TO", 0)
    monkeypatch.setattr(lazy, "FETCH_WORK", 0)  # the first range read again holds it whole
    held_whole = []
    original = lazy.LazyMember._hold_whole
    monkeypatch.setattr(lazy.LazyMember, "_hold_whole", lambda self: held_whole.append(1) or original(self))
    assert judged(path) == whole
    assert held_whole


def test_a_large_member_is_held_in_part(tmp_path):
    """A real executable padded to 24 MB, deflated: read once, a few blocks held, judged as the
    unpadded one (the padding lies past every segment)."""
    head = elf_fixture("strtol-glibc2.39-x86_64")
    data = head + bytes(range(256)) * (24 * 2**20 // 256)
    assert len(data) > WHOLE_UP_TO
    path = write(tmp_path / "big.zip", {"bootstrap": data, "small": head}, zipfile.ZIP_DEFLATED)
    with open_artifact(str(path)) as artifact:
        big, small = list(artifact.members())
        parsed = _parse(artifact, big)
        assert parsed == _parse(artifact, small)
        assert parsed.version_needs and "GLIBC_2.38" in {need.version for need in parsed.version_needs}
        assert not artifact.problems
    held = artifact_held(path)
    assert held < 2 * lazy.HEAD, held


def artifact_held(path: Path) -> int:
    """Bytes the LazyMember of the zip's first member holds once judged."""
    from lambda_glibc_gate.elf import plan_reading, read_elf

    with open_artifact(str(path)) as artifact:
        member = next(iter(artifact.members()))
        view = artifact.read_if_elf_lazily(member, plan_reading)
        read_elf(view)
        return view.held()


def test_a_damaged_large_member_gives_the_same_finding(tmp_path):
    """CRC and size checks run on the one full read: a corrupt large member is the same finding."""
    data = elf_fixture("hello-glibc2.34-x86_64") + bytes(range(256)) * (12 * 2**20 // 256)
    path = write(tmp_path / "big.zip", {"bootstrap": data}, zipfile.ZIP_STORED)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # inside the padding: the ELF parses, the CRC fails
    path.write_bytes(bytes(raw))
    elves, findings = judged(path)
    assert elves == {} and [(rule, member) for rule, member, _ in findings] == [("unreadable-archive", "bootstrap")]
    assert "CRC-32" in findings[0][2]


def test_a_member_that_changes_under_the_reader_is_a_finding(tmp_path, monkeypatch, small_thresholds):
    """Read again, a member that no longer holds what it held: a finding, never a wrong verdict."""
    path = tmp_path / "package"
    path.mkdir()
    (path / "bootstrap").write_bytes(elf_fixture("hello-glibc2.34-x86_64"))
    original = lazy.Builder.finish

    def finish(self, restream, spend):
        (path / "bootstrap").write_bytes(b"\x7fELF")  # cut short after the first read
        return original(self, restream, spend)

    monkeypatch.setattr(lazy.Builder, "finish", finish)
    elves, findings = judged(path)
    assert elves == {}
    assert [(rule, member) for rule, member, _ in findings] == [("unreadable-archive", "bootstrap")]
    assert "again" in findings[0][2]


@pytest.mark.parametrize("size", [1, 3, 16, 17, 4096])
def test_toolchain_strings_are_found_across_chunks_of_any_size(size, monkeypatch):
    """An executable's strings are searched as it streams by: a string split over several
    chunks, however small, before or after the plan is made, is found as in the whole file."""
    from lambda_glibc_gate.elf import MarkerSearch, _markers

    monkeypatch.setattr(lazy, "HEAD", 1010)  # the plan is made inside the first string
    data = bytes(1000) + b"rust_begin_unwind" + bytes(500) + b"\xff Go buildinf:" + bytes(7)
    builder = lazy.Builder(lambda head, length: ([], MarkerSearch()), len(data))
    for start in range(0, len(data), size):
        builder.take(data[start : start + size])
    assert builder.watch.found == _markers(data) == {"rust", "go"}
