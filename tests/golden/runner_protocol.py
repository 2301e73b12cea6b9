"""A Python port of the GitHub Actions runner's side of the protocol: the test oracle.

Ported from actions/runner (src/Runner.Common/ActionCommand.cs TryParseV2 / TryParse,
src/Runner.Worker/ActionCommandManager.cs TryProcessCommand, src/Runner.Worker/
FileCommandManager.cs EnvFileKeyValuePairs, ExecutionContext.cs issue limits). Our strings
being byte-identical to @actions/core is the strict check; this is the real contract: what the
runner will make of what we print.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

REGISTERED_COMMANDS = frozenset(
    {
        "add-mask",
        "add-matcher",
        "add-path",
        "debug",
        "echo",
        "endgroup",
        "error",
        "group",
        "notice",
        "remove-matcher",
        "save-state",
        "set-env",
        "set-output",
        "stop-commands",
        "warning",
    }
)
MAX_ISSUES_PER_TYPE = 10  # ExecutionContext._maxCountPerIssueType, per step
MAX_ISSUE_MESSAGE = 4096  # ExecutionContext._maxIssueMessageLength


@dataclass
class ActionCommand:
    command: str
    properties: dict[str, str] = field(default_factory=dict)
    data: str = ""


def split_lines(text: str) -> list[str]:
    """.NET StreamReader.ReadLine: CR, LF and CRLF all end a line."""
    lines = re.split(r"\r\n|\r|\n", text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _unescape(text: str, mappings: tuple[tuple[str, str], ...]) -> str:
    for token, replacement in mappings:
        text = text.replace(replacement, token)
    return text


_DATA = (("\r", "%0D"), ("\n", "%0A"), ("%", "%25"))
_PROPERTY = (("\r", "%0D"), ("\n", "%0A"), (":", "%3A"), (",", "%2C"), ("%", "%25"))
_LEGACY = ((";", "%3B"), ("\r", "%0D"), ("\n", "%0A"), ("]", "%5D"), ("%", "%25"))


def _split_pair(piece: str) -> list[str]:
    """string.Split('=', count: 2, StringSplitOptions.RemoveEmptyEntries)."""
    parts: list[str] = []
    position = 0
    while not parts:
        index = piece.find("=", position)
        if index < 0:
            break
        if piece[position:index]:
            parts.append(piece[position:index])
        position = index + 1
    rest = piece[position:]
    if rest:
        parts.append(rest)
    return parts


def _registered(name: str, registered: set[str] | frozenset[str]) -> bool:
    return name.lower() in {command.lower() for command in registered}


def parse_v2(line: str, registered: set[str] | frozenset[str]) -> ActionCommand | None:
    message = line.lstrip()
    if not message.startswith("::"):
        return None
    end = message.find("::", 2)
    if end < 0:
        return None
    info = message[2:end]
    space = info.find(" ")
    name = info if space < 0 else info[:space]
    if not _registered(name, registered):
        return None
    command = ActionCommand(name)
    if space > 0:
        for piece in [p for p in info[space + 1 :].strip().split(",") if p]:
            pair = _split_pair(piece)
            if len(pair) == 2:
                command.properties[pair[0]] = _unescape(pair[1], _PROPERTY)
    command.data = _unescape(message[end + 2 :], _DATA)
    return command


def parse_legacy(line: str, registered: set[str] | frozenset[str]) -> ActionCommand | None:
    start = line.find("##[")
    if start < 0:
        return None
    bracket = line.find("]", start)
    if bracket < 0:
        return None
    info = line[start + 3 : bracket]
    space = info.find(" ")
    name = info if space < 0 else info[:space]
    if not _registered(name, registered):
        return None
    command = ActionCommand(name)
    if space > 0:
        for piece in [p for p in info[space + 1 :].split(";") if p]:
            pair = _split_pair(piece)
            if len(pair) == 2:
                command.properties[pair[0]] = _unescape(pair[1], _LEGACY)
    command.data = _unescape(line[bracket + 1 :], _LEGACY)
    return command


@dataclass
class Annotation:
    kind: str  # error | warning | notice
    message: str
    properties: dict[str, str]


@dataclass
class StepLog:
    """What the runner made of one step's output."""

    commands: list[ActionCommand] = field(default_factory=list)
    annotations: list[Annotation] = field(default_factory=list)  # those that became annotations
    dropped: dict[str, int] = field(default_factory=dict)  # over the per-step limit
    plain: list[str] = field(default_factory=list)  # lines shown as text
    masks: list[str] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[Annotation]:
        return [a for a in self.annotations if a.kind == kind]


def process_output(stdout: str) -> StepLog:
    """Feed stdout lines through the runner's command processor (stop-commands included)."""
    log = StepLog()
    registered = set(REGISTERED_COMMANDS)
    stop_token: str | None = None
    for line in split_lines(stdout):
        command = parse_v2(line, registered) or parse_legacy(line, registered)
        if command is None:
            log.plain.append(line)
            continue
        if stop_token is not None:
            if command.command.lower() == stop_token.lower():
                registered.discard(stop_token)
                stop_token = None
            else:
                log.plain.append(line)
            continue
        if command.command.lower() == "stop-commands":
            stop_token = command.data
            registered.add(stop_token)
            continue
        log.commands.append(command)
        kind = command.command.lower()
        if kind == "add-mask":
            log.masks.append(command.data)
        if kind in ("error", "warning", "notice"):
            recorded = len(log.of_kind(kind))
            if recorded >= MAX_ISSUES_PER_TYPE:
                log.dropped[kind] = log.dropped.get(kind, 0) + 1
            else:
                message = command.data[:MAX_ISSUE_MESSAGE]
                log.annotations.append(Annotation(kind, message, dict(command.properties)))
    return log


class EnvFileError(ValueError):
    """The runner would fail the step: `Unable to process file command ...`."""


def _read_line(text: str, index: int) -> tuple[str | None, int, str | None]:
    if index >= len(text):
        return None, index, None
    lf = text.find("\n", index)
    if lf < 0:
        return text[index:], len(text), None
    return text[index:lf], lf + 1, "\n"


def parse_env_file(text: str) -> list[tuple[str, str]]:
    """EnvFileKeyValuePairs on Linux: NAME=VALUE and NAME<<DELIMITER heredocs."""
    pairs: list[tuple[str, str]] = []
    line, index, _ = _read_line(text, 0)
    while line is not None:
        if line:
            equals = line.find("=")
            heredoc = line.find("<<")
            if equals >= 0 and (heredoc < 0 or equals < heredoc):
                key, value = line.split("=", 1)
            elif heredoc >= 0 and (equals < 0 or heredoc < equals):
                key, delimiter = line.split("<<", 1)
                if not key or not delimiter:
                    raise EnvFileError(f"Invalid format '{line}'")
                start = end = index
                temp, index, newline = _read_line(text, index)
                while temp != delimiter:
                    if temp is None:
                        raise EnvFileError(f"Matching delimiter not found '{delimiter}'")
                    if newline is None:
                        raise EnvFileError("EOF marker missing new line.")
                    end = index - len(newline)
                    temp, index, newline = _read_line(text, index)
                value = text[start:end] if end > start else ""
            else:
                raise EnvFileError(f"Invalid format '{line}'")
            pairs.append((key, value))
        line, index, _ = _read_line(text, index)
    return pairs
