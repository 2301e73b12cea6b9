"""checks.python: an extension module tagged for another CPython is never imported."""

from __future__ import annotations

import pytest
from built import target

from lambda_glibc_gate.checks.python import check_python_abi


def test_a_module_for_a_newer_python_names_the_runtime_that_imports_it():
    member = "pkg/_speedups.cpython-312-x86_64-linux-gnu.so"
    (finding,) = check_python_abi(member, target("python3.11"), "python-extension")
    assert finding.rule == "python-abi-mismatch" and finding.severity == "error"
    assert finding.message == (
        f"{member} is built for CPython 3.12; python3.11 cannot import it "
        "(`No module named …`, Runtime.ImportModuleError)"
    )
    assert (finding.required, finding.available) == ("3.12", "3.11")
    assert finding.details == {"newer_runtime": "python3.12"}
    install, move = finding.fixes
    assert install.title == "Install the dependencies for Python 3.11, whatever Python runs pip"
    assert install.code == (
        "pip install --upgrade --only-binary=:all: --implementation cp --python-version 3.11 "
        "--target package/ -r requirements.txt \\\n"
        "  --platform manylinux_2_26_x86_64 --platform manylinux_2_25_x86_64 --platform manylinux_2_24_x86_64 \\\n"
        "  --platform manylinux_2_23_x86_64 --platform manylinux_2_22_x86_64 --platform manylinux_2_21_x86_64 \\\n"
        "  --platform manylinux_2_20_x86_64 --platform manylinux_2_19_x86_64 --platform manylinux_2_18_x86_64 \\\n"
        "  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64"
    )
    assert move.code == "Runtime: python3.12"


def test_a_module_for_an_older_python_has_only_the_reinstall():
    (finding,) = check_python_abi(
        "_x.cpython-311-aarch64-linux-gnu.so", target("python3.12", "arm64"), "python-extension"
    )
    assert finding.details == {}
    (install,) = finding.fixes
    assert "--python-version 3.12" in install.code and "--platform manylinux_2_34_aarch64" in install.code


@pytest.mark.parametrize(
    ("member", "runtime_id"),
    [
        ("pkg/_x.cpython-312-x86_64-linux-gnu.so", "python3.12"),  # the same CPython
        ("pkg/_x.abi3.so", "python3.12"),  # the stable ABI: any CPython 3
        ("pkg/_x.so", "python3.12"),  # untagged
        ("pkg/_x.cpython-312-x86_64-linux-gnu.so", "provided.al2023"),  # no Python imports it
    ],
)
def test_modules_the_runtime_s_python_imports_pass(member, runtime_id):
    assert check_python_abi(member, target(runtime_id), "python-extension") == []
