"""The one base class of every error a user can cause (a bad argument, an unknown runtime, an
unreadable template, a bad ignore entry): `except GateError` catches them all, and each message
is one line fit to print. Anything else escaping the library is a bug."""

from __future__ import annotations


class GateError(Exception):
    """Something the user can fix; str(error) is one line."""


class UsageError(GateError):
    """An argument or input that cannot be used; the CLI prints it and exits 2, the Action says
    it could not run."""
