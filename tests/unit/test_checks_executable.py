"""checks.executable: what exec and ld.so check in the ELF header before any symbol."""

from __future__ import annotations

import pytest
from built import elf, target

from lambda_glibc_gate.binary_facts import toolchain_of
from lambda_glibc_gate.checks.executable import check_architecture, check_interpreter, static_note

ZIG_X86_64_GLIBC_2_34 = (
    "pip install ziglang\n"
    'export CC="python -m ziglang cc -target x86_64-linux-gnu.2.34"\n'
    'export CXX="python -m ziglang c++ -target x86_64-linux-gnu.2.34"\n'
    "# then rebuild from clean: make, cmake (new build folder), ./configure and cargo's cc crate read CC/CXX"
)


def judged(fixture: str, architecture: str = "x86_64", member: str = "bootstrap"):
    info = elf(fixture)
    return check_architecture(member, info, target("provided.al2023", architecture), toolchain_of(member, info))


# -- arch-mismatch -------------------------------------------------------------------------------
def test_an_arm64_binary_on_x86_64_cannot_be_execd():
    (finding,) = judged("hello-glibc2.17-aarch64")
    assert finding.rule == "arch-mismatch" and finding.severity == "error"
    assert finding.message == (
        "bootstrap is built for aarch64, but the function runs on Linux x86_64: "
        "Lambda fails with `exec format error` (Runtime.InvalidEntrypoint)"
    )
    assert (finding.required, finding.available) == ("aarch64", "x86_64")
    assert [(fix.code, fix.language) for fix in finding.fixes] == [
        (ZIG_X86_64_GLIBC_2_34, "shell"),
        ("Architectures: [arm64]", "yaml"),
    ]


def test_a_rust_binary_for_x86_64_on_arm64_is_rebuilt_with_cargo_lambda():
    (finding,) = judged("rust_hello-x86_64", "arm64")
    assert finding.available == "aarch64"
    assert [fix.code for fix in finding.fixes] == [
        "cargo lambda build --release --target aarch64-unknown-linux-gnu.2.34",
        "Architectures: [x86_64]",
    ]


@pytest.mark.parametrize(
    ("fixture", "problem"),
    [
        ("hello-glibc2.17-i386", "is built for i386 and is a 32-bit ELF file"),
        ("hello-glibc2.17-s390x", "is built for s390x and is big-endian"),
        ("freebsd/hello-x86_64", "is a FreeBSD binary, not a Linux one"),
    ],
)
def test_every_header_problem_is_named(fixture, problem):
    (finding,) = judged(fixture)
    assert finding.message.startswith(f"bootstrap {problem}, but the function runs on Linux x86_64")


def test_a_freebsd_library_is_refused_by_ld_so_not_by_exec():
    (finding,) = judged("freebsd/addon.node", member="node_modules/x/addon.node")
    assert finding.message.endswith("ld.so will refuse to load it (`ELF file OS ABI invalid`)")
    assert finding.fixes[0].code == "npm install --os=linux --cpu=x64 --libc=glibc"


def test_a_file_for_the_function_architecture_passes():
    assert judged("hello-glibc2.34-x86_64") == []
    assert judged("hello-glibc2.34-aarch64", "arm64") == []


# -- bad-interpreter -----------------------------------------------------------------------------
def test_musl_s_loader_is_not_on_amazon_linux():
    info = elf("musl_dynamic-x86_64")
    (finding,) = check_interpreter("bootstrap", info, target(), "c")
    assert finding.rule == "bad-interpreter" and finding.severity == "error"
    assert finding.message == (
        "bootstrap asks for musl's loader /lib/ld-musl-x86_64.so.1, which Amazon Linux does not have: "
        "Lambda fails with `no such file or directory` when it starts it"
    )
    assert finding.available == "/lib64/ld-linux-x86-64.so.2, /usr/lib64/ld-linux-x86-64.so.2"
    assert finding.fixes[0].code == (
        "pip install ziglang\n"
        'export CC="python -m ziglang cc -target x86_64-linux-musl"\n'
        'export CXX="python -m ziglang c++ -target x86_64-linux-musl"\n'
        "# then rebuild from clean: make, cmake (new build folder), ./configure and cargo's cc crate read CC/CXX"
    )


def test_a_rust_musl_binary_is_rebuilt_for_glibc():
    (finding,) = check_interpreter("bootstrap", elf("musl_dynamic-x86_64"), target(), "rust")
    assert finding.fixes[0].code == "cargo lambda build --release --target x86_64-unknown-linux-gnu"


def test_glibc_s_own_loader_and_a_foreign_machine_are_not_interpreter_findings():
    assert check_interpreter("bootstrap", elf("hello-glibc2.34-x86_64"), target(), "c") == []
    assert check_interpreter("bootstrap", elf("hello-glibc2.34-aarch64"), target("provided.al2023", "arm64"), "c") == []
    # the machine is wrong: arch-mismatch says so, not this check
    assert check_interpreter("bootstrap", elf("hello-glibc2.17-aarch64"), target(), "c") == []


# -- static-binary -------------------------------------------------------------------------------
def test_a_static_binary_is_a_note():
    (finding,) = static_note("bootstrap", elf("musl_static-x86_64"))
    assert (finding.rule, finding.severity) == ("static-binary", "note")
    assert finding.message == "bootstrap is statically linked: it needs no glibc from the runtime"
    assert static_note("bootstrap", elf("hello-glibc2.34-x86_64")) == []
