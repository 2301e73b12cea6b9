"""The project's configuration file: accepted findings (ignore entries) with their reasons.

Read from the working folder (the CLI's current folder, the Action's working-directory):
`.lambda-glibc-gate.toml` (top-level keys) when it exists, else the `[tool.lambda-glibc-gate]`
table of `pyproject.toml`. Only one of them is read.

    [tool.lambda-glibc-gate]
    ignore = [
      {rule = "missing-library", path = "**/libfoo.so*", reason = "provided by layer arn:aws:..."},
    ]

Every entry must say why (`reason`); `path` is optional (suppress.py has the glob grammar).
TOML is read with tomllib (Python 3.11+); on 3.10 with `tomli` when it is installed, and
otherwise a file that has our settings is a clear error rather than silently ignored.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from lambda_glibc_gate.suppress import IgnoreEntry, IgnoreError, check_rule

DEDICATED = ".lambda-glibc-gate.toml"
PYPROJECT = "pyproject.toml"
TABLE = "tool.lambda-glibc-gate"
KEYS = ("ignore",)
ENTRY_KEYS = ("rule", "path", "reason")
MAX_BYTES = 1024 * 1024  # a configuration file larger than this is not one


class ConfigError(IgnoreError):
    """A configuration file that cannot be used; one line, exit 2 / could not run."""


def load_ignores(directory: str | os.PathLike[str] = ".") -> list[IgnoreEntry]:
    """The ignore entries of the configuration file in `directory` ([] when there is none)."""
    folder = Path(directory)
    dedicated = folder / DEDICATED
    text = _read(dedicated)
    if text is not None:
        return _entries(_parse(text, DEDICATED), DEDICATED)
    text = _read(folder / PYPROJECT)
    if text is None:
        return []
    mentioned = TABLE in text.replace('"', "").replace("'", "")  # [tool.lambda-glibc-gate]
    try:
        data = _parse(text, PYPROJECT)
    except ConfigError:
        if mentioned:
            raise
        return []  # not TOML we can read, and nothing of ours in it: not our business
    table = data.get("tool", {}).get("lambda-glibc-gate") if isinstance(data.get("tool"), dict) else None
    if table is None:
        return []
    where = f"{PYPROJECT} [{TABLE}]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    return _entries(table, where)


def _read(path: Path) -> str | None:
    """The file's text, or None when it does not exist.

    The file is the pull request's: open without blocking (a FIFO must not hang the run), and
    accept only a regular file of a sane size (not /dev/zero behind a symlink).
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return None
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror}") from None
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"cannot read {path}: not a regular file")
        if info.st_size > MAX_BYTES:
            raise ConfigError(f"cannot read {path}: larger than {MAX_BYTES // 1024} KiB")
        with os.fdopen(os.dup(descriptor), "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror}") from None
    finally:
        os.close(descriptor)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"cannot read {path}: not UTF-8 text") from None


def _toml():
    try:
        import tomllib  # Python 3.11+
    except ModuleNotFoundError:
        try:
            import tomli as tomllib  # the same API, for Python 3.10
        except ModuleNotFoundError:
            return None
    return tomllib


def _parse(text: str, name: str) -> dict[str, Any]:
    toml = _toml()
    if toml is None:
        raise ConfigError(f"reading {name} needs Python 3.11+ or the tomli package (pip install tomli)")
    try:
        return toml.loads(text)
    except toml.TOMLDecodeError as error:
        raise ConfigError(f"{name} is not valid TOML: {error}") from None


def _entries(table: dict[str, Any], where: str) -> list[IgnoreEntry]:
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown setting {unknown[0]!r}; known: {', '.join(KEYS)}")
    raw = table.get("ignore", [])
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: 'ignore' must be a list of tables ({{rule = ..., reason = ...}})")
    return [_entry(item, f"{where} ignore[{index}]", where.split(" ", 1)[0]) for index, item in enumerate(raw)]


def _entry(item: Any, where: str, source: str) -> IgnoreEntry:
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: each entry is a table: {{rule = ..., path = ..., reason = ...}}")
    unknown = sorted(set(item) - set(ENTRY_KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}; known: {', '.join(ENTRY_KEYS)}")
    rule, path, reason = item.get("rule"), item.get("path"), item.get("reason")
    if not isinstance(rule, str) or not rule.strip():
        raise ConfigError(f"{where}: 'rule' is required (a rule id such as missing-library)")
    check_rule(rule.strip(), where)
    if path is not None and not isinstance(path, str):
        raise ConfigError(f"{where}: 'path' must be a string (a glob)")
    if not isinstance(reason, str) or not reason.strip():
        raise ConfigError(f"{where}: 'reason' is required: say why this finding is acceptable")
    return IgnoreEntry(rule.strip(), (path or "").strip() or None, reason.strip(), source)
