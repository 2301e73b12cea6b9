"""What an artifact is judged against: the runtime, its architecture and limits (Target), and
the Lambda architecture -> ELF machine mapping the exec and loader checks share."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from lambda_glibc_gate.binary_facts import cpython_tag

# Lambda architecture -> ELF machine, and back.


@dataclass(frozen=True)
class Target:
    """What one artifact is judged against."""

    runtime: object  # runtimes.Runtime
    architecture: str  # x86_64 | arm64
    limits: object  # runtimes.ArchLimits after --glibc / --glibcxx overrides
    glibcxx_overridden: bool = False
    glibc_overridden: bool = False
    today: date = field(default_factory=date.today)
    newer_runtimes: tuple = ()  # runtimes.Runtime, oldest first, same language
    runners: tuple = ()  # advice.RunnerImage
    library_list_complete: bool = False  # does the database list every system library?
    build_command: str | None = None  # the user's own build line (the workflow's cargo lambda build)

    @property
    def glibc(self) -> str:
        return self.limits.glibc


def for_member(target: Target, member: str) -> Target:
    """The target as one file sees it: a module tagged for one CPython moves only to that one."""
    tag = cpython_tag(member)
    if tag is None or getattr(target.runtime, "family", None) != "python":
        return target
    return replace(target, newer_runtimes=tuple(r for r in target.newer_runtimes if r.language_version == tag))
