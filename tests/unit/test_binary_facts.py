"""binary_facts: what a file is and needs, read from real fixtures; no runtime involved."""

from __future__ import annotations

import pytest
from built import elf

from lambda_glibc_gate.binary_facts import cpython_tag, glibc_required, toolchain_of, versions_required


@pytest.mark.parametrize(
    ("fixture", "member", "toolchain"),
    [
        ("rust_hello-x86_64", "bootstrap", "rust"),  # the rustc path left in the file
        ("addon.node", "node_modules/x/build/Release/addon.node", "node-addon"),
        ("napi_addon-linux-x64-glibc.node", "lib/addon.bin", "node-addon"),  # napi_register_module_v1
        (
            "_speedups.cpython-312-x86_64-linux-gnu.so",
            "pkg/_speedups.cpython-312-x86_64-linux-gnu.so",
            "python-extension",
        ),
        ("cxx_condvar-glibcxx3.4.30-x86_64", "bootstrap", "c++"),
        ("hello-glibc2.34-x86_64", "bootstrap", "c"),
    ],
)
def test_the_toolchain_comes_from_the_file(fixture, member, toolchain):
    assert toolchain_of(member, elf(fixture)) == toolchain


@pytest.mark.parametrize(("build_method", "toolchain"), [("rust-cargolambda", "rust"), ("go1.x", "go"), (None, "c")])
def test_a_sam_build_method_names_the_toolchain_of_an_executable_without_evidence(build_method, toolchain):
    assert toolchain_of("bootstrap", elf("hello-glibc2.34-x86_64"), build_method) == toolchain


def test_evidence_in_the_file_wins_over_the_build_method():
    assert toolchain_of("bootstrap", elf("rust_hello-x86_64"), "go1.x") == "rust"
    assert toolchain_of("addon.node", elf("addon.node"), "rust-cargolambda") == "node-addon"


@pytest.mark.parametrize(
    ("fixture", "required"),
    [
        ("strlcpy_strtol-glibc2.38-x86_64", "2.38"),
        ("relr-glibc2.38-x86_64", "2.36"),  # GLIBC_ABI_DT_RELR counts as the release that added it
        ("weak_version_need-glibc2.38-x86_64", "2.34"),  # the weak GLIBC_2.38 need does not count
        ("hello-glibc2.17-x86_64", "2.2.5"),
        ("musl_static-x86_64", None),
    ],
)
def test_glibc_required_is_the_highest_non_weak_glibc_need(fixture, required):
    assert glibc_required(elf(fixture)) == required


def test_versions_required_is_the_highest_tag_of_each_family():
    assert versions_required(elf("cxx_condvar-glibcxx3.4.30-x86_64")) == {
        "CXXABI": "CXXABI_1.3.9",
        "GCC": "GCC_3.0",
        "GLIBC": "GLIBC_2.34",
        "GLIBCXX": "GLIBCXX_3.4.30",
    }
    assert versions_required(elf("weak_version_need-glibc2.38-x86_64")) == {"GLIBC": "GLIBC_2.34"}
    assert versions_required(elf("musl_static-x86_64")) == {}


@pytest.mark.parametrize(
    ("member", "tag"),
    [
        ("pkg/_speedups.cpython-312-x86_64-linux-gnu.so", "3.12"),
        ("_x.cpython-39-aarch64-linux-gnu.so", "3.9"),
        ("pkg/_x.abi3.so", None),
        ("pkg/_x.so", None),
    ],
)
def test_cpython_tag_reads_the_extension_suffix(member, tag):
    assert cpython_tag(member) == tag
