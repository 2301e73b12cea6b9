"""Open what the user points at (a zip, an unpacked folder or a single file) without extracting.

Everything inside an archive is untrusted: names, declared sizes, modes and link targets.
Problems with the artifact itself become findings in `Artifact.problems` (rules
`unsafe-archive`, `unreadable-archive`, `package-too-large`); only a path that does not exist,
or is neither a file nor a folder, raises `UsageError`.

Zip members are read straight from the file with bounded decompression (`max_length`), never
through `zipfile.ZipFile.open`: its bzip2/LZMA reader inflates a whole input chunk at once,
which lets a few kilobytes become gigabytes.

The package: reader.py (limits, members, the one reading loop and its budget, the findings an
untrusted artifact gives), zip.py (zip members as an extractor writes them; zip_layout reads
the central directory), folder.py (an unpacked folder, a single file), globs.py (paths and
globs as @actions/glob matches them). This module opens an artifact and re-exports the API.
"""

from __future__ import annotations

import os
import stat

from lambda_glibc_gate.archive.folder import _DirectoryArtifact, _FileArtifact
from lambda_glibc_gate.archive.globs import NoMatchError, expand_paths
from lambda_glibc_gate.archive.reader import (
    ELF_MAGIC,
    UNREADABLE,
    ZIP_MAGICS,
    Artifact,
    Limits,
    Member,
    _quoted,
    release_freed_memory,
    safe_name,
)
from lambda_glibc_gate.archive.zip import _fast_zlib, _ZipArtifact, declared_entry_count, largest_declared_member
from lambda_glibc_gate.errors import UsageError

__all__ = [
    "ELF_MAGIC",
    "ZIP_MAGICS",
    "Artifact",
    "Limits",
    "Member",
    "NoMatchError",
    "UsageError",
    "declared_entry_count",
    "expand_paths",
    "largest_declared_member",
    "open_artifact",
    "release_freed_memory",
    "safe_name",
    "_fast_zlib",
]


def open_artifact(path: str, limits: Limits = Limits()) -> Artifact:  # noqa: B008 - frozen
    """Open a zip, folder or single file. Raises UsageError only when the path does not exist
    or is neither; everything else wrong with it is in `problems`."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise UsageError(f"{_quoted(path)} does not exist") from None
    except OSError as error:
        raise UsageError(f"cannot open {_quoted(path)}: {error.strerror or error}") from None
    if stat.S_ISDIR(info.st_mode):
        return _DirectoryArtifact(path, limits)
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"{_quoted(path)} is not a file or a folder")
    named_zip = path.lower().endswith(".zip")
    try:
        with open(path, "rb") as file:
            magic = file.read(4)
    except OSError as error:
        artifact = Artifact(path, "zip" if named_zip else "file", limits)
        artifact._report(UNREADABLE, "io-error", f"cannot read {_quoted(path)}: {error.strerror or error}")
        return artifact
    if magic in ZIP_MAGICS:
        return _ZipArtifact(path, limits)
    if named_zip:
        artifact = Artifact(path, "zip", limits)
        artifact._report(
            UNREADABLE,
            "not-a-zip",
            f"{_quoted(path)} is not a zip archive (it does not start with a zip header): Lambda would reject it",
        )
        return artifact
    return _FileArtifact(path, info, limits)
