"""Command line: `lambda-glibc-gate scan PATH...` and `lambda-glibc-gate runtimes`.

Exit codes (a contract): 0 nothing at or above --fail-on; 1 findings at or above it;
2 the tool could not run (bad arguments, unknown runtime, unreadable template); 3 an internal
error (a bug: one line asking for a report, never 1, which means findings).
Every flag has an environment default (LAMBDA_GLIBC_GATE_<FLAG>), as pip-audit does.
Heavy imports happen inside the commands so `--help` is instant.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

EXIT_PASS, EXIT_FAIL, EXIT_ERROR, EXIT_INTERNAL = 0, 1, 2, 3
# render.FORMATS, spelled here so that --help needs no import of the renderers (a test checks)
FORMATS = ("text", "json", "sarif", "markdown", "github", "gitlab", "junit")
ISSUES_URL = "https://github.com/lambda-glibc-gate/lambda-glibc-gate/issues"
EPILOG = """\
examples:
  lambda-glibc-gate scan target/lambda/api/bootstrap.zip --runtime provided.al2023
  lambda-glibc-gate scan .aws-sam/build/*/            # runtime from the SAM template (auto)
  lambda-glibc-gate scan function.zip --runtime python3.12 --arch arm64 -f json -o report.json
  lambda-glibc-gate scan layer.zip --as-layer --runtime nodejs22.x

exit codes:
  0  nothing at or above --fail-on      1  findings at or above --fail-on
  2  the tool could not run (usage)     3  internal error (please report it)

environment:
  LAMBDA_GLIBC_GATE_RUNTIME, _ARCH, _GLIBC, _GLIBCXX, _FAIL_ON, _FORMAT, _OUTPUT, _IGNORE
  (each LAMBDA_GLIBC_GATE_<NAME>) give defaults; a flag wins.
  NO_COLOR turns colour off, FORCE_COLOR on (also when not on a terminal).
"""
ENV_PREFIX = "LAMBDA_GLIBC_GATE_"


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(ENV_PREFIX + name, default)


def build_parser() -> argparse.ArgumentParser:
    from lambda_glibc_gate import __version__

    parser = argparse.ArgumentParser(
        prog="lambda-glibc-gate",
        description="Fail before deploy when an ELF file in an AWS Lambda package will not load on its runtime.",
    )
    formatter = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    scan = commands.add_parser(
        "scan", help="scan zips, folders or files against a runtime", epilog=EPILOG, formatter_class=formatter
    )
    scan.add_argument("paths", nargs="+", metavar="PATH", help="zip, folder or file; globs allowed (** too)")
    scan.add_argument(
        "--runtime",
        default=_env("RUNTIME", "auto"),
        help="AWS runtime id (provided.al2023, python3.12, ...), or 'auto' (default): each artifact as its "
        "function in the SAM / Serverless / CDK templates declares it, provided.al2023 for an artifact no "
        "template names that has a bootstrap at its root",
    )
    scan.add_argument(
        "--arch",
        "--architecture",
        dest="architecture",
        default=_env("ARCH", "x86_64"),
        help="x86_64 (default) or arm64",
    )
    scan.add_argument("--glibc", default=_env("GLIBC"), help="override the runtime's glibc, e.g. 2.39")
    scan.add_argument("--glibcxx", default=_env("GLIBCXX"), help="override the runtime's GLIBCXX, e.g. 3.4.33")
    scan.add_argument(
        "--fail-on",
        choices=("error", "warning", "never"),
        default=_env("FAIL_ON", "error"),
        help="lowest severity that fails (default error)",
    )
    scan.add_argument(
        "--format",
        "-f",
        choices=FORMATS,
        default=_env("FORMAT", "text"),
        help="output format (default text)",
    )
    scan.add_argument("--output", "-o", default=_env("OUTPUT"), help="write the report to this file")
    scan.add_argument(
        "--layer",
        action="append",
        default=[],
        metavar="PATH",
        help="a layer (zip or folder) mounted at /opt for resolution; repeatable",
    )
    scan.add_argument("--as-layer", action="store_true", help="scan the paths as layers (mounted at /opt)")
    scan.add_argument(
        "--template-dir",
        action="append",
        default=[],
        metavar="DIR|FILE",
        help="where --runtime auto looks for SAM / Serverless / CDK templates and Terraform plan JSON, a folder "
        "or a file; repeatable (default: the current folder)",
    )
    scan.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="RULE[:PATH-GLOB]",
        help="accept findings of RULE (on paths matching the glob; ** crosses folders): reported as "
        "suppressed, never failing; repeatable. Also read: [tool.lambda-glibc-gate] ignore in "
        "pyproject.toml, or .lambda-glibc-gate.toml, in the current folder",
    )
    scan.add_argument("--notes", action="store_true", help="show note-level findings in the text report")
    scan.add_argument("--no-color", action="store_true", help="never colour the text report")

    runtimes = commands.add_parser("runtimes", help="list the known Lambda runtimes")
    runtimes.add_argument("--format", choices=("text", "json"), default="text")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:
        return _fatal("interrupted")
    except Exception as error:  # noqa: BLE001 - a bug ends as one line and its own exit code
        from lambda_glibc_gate import __version__

        _stderr_line(
            f"internal error: {type(error).__name__}: {error} — please report it with the version "
            f"(lambda-glibc-gate {__version__}) and the command at {ISSUES_URL}"
        )
        return EXIT_INTERNAL


def _main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "scan":
        return _run_scan(args)
    if args.command == "runtimes":
        return _run_runtimes(args)
    parser.print_help(sys.stderr)
    return EXIT_ERROR


def _fatal(message: str) -> int:
    _stderr_line(f"error: {message}")
    return EXIT_ERROR


def _stderr_line(message: str) -> None:
    """One line on stderr: messages may quote untrusted names, and the runner reads stderr too."""
    from lambda_glibc_gate.inert import defuse_legacy

    message = message.replace("\r", "\\r").replace("\n", "\\n")
    print(defuse_legacy(f"lambda-glibc-gate: {message}"), file=sys.stderr)


def _print_report(text: str, json_text: bool = False, commands: bool = False) -> None:
    """A report on stdout; in a GitHub Actions step made inert first (see inert.py), except the
    github format, whose commands are meant for the runner (render/github.py escaped them)."""
    from lambda_glibc_gate.inert import for_runner_log

    sys.stdout.write(text if commands else for_runner_log(text, sys.stdout, json_text=json_text))


def _run_scan(args: argparse.Namespace) -> int:
    from lambda_glibc_gate import suppress
    from lambda_glibc_gate.config import load_ignores
    from lambda_glibc_gate.errors import GateError
    from lambda_glibc_gate.scan import ScanOptions, scan  # the runtime database loads while it reads

    # Before the scan: a bad ignore entry is a usage error, not a surprise after a long scan.
    try:
        # LAMBDA_GLIBC_GATE_IGNORE: one entry per line, added to the --ignore flags.
        flags = [*(_env("IGNORE") or "").splitlines(), *args.ignore]
        ignores = load_ignores(".") + suppress.parse_lines(flags, "--ignore")
    except suppress.IgnoreError as error:
        return _fatal(str(error))
    options = ScanOptions(
        runtime=args.runtime,
        architecture=args.architecture,
        glibc=args.glibc or None,
        glibcxx=args.glibcxx or None,
        fail_on=args.fail_on,
        layers=tuple(args.layer),
        as_layer=args.as_layer,
        template_dirs=tuple(args.template_dir) or (".",),
        progress=_progress if sys.stderr.isatty() else None,
    )
    try:
        report = scan(args.paths, options)
    except GateError as error:  # a usage error, an unknown runtime: exit 2 with the one-line reason
        return _fatal(str(error))
    except KeyboardInterrupt:
        return _fatal("interrupted")
    finally:
        if sys.stderr.isatty():
            sys.stderr.write("\r\033[K")
    suppress.apply(report, ignores)
    if args.format != "text" and not args.output:  # the text report lists them itself
        for entry in report.stale_ignores:
            _stderr_line(f"warning: {suppress.stale_message(entry)}")
    pretty = sys.stdout.isatty() and not args.output  # indented JSON for a person, compact for a pipe
    text = render_report(report, args.format, colour=_colour(args), notes=args.notes, pretty=pretty)
    if args.output:
        from lambda_glibc_gate import safe_write

        # Never through a symlink, and only below the current folder or the temp folder: the
        # path may name a file in a checkout whose contents a pull request controls.
        try:
            safe_write.write_text(args.output, text, safe_write.cli_roots())
        except OSError as error:
            return _fatal(f"cannot write {args.output}: {error.strerror or error}")
        if args.format != "text":
            from lambda_glibc_gate.render.text import render as render_text

            _print_report(render_text(report, colour=_colour(args), show_notes=args.notes))
    else:
        # workflow commands must reach the runner as they are; JSON stays parseable
        _print_report(text, json_text=args.format in ("json", "sarif", "gitlab"), commands=args.format == "github")
    return EXIT_FAIL if report.verdict == "fail" else EXIT_PASS


def _progress(done: int, total: int, path: str) -> None:
    """One self-erasing status line on a terminal's stderr: long scans show they are alive."""
    from lambda_glibc_gate.text import one_line

    # the path is the user's, but a glob can match a name a pull request chose (OSC 52 ...)
    sys.stderr.write(f"\r\033[Kscanning {done + 1}/{total}: {one_line(path[-60:], 60)}")
    sys.stderr.flush()


def render_report(report, output_format: str, colour: bool = False, notes: bool = False, pretty: bool = False) -> str:
    from lambda_glibc_gate.render import render

    location = None
    if output_format in ("github", "gitlab", "sarif") and os.environ.get("GITHUB_ACTIONS") == "true":
        from lambda_glibc_gate.workflow import find_runs_on

        # In a run: step the workflow file is in the workspace: annotate its runs-on line too.
        env = os.environ
        workspace = env.get("GITHUB_WORKSPACE") or "."
        location = find_runs_on(
            workspace, env.get("GITHUB_WORKFLOW_REF"), env.get("GITHUB_JOB"), env.get("GITHUB_REPOSITORY", "")
        )
    return render(report, output_format, colour=colour, notes=notes, pretty=pretty, workflow_location=location)


def _colour(args: argparse.Namespace) -> bool:
    """--no-color and NO_COLOR win; FORCE_COLOR colours a pipe too (CI logs); else a terminal."""
    if args.no_color or os.environ.get("NO_COLOR") or args.output and args.format == "text":
        return False
    if os.environ.get("FORCE_COLOR", "") not in ("", "0", "false"):
        return True
    return sys.stdout.isatty()


def _run_runtimes(args: argparse.Namespace) -> int:
    import json

    from lambda_glibc_gate.runtimes import all_runtimes

    known = all_runtimes()
    if args.format == "json":
        print(json.dumps([runtime.to_json() for runtime in known.values()], indent=2))
        return EXIT_PASS
    header = ("runtime", "os", "arch", "glibc", "GLIBCXX", "deprecated", "block update")
    rows = []
    for runtime in known.values():
        arch = runtime.architectures[0] if runtime.architectures else "x86_64"
        limits = runtime.limits_for(arch)
        rows.append(
            (
                runtime.id,
                runtime.os_name,
                ",".join(runtime.architectures),
                limits.glibc,
                limits.glibcxx or "?",
                runtime.deprecation.isoformat() if runtime.deprecation else "-",
                runtime.block_update.isoformat() if runtime.block_update else "-",
            )
        )
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return EXIT_PASS
