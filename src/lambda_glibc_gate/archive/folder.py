"""An unpacked folder and a single file, read without following links."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator

from lambda_glibc_gate.archive.lazy import Mark
from lambda_glibc_gate.archive.reader import (
    _FIRST_OUTPUT,
    _OUTPUT_CHUNK,
    UNREADABLE,
    Artifact,
    Limits,
    Member,
    _link_problem,
    _Problem,
    _quoted,
)


# -- folder and single file -----------------------------------------------------------------
def _file_chunks(
    path: str, name: str, follow: bool, marks: list[Mark] | None = None, resume: Mark | None = None
) -> Iterator[bytes]:
    """A regular file's bytes (from `resume`'s offset on; every chunk's start is a mark). O_NONBLOCK
    and the fstat check keep a FIFO that replaced the file since the walk from blocking the scan."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    if not follow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as error:
        raise _Problem(UNREADABLE, "io-error", f"cannot read {_quoted(name)}: {error.strerror}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _Problem(UNREADABLE, "not-a-file", f"{_quoted(name)} is no longer a regular file")
        size = _FIRST_OUTPUT
        position = 0
        if resume is not None:
            position = resume[0]
            os.lseek(fd, position, os.SEEK_SET)
            size = _OUTPUT_CHUNK
        while True:
            if marks is not None:
                marks.append((position, None))
            try:
                data = os.read(fd, size)
            except OSError as error:
                raise _Problem(UNREADABLE, "io-error", f"cannot read {_quoted(name)}: {error.strerror}") from None
            if not data:
                return
            yield data
            position += len(data)
            size = _OUTPUT_CHUNK
    finally:
        os.close(fd)


class _DirectoryArtifact(Artifact):
    def __init__(self, path: str, limits: Limits) -> None:
        super().__init__(path, "directory", limits)
        self._walk()
        self._check_total_size()

    def _stream(self, member: Member, marks: list[Mark] | None = None, resume: Mark | None = None) -> Iterator[bytes]:
        path = os.path.join(self.path, *member.name.split("/"))
        return _file_chunks(path, member.name, False, marks, resume)

    def _walk(self) -> None:
        """Depth first, sorted, never following symlinks (so no loops)."""
        pending = [""]  # folders to list, relative to the root
        count = 0
        while pending:
            folder = pending.pop()
            where = os.path.join(self.path, *folder.split("/")) if folder else self.path
            try:
                with os.scandir(where) as listing:
                    entries = sorted(listing, key=lambda entry: entry.name)
            except OSError as error:
                self._unreadable(folder or None, folder or self.path, error)
                continue
            subfolders = []
            for entry in entries:
                count += 1
                if not self._check_count(count):
                    return
                name = f"{folder}/{entry.name}" if folder else entry.name
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError as error:
                    self._unreadable(name, name, error)
                    continue
                if stat.S_ISDIR(info.st_mode):
                    subfolders.append(name)
                elif stat.S_ISLNK(info.st_mode):
                    self._add_link(name, entry.path, info)
                elif stat.S_ISREG(info.st_mode):
                    self.unpacked_size += info.st_size
                    self._members.append(Member(name, info.st_size, info.st_mode, False, None))
                else:
                    self._report(
                        UNREADABLE,
                        "special-file",
                        f"{_quoted(name)} is a {_file_type(info.st_mode)}, not a file: "
                        "skipped (a zip for Lambda holds only files and links)",
                        name,
                        severity="note",
                    )
            pending.extend(reversed(subfolders))

    def _add_link(self, name: str, path: str, info: os.stat_result) -> None:
        try:
            target = os.readlink(path)
        except OSError as error:
            self._unreadable(name, name, error)
            return
        problem = _link_problem(name, target)
        if problem is not None:
            self._report_problem(problem, name)
            return
        self._members.append(Member(name, info.st_size, info.st_mode, True, target))

    def _unreadable(self, member: str | None, shown: str, error: OSError) -> None:
        self._report(
            UNREADABLE,
            "io-error",
            f"cannot read {_quoted(shown)}: {error.strerror or error}: it was not scanned",
            member,
        )


def _file_type(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "special file"


class _FileArtifact(Artifact):
    def __init__(self, path: str, info: os.stat_result, limits: Limits) -> None:
        super().__init__(path, "file", limits)
        name = os.path.basename(os.path.normpath(path)) or path
        self.unpacked_size = info.st_size
        self._members.append(Member(name, info.st_size, info.st_mode, False, None))
        self._check_total_size()

    def _stream(self, member: Member, marks: list[Mark] | None = None, resume: Mark | None = None) -> Iterator[bytes]:
        return _file_chunks(self.path, member.name, True, marks, resume)
