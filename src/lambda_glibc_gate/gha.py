"""The one place that speaks the GitHub Actions runner protocol.

It wraps actions-toolkit 0.1.15 (the owner's choice) and corrects, here and only here, the
places where that package differs from npm @actions/core, so that every command string we print
is byte-identical to what @actions/core prints for the same input (tests/golden holds strings
generated with the real npm package):

- toolkit writes properties whose value is empty (`title=,file=x`); core drops falsy values;
- toolkit turns non-strings into `json.dumps` text with spaces and ASCII escapes; core uses
  compact `JSON.stringify` output;
- toolkit trims inputs with Python's `str.strip`; core trims with JavaScript's `String.trim`;
- toolkit prefixes every exception with `Error: `; core uses the exception's class name;
- toolkit has no job summary and its `set_failed` exits at once (we never call it).

Only actions_toolkit.command / file_command / core are imported: its github module mutates
sys.path and needs PyGithub, which the Docker image deliberately leaves out.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from actions_toolkit import command as _toolkit_command
from actions_toolkit import core as _toolkit_core
from actions_toolkit import file_command as _toolkit_file_command

from lambda_glibc_gate.inert import defuse_legacy

# The property order and names @actions/core's toCommandProperties emits.
_ANNOTATION_PROPERTIES = (
    ("title", "title"),
    ("file", "file"),
    ("start_line", "line"),
    ("end_line", "endLine"),
    ("start_column", "col"),
    ("end_column", "endColumn"),
)
_ANNOTATION_KWARGS = frozenset(name for name, _ in _ANNOTATION_PROPERTIES)

# The characters JavaScript's String.prototype.trim removes (WhiteSpace + LineTerminator).
_JS_WHITESPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_BOOLEAN_TRUE = ("true", "True", "TRUE")
_BOOLEAN_FALSE = ("false", "False", "FALSE")


class InputError(ValueError):
    """An action input that cannot be used; the message is one line."""


def to_command_value(value: Any) -> str:
    """@actions/core toCommandValue: None -> "", str as is, anything else JSON.stringify."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def escape_data(value: Any) -> str:
    return _toolkit_command.escape_data(to_command_value(value))


def escape_property(value: Any) -> str:
    return _toolkit_command.escape_property(to_command_value(value))


def format_command(command: str, properties: dict[str, Any] | None, message: Any) -> str:
    """One workflow command line without its newline, exactly as @actions/core builds it."""
    text = "::" + (command or "missing.command")
    if properties:
        # core adds the space when the object has keys, even if every value is then dropped.
        text += " " + ",".join(
            f"{key}={escape_property(value)}" for key, value in properties.items() if _js_truthy(value)
        )
    return text + "::" + escape_data(message)


def _js_truthy(value: Any) -> bool:
    """JavaScript truthiness: unlike Python, empty lists and objects are true."""
    if value is None or value is False or value == "":
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value == value and value != 0  # NaN and 0 are falsy
    return True


def issue_command(command: str, properties: dict[str, Any] | None, message: Any) -> None:
    _write(format_command(command, properties, message) + os.linesep)


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


# -- annotations ------------------------------------------------------------------------------


def _annotation_properties(properties: dict[str, Any]) -> dict[str, Any]:
    unknown = set(properties) - _ANNOTATION_KWARGS
    if unknown:
        raise TypeError(f"unknown annotation properties: {', '.join(sorted(unknown))}")
    if not properties:
        return {}
    return {wire: properties.get(name) for name, wire in _ANNOTATION_PROPERTIES}


def _message_text(message: str | BaseException) -> str:
    if isinstance(message, BaseException):
        # JavaScript's Error.prototype.toString: "Name: message", or just "Name".
        name = type(message).__name__
        return f"{name}: {message}" if str(message) else name
    return message


def error(message: str | BaseException, **properties: Any) -> None:
    """An error annotation. Properties: title, file, start_line, end_line, start_column,
    end_column (falsy values are dropped, as in @actions/core)."""
    issue_command("error", _annotation_properties(properties), _message_text(message))


def warning(message: str | BaseException, **properties: Any) -> None:
    issue_command("warning", _annotation_properties(properties), _message_text(message))


def notice(message: str | BaseException, **properties: Any) -> None:
    issue_command("notice", _annotation_properties(properties), _message_text(message))


