"""The reader every artifact kind shares: limits, members, the one reading loop with its
budget, and the findings an untrusted artifact gives (names, links, sizes)."""

from __future__ import annotations

import ctypes
import io
import re
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

from lambda_glibc_gate.archive.lazy import Builder, LazyMember, Mark, Planner, SourceFailed
from lambda_glibc_gate.report import Finding
from lambda_glibc_gate.text import one_line

ELF_MAGIC = b"\x7fELF"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header, or the record of an empty zip
UNSAFE = "unsafe-archive"
UNREADABLE = "unreadable-archive"
TOO_LARGE = "package-too-large"
# Reads start small (a magic-number check needs 4 bytes) and grow for members that are read whole.
_FIRST_INPUT = 1024
_INPUT_CHUNK = 1024 * 1024
_FIRST_OUTPUT = 512
_OUTPUT_CHUNK = 1024 * 1024
# bzip2 and LZMA shrink a small run of zeros far beyond 1000:1; judge the ratio only on output
# large enough to hurt.
_RATIO_FLOOR = 1024 * 1024
# Before allocating a member this large, freed memory is handed back (release_freed_memory).
_RELEASE_BEFORE = 4 * 1024 * 1024
# Declared sizes beyond this ratio to the compressed size get no up-front allocation.
_PLAUSIBLE_RATIO = 32
# One finding per member is useful; thousands of them (a corrupt zip) are noise.
_MAX_FINDINGS_PER_KIND = 20
_FLAG_ENCRYPTED = 0x1
_FLAG_UTF8 = 0x800
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # zip spec 4.3.7: 30 bytes
_DRIVE_LETTER = re.compile(r"[A-Za-z]:")


def safe_name(name: str, max_length: int = 200) -> str:
    """An untrusted name made fit for a one-line message (text.one_line, the one owner)."""
    return one_line(name, max_length)


def _quoted(name: str) -> str:
    return f"'{safe_name(name)}'"


@dataclass(frozen=True)
class Limits:
    max_members: int = 100_000  # Lambda packages rarely exceed tens of thousands
    max_member_bytes: int = 256 * 2**20  # bytes read from one member
    max_total_bytes: int = 2 * 2**30  # bytes decompressed in total per artifact
    max_ratio: int = 1_000  # beyond this a member is a bomb (deflate tops out near 1032:1)
    max_name_length: int = 4096  # bytes; Linux PATH_MAX
    max_link_target: int = 4096
    # "Deployment package (.zip file archive) size: 250 MB (unzipped)", AWS Lambda quotas
    # (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html); the API's own
    # words when it rejects one: "Unzipped size must be smaller than 262144000 bytes".
    lambda_unzipped_limit: int = 262_144_000


@dataclass(frozen=True)
class Member:
    name: str  # normalised POSIX path relative to the package root, e.g. "bin/bootstrap"
    size: int  # declared uncompressed size (untrusted for zips)
    mode: int | None  # Unix st_mode; None when the zip was made without Unix attributes
    is_symlink: bool
    link_target: str | None  # symlinks only, untrusted
    is_dir: bool = False


class _Problem(Exception):
    """A reason a member cannot be read; becomes one finding."""

    def __init__(self, rule: str, problem: str, message: str, **details: object) -> None:
        super().__init__(message)
        self.rule = rule
        self.problem = problem
        self.message = message
        self.details = details


