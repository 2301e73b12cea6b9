"""What the kernel and ld.so check before any symbol: machine, class, byte order, OS ABI and
the program interpreter (arch-mismatch, bad-interpreter); a static file needs no loader at all
(static-binary)."""

from __future__ import annotations

from lambda_glibc_gate import advice
from lambda_glibc_gate.checks.target import Target
from lambda_glibc_gate.elf import ElfInfo
from lambda_glibc_gate.report import Finding
from lambda_glibc_gate.runtimes import ELF_MACHINE, LAMBDA_ARCH

# The loader paths Amazon Linux has for each machine
# (glibc sysdeps/unix/sysv/linux/*/ldconfig.h; reference/runtimes.md §3a).
LOADERS = {
    "x86_64": {"/lib64/ld-linux-x86-64.so.2", "/usr/lib64/ld-linux-x86-64.so.2"},
    "aarch64": {
        "/lib/ld-linux-aarch64.so.1",
        "/lib64/ld-linux-aarch64.so.1",
        "/usr/lib64/ld-linux-aarch64.so.1",
    },
}


def check_architecture(member: str, info: ElfInfo, target: Target, toolchain: str) -> list[Finding]:
    if info.elf_type not in ("exec", "dyn"):
        return []  # object files and core dumps are never exec'd or loaded: nothing to judge
    wanted = ELF_MACHINE[target.architecture]
    problems = []
    system = getattr(info, "os_abi", "linux")
    if system != "linux":
        # glibc's ld.so accepts only EI_OSABI SYSV / GNU (VALID_ELF_OSABI), and a FreeBSD libc
        # or libthr it needs does not exist on Linux anyway.
        problems.append(f"is a {_SYSTEM_NAMES.get(system, system)} binary, not a Linux one")
    if info.machine != wanted:
        problems.append(f"is built for {info.machine}")
    if info.elf_class != 64:
        problems.append(f"is a {info.elf_class}-bit ELF file")
    if info.endian != "little":
        problems.append("is big-endian")
    if not problems:
        return []
    symptom = (
        "Lambda fails with `exec format error` (Runtime.InvalidEntrypoint)"
        if info.is_executable
        else "ld.so will refuse to load it (`ELF file OS ABI invalid`)"
        if system != "linux"
        else "ld.so will refuse to load it (wrong ELF class or machine)"
    )
    binary_arch = LAMBDA_ARCH.get(info.machine, info.machine)
    return [
        Finding(
            "arch-mismatch",
            "error",
            f"{member} {' and '.join(problems)}, but the function runs on Linux {target.architecture}: {symptom}",
            member=member,
            required=info.machine,
            available=wanted,
            fixes=advice.arch_fixes(toolchain, binary_arch, target.architecture, target.glibc),
        )
    ]


_SYSTEM_NAMES = {"freebsd": "FreeBSD", "netbsd": "NetBSD", "openbsd": "OpenBSD", "solaris": "Solaris"}


def check_interpreter(member: str, info: ElfInfo, target: Target, toolchain: str) -> list[Finding]:
    if info.interpreter is None or info.machine != ELF_MACHINE[target.architecture]:
        return []
    if info.interpreter in LOADERS.get(info.machine, set()):
        return []
    kind = "musl's loader" if "musl" in info.interpreter else "a loader"
    return [
        Finding(
            "bad-interpreter",
            "error",
            f"{member} asks for {kind} {info.interpreter}, which Amazon Linux does not have: "
            "Lambda fails with `no such file or directory` when it starts it",
            member=member,
            required=info.interpreter,
            available=", ".join(sorted(LOADERS.get(info.machine, ()))),
            fixes=advice.musl_fixes(toolchain, target.architecture),
        )
    ]


def static_note(member: str, info: ElfInfo) -> list[Finding]:
    if not info.static:
        return []
    return [
        Finding(
            "static-binary",
            "note",
            f"{member} is statically linked: it needs no glibc from the runtime",
            member=member,
        )
    ]
