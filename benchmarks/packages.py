"""Build the benchmark's Lambda packages once and keep them under benchmarks/.cache/.

- large.zip: a python3.12 function with numpy, pandas and pyarrow (x86_64 manylinux wheels from
  PyPI), slimmed the way people slim packages for Lambda (tests/ and include/ dropped) so it stays
  under Lambda's 250 MB unzipped limit.
- small/fn-NNN.zip: many small functions of a few MB each, every one a different mix of numpy's
  extension modules, numpy's Python files and the repository's own ELF fixtures.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
FIXTURES = HERE.parent / "tests" / "fixtures" / "elf"
WHEELS = ("numpy", "pandas", "pyarrow")
PIP_DOWNLOAD = (
    "download", "--only-binary=:all:", "--platform", "manylinux_2_28_x86_64",
    "--python-version", "3.12", "--implementation", "cp", *WHEELS,
)
# What Lambda packaging guides strip: test suites and C headers are never imported at run time.
_SLIMMED_FOLDERS = {"tests", "include"}
HANDLER = b"import numpy, pandas, pyarrow\n\ndef handler(event, context):\n    return {'ok': True}\n"
SMALL_TARGET_BYTES = 3 * 2**20  # unzipped size of one small function


@dataclass(frozen=True)
class Package:
    path: Path
    members: int
    elf_members: int
    unzipped: int
    zipped: int


def wheels() -> list[Path]:
    """The downloaded wheels (downloaded on first use; pip's cache makes reruns cheap)."""
    folder = CACHE / "wheels"
    found = sorted(folder.glob("*.whl"))
    if not any(path.name.startswith("pyarrow-") for path in found):
        folder.mkdir(parents=True, exist_ok=True)
        print(f"downloading {', '.join(WHEELS)} wheels into {folder} ...", flush=True)
        subprocess.run([sys.executable, "-m", "pip", *PIP_DOWNLOAD, "-d", str(folder)], check=True)
        found = sorted(folder.glob("*.whl"))
    return found


def _wheel_entries(wheel: Path):
    """(name, mode, bytes) for every file of a wheel that a slimmed Lambda package keeps."""
    with zipfile.ZipFile(wheel) as source:
        for info in source.infolist():
            parts = info.filename.split("/")
            if info.is_dir() or _SLIMMED_FOLDERS & set(parts[:-1]):
                continue
            mode = 0o755 if info.filename.endswith(".so") or ".so." in parts[-1] else 0o644
            yield info.filename, mode, source.read(info)


def _write(zip_path: Path, entries, compresslevel: int = 6) -> Package:
    """Write a zip as `zip -r` would (deflate level 6, Unix modes); entries: (name, mode, data)."""
    temporary = zip_path.with_suffix(".tmp")
    members = elf_members = unzipped = 0
    with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as out:
        for name, mode, data in entries:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = (0o100000 | mode) << 16
            out.writestr(info, data)
            members += 1
            elf_members += data[:4] == b"\x7fELF"
            unzipped += len(data)
    os.replace(temporary, zip_path)
    return Package(zip_path, members, elf_members, unzipped, zip_path.stat().st_size)


def describe(path: Path) -> Package:
    members = elf_members = unzipped = 0
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            members += 1
            unzipped += info.file_size
            with archive.open(info) as member:
                elf_members += member.read(4) == b"\x7fELF"
    return Package(path, members, elf_members, unzipped, path.stat().st_size)


def large_package() -> Package:
    path = CACHE / "large.zip"
    if path.exists():
        return describe(path)
    CACHE.mkdir(parents=True, exist_ok=True)
    print(f"building {path} ...", flush=True)

    def entries():
        yield "lambda_function.py", 0o644, HANDLER
        for wheel in wheels():
            yield from _wheel_entries(wheel)

    return _write(path, entries())


def huge_package(copies: int = 4) -> Package:
    """The large package `copies` times over under different folders (about 1 GB unzipped):
    memory must not grow with the package, only with its largest member."""
    path = CACHE / f"huge-{copies}.zip"
    if path.exists():
        return describe(path)
    large = large_package()
    print(f"building {path} ...", flush=True)

    def entries():
        with zipfile.ZipFile(large.path) as source:
            for copy in range(copies):
                for info in source.infolist():
                    mode = (info.external_attr >> 16) & 0o777
                    yield f"copy{copy}/{info.filename}", mode, source.read(info)

    return _write(path, entries(), compresslevel=1)


def big_member_package(megabytes: int = 200) -> Package:
    """One ELF executable of `megabytes` MB (a real one, padded): the memory of its largest member."""
    path = CACHE / f"member-{megabytes}mb.zip"
    if path.exists():
        return describe(path)
    CACHE.mkdir(parents=True, exist_ok=True)
    print(f"building {path} ...", flush=True)
    head = (FIXTURES / "hello-glibc2.34-x86_64").read_bytes()
    pad = megabytes * 2**20 - len(head)
    data = head + bytes(range(256)) * (pad // 256)
    return _write(path, [("bootstrap", 0o755, data)], compresslevel=1)


def _small_pool() -> tuple[list[tuple[str, int, bytes]], list[tuple[str, int, bytes]]]:
    """(ELF files, other files) to draw small functions from: numpy's pieces and the fixtures."""
    numpy_wheel = next(path for path in wheels() if path.name.startswith("numpy-"))
    elves, others = [], []
    for name, mode, data in _wheel_entries(numpy_wheel):
        if data[:4] == b"\x7fELF":
            if len(data) <= 2 * 2**20:  # the 10-24 MB libraries would not make a small function
                elves.append((name, mode, data))
        elif name.endswith(".py"):
            others.append((name, mode, data))
    for path in sorted(FIXTURES.rglob("*")):
        if path.is_file() and path.read_bytes()[:4] == b"\x7fELF":
            elves.append((f"bin/{path.relative_to(FIXTURES).as_posix()}", 0o755, path.read_bytes()))
    return elves, others


def small_packages(count: int) -> list[Package]:
    folder = CACHE / f"small-{count}"
    paths = [folder / f"fn-{index:03d}.zip" for index in range(count)]
    if all(path.exists() for path in paths):
        return [describe(path) for path in paths]
    folder.mkdir(parents=True, exist_ok=True)
    print(f"building {count} small functions in {folder} ...", flush=True)
    elves, others = _small_pool()
    built = []
    for index, path in enumerate(paths):
        chooser = random.Random(index)  # fixed seeds: the same packages on every machine

        def entries(chooser=chooser):
            yield "lambda_function.py", 0o644, HANDLER
            total = 0
            for pool, share in ((elves, 0.6), (others, 1.0)):
                picked = chooser.sample(pool, len(pool))
                for name, mode, data in picked:
                    if total + len(data) > SMALL_TARGET_BYTES * share:
                        continue
                    total += len(data)
                    yield name, mode, data

        built.append(_write(path, entries()))
    return built
