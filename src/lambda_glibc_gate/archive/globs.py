"""Paths and globs -> existing paths, as @actions/glob matches them: `**` recurses without
following folder links, results deduped by inode, `!` lines exclude."""

from __future__ import annotations

import fnmatch
import glob
import os
from collections.abc import Iterator, Sequence

from lambda_glibc_gate.archive.reader import _quoted
from lambda_glibc_gate.errors import UsageError


class NoMatchError(UsageError):
    """An include pattern that matches nothing (the pattern as the user wrote it)."""

    def __init__(self, pattern: str) -> None:
        super().__init__(f"no file matches {_quoted(pattern)}")
        self.pattern = pattern


def expand_paths(patterns: Sequence[str], base: str | None = None, *, missing_ok: bool = False) -> list[str]:
    """Paths and globs -> existing paths: the one glob grammar of the CLI and the Action.

    As @actions/glob (packages/glob of actions/toolkit), which users know from other actions:
    `*`, `?`, `[...]` and `**` (any depth, the folder itself included); names starting with `.`
    match like any other (`**` walks `.aws-sam/`, `.serverless/`); a line starting with `#` is a
    comment; a leading `!` excludes (`!!` includes again), and lines apply in order, so a later
    line overrides an earlier one. An exclude removes a matched path and everything under it.
    Unlike @actions/glob, a matched folder is one artifact (not all files below it), and `**`
    never descends into a symlinked folder (glob.glob does, so a committed
    `target/lambda/a -> ..` made it run without end).

    An existing path is used as is (even with glob characters in it). Each pattern's matches are
    sorted, for stable output; a path reached twice (links, hard links) counts once, by its
    (st_dev, st_ino). An include pattern that matches nothing raises NoMatchError (a UsageError)
    unless `missing_ok` (the Action's default patterns).
    """
    chosen: dict[tuple[int, int] | str, str] = {}
    included = False
    for line in patterns:
        if not line or line.startswith("#"):
            continue
        negated = len(line) - len(line.lstrip("!"))
        pattern = line[negated:]
        if not pattern:
            continue
        included = included or negated % 2 == 0
        matches = _matches(os.path.join(base, pattern) if base else pattern)
        if negated % 2:
            _exclude(chosen, matches)
            continue
        if not matches and not missing_ok:
            raise NoMatchError(line)
        for match in matches:
            chosen.setdefault(_identity(match), match)
    if not included and not missing_ok:
        # only comments and excludes: a gate with nothing to judge must not pass
        raise UsageError("no file to scan: every pattern is a comment ('#') or an exclude ('!')")
    if included and not chosen and not missing_ok:
        # every match excluded: as much a mistake as a pattern without a match
        raise UsageError(
            "no file matches: every match of "
            + ", ".join(_quoted(line) for line in patterns if line and not line.startswith(("#", "!")))
            + " is excluded"
        )
    return list(chosen.values())


def _matches(path: str) -> list[str]:
    if os.path.exists(path):
        return [path]
    return [match for match in sorted(set(_glob(path))) if os.path.exists(match)]


def _identity(path: str) -> tuple[int, int] | str:
    try:
        info = os.stat(path)
        return (info.st_dev, info.st_ino)
    except OSError:
        return os.path.realpath(path)


def _exclude(chosen: dict[tuple[int, int] | str, str], matches: list[str]) -> None:
    """Drop every chosen path that is an excluded one (same file) or lies under one (by name,
    as @actions/glob's implicit descendants: `!target/lambda/old` drops its zips too)."""
    if not matches or not chosen:
        return
    excluded = {os.path.abspath(match) for match in matches}
    same = {_identity(match) for match in matches}
    for key, path in list(chosen.items()):
        if key in same:
            del chosen[key]
            continue
        folder = os.path.abspath(path)
        while True:
            if folder in excluded:
                del chosen[key]
                break
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent


def _glob(pattern: str) -> Iterator[str]:
    """glob.glob(pattern, recursive=True, include_hidden=True), except that `**` does not
    follow folder symlinks."""
    if not glob.has_magic(pattern):
        yield pattern
        return
    root, rest = ("/", pattern.lstrip("/")) if pattern.startswith("/") else ("", pattern)
    matches = _glob_parts(root, [part for part in rest.split("/") if part])
    if pattern.endswith("/"):  # as glob: only folders, written with the slash
        yield from (match.rstrip("/") + "/" for match in matches if os.path.isdir(match))
    else:
        yield from matches


_GLOB_FOLDERS = 1_000_000  # folders walked per `**`: a bound no real tree reaches


def _glob_parts(base: str, parts: list[str]) -> Iterator[str]:
    if not parts:
        yield base
        return
    head, rest = parts[0], parts[1:]
    if head == "**":
        for folder in _folders_below(base):
            if rest:
                yield from _glob_parts(folder, rest)
            else:
                yield folder  # as glob does: "a/**" matches "a/" itself
                yield from (os.path.join(folder, name) for name in _listdir(folder, "*"))
        return
    if not glob.has_magic(head):
        path = os.path.join(base, head) if base else head
        if rest or os.path.lexists(path):
            yield from _glob_parts(path, rest)
        return
    for name in _listdir(base, head):
        yield from _glob_parts(os.path.join(base, name) if base else name, rest)


def _listdir(folder: str, pattern: str) -> list[str]:
    """Names in `folder` matching `pattern`, hidden ones included (@actions/glob's `dot: true`:
    `*` matches `.serverless`; Python's glob would skip it)."""
    try:
        names = os.listdir(folder or ".")
    except OSError:
        return []
    return fnmatch.filter(names, pattern)


def _folders_below(base: str) -> Iterator[str]:
    """`base` and every folder under it, hidden ones too, not through symlinks, each once
    (st_dev, st_ino)."""
    seen: set[tuple[int, int]] = set()
    pending = [base]
    listed = 0
    while pending and listed < _GLOB_FOLDERS:
        folder = pending.pop()
        try:
            info = os.stat(folder or ".")
        except OSError:
            continue
        if (info.st_dev, info.st_ino) in seen:
            continue
        seen.add((info.st_dev, info.st_ino))
        listed += 1
        yield folder
        try:
            with os.scandir(folder or ".") as listing:
                children = sorted(entry.name for entry in listing if entry.is_dir(follow_symlinks=False))
        except OSError:
            continue
        pending.extend(os.path.join(folder, name) if folder else name for name in reversed(children))
