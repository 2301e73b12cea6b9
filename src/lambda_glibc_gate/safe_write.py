"""Write a report file without ever following a symlink out of the tree it belongs in.

The files we write (the Action's JSON report and SARIF file, the CLI's --output) land in a
checkout whose contents the pull request controls. A committed symlink
`lambda-glibc-gate-report.json -> ../../workflow/event.json` (or `-> /dev/stdout`, or a
symlinked parent folder) would otherwise make a plain `open(path, "w")` overwrite a file outside
the workspace or print the report into the log.

So every write goes through `write_text`, which
- walks from `root` (the workspace, or the CLI's current folder) one component at a time with
  O_DIRECTORY|O_NOFOLLOW directory descriptors: a symlinked parent, a `..` above the root or an
  absolute path outside it is refused, and nothing can swap a component for a symlink between a
  check and the open (the walk *is* the check);
- opens the file itself with O_NOFOLLOW|O_CREAT|O_WRONLY|O_CLOEXEC and O_NONBLOCK (a FIFO does not
  hang the open), then fstat()s the descriptor and refuses anything but a regular file (FIFO,
  device, socket);
- truncates only after those checks, then writes.

A refusal is an `UnsafePathError` (an OSError whose strerror is one line), so callers that
already turn OSError into a one-line error or warning need no new branch.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
_FILE_FLAGS = (
    os.O_WRONLY
    | os.O_CREAT
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
)


class UnsafePathError(OSError):
    """A write refused for safety; `strerror` says why in one line."""

    def __init__(self, message: str) -> None:
        super().__init__(errno.EPERM, message)


def cli_roots() -> tuple[Path, ...]:
    """Where the CLI may write --output: the current folder, or the system temp folder."""
    roots = [Path.cwd().resolve()]
    # Not tempfile.gettempdir(): it probes each candidate by writing a file there.
    named = [os.environ.get(name) for name in ("TMPDIR", "TEMP", "TMP")]
    temp = next((value for value in named if value), None) or ("/tmp" if os.name == "posix" else None)
    if temp is None:
        temp = tempfile.gettempdir()
    if Path(temp).resolve() != roots[0]:
        roots.append(Path(temp))  # as spelled: /tmp stays /tmp where it is a link (macOS)
    return tuple(roots)


def _relative_parts(path: Path, roots: tuple[Path, ...]) -> tuple[Path, list[str]]:
    """The root that holds `path`, and the components below it (`..` kept for the walk).

    A relative path is taken from the first root. An absolute one must start with a root as
    written or as resolved (the root itself may sit behind a trusted symlink, /tmp on macOS):
    only the components below the root are the untrusted part.
    """
    if not path.is_absolute():
        return roots[0], list(path.parts)
    for root in roots:
        for spelling in dict.fromkeys((root, root.resolve())):
            try:
                return root, list(path.relative_to(spelling).parts)
            except ValueError:
                continue
    raise UnsafePathError(f"it is outside {_describe(roots)}")


def _describe(roots: tuple[Path, ...]) -> str:
    return " and ".join(str(root) for root in roots)


def write_text(
    path: str | os.PathLike[str], text: str, roots: tuple[Path, ...] | Path, *, make_dirs: bool = False
) -> None:
    """Write `text` (UTF-8) to `path`, which must lie inside one of `roots` without symlinks.

    `roots[0]` is the base of a relative `path`. With `make_dirs`, missing folders below the root
    are created (each one inside a folder already opened without following a link).
    Raises UnsafePathError for a path the rules above refuse, OSError for ordinary failures.
    """
    if isinstance(roots, Path):
        roots = (roots,)
    roots = tuple(Path(os.path.abspath(root)) for root in roots)  # as spelled; resolved above too
    root, parts = _relative_parts(Path(os.fspath(path)), roots)
    parts = [part for part in parts if part not in ("", ".")]
    if not parts or parts[-1] == "..":
        raise UnsafePathError("it names a folder, not a file")
    data = text.encode("utf-8")
    if not hasattr(os, "O_NOFOLLOW") or os.open not in os.supports_dir_fd:
        _write_without_dir_fd(root, parts, data, make_dirs)  # Windows
        return
    stack = [os.open(root, _DIR_FLAGS)]
    try:
        for part in parts[:-1]:
            if part == "..":
                if len(stack) == 1:
                    raise UnsafePathError(f"it leaves {root} through '..'")
                os.close(stack.pop())
                continue
            stack.append(_open_folder(stack[-1], part, make_dirs))
        _write_file(stack[-1], parts[-1], data)
    finally:
        for descriptor in stack:
            os.close(descriptor)


def _open_folder(parent: int, name: str, make_dirs: bool) -> int:
    flags = _DIR_FLAGS | os.O_NOFOLLOW
    try:
        return os.open(name, flags, dir_fd=parent)
    except FileNotFoundError:
        if not make_dirs:
            raise
        try:
            os.mkdir(name, 0o777, dir_fd=parent)
        except FileExistsError:
            pass  # made meanwhile: the open below still refuses a symlink
        return os.open(name, flags, dir_fd=parent)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK) and _is_link(parent, name):
            raise UnsafePathError(f"its folder {name!r} is a symbolic link (never followed)") from None
        raise


def _is_link(parent: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(name, dir_fd=parent).st_mode)
    except OSError:
        return False


def _write_file(parent: int, name: str, data: bytes) -> None:
    try:
        descriptor = os.open(name, _FILE_FLAGS, 0o666, dir_fd=parent)
    except OSError as error:
        # O_NOFOLLOW on a symlink fails with ELOOP (EMLINK on FreeBSD).
        if error.errno in (errno.ELOOP, errno.EMLINK) and _is_link(parent, name):
            raise UnsafePathError("it is a symbolic link (never followed)") from None
        if error.errno == errno.ENXIO:  # a FIFO nobody reads, opened non-blocking
            raise UnsafePathError("it is not a regular file") from None
        raise
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise UnsafePathError("it is not a regular file")
        os.set_blocking(descriptor, True)
        os.ftruncate(descriptor, 0)  # only now: a refused target is never emptied
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view) :]
    finally:
        os.close(descriptor)


def _write_without_dir_fd(root: Path, parts: list[str], data: bytes, make_dirs: bool) -> None:
    """Best effort where dir_fd is missing: lstat every component, then open and fstat."""
    current = root
    for part in parts[:-1]:
        if part == "..":
            if current == root:
                raise UnsafePathError(f"it leaves {root} through '..'")
            current = current.parent
            continue
        current = current / part
        if current.is_symlink():
            raise UnsafePathError(f"its folder {part!r} is a symbolic link")
        if make_dirs and not current.exists():
            current.mkdir()
    target = current / parts[-1]
    if target.is_symlink():
        raise UnsafePathError("it is a symbolic link (never followed)")
    if target.exists() and not target.is_file():
        raise UnsafePathError("it is not a regular file")
    with open(target, "wb") as handle:
        handle.write(data)
