"""Facts about one artifact, read once: every ELF file parsed, modes, sizes and package metadata
kept, nothing extracted. The judgement (judge.py) may run on them once per function."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from lambda_glibc_gate.archive import Artifact, Member, UsageError, open_artifact, safe_name
from lambda_glibc_gate.archive.lazy import LazyMember, worst_work
from lambda_glibc_gate.elf import ElfInfo, MalformedElf, SourceError, plan_reading, read_elf
from lambda_glibc_gate.report import Finding
from lambda_glibc_gate.resolve import Filesystem, Tree

# Members up to this size are read whole; larger ones are held in part (archive/lazy.py): a
# 200 MB executable costs a few MB, not 200.
WHOLE_UP_TO = 2 * 1024 * 1024


@dataclass
class Collected:
    """What one artifact holds, read once."""

    artifact_path: str
    kind: str
    tree: Tree
    modes: dict[str, int | None] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)  # declared sizes, for dead-weight notes
    heads: dict[str, bytes] = field(default_factory=dict)  # first bytes of bootstrap
    bootstrap_target: str | None = None  # the member a symlinked bootstrap leads to, if any
    findings: list[Finding] = field(default_factory=list)
    packages: object | None = None  # packages.PackageIndex
    unpacked_size: int = 0


@dataclass
class Part:
    """What reading some of an artifact's members found: their ELF files parsed, bootstrap's
    first bytes, malformed-elf findings, and (read in a worker) the reader's problems, each as
    the call that reported it, replayed in order on the artifact that merges the parts."""

    elves: dict[str, ElfInfo] = field(default_factory=dict)
    heads: dict[str, bytes] = field(default_factory=dict)
    malformed: list[Finding] = field(default_factory=list)
    reports: list[tuple[tuple, dict]] = field(default_factory=list)


# read_parts(artifact, members, meanwhile) -> the Parts of those members, in their order (each
# part a run of consecutive members), or None to read them here; it calls meanwhile() once, in a
# thread while the members are read elsewhere, or before it returns None.
ReadParts = Callable[[Artifact, list[Member], Callable[[], None]], "list[Part] | None"]


def collect(path: str, mount: str, read_parts: ReadParts | None = None) -> Collected:
    """Read an artifact once: every ELF parsed, modes and metadata kept, nothing extracted.

    `read_parts` may read the members elsewhere (parallel.py: in worker processes); the result
    is the same Collected as reading them here, member by member."""
    from lambda_glibc_gate.packages import METADATA_NAMES, PackageIndex, read_limit

    try:
        opened = open_artifact(path)
    except UsageError as error:
        # expand_paths found it, so it is there but no file or folder (a FIFO, a socket) or gone
        # since: a finding on this artifact, as the archive reader does for one it cannot read; the
        # others are still scanned.
        kind = "zip" if path.lower().endswith(".zip") else "file"
        collected = Collected(path, kind, Tree(mount=mount, label=path))
        collected.findings.append(
            Finding("unreadable-archive", "error", f"{error}: it was not scanned", details={"problem": "not-a-file"})
        )
        return collected
    with opened as artifact:
        tree = Tree(mount=mount, label=path)
        collected = Collected(path, artifact.kind, tree)
        metadata = {}
        names: list[str] = []
        regular: dict[str, Member] = {}  # name -> Member, for a symlinked bootstrap's target
        for member in artifact.members():
            if member.is_dir:
                continue
            names.append(member.name)
            collected.modes[member.name] = member.mode
            collected.sizes[member.name] = member.size
            if member.is_symlink:
                tree.symlinks[member.name] = member.link_target or ""
                continue
            tree.names.add(member.name)
            regular[member.name] = member
            if member.name.rsplit("/", 1)[-1] in METADATA_NAMES:
                metadata[member.name] = member

        def read_text(name: str) -> bytes | None:
            member = metadata.get(name)
            # the index's own limit; past it the file is cut, never an unsafe-archive finding
            return artifact.read_head(member, read_limit(name)) if member is not None else None

        index: list = []
        index_reports: list[tuple[tuple, dict]] = []

        def build_index() -> None:
            """The package index, which needs only names and metadata files: built while the
            members are read elsewhere when they are (read_parts), its problems recorded and
            reported in the order a read here gives (after the members' and the link's)."""
            if index:
                return
            report, artifact._report = artifact._report, lambda *args, **kwargs: index_reports.append((args, kwargs))
            try:
                index.append(PackageIndex.build(names, read_text))
            finally:
                artifact._report = report  # type: ignore[method-assign]

        members = list(regular.values())
        parts = read_parts(artifact, members, build_index) if read_parts is not None else None
        for part in parts if parts is not None else [read_part(artifact, members)]:
            for args, kwargs in part.reports:  # as if read here: de-duplicated and capped here
                artifact._report(*args, **kwargs)
            tree.elves.update(part.elves)
            collected.heads.update(part.heads)
            collected.findings += part.malformed

        _follow_bootstrap_link(collected, artifact, regular)
        build_index()
        for args, kwargs in index_reports:
            artifact._report(*args, **kwargs)
        collected.packages = index[0]
        collected.findings[:0] = list(artifact.problems)
        collected.unpacked_size = artifact.unpacked_size
    return collected


def read_part(artifact: Artifact, members: Iterable[Member]) -> Part:
    """Read `members` of `artifact` in order: each ELF file parsed, one member's bytes at a time.
    The reader's problems go to `artifact.problems`."""
    part = Part()
    for member in members:
        parsed = _parse(artifact, member)
        if parsed is None:
            if member.name == "bootstrap":
                part.heads[member.name] = artifact.read_head(member, 256) or b""
        elif isinstance(parsed, MalformedElf):
            part.malformed.append(
                Finding(
                    "malformed-elf",
                    "error",
                    f"{safe_name(member.name)} looks like ELF but cannot be loaded: {parsed}",
                    member=member.name,
                )
            )
        else:
            part.elves[member.name] = parsed
    return part


