#!/usr/bin/env python3
"""Long fuzz runs of the whole scanner: mutated zips and mutated ELF files through scan().

    python tools/fuzz.py                                  # both targets, 20 000 inputs each
    python tools/fuzz.py --target elf --runs 200000
    python tools/fuzz.py --target zip --seconds 3600 --engine atheris
    python tools/fuzz.py --replay tests/fixtures/crashers # re-check saved crashers only

Engines: atheris (coverage-guided libFuzzer; `pip install atheris`, Linux x86_64 wheels) when
it is installed, else hypothesis with a large budget (`--engine` picks one explicitly).
Seeds are real inputs: the committed ELF fixtures (tests/fixtures/elf) and zips built from
them with every compression method, symlinks and wheel metadata. Mutations aim at the fields
a loader or an unzip tool trusts: ELF and program headers, the dynamic array, version-need
chains, zip local / central / end records.

Targets:
  zip       the input is written as `artifact.zip` and scanned;
  elf       the input is written as both `bootstrap` and `lib/libfoo.so` of a folder, next to
            the fixture `app_runpath` (which loads lib/libfoo.so), and the folder is scanned;
  dynamic   as elf, but the mutations are made to the dynamic array of a real binary: entries
            repeated (last one wins in ld.so), tags and values rewritten, DT_NULL removed,
            PT_DYNAMIC's p_offset / p_vaddr / p_filesz moved;
  versions  as elf, mutating the version chains: vn_cnt, vn_next, vn_aux, vna_next, vna_name,
            vna_hash, vd_next, vd_aux, DT_VERNEEDNUM / DT_VERDEFNUM, DT_VERNEED / DT_VERDEF.
  lazy      as elf, and the folder is also read with every member held in part (archive/lazy.py,
            with tiny heads, blocks and mark spacing): the facts and findings must be the same.

An input fails when scan() raises, or the report breaks the contract every artifact must
keep (tests/test_fuzz.py checks the same): JSON that round-trips, known rule ids, one-line
messages, every renderer (text, markdown, SARIF) working, text output free of control
characters, no `internal-error` finding (an unexpected exception swallowed by the archive
reader). A failing input is saved as tests/fixtures/crashers/<target>-<sha256 prefix>.bin
(hypothesis saves its shrunk example); tests/test_fuzz.py replays every file there, so a
crash found once stays fixed. Writes nothing else outside a temporary folder (atheris's own
crash files go there too).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import struct
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "elf"
CRASHERS = REPO / "tests" / "fixtures" / "crashers"
TARGETS = ("zip", "elf", "dynamic", "versions", "lazy")
STRUCTURED = ("dynamic", "versions")  # ELF inputs with structure-aware mutations
RUNTIME = "provided.al2023"

# The rule catalogue is the contract for rule ids; kept here as a name to look up lazily so
# atheris can instrument the package before it is first imported.
_CONTROL = {chr(code) for code in range(32) if chr(code) != "\n"} | {"\x7f"}


class ContractViolation(AssertionError):
    """The scanner survived the input but broke the contract of its report."""


# -- seeds ----------------------------------------------------------------------------------
def elf_seeds() -> list[bytes]:
    """Every committed ELF fixture (sorted, so runs are reproducible)."""
    paths = sorted(p for p in FIXTURES.rglob("*") if p.is_file() and p.read_bytes()[:4] == b"\x7fELF")
    return [p.read_bytes() for p in paths]


def _zip(members: list[tuple[str, bytes, int, int]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data, mode, method in members:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.create_system = 3
            info.external_attr = mode << 16
            info.compress_type = method
            archive.writestr(info, data)
    return buffer.getvalue()


def zip_seeds() -> list[bytes]:
    """Small Lambda-shaped zips: a bootstrap, a library found through RUNPATH, a symlink,
    wheel metadata; one per compression method."""
    bootstrap = (FIXTURES / "app_runpath").read_bytes()
    library = (FIXTURES / "lib" / "libfoo.so").read_bytes()
    extension = (FIXTURES / "_speedups.cpython-312-x86_64-linux-gnu.so").read_bytes()
    record = b"pkg/_speedups.cpython-312-x86_64-linux-gnu.so,,\npkg-1.0.dist-info/RECORD,,\n"
    seeds = []
    for method in (zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
        seeds.append(_zip([
            ("bootstrap", bootstrap, 0o100755, method),
            ("lib/libfoo.so", library, 0o100755, method),
            ("lib/libfoo.so.1", b"libfoo.so", 0o120777, zipfile.ZIP_STORED),
            ("pkg/_speedups.cpython-312-x86_64-linux-gnu.so", extension, 0o100644, method),
            ("pkg-1.0.dist-info/RECORD", record, 0o100644, method),
        ]))
    return seeds


def seeds(target: str) -> list[bytes]:
    if target == "zip":
        return zip_seeds()
    if target in STRUCTURED:  # the seeds that have the structure to mutate
        return [seed for seed in elf_seeds() if structure(target, seed).fields]
    return elf_seeds()


# -- where mutations hurt -------------------------------------------------------------------
_ZIP_FIELDS = {
    b"PK\x03\x04": (4, 6, 8, 14, 18, 22, 26, 28),  # version, flags, method, crc, sizes, lengths
    b"PK\x01\x02": (6, 8, 10, 16, 20, 24, 28, 30, 32, 38, 42),  # ... attributes, offset
    b"PK\x05\x06": (4, 6, 8, 10, 12, 16, 20),  # disk numbers, counts, size, offset
    b"PK\x06\x06": (4, 24, 32, 40, 48),
    b"PK\x06\x07": (4, 8, 16),
}


def hot_offsets(data: bytes) -> list[int]:
    """Offsets of the header fields a reader trusts, in a zip or an ELF file."""
    offsets: set[int] = set()
    if data[:4] == b"\x7fELF":
        offsets.update(_elf_hot(data))
    for signature, fields in _ZIP_FIELDS.items():
        start = data.find(signature)
        while start >= 0:
            offsets.update(start + field for field in fields if start + field < len(data))
            start = data.find(signature, start + 1)
    return sorted(offsets) or [0]


def _elf_hot(data: bytes) -> set[int]:
    """ELF header fields, every program header, every dynamic entry, the version-need
    entries: read from a trusted seed with plain struct (mutants are never parsed here)."""
    offsets = set(range(0, min(len(data), 64)))
    try:
        is64, order = data[4] == 2, "<" if data[5] == 1 else ">"
        if is64:
            phoff, = struct.unpack_from(order + "Q", data, 0x20)
            phentsize, phnum = struct.unpack_from(order + "HH", data, 0x36)
        else:
            phoff, = struct.unpack_from(order + "I", data, 0x1C)
            phentsize, phnum = struct.unpack_from(order + "HH", data, 0x2A)
        for index in range(min(phnum, 64)):
            at = phoff + index * phentsize
            offsets.update(range(at, min(at + phentsize, len(data))))
            p_type, = struct.unpack_from(order + "I", data, at)
            if p_type == 2:  # PT_DYNAMIC: every d_tag and d_val
                dyn_off = struct.unpack_from(order + ("Q" if is64 else "I"), data, at + (8 if is64 else 4))[0]
                dyn_size = struct.unpack_from(order + ("Q" if is64 else "I"), data, at + (32 if is64 else 16))[0]
                step = 16 if is64 else 8
                offsets.update(range(dyn_off, min(dyn_off + dyn_size, len(data)), step // 2))
        offsets.update(_verneed_hot(data))
    except (struct.error, IndexError):
        pass
    return {offset for offset in offsets if offset < len(data)}


def _verneed_hot(data: bytes) -> set[int]:
    from elftools.elf.elffile import ELFFile

    found: set[int] = set()
    try:
        elf = ELFFile(io.BytesIO(data))
        section = elf.get_section_by_name(".gnu.version_r")
        if section is None:
            return found
        order = "<" if elf.little_endian else ">"
        at = section["sh_offset"]
        for _ in range(section.num_versions()):
            found.update(at + k for k in (2, 4, 8, 12))  # vn_cnt, vn_file, vn_aux, vn_next
            _, count, _, aux, following = struct.unpack_from(order + "HHIII", data, at)
            aux_at = at + aux
            for _ in range(count):
                found.update(aux_at + k for k in (4, 6, 8, 12))  # flags, other, name, next
                aux_at += struct.unpack_from(order + "I", data, aux_at + 12)[0]
            at += following
    except Exception:  # noqa: BLE001 - hot offsets are a hint; a seed pyelftools dislikes has none
        pass
    return found


_WORDS = (0, 1, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF)


def mutate(draw: Callable, original: bytes, hot: list[int], max_steps: int = 6) -> bytes:
    """Apply a few mutations chosen by `draw(strategy)` (hypothesis's data.draw)."""
    from hypothesis import strategies as st

    data = bytearray(original)
    for _ in range(draw(st.integers(1, max_steps))):
        if not data:
            break
        kind = draw(st.sampled_from(("byte", "word", "word", "truncate", "splice", "zero")))
        where = draw(st.one_of(st.sampled_from(hot), st.integers(0, len(data) - 1)))
        where = min(where, len(data) - 1)
        if kind == "byte":
            data[where] = draw(st.integers(0, 255))
        elif kind == "word":
            size = draw(st.sampled_from((2, 4, 8)))
            value = draw(st.one_of(st.sampled_from(_WORDS + (len(data), len(data) + 1)),
                                   st.integers(0, 2**64 - 1)))
            order = draw(st.sampled_from(("little", "big")))
            data[where:where + size] = (value % 2 ** (8 * size)).to_bytes(size, order)
        elif kind == "truncate":
            del data[where:]
        elif kind == "splice":  # copy a block from elsewhere (headers that point at headers)
            source = draw(st.integers(0, len(data) - 1))
            length = draw(st.integers(1, 64))
            data[where:where + length] = data[source:source + length]
        else:
            length = draw(st.integers(1, 256))
            data[where:where + length] = bytes(min(length, len(data) - where))
    return bytes(data)


# -- structure-aware mutations of the dynamic array and the version chains -------------------
class Shape:
    """Where a seed's dynamic array or version chains lie (read from the trusted seed)."""

    def __init__(self, order: str, word: int) -> None:
        self.order = order
        self.word = word  # 8 for ELF64 addresses and d_val, 4 for ELF32
        self.fields: list[tuple[int, int]] = []  # (offset, size) of each field worth mutating
        self.values: list[int] = []  # values that mean something here (addresses, sizes, offsets)
        self.slots: list[int] = []  # offsets of the dynamic entries (for repeating one)


def structure(target: str, data: bytes) -> Shape:
    """The Shape of `data` for a structured target; no fields when the seed has none."""
    is64, order = data[4] == 2, "<" if data[5] == 1 else ">"
    shape = Shape(order, 8 if is64 else 4)
    try:
        _collect(target, data, is64, shape)
    except (struct.error, IndexError, KeyError, ValueError):
        shape.fields = []
    return shape


def _collect(target: str, data: bytes, is64: bool, shape: Shape) -> None:
    order, word = shape.order, shape.word
    phoff = struct.unpack_from(order + ("Q" if is64 else "I"), data, 0x20 if is64 else 0x1C)[0]
    phentsize, phnum = struct.unpack_from(order + "HH", data, 0x36 if is64 else 0x2A)
    loads, dynamic = [], None
    for index in range(phnum):
        at = phoff + index * phentsize
        if is64:
            p_type, _, p_offset, p_vaddr, _, p_filesz = struct.unpack_from(order + "IIQQQQ", data, at)
            where = {"p_offset": (at + 8, 8), "p_vaddr": (at + 16, 8), "p_filesz": (at + 32, 8)}
        else:
            p_type, p_offset, p_vaddr, _, p_filesz = struct.unpack_from(order + "IIIII", data, at)
            where = {"p_offset": (at + 4, 4), "p_vaddr": (at + 8, 4), "p_filesz": (at + 16, 4)}
        if p_type == 1:
            loads.append((p_vaddr, p_filesz, p_offset))
        elif p_type == 2:
            dynamic = (p_offset, p_vaddr, p_filesz, where)
    if dynamic is None:
        return
    p_offset, p_vaddr, p_filesz, where = dynamic
    entry = 2 * word
    entries: list[tuple[int, int, int]] = []
    for at in range(p_offset, min(p_offset + p_filesz, len(data)) - entry + 1, entry):
        tag, value = struct.unpack_from(order + ("qQ" if is64 else "iI"), data, at)
        entries.append((at, tag, value))
        if tag == 0:
            break
    tags = {tag: value for _, tag, value in entries}
    if target == "dynamic":
        shape.fields += list(where.values())
        shape.fields += [(at + k, word) for at, _, _ in entries for k in (0, word)]
        shape.slots = [at for at, _, _ in entries]
        shape.values += [value for _, _, value in entries] + [tag for _, tag, _ in entries]
        shape.values += [p_offset, p_vaddr, p_filesz, p_filesz // entry * entry - entry, len(data)]
        return

    def offset(address: int) -> int:
        for vaddr, filesz, file_offset in loads:
            if vaddr <= address < vaddr + filesz:
                return address - vaddr + file_offset
        raise ValueError("unmapped")

    for at, tag, _ in entries:  # the dynamic entries of the version tables
        if tag in (0x6FFFFFFC, 0x6FFFFFFD, 0x6FFFFFFE, 0x6FFFFFFF, 0x6FFFFFF0):
            shape.fields.append((at + word, word))
    if 0x6FFFFFFE in tags:  # Verneed: vn_version, vn_cnt (half); vn_file, vn_aux, vn_next (word)
        at = offset(tags[0x6FFFFFFE])
        for _ in range(64):
            shape.fields += [(at, 2), (at + 2, 2), (at + 4, 4), (at + 8, 4), (at + 12, 4)]
            _, _, _, aux, following = struct.unpack_from(order + "HHIII", data, at)
            aux_at = at + aux
            for _ in range(64):  # Vernaux: vna_hash; vna_flags, vna_other; vna_name, vna_next
                shape.fields += [(aux_at, 4), (aux_at + 4, 2), (aux_at + 6, 2), (aux_at + 8, 4), (aux_at + 12, 4)]
                shape.values += [struct.unpack_from(order + "I", data, aux_at + 8)[0]]
                step = struct.unpack_from(order + "I", data, aux_at + 12)[0]
                if step == 0:
                    break
                aux_at += step
            shape.values += [aux, following, aux_at - at]
            if following == 0:
                break
            at += following
    if 0x6FFFFFFC in tags:  # Verdef: vd_version, vd_flags, vd_ndx, vd_cnt; vd_hash, vd_aux, vd_next
        at = offset(tags[0x6FFFFFFC])
        for _ in range(64):
            shape.fields += [(at + 2, 2), (at + 6, 2), (at + 12, 4), (at + 16, 4)]
            following = struct.unpack_from(order + "I", data, at + 16)[0]
            if following == 0:
                break
            at += following
    shape.values += [16, 20, 0x10000 - 16, 2**32 - 16, tags.get(0x6FFFFFFE, 0), tags.get(0x6FFFFFFC, 0)]


def mutate_structure(draw: Callable, original: bytes, shape: Shape, max_steps: int = 4) -> bytes:
    """A few rewrites of the seed's dynamic array or version-chain fields (see structure)."""
    from hypothesis import strategies as st

    data = bytearray(original)
    for _ in range(draw(st.integers(1, max_steps))):
        if shape.slots and draw(st.booleans()):  # repeat an entry elsewhere in the array
            source, target = draw(st.sampled_from(shape.slots)), draw(st.sampled_from(shape.slots))
            size = 2 * shape.word
            data[target:target + size] = original[source:source + size]
            continue
        at, size = draw(st.sampled_from(shape.fields))
        value = draw(st.one_of(st.sampled_from(shape.values + list(_WORDS)), st.integers(0, 2**64 - 1)))
        if draw(st.integers(0, 3)) == 0:
            value += draw(st.sampled_from((-16, -8, -1, 1, 8, 16)))
        data[at:at + size] = (value % 2 ** (8 * size)).to_bytes(size, "little" if shape.order == "<" else "big")
    return bytes(data)


def prepare(target: str, seed: bytes):
    """What mutate_for needs about a seed: hot offsets, or the Shape of a structured target."""
    return structure(target, seed) if target in STRUCTURED else hot_offsets(seed)


def mutate_for(target: str, draw: Callable, seed: bytes, prepared) -> bytes:
    if target in STRUCTURED:
        return mutate_structure(draw, seed, prepared)
    return mutate(draw, seed, prepared)


# -- one input through the scanner ----------------------------------------------------------
def place(target: str, data: bytes, workdir: Path) -> Path:
    """Write the input where the target expects it; the path to scan."""
    if target == "zip":
        path = workdir / "artifact.zip"
        path.write_bytes(data)
        return path
    folder = workdir / "package"
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "lib").mkdir(parents=True)
    (folder / "bootstrap").write_bytes(data)
    (folder / "lib" / "libfoo.so").write_bytes(data)
    shutil.copyfile(FIXTURES / "app_runpath", folder / "app")
    return folder


def run_target(target: str, data: bytes, workdir: Path):
    """Scan one input and check the report's contract; returns the Report."""
    from lambda_glibc_gate.scan import ScanOptions, scan

    path = place(target, data, workdir)
    report = scan([str(path)], ScanOptions(runtime=RUNTIME))
    check_report(report)
    if target == "lazy":
        check_held_in_part(path)
    return report


def check_held_in_part(path: Path) -> None:
    """Read whole and held in part, the same facts and findings (raises ContractViolation)."""
    from lambda_glibc_gate import collect
    from lambda_glibc_gate.archive import lazy
    from lambda_glibc_gate.archive import zip as zip_kind
    from lambda_glibc_gate.resolve import TASK_ROOT

    def judged():
        collected = collect.collect(str(path), TASK_ROOT)
        return collected.tree.elves, sorted((f.rule, f.member or "", f.message) for f in collected.findings)

    whole = judged()
    small = {(collect, "WHOLE_UP_TO"): 0, (lazy, "HEAD"): 512, (lazy, "BLOCK"): 256,
             (lazy, "MARK_EVERY"): 2048, (zip_kind, "_MARKED_INPUT"): 256}
    saved = {key: getattr(*key) for key in small}
    try:
        for (module, name), value in small.items():
            setattr(module, name, value)
        in_part = judged()
    finally:
        for (module, name), value in saved.items():
            setattr(module, name, value)
    _expect(in_part == whole, f"held in part, judged otherwise: {in_part!r} != {whole!r}"[:2000])


def check_report(report) -> None:
    """The contract every report keeps, whatever the input (raises ContractViolation)."""
    from lambda_glibc_gate.cli import render_report
    from lambda_glibc_gate.rules import RULES

    document = json.loads(report.dumps())
    _expect(document["verdict"] in ("pass", "fail"), f"verdict {document['verdict']!r}")
    for artifact in document["artifacts"]:
        for finding in artifact["findings"]:
            _expect(finding["rule"] in RULES, f"unknown rule id {finding['rule']!r}")
            _expect(finding["severity"] in ("error", "warning", "note"), f"severity {finding['severity']!r}")
            message = finding["message"]
            _expect(isinstance(message, str) and "\n" not in message and "\r" not in message,
                    f"message is not one line: {message!r}")
            _expect(finding.get("problem") != "internal-error", f"swallowed exception: {message}")
        for binary in artifact["binaries"]:
            _expect(isinstance(binary["member"], str), f"binary without a member: {binary!r}")
    for output_format in ("text", "markdown", "sarif"):
        text = render_report(report, output_format)
        if output_format == "sarif":
            json.loads(text)
        if output_format == "text":
            bad = sorted({repr(char) for char in text if char in _CONTROL})
            _expect(not bad, f"control characters reach the terminal: {', '.join(bad)}")


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise ContractViolation(message)


def save_crasher(target: str, data: bytes, folder: Path = CRASHERS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{target}-{hashlib.sha256(data).hexdigest()[:16]}.bin"
    path.write_bytes(data)
    return path


def crasher_target(path: Path) -> str:
    """The target a saved crasher belongs to, from its file name."""
    target = path.name.split("-", 1)[0]
    if target not in TARGETS:
        raise ValueError(f"{path.name}: crasher names start with one of {', '.join(TARGETS)}")
    return target


# -- engines --------------------------------------------------------------------------------
def run_hypothesis(target: str, runs: int, seconds: float | None, save: Path) -> bool:
    """True when no input failed."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st

    corpus = [(seed, prepare(target, seed)) for seed in seeds(target)]
    failure: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="lgg-fuzz-") as scratch:
        workdir = Path(scratch)

        # With a time budget: short rounds (each a fresh random start) until time is up.
        per_round = runs if seconds is None else 200

        @settings(max_examples=per_round, deadline=None, database=None, derandomize=False,
                  phases=(Phase.generate, Phase.shrink), print_blob=True,
                  suppress_health_check=list(HealthCheck))
        @given(st.data())
        def fuzz(data) -> None:
            seed, hot = data.draw(st.sampled_from(corpus))
            mutant = mutate_for(target, data.draw, seed, hot)
            try:
                run_target(target, mutant, workdir)
            except BaseException:
                failure["input"] = mutant  # the last failing one is the shrunk one
                raise

        if seconds is not None:
            return _until(seconds, fuzz, failure, target, save)
        try:
            fuzz()
        except Exception as error:  # noqa: BLE001 - reported, and the input kept
            return _report_failure(error, failure, target, save)
    print(f"{target}: {runs} inputs, no failure")
    return True


def _until(seconds: float, fuzz, failure: dict, target: str, save: Path) -> bool:
    import time

    deadline, rounds = time.monotonic() + seconds, 0
    while time.monotonic() < deadline:
        try:
            fuzz()
        except Exception as error:  # noqa: BLE001
            return _report_failure(error, failure, target, save)
        rounds += 1
    print(f"{target}: {rounds} rounds of 200 inputs in {seconds:g}s, no failure")
    return True


def _report_failure(error: BaseException, failure: dict, target: str, save: Path) -> bool:
    print(f"{target}: FAILED: {type(error).__name__}: {error}", file=sys.stderr)
    if "input" in failure:
        print(f"saved {save_crasher(target, failure['input'], save)}", file=sys.stderr)
    return False


def run_atheris(target: str, runs: int, seconds: float | None, save: Path) -> None:
    """Coverage-guided run; exits the process (libFuzzer's way) when done or on a crash."""
    import atheris

    with atheris.instrument_imports(include=["lambda_glibc_gate", "elftools", "zipfile"]):
        import lambda_glibc_gate.scan  # noqa: F401 - imported here to be instrumented

    scratch = Path(tempfile.mkdtemp(prefix="lgg-fuzz-"))
    corpus = scratch / "corpus"
    corpus.mkdir()
    for index, seed in enumerate(seeds(target)):
        (corpus / f"seed-{index}").write_bytes(seed)
    workdir = scratch / "work"
    workdir.mkdir()

    def one_input(data: bytes) -> None:
        try:
            run_target(target, data, workdir)
        except BaseException:
            print(f"saved {save_crasher(target, data, save)}", file=sys.stderr)
            raise

    budget = [f"-max_total_time={int(seconds)}"] if seconds is not None else [f"-runs={runs}"]
    args = [sys.argv[0], str(corpus), *budget, f"-artifact_prefix={scratch}/",
            "-rss_limit_mb=2048", "-timeout=60", f"-max_len={max(map(len, seeds(target)))}"]
    print(f"atheris: corpus and crash files in {scratch}", file=sys.stderr)
    atheris.Setup(args, one_input)
    atheris.Fuzz()


def replay(folder: Path) -> bool:
    """Scan every saved crasher again; True when all keep the contract."""
    ok = True
    with tempfile.TemporaryDirectory(prefix="lgg-replay-") as scratch:
        for path in sorted(folder.glob("*.bin")):
            try:
                run_target(crasher_target(path), path.read_bytes(), Path(scratch))
                print(f"ok   {path.name}")
            except Exception as error:  # noqa: BLE001 - listed, then the next one
                ok = False
                print(f"FAIL {path.name}: {type(error).__name__}: {error}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", choices=(*TARGETS, "all"), default="all")
    parser.add_argument("--engine", choices=("auto", "atheris", "hypothesis"), default="auto")
    parser.add_argument("--runs", type=int, default=20_000, help="inputs per target")
    parser.add_argument("--seconds", type=float, help="run this long per target instead")
    parser.add_argument("--save", type=Path, default=CRASHERS, help="where failing inputs go")
    parser.add_argument("--replay", type=Path, metavar="DIR", help="only re-check saved crashers")
    args = parser.parse_args(argv)
    if args.replay is not None:
        return 0 if replay(args.replay) else 1
    engine = args.engine
    if engine == "auto":
        engine = "atheris" if _has_atheris() else "hypothesis"
    targets = TARGETS if args.target == "all" else (args.target,)
    if engine == "atheris":
        if len(targets) == 1:
            run_atheris(targets[0], args.runs, args.seconds, args.save)  # exits the process
        # libFuzzer runs one target per process: one child each.
        import subprocess

        budget = ["--seconds", str(args.seconds)] if args.seconds is not None else ["--runs", str(args.runs)]
        codes = [subprocess.call([sys.executable, __file__, "--engine", "atheris", "--target", target,
                                  "--save", str(args.save), *budget]) for target in targets]
        return max(codes)
    results = [run_hypothesis(target, args.runs, args.seconds, args.save) for target in targets]
    return 0 if all(results) else 1


def _has_atheris() -> bool:
    try:
        import atheris  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    sys.exit(main())
