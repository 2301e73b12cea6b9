"""The one option grammar: what a scan can be asked for, and the checks every front end shares.

The CLI (argparse), the Action (inputs) and the Python API build a ScanOptions and call
`checked()` with the names their user knows (`--glibc` on the command line, input 'glibc' in a
workflow), so a bad value reads the same everywhere but for the name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date

from lambda_glibc_gate.errors import UsageError

FAIL_ON = ("error", "warning", "never")
_VERSION = re.compile(r"^\d+(\.\d+){1,3}$", re.ASCII)

# How each front end names the options in its messages.
CLI_NAMES = {"glibc": "--glibc", "glibcxx": "--glibcxx", "fail_on": "--fail-on", "architecture": "--arch"}
ACTION_NAMES = {
    "glibc": "input 'glibc'",
    "glibcxx": "input 'glibcxx'",
    "fail_on": "input 'fail-on'",
    "architecture": "input 'architecture'",
}


@dataclass
class ScanOptions:
    # AWS runtime id, or "auto" (the CLI's and the Action's default): each artifact as the
    # templates declare its function, and provided.al2023 for one no template claims that has
    # a bootstrap at its root.
    runtime: str = "provided.al2023"
    architecture: str = "x86_64"
    glibc: str | None = None  # override the runtime's glibc, "2.39"
    glibcxx: str | None = None  # override the runtime's GLIBCXX, "3.4.33"
    fail_on: str = "error"
    layers: tuple[str, ...] = ()
    as_layer: bool = False
    today: date | None = None  # for tests of dates; None = today
    template_dirs: tuple[str, ...] = (".",)  # where --runtime auto looks for templates
    progress: Callable[[int, int, str], None] | None = None  # (done, total, path) before each artifact
    build_command: str | None = None  # the user's build line (a workflow's `cargo lambda build …`), for fixes
    # The Action's workspace: an artifact or layer whose real path lies outside it (a committed
    # `.aws-sam/build/Fn -> /`, `ContentUri: ../outside`) is a finding, never read. None: no bound.
    root: str | None = None


def checked(options: ScanOptions, names: Mapping[str, str] = CLI_NAMES) -> ScanOptions:
    """`options` with the architecture in Lambda's spelling; UsageError (one line, the caller's
    names) for a value that cannot be used. The runtime id is checked against the database by
    the scan itself (runtimes.UnknownRuntimeError, also a GateError)."""
    from lambda_glibc_gate.architectures import UnknownArchitectureError, normalize_architecture

    for field in ("glibc", "glibcxx"):
        value = getattr(options, field)
        if value and not _VERSION.match(value):
            example = "2.34" if field == "glibc" else "3.4.33"
            raise UsageError(f"{names[field]} takes a version such as {example}, not {value!r}")
    fail_on = (options.fail_on or "").lower()
    if fail_on not in FAIL_ON:
        raise UsageError(f"{names['fail_on']} takes error, warning or never, not {options.fail_on!r}")
    try:
        architecture = normalize_architecture(options.architecture)
    except UnknownArchitectureError:
        raise UsageError(f"{names['architecture']} takes x86_64 or arm64, not {options.architecture!r}") from None
    return replace(options, architecture=architecture, fail_on=fail_on)