# -- log ----------------------------------------------------------------------------------------


def info(message: str) -> None:
    """A plain log line. Not escaped: only for text we wrote ourselves (see untrusted_log)."""
    _write(message + os.linesep)


def debug(message: str) -> None:
    issue_command("debug", {}, message)


def start_group(name: str) -> None:
    issue_command("group", {}, name)


def end_group() -> None:
    issue_command("endgroup", {}, "")


def set_secret(secret: str) -> None:
    issue_command("add-mask", {}, secret)


def stop_commands(token: str) -> None:
    issue_command("stop-commands", {}, token)


def resume_commands(token: str) -> None:
    issue_command(token, {}, "")


@contextmanager
def commands_stopped() -> Iterator[None]:
    """While inside, the runner treats `::x::` and `##[x]` lines as plain text.

    The token is random per block, so text we print cannot guess it and resume early.
    """
    token = uuid.uuid4().hex
    stop_commands(token)
    try:
        yield
    finally:
        resume_commands(token)


def untrusted_log(text: str) -> None:
    """Print text that may hold member names or ELF strings without letting it issue commands.

    One line that cannot parse as a command (no `::`, no `##[`, no line break) prints as is;
    anything else inside a stop-commands block. `##[` is rewritten in any case (inert.py): the
    log viewer styles `##[error]`-like lines even where the runner executes nothing.
    """
    body = defuse_legacy(text if text.endswith("\n") else text + "\n")
    if "::" not in body and "##[" not in body and "\r" not in body and body.count("\n") == 1:
        _write(body)
        return
    with commands_stopped():
        _write(body)


# -- inputs -------------------------------------------------------------------------------------


def input_env_name(name: str) -> str:
    """The variable the runner exports: INPUT_ + upper case, spaces -> `_`, hyphens kept."""
    return "INPUT_" + name.replace(" ", "_").upper()


def js_trim(value: str) -> str:
    return value.strip(_JS_WHITESPACE)


def get_input(name: str, *, trim_whitespace: bool = True) -> str:
    """The input's value, "" when unset (trimmed like @actions/core getInput)."""
    value = _toolkit_core.get_input(name, trim_whitespace=False)
    return js_trim(value) if trim_whitespace else value


def get_multiline_input(name: str, *, trim_whitespace: bool = True) -> list[str]:
    lines = [line for line in get_input(name, trim_whitespace=trim_whitespace).split("\n") if line]
    return [js_trim(line) for line in lines] if trim_whitespace else lines


def get_boolean_input(name: str, default: bool | None = None) -> bool:
    """YAML 1.2 core-schema booleans, as @actions/core; an empty value gives `default`."""
    value = get_input(name)
    if value in _BOOLEAN_TRUE:
        return True
    if value in _BOOLEAN_FALSE:
        return False
    if value == "" and default is not None:
        return default
    raise InputError(
        f"input '{name}' must be true or false (true | True | TRUE | false | False | FALSE), got {value!r}"
    )


# -- environment files --------------------------------------------------------------------------


def set_output(name: str, value: Any) -> None:
    """Append `name<<ghadelimiter_<uuid>` heredoc to GITHUB_OUTPUT (multi-line safe)."""
    if not os.environ.get("GITHUB_OUTPUT"):
        # core's fallback for runners without environment files.
        _write(os.linesep)
        issue_command("set-output", {"name": name}, to_command_value(value))
        return
    message = _toolkit_file_command.prepare_key_value_message(name, to_command_value(value))
    _toolkit_file_command.issue_file_command("OUTPUT", message)


def append_summary(markdown: str) -> None:
    """Append to GITHUB_STEP_SUMMARY (core summary.addRaw(text).write()); never truncates.

    Raises OSError when the runner gave no summary file or it cannot be written.
    """
    path = os.environ.get("GITHUB_STEP_SUMMARY", "")
    if not path:
        raise OSError("GITHUB_STEP_SUMMARY is not set: no job summary on this runner")
    if not os.access(path, os.R_OK | os.W_OK):
        raise OSError(f"Unable to access summary file: '{path}'. Check if the file has correct read/write permissions.")
    with open(path, "a", encoding="utf-8", newline="") as handle:
        handle.write(markdown)
