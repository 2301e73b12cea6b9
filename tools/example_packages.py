"""The example Lambda packages in examples/, assembled from already built fixtures.

Zips are byte-for-byte reproducible: fixed member order, a fixed 1980-01-01 timestamp,
Unix mode bits in external_attr (what Lambda uses to decide a bootstrap is executable).
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path
from typing import Any

EXECUTABLE = 0o100755
REGULAR = 0o100644
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
SPEEDUPS_MEMBER = "mypkg/_speedups.cpython-311-x86_64-linux-gnu.so"

HANDLER_PY = '''\
"""A python3.11 handler whose dependency ships a compiled extension module."""

import json

from mypkg import speedups_available


def handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"speedups": speedups_available()})}
'''

MYPKG_INIT = '''\
"""Example package: a pure-Python API over an optional C extension."""


def speedups_available() -> bool:
    try:
        from mypkg import _speedups  # noqa: F401
    except ImportError:
        return False
    return True
'''

METADATA = """\
Metadata-Version: 2.1
Name: mypkg
Version: 1.0.0
Summary: Example wheel with a manylinux_2_28 extension module
Requires-Python: >=3.11
"""

WHEEL = """\
Wheel-Version: 1.0
Generator: lambda-glibc-gate example builder
Root-Is-Purelib: false
Tag: cp311-cp311-manylinux_2_28_x86_64
"""


def write_zip(path: Path, members: list[tuple[str, bytes, int]]) -> None:
    """members: (name, content, unix mode) in the order they are written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for name, content, mode in members:
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.create_system = 3  # Unix, so unzip and Lambda honour the mode bits
            info.external_attr = mode << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content, compresslevel=9)


def record_line(name: str, content: bytes) -> str:
    """One RECORD row: path,sha256=<urlsafe base64, no padding>,size (PEP 376 / 427)."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(content)}"


def python_function_members(speedups: bytes) -> list[tuple[str, bytes, int]]:
    """handler.py plus mypkg installed from a wheel, as `pip install -t` lays it out."""
    dist_info = "mypkg-1.0.0.dist-info"
    wheel_files = [
        ("mypkg/__init__.py", MYPKG_INIT.encode(), REGULAR),
        (SPEEDUPS_MEMBER, speedups, EXECUTABLE),
        (f"{dist_info}/METADATA", METADATA.encode(), REGULAR),
        (f"{dist_info}/WHEEL", WHEEL.encode(), REGULAR),
        (f"{dist_info}/INSTALLER", b"pip\n", REGULAR),
    ]
    record = "".join(record_line(name, content) + "\n" for name, content, _ in wheel_files)
    record += f"{dist_info}/RECORD,,\n"
    return [
        ("handler.py", HANDLER_PY.encode(), REGULAR),
        *wheel_files,
        (f"{dist_info}/RECORD", record.encode(), REGULAR),
    ]


# zip name -> {member: fixture it is a copy of}; the drift test checks the copies.
EXAMPLES: dict[str, dict[str, str]] = {
    "good-provided-al2023.zip": {"bootstrap": "hello-glibc2.34-x86_64"},
    "built-on-ubuntu-latest.zip": {"bootstrap": "strlcpy_strtol-glibc2.38-x86_64"},
    "arm64-in-x86-function.zip": {"bootstrap": "hello-glibc2.34-aarch64"},
    "python-function.zip": {SPEEDUPS_MEMBER: "_speedups.cpython-312-x86_64-linux-gnu.so"},
}


def build_examples(fixtures_dir: Path, examples_dir: Path) -> dict[str, Any]:
    """Write every example zip; return the manifest's `examples` section."""
    for zip_name, copies in EXAMPLES.items():
        elf_members = {
            member: (fixtures_dir / fixture).read_bytes() for member, fixture in copies.items()
        }
        if zip_name == "python-function.zip":
            members = python_function_members(elf_members[SPEEDUPS_MEMBER])
        else:
            members = [(name, content, EXECUTABLE) for name, content in elf_members.items()]
        write_zip(examples_dir / zip_name, members)
    return {
        f"examples/{zip_name}": {"elf_members": copies} for zip_name, copies in EXAMPLES.items()
    }