def _parse(artifact: Artifact, member: Member) -> ElfInfo | MalformedElf | None:
    """The member parsed, or why it cannot be loaded; None when it is no ELF file (or cannot be
    read: the artifact has the finding). One member's bytes at a time; a large one held only in
    the parts the reader asks for (archive/lazy.py)."""
    if member.size > WHOLE_UP_TO:
        data: bytes | LazyMember | None = artifact.read_if_elf_lazily(member, plan_reading)
    else:
        data = artifact.read_if_elf(member)
    if data is None:
        return None
    try:
        return read_elf(data)
    except MalformedElf as error:
        reason = str(error)  # not the error: its traceback would keep the member's bytes alive
    except SourceError as error:
        artifact._report(
            "unreadable-archive",
            "read-again",
            f"cannot read {safe_name(member.name)} again to judge it ({error}): it was not scanned",
            member.name,
        )
        return None
    return MalformedElf(reason)


def held_memory(size: int) -> int:
    """About the most reading a member of `size` bytes holds at once (parallel.py budgets by it):
    the member itself up to WHOLE_UP_TO; beyond, its first bytes, the ranges planned and read
    again, and the stream's marks (lazy.py). A hostile one may ask for more, up to itself."""
    if size <= WHOLE_UP_TO:
        return size
    return WHOLE_UP_TO + size // 8


def worst_read(size: int) -> int:
    """The most reading a member of `size` bytes may decompress (its re-reads included)."""
    return size if size <= WHOLE_UP_TO else worst_work(size)


def _follow_bootstrap_link(collected: Collected, artifact, regular: dict) -> None:
    """Lambda execs /var/task/bootstrap through its links: find the file they lead to, and read
    its first bytes when it is no ELF file (a script)."""
    tree = collected.tree
    if "bootstrap" not in tree.symlinks:
        return
    found = Filesystem([tree], {}, (), "").lookup(tree.absolute("bootstrap"))
    if found is None:
        return
    collected.bootstrap_target = found[1]
    if found[1] not in tree.elves and found[1] in regular:
        collected.heads["bootstrap"] = artifact.read_head(regular[found[1]], 256) or b""
