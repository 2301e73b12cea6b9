"""lambda-glibc-gate: catch `GLIBC_2.xx not found` before an AWS Lambda deploy.

The Python API (stable; the CLI and the Action use nothing else):

    from lambda_glibc_gate import GateError, Report, ScanOptions, scan

    report = scan(["target/lambda/api/bootstrap.zip"], ScanOptions(runtime="provided.al2023"))
    report.verdict          # "pass" | "fail"
    report.to_json()        # the JSON report (schema_version, artifacts, findings, ...)

`scan` raises GateError (a subclass) for what the user can fix: a path that matches nothing, an
unknown runtime, an unreadable template. A corrupt or hostile package is a finding, not an error.
Names are imported on first use, so `import lambda_glibc_gate` (and `--version`) stays instant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["GateError", "Report", "ScanOptions", "__version__", "scan"]

if TYPE_CHECKING:
    from lambda_glibc_gate.errors import GateError
    from lambda_glibc_gate.report import Report
    from lambda_glibc_gate.scan import ScanOptions, scan

_EXPORTS = {
    "GateError": "lambda_glibc_gate.errors",
    "Report": "lambda_glibc_gate.report",
    "ScanOptions": "lambda_glibc_gate.scan",
    "scan": "lambda_glibc_gate.scan",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'lambda_glibc_gate' has no attribute {name!r}")
    from importlib import import_module

    imported = import_module(module)
    # `scan` is the module itself, made callable (scan.py says why): the import system binds
    # the package attribute to the module whatever this function returns.
    return imported if name == "scan" else getattr(imported, name)