class Artifact:
    """One input, opened. Use `open_artifact()`; close it (or use `with`) when done."""

    def __init__(self, path: str, kind: str, limits: Limits) -> None:
        self.path = path
        self.kind = kind
        self.limits = limits
        self.problems: list[Finding] = []
        self.unpacked_size = 0
        self._members: list[Member | None] = []  # None: a zip entry a later duplicate overwrote
        self._spent = 0  # bytes decompressed or read so far, against max_total_bytes
        self._exhausted = False
        self._reported: set[tuple[str, str | None, str]] = set()
        self._per_kind: dict[tuple[str, str], int] = {}

    # -- the public surface ----------------------------------------------------------------
    def members(self) -> Iterator[Member]:
        """Regular files and symlinks with safe names, in archive order."""
        return iter([member for member in self._members if member is not None])

    def read_head(self, member: Member, size: int = 64) -> bytes | None:
        """The first `size` bytes (fewer for a shorter member); decompresses only what's needed."""
        return self._read(member, max(size, 0), head=True)

    def read(self, member: Member, limit: int | None = None) -> bytes | None:
        """The whole member, or None (and one finding) when it is too large or cannot be read."""
        return self._read(member, self._cap(limit))

    def read_if_elf(self, member: Member) -> bytes | None:
        """The whole member when it starts with the ELF magic; None for anything else, read no
        further than its first block."""
        return self._read(member, self._cap(None), elf_only=True)

    def read_if_elf_lazily(self, member: Member, planner: Planner) -> LazyMember | None:
        """read_if_elf for a large member: read once, then held only in the parts a reader asks
        for (lazy.py); None for anything else, or when it cannot be read (then a finding)."""
        builder = Builder(planner, member.size)
        if self._read(member, self._cap(None), elf_only=True, take=builder.take, marks=builder.marks) is None:
            return None
        return builder.finish(partial(self._read_again, member), self._spend_again)

    def close(self) -> None:
        """Release the open file, if any."""

    def __enter__(self) -> Artifact:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- for the kinds -----------------------------------------------------------------------
    def _reservation(self, member: Member, cap: int) -> int:
        """Bytes to allocate at once for reading `member` whole (a file's size is real)."""
        return min(member.size, cap)

    def _stream(self, member: Member, marks: list[Mark] | None = None, resume: Mark | None = None) -> Iterator[bytes]:
        """The member's bytes in chunks; raises _Problem. Each kind provides its own. `marks`:
        add a Mark at least every lazy.MARK_EVERY bytes (the first at 0), from where `resume`
        yields the bytes again (without the whole-member checks: it is read in part)."""
        raise _Problem(UNREADABLE, "not-a-member", f"{_quoted(member.name)} is not in this artifact")

    def _report(
        self,
        rule: str,
        problem: str,
        message: str,
        member: str | None = None,
        severity: str = "error",
        **details: object,
    ) -> None:
        """Add a finding once; past _MAX_FINDINGS_PER_KIND of a kind, one summary instead."""
        key = (rule, member, problem)
        if key in self._reported:
            return
        self._reported.add(key)
        if member is not None:
            kind = (rule, severity)
            count = self._per_kind.get(kind, 0) + 1
            self._per_kind[kind] = count
            if count == _MAX_FINDINGS_PER_KIND + 1:
                message = (
                    f"more than {_MAX_FINDINGS_PER_KIND} members have {rule} problems; only the first ones are listed"
                )
                member, problem, details = None, "too-many-findings", {}
            elif count > _MAX_FINDINGS_PER_KIND:
                return
        details = {"problem": problem, **details}
        self.problems.append(Finding(rule, severity, message, member=member, details=details))

    def _read_again(self, member: Member, mark: Mark) -> Iterator[bytes]:
        """The member's bytes from `mark` on, for a LazyMember; a problem ends the read
        (SourceFailed: collect.py reports it)."""
        try:
            yield from self._stream(member, resume=mark)
        except _Problem as error:
            raise SourceFailed(error.message) from None

    def _spend_again(self, size: int) -> None:
        """Bytes a LazyMember decompresses again count against the artifact's budget too."""
        self._spent += size
        if self._spent > self.limits.max_total_bytes:
            self._exhausted = True
            self._report_total_too_large()
            raise SourceFailed("the artifact's decompression budget is spent")

    def _report_total_too_large(self, name: str | None = None) -> None:
        where = f"reading stopped at {_quoted(name)}" if name is not None else "reading stopped"
        self._report(
            UNSAFE,
            "total-too-large",
            f"more than {_mb(self.limits.max_total_bytes)} decompressed from this "
            f"artifact (a zip bomb?); {where} and the rest were not scanned",
            limit=self.limits.max_total_bytes,
        )

    def _report_problem(self, error: _Problem, member: str | None) -> None:
        self._report(error.rule, error.problem, error.message, member, **error.details)

    def _check_total_size(self) -> None:
        size, limit = self.unpacked_size, self.limits.lambda_unzipped_limit
        if size > limit:
            self._report(
                TOO_LARGE,
                "unzipped-size",
                f"the package unpacks to {_mb(size)} ({size:,} bytes), above Lambda's limit of "
                f"{_mb(limit)} ({limit:,} bytes) for a function's code and layers unzipped: "
                "the deploy will be rejected",
                size=size,
                limit=limit,
            )

    def _check_count(self, count: int) -> bool:
        """False (after one finding) once more than max_members entries have been seen."""
        if count <= self.limits.max_members:
            return True
        self._report(
            UNSAFE,
            "too-many-members",
            f"the artifact has more than {self.limits.max_members} members; the rest were not scanned",
            limit=self.limits.max_members,
        )
        return False

    def _cap(self, limit: int | None) -> int:
        most = self.limits.max_member_bytes
        return most if limit is None else max(0, min(limit, most))

    def _read(
        self,
        member: Member,
        cap: int,
        head: bool = False,
        elf_only: bool = False,
        take: Callable[[bytes], None] | None = None,
        marks: list[Mark] | None = None,
    ) -> bytes | None:
        """The one reading loop: budget, size cap, magic check, and every error as a finding.
        `take`: give it the chunks instead of holding them (b"" then stands for the bytes);
        `marks`: the stream's marks go there (lazy.py)."""
        if member.is_symlink or member.is_dir or self._exhausted:
            return None
        if not head and not elf_only and member.size > cap:
            self._report_problem(_too_large(member.name, member.size, cap), member.name)
            return None
        # One buffer, not a list of chunks joined at the end: a large member is held once, not
        # twice (getvalue() hands the buffer over). It is sized once to the declared size (at
        # most `cap`): grown chunk by chunk, the reallocations of a large member can leave
        # copies of it behind in the heap.
        buffer = io.BytesIO() if take is None else None
        write = buffer.write if buffer is not None else take
        sized = head
        got = 0
        head_bytes = b""  # the first bytes, for the magic check
        magic_checked = not elf_only
        chunks: Iterator[bytes] | None = None
        try:
            chunks = self._stream(member) if marks is None else self._stream(member, marks=marks)
            for chunk in chunks:
                self._spent += len(chunk)
                if self._spent > self.limits.max_total_bytes:
                    self._exhausted = True
                    self._report_total_too_large(member.name)
                    return None
                write(chunk)
                got += len(chunk)
                if not magic_checked and len(head_bytes) < len(ELF_MAGIC):
                    head_bytes = (head_bytes + chunk[: len(ELF_MAGIC)])[: len(ELF_MAGIC)]
                if not magic_checked and got >= len(ELF_MAGIC):
                    if head_bytes != ELF_MAGIC:
                        return None
                    magic_checked = True
                    if member.size > cap:  # an ELF file too large to read: say so, read no more
                        raise _too_large(member.name, member.size, cap)
                if magic_checked and not sized:
                    sized = True
                    if buffer is not None:
                        _reserve(buffer, self._reservation(member, cap))
                if head and got >= cap:
                    return buffer.getvalue()[:cap]
                if got > cap:
                    raise _too_large(member.name, got, cap)
        except _Problem as error:
            self._report_problem(error, member.name)
            return None
        except Exception as error:  # noqa: BLE001 - untrusted input must never end in a traceback
            self._report(
                UNREADABLE,
                "internal-error",
                f"cannot read {_quoted(member.name)}: {type(error).__name__}: {safe_name(str(error))}",
                member.name,
            )
            return None
        finally:
            if chunks is not None and hasattr(chunks, "close"):
                chunks.close()
        if not magic_checked:  # shorter than the magic number
            return None
        if buffer is None:
            return b""
        buffer.truncate(got)  # a member shorter than declared is a finding already; kept safe
        return buffer.getvalue()


