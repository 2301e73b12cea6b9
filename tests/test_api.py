"""The public Python API: what `from lambda_glibc_gate import …` promises."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from helpers import elf_fixture

import lambda_glibc_gate
from lambda_glibc_gate import GateError, Report, ScanOptions, scan


def test_scan_on_a_real_package_returns_a_report(make_zip):
    package = make_zip({"bootstrap": elf_fixture("strlcpy_strtol-glibc2.38-x86_64")})
    report = scan([package], ScanOptions(runtime="provided.al2023", today=date(2026, 11, 27)))
    assert isinstance(report, Report) and report.verdict == "fail"
    assert report.to_json()["schema_version"].startswith("1.")


@pytest.mark.parametrize(
    ("paths", "options"),
    [(["no/such/file.zip"], {}), ([__file__], {"runtime": "python9.9"}), ([__file__], {"architecture": "sparc"})],
)
def test_everything_the_user_can_cause_is_one_gate_error(paths, options):
    with pytest.raises(GateError) as raised:
        scan(paths, ScanOptions(**options))
    assert "\n" not in str(raised.value)


def test_importing_the_package_loads_nothing_heavy():
    code = "import sys, lambda_glibc_gate; print(sorted(m for m in sys.modules if m.startswith('lambda_glibc_gate')))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "['lambda_glibc_gate']"
    assert Path(lambda_glibc_gate.__file__).with_name("py.typed").exists()
    with pytest.raises(AttributeError):
        lambda_glibc_gate.no_such_name  # noqa: B018
