"""The one place untrusted text is made safe, for every sink.

Member names, sonames, symbols, PT_INTERP strings and package metadata come from the package a
pull request built. Before any of it reaches a terminal, an annotation, the job summary, SARIF
or a command line, it goes through one of these:

- `escape`: every character that is not printable (C0 and C1 controls, DEL, line and
  paragraph separators, bidi overrides and isolates, zero-width and other format characters,
  undecodable bytes) becomes a visible escape, so a name can neither move the cursor, write to
  the clipboard (OSC 52), reorder what a reviewer reads (U+202E) nor start a new line;
- `one_line`: `escape`, cut to a length with a note of the full size;
- `block`: like `escape`, but newlines and tabs of a multi-line fix are kept;
- `shell_word`: a value that lands in a printed command, quoted for POSIX shells, so that a
  member called `$(curl …|sh)` stays a file name when the command is pasted.
"""

from __future__ import annotations

import shlex

__all__ = ["block", "escape", "one_line", "shell_word"]


def _escaped(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not valid UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def escape(text: str) -> str:
    """Every non-printable character as an escape (str.isprintable: Unicode's Cc, Cf, Cs, Co,
    Cn, Zl, Zp and separators other than the space are not printable)."""
    if text.isprintable():
        return text  # the common case, kept cheap: it runs for every member read
    return "".join(char if char.isprintable() else _escaped(char) for char in text)


def one_line(text: str, max_length: int = 200) -> str:
    """An untrusted name or message for a one-line sink, cut at `max_length` characters."""
    if len(text) <= max_length and text.isprintable():
        return text
    shown = escape(text[:max_length])
    return shown + (f"... ({len(text)} characters)" if len(text) > max_length else "")


def block(text: str) -> str:
    """A multi-line text (a fix's commands): each line escaped, newlines and tabs kept."""
    return "\n".join("\t".join(escape(part) for part in line.split("\t")) for line in text.split("\n"))


def shell_word(value: str) -> str:
    """A value for a printed shell command: quoted when it is not a plain word."""
    return shlex.quote(value)