def _reserve(buffer: io.BytesIO, size: int) -> None:
    """Allocate `size` bytes for the buffer at once (writing past the end sizes it exactly)."""
    position = buffer.tell()
    if size >= _RELEASE_BEFORE:
        release_freed_memory()
    if size > position:
        buffer.seek(size - 1)
        buffer.write(b"\0")
        buffer.seek(position)


def release_freed_memory() -> None:
    """Return freed heap memory to the system now. glibc keeps up to tens of MB of it after a
    large member is freed (its thresholds grow with the blocks freed), so without this the
    previous large member still counts while the next one is read. Elsewhere: nothing."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _mb(size: int) -> str:
    return f"{size / 2**20:,.1f} MB"


def _too_large(name: str, size: int, cap: int) -> _Problem:
    return _Problem(
        UNSAFE,
        "member-too-large",
        f"{_quoted(name)} is larger than the read limit ({size:,} bytes, limit {cap:,}): it was not scanned",
        size=size,
        limit=cap,
    )


def _escapes(name: str, target: str) -> bool:
    """True when a symlink at `name` pointing to `target` leaves the package root."""
    if target.startswith("/"):
        return True
    depth = name.count("/")  # folders the link sits in
    for part in target.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in ("", "."):
            depth += 1
    return False


def _link_problem(name: str, target: str) -> _Problem | None:
    if not target or "\x00" in target:
        return _Problem(
            UNSAFE,
            "bad-link-target",
            f"symlink {_quoted(name)} has an invalid target {_quoted(target)}: it cannot be created on Lambda",
            target=safe_name(target),
        )
    if _escapes(name, target):
        where = "the runtime's own file system" if target.startswith("/") else "a folder above the package root"
        return _Problem(
            UNSAFE,
            "link-escapes",
            f"symlink {_quoted(name)} points outside the package to "
            f"{_quoted(target)}: on Lambda it resolves into {where}, which this scan "
            "cannot check; make it a relative link inside the package or copy the "
            "file in",
            target=safe_name(target),
        )
    return None
