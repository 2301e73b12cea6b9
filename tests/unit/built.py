"""What the unit tests judge, built as a scan builds it: the Target from the real runtime
database (scan.target_for), ElfInfo read from the committed fixtures, DT_NEEDED resolved by the
real resolver, the advice Context as judge.py makes it. No mocks."""

from __future__ import annotations

from datetime import date

from helpers import elf_fixture

from lambda_glibc_gate import advice, runtimes
from lambda_glibc_gate.binary_facts import toolchain_of
from lambda_glibc_gate.checks import ELF_MACHINE, Target
from lambda_glibc_gate.elf import ElfInfo, read_elf
from lambda_glibc_gate.options import ScanOptions
from lambda_glibc_gate.resolve import TASK_ROOT, Filesystem, Resolution, Tree
from lambda_glibc_gate.scan import target_for

TODAY = date(2026, 11, 27)


def target(runtime_id: str = "provided.al2023", architecture: str = "x86_64", **options) -> Target:
    """The Target a scan of one artifact for `runtime_id` on `architecture` judges against."""
    runtime = runtimes.get_runtime(runtime_id)
    return target_for(
        runtime, architecture, ScanOptions(runtime=runtime_id, architecture=architecture, **options), TODAY
    )


def elf(name: str) -> ElfInfo:
    return read_elf(elf_fixture(name))


def resolved(
    info: ElfInfo, target: Target, member: str = "bootstrap", bundled: dict[str, str] | None = None
) -> dict[str, Resolution]:
    """`info`'s DT_NEEDED as ld.so on the target finds them; `bundled` is {member: fixture} in the package."""
    files = {member: info, **{name: elf(fixture) for name, fixture in (bundled or {}).items()}}
    tree = Tree(TASK_ROOT, "function.zip", names=set(files), elves=files)
    runtime = target.runtime
    filesystem = Filesystem(
        [tree],
        runtimes.system_libraries(runtime.os, target.architecture),
        runtimes.library_search_path(runtime),
        ELF_MACHINE[target.architecture],
    )
    return {soname: filesystem.resolve(tree.absolute(member), info, soname) for soname in info.needed}


def context(target: Target, member: str, info: ElfInfo | None = None, **fields) -> advice.Context:
    """The advice Context judge.py builds for `member` (toolchain from the file unless given)."""
    toolchain = fields.pop("toolchain", None) or (toolchain_of(member, info) if info is not None else "c")
    return advice.Context.for_target(target, toolchain, member, **fields)
