"""The one table of architecture names: Lambda's, ELF's, and the spellings users type.

Outside the runtimes package, whose import loads the database machinery: checking a scan's
options needs only this, before the artifacts are read (the database loads while they are)."""

from __future__ import annotations

from lambda_glibc_gate.errors import GateError

ARCHITECTURES = ("x86_64", "arm64")  # Lambda's names; ELF aarch64 == Lambda arm64
# Lambda's -> ELF's (also uname -m, manylinux, the zig / glibc abilist name), and back.
ELF_MACHINE = {"x86_64": "x86_64", "arm64": "aarch64"}
LAMBDA_ARCH = {machine: lambda_name for lambda_name, machine in ELF_MACHINE.items()}
_ALIASES = {
    "x86_64": "x86_64",
    "amd64": "x86_64",
    "x64": "x86_64",
    "x86-64": "x86_64",
    "arm64": "arm64",
    "aarch64": "arm64",
}


class UnknownArchitectureError(GateError, ValueError):
    """An architecture name that is neither Lambda's nor ELF's spelling of one."""

    def __init__(self, name: str):
        super().__init__(f"unknown architecture {name!r}; expected one of {', '.join(ARCHITECTURES)}")


def normalize_architecture(name: str) -> str:
    """Lambda's name for an architecture: "aarch64" -> "arm64", "amd64" -> "x86_64"."""
    try:
        return _ALIASES[name.strip().lower()]
    except KeyError:
        raise UnknownArchitectureError(name) from None
