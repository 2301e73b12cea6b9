"""Output the GitHub runner will not execute: the CLI's reports in a `run:` step.

The runner reads every line a step prints, on stdout and stderr, and executes
- `::command ...::data` when the line, after leading whitespace, starts with `::`;
- the legacy `##[command ...]data` *anywhere* in a line (`##[add-mask]`, `##[error]`,
  `##[stop-commands]`, ...), and the log viewer styles `##[error]`-like lines.
Member names, sonames, symbol and package names come from untrusted archives, so a zip member
called `x##[add-mask]y` or `a\\n::error::pwned` would otherwise issue commands. (See
/work/shared/reference/gha.md section 2; tests/golden/runner_protocol.py is the parser we test
against.) gha.py does the same for the Action's own log.

Two tools, used together:
- `defuse_legacy` rewrites `##[` so the legacy parser never matches: as `#\\x23[` in text (the
  `\\xNN` style the text report already uses for control characters) and as `#\\u0023[` inside
  JSON, where it decodes back to the same string (`#` only ever occurs inside JSON strings);
- `stop_commands_block` wraps text in `::stop-commands::<random token>` ... `::<token>::`, so no
  `::` line inside runs. JSON is never wrapped (it would no longer parse after `> report.json`
  or `| jq`); it needs no wrapper, since no line of it can start with `::`.
"""

from __future__ import annotations

import os
import stat
from typing import TextIO

LEGACY = "##["


def in_github_actions() -> bool:
    """The runner sets GITHUB_ACTIONS=true for every step."""
    return os.environ.get("GITHUB_ACTIONS") == "true"


def defuse_legacy(text: str, json_text: bool = False) -> str:
    """No `##[` left: the legacy command syntax cannot match anywhere."""
    if LEGACY not in text:
        return text
    return text.replace(LEGACY, "#\\u0023[" if json_text else "#\\x23[")


def can_start_command(text: str) -> bool:
    """Whether any line could parse as a `::command::` (the runner trims leading whitespace)."""
    return any(line.lstrip().startswith("::") for line in text.replace("\r", "\n").split("\n"))


def stop_commands_block(text: str) -> str:
    """`text` between stop-commands and its resume line; the token is random per block, so the
    text cannot guess it and resume early."""
    import uuid  # here, not at the top: it imports platform, a cost every CLI run would pay

    token = uuid.uuid4().hex
    body = text if text.endswith("\n") else text + "\n"
    return f"::stop-commands::{token}\n{body}::{token}::\n"


def is_regular_file(stream: TextIO) -> bool:
    """stdout redirected to a file (`> report.md`, `>> $GITHUB_STEP_SUMMARY`) is not the log."""
    try:
        return stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
    except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation: a capture, not a file
        return False


def for_runner_log(text: str, stream: TextIO, json_text: bool = False) -> str:
    """`text` as it may be printed on `stream` inside a GitHub Actions step (unchanged elsewhere).

    JSON: `##[` escaped inside strings, not wrapped (no JSON line can start with `::`; the check
    is kept as a fallback). Other text: `##[` escaped, and wrapped in a stop-commands block unless
    the stream is a regular file, where the block would end up in the user's file (the job
    summary, say) and the runner never reads it.
    """
    if not in_github_actions():
        return text
    text = defuse_legacy(text, json_text=json_text)
    if json_text and not can_start_command(text):
        return text
    if is_regular_file(stream):
        return text
    return stop_commands_block(text)
