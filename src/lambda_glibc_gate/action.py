"""The GitHub Action: inputs -> scan() -> log, outputs, annotations, job summary, SARIF, comment.

Runs inside the container the runner starts (see action.yml): the workspace is mounted at
GITHUB_WORKSPACE (/github/workspace), inputs arrive as INPUT_<NAME> variables (hyphens kept),
and every file the runner reads back (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY) is appended to,
never truncated. Everything the scan found in an archive is untrusted: it reaches the log only
escaped or inside a stop-commands block (gha.py).

Exit code: 0 pass, 1 fail, 2 could not run. The job summary, SARIF file and PR comment are
extras: when one of them fails we warn, and the verdict stands.
"""

from __future__ import annotations

import hashlib
import os
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lambda_glibc_gate import gha, safe_write, suppress
from lambda_glibc_gate.archive import NoMatchError, expand_paths
from lambda_glibc_gate.config import load_ignores
from lambda_glibc_gate.errors import UsageError
from lambda_glibc_gate.options import ACTION_NAMES, checked
from lambda_glibc_gate.render.annotations import TITLE, Annotation, cut_message, plan_annotations
from lambda_glibc_gate.report import Report
from lambda_glibc_gate.suppress import IgnoreEntry
from lambda_glibc_gate.text import one_line as safe_name
from lambda_glibc_gate.workflow import WorkflowLocation, find_build_line, find_runs_on

EXIT_PASS, EXIT_FAIL, EXIT_ERROR = 0, 1, 2

# cargo-lambda's zips and its default output folders (target/lambda/<fn>/bootstrap), SAM's
# built function folders, Serverless's packages.
DEFAULT_ARTIFACTS = ("target/lambda/**/*.zip", "target/lambda/*/", ".aws-sam/build/*/", ".serverless/*.zip")

# Every input action.yml declares, with the default used when its variable is empty. The two
# must agree (tests/test_action.py checks it); github-token's default there is an expression.
INPUTS: dict[str, str] = {
    "artifacts": "\n".join(DEFAULT_ARTIFACTS),
    "runtime": "auto",
    "architecture": "x86_64",
    "glibc": "",
    "fail-on": "error",
    "annotate": "true",
    "summary": "true",
    "comment": "false",
    "github-token": "",
    "sarif": "",
    "working-directory": ".",
    "ignore": "",
    "glibcxx": "",
    "layers": "",
    "template-dir": "",
}

REPORT_NAME = "lambda-glibc-gate-report.json"
# The runner turns at most 10 errors and 10 warnings per step into annotations, silently
# dropping the rest, and cuts each message at 4096 characters.
SUMMARY_LIMIT = 1024 * 1024  # bytes; above it the runner uploads no summary at all


class ActionError(Exception):
    """The action cannot run; the message is one line for an ::error:: annotation."""


@dataclass(frozen=True)
class Settings:
    artifacts: tuple[str, ...]
    artifacts_are_default: bool
    runtime: str
    architecture: str
    glibc: str | None
    fail_on: str
    annotate: bool
    summary: bool
    comment: bool
    token: str
    sarif: str | None
    working_directory: str
    ignore: tuple[IgnoreEntry, ...] = ()
    glibcxx: str | None = None
    layers: tuple[str, ...] = ()  # paths / globs relative to working-directory
    template_dirs: tuple[str, ...] = ()  # relative to working-directory; () = working-directory


# -- inputs ---------------------------------------------------------------------------------


def _input(name: str) -> str:
    """The input's value, or its action.yml default when the variable is empty or unset."""
    return gha.get_input(name) or INPUTS[name]


def _boolean(name: str) -> bool:
    return gha.get_boolean_input(name, default=INPUTS[name] == "true")


def read_settings() -> Settings:
    """Every input, validated; raises gha.InputError with a one-line message."""
    patterns = tuple(line for line in gha.get_multiline_input("artifacts") if line)
    if not patterns:
        patterns = DEFAULT_ARTIFACTS
    # fail-on, glibc, glibcxx and architecture are checked by options.checked(), the one grammar
    fail_on = _input("fail-on")
    glibc = _input("glibc") or None
    architecture = _input("architecture")
    try:
        ignore = tuple(suppress.parse_lines(gha.get_multiline_input("ignore"), "input 'ignore'"))
    except suppress.IgnoreError as error:
        raise gha.InputError(str(error)) from None
    return Settings(
        artifacts=patterns,
        artifacts_are_default=patterns == DEFAULT_ARTIFACTS,
        runtime=_input("runtime"),
        architecture=architecture,
        glibc=glibc,
        fail_on=fail_on,
        annotate=_boolean("annotate"),
        summary=_boolean("summary"),
        comment=_boolean("comment"),
        token=_input("github-token"),
        sarif=_input("sarif") or None,
        working_directory=_input("working-directory"),
        ignore=ignore,
        glibcxx=_input("glibcxx") or None,  # checked by scan(), as for the CLI
        layers=tuple(line for line in gha.get_multiline_input("layers") if line),
        template_dirs=tuple(line for line in gha.get_multiline_input("template-dir") if line),
    )


# -- paths ----------------------------------------------------------------------------------


def workspace_root() -> Path:
    """GITHUB_WORKSPACE (/github/workspace in the container), made the working directory."""
    path = Path(os.environ.get("GITHUB_WORKSPACE") or os.getcwd()).resolve()
    try:
        os.chdir(path)
    except OSError as error:
        raise ActionError(f"cannot use the workspace {str(path)!r}: {error.strerror}") from None
    return path


def _inside_workspace(workspace: Path, directory: str, value: str, name: str) -> str:
    """A path input (layers, template-dir), relative to working-directory; a path whose real
    location is outside the workspace is refused: nothing outside it is read."""
    path = os.path.normpath(os.path.join(directory, value))
    real = Path(os.path.realpath(workspace / path))
    if not real.is_relative_to(workspace.resolve()):
        raise ActionError(f"input '{name}': {safe_name(value)!r} is outside the workspace")
    return path


def working_directory(workspace: Path, value: str) -> str:
    """working-directory relative to the workspace ("." or "services/api")."""
    path = (workspace / value).resolve()
    try:
        relative = path.relative_to(workspace)
    except ValueError:
        raise ActionError(f"working-directory {value!r} is outside the workspace") from None
    if not path.is_dir():
        raise ActionError(f"working-directory {value!r} is not a directory in the workspace")
    return relative.as_posix() or "."


def expand_artifacts(settings: Settings, directory: str) -> list[str]:
    """The artifact paths, relative to the workspace (the container's working directory).

    All lines go to expand_paths at once (the CLI's grammar): `!` lines exclude what earlier
    lines matched, so they must see each other."""
    base = None if directory == "." else directory
    where = "" if directory == "." else f" in working-directory '{directory}'"
    if settings.artifacts_are_default:
        found = expand_paths(settings.artifacts, base, missing_ok=True)
        if not found:
            raise ActionError(
                f"no build output found{where}: none of the default artifacts matched "
                f"({', '.join(DEFAULT_ARTIFACTS)}); build first, or set the 'artifacts' input"
            )
        return _outermost_dropped(found)
    try:
        return expand_paths(settings.artifacts, base)
    except NoMatchError as error:
        raise ActionError(f"artifacts: nothing matches '{safe_name(error.pattern)}'{where}") from None
    except UsageError as error:
        raise ActionError(f"artifacts: {error}{where}") from None


def _workflow_env() -> tuple[str | None, str | None, str]:
    """The workflow file and job this step runs in, as the runner names them."""
    env = os.environ
    return env.get("GITHUB_WORKFLOW_REF"), env.get("GITHUB_JOB"), env.get("GITHUB_REPOSITORY", "")


def _outermost_dropped(paths: list[str]) -> list[str]:
    """A folder that holds another matched artifact (target/lambda/api/ and its bootstrap.zip) is
    the same code twice: the inner artifact is the package, the folder is dropped."""
    real = [os.path.realpath(path) for path in paths]
    return [
        path
        for path, folder in zip(paths, real, strict=True)
        if not any(other != folder and other.startswith(folder.rstrip("/") + "/") for other in real)
    ]


def _output_path(directory: str, value: str) -> Path:
    return Path(value) if os.path.isabs(value) else Path(directory) / value


# -- annotations ----------------------------------------------------------------------------


def emit_annotations(annotations: Sequence[Annotation], location: WorkflowLocation | None) -> None:
    for annotation in annotations:
        place = {}
        if annotation.placed and location is not None:
            place = {"file": location.path, "start_line": location.line}
        emit = {"error": gha.error, "warning": gha.warning, "notice": gha.notice}[annotation.kind]
        emit(annotation.message, title=annotation.title, **place)


# -- the run --------------------------------------------------------------------------------


def _counts(report: Report) -> int:
    return report.count("error") + report.count("warning")


def _verdict_line(report: Report) -> str:
    errors, warnings = report.count("error"), report.count("warning")
    binaries = sum(len(artifact.binaries) for artifact in report.artifacts)
    line = (
        f"{TITLE}: {report.verdict.upper()}: {errors} error(s), {warnings} warning(s) in "
        f"{len(report.artifacts)} artifact(s), {binaries} ELF file(s)"
    )
    line += f"; highest glibc needed: {report.max_glibc}" if report.max_glibc else ""
    return line + (f"; {report.suppressed_count} accepted (ignored)" if report.suppressed_count else "")


def _write_report(report: Report, directory: str, workspace: Path) -> str:
    """Write the JSON report in working-directory; its path relative to the workspace.

    Through safe_write: the checkout is the pull request's, and a committed symlink in the
    report's place must not redirect the write (see safe_write).
    """
    path = Path(directory) / REPORT_NAME
    safe_write.write_text(path, report.dumps() + "\n", workspace)
    return path.as_posix() if directory != "." else REPORT_NAME


def _write_summary(report: Report, location: WorkflowLocation | None) -> None:
    from lambda_glibc_gate.render.markdown import render_summary

    path = os.environ.get("GITHUB_STEP_SUMMARY", "")
    used = os.path.getsize(path) if path and os.path.isfile(path) else 0
    budget = SUMMARY_LIMIT - used - 1024
    if budget < 4096:
        raise OSError("the job summary file is already close to GitHub's 1 MiB limit")
    gha.append_summary(render_summary(report, workflow_location=location, max_bytes=budget))


def _write_sarif(report: Report, location: WorkflowLocation | None, path: Path, workspace: Path) -> None:
    from lambda_glibc_gate.render.sarif import render

    text = render(report, workflow_location=location, base_dir=".") + "\n"
    safe_write.write_text(path, text, workspace, make_dirs=True)


def comment_key(settings: Settings) -> str:
    """One sticky comment per workflow, job and configuration (each matrix leg its own)."""
    workflow = os.environ.get("GITHUB_WORKFLOW_REF", "").split("@", 1)[0].rsplit("/", 1)[-1]
    parts = [workflow, os.environ.get("GITHUB_JOB", ""), settings.runtime, settings.architecture]
    if not settings.artifacts_are_default or settings.working_directory != ".":
        where = "\n".join((settings.working_directory, *settings.artifacts)).encode()
        parts.append(hashlib.sha256(where).hexdigest()[:8])
    return "/".join(part for part in parts if part)


def _post_comment(report: Report, location: WorkflowLocation | None, settings: Settings) -> None:
    from lambda_glibc_gate.comment import post_or_update
    from lambda_glibc_gate.render.markdown import render_comment

    env = os.environ
    run_url = None
    if env.get("GITHUB_REPOSITORY") and env.get("GITHUB_RUN_ID"):
        server = env.get("GITHUB_SERVER_URL") or "https://github.com"
        run_url = f"{server}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}"
    key = comment_key(settings)
    body = render_comment(report, workflow_location=location, run_url=run_url, key=key)
    status = post_or_update(
        body,
        settings.token,
        env.get("GITHUB_API_URL") or "https://api.github.com",
        env.get("GITHUB_REPOSITORY", ""),
        env.get("GITHUB_EVENT_PATH", ""),
        env.get("GITHUB_EVENT_NAME", ""),
        key=key,
    )
    if status.startswith("warning:"):
        gha.warning(status.removeprefix("warning:").strip(), title=f"{TITLE}: PR comment")
    else:
        gha.untrusted_log(f"PR comment: {status}")


def _extra(what: str, action) -> None:
    """Run an optional output; a failure is a warning and never changes the verdict."""
    try:
        action()
    except Exception as error:  # noqa: BLE001 - any failure here must not hide the verdict
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        gha.warning(f"could not {what}: {reason}", title=f"{TITLE}: {what}")


def could_not_run(message: str) -> int:
    gha.error(message, title=f"{TITLE} could not run")
    try:
        gha.set_output("verdict", "error")
    except Exception:  # noqa: BLE001 - the error annotation above already tells the story
        pass
    return EXIT_ERROR


def run() -> int:
    from lambda_glibc_gate.runtimes import UnknownRuntimeError
    from lambda_glibc_gate.scan import ScanOptions, scan

    # Mask the token before anything else is printed.
    token = gha.get_input("github-token")
    if token:
        gha.set_secret(token)
    try:
        settings = read_settings()
        workspace = workspace_root()
        directory = working_directory(workspace, settings.working_directory)
        paths = expand_artifacts(settings, directory)
        options = ScanOptions(
            runtime=settings.runtime,
            architecture=settings.architecture,
            glibc=settings.glibc,
            glibcxx=settings.glibcxx,
            fail_on=settings.fail_on,
            layers=tuple(_inside_workspace(workspace, directory, layer, "layers") for layer in settings.layers),
            template_dirs=tuple(
                _inside_workspace(workspace, directory, folder, "template-dir") for folder in settings.template_dirs
            )
            or (directory,),
            # the workflow's own `cargo lambda build …`: a fix keeps the user's flags
            build_command=find_build_line(workspace, *_workflow_env()),
            root=str(workspace),  # nothing outside the workspace is read, whatever a link says
        )
        options = checked(options, ACTION_NAMES)
        # The configuration file sits in working-directory, as for the CLI in that folder.
        ignores = load_ignores(directory) + list(settings.ignore)
        report = suppress.apply(scan(paths, options), ignores)
    except (gha.InputError, ActionError, UsageError, UnknownRuntimeError, suppress.IgnoreError) as error:
        return could_not_run(str(error))

    location = find_runs_on(workspace, *_workflow_env())
    _log_report(report)

    report_path = ""
    sarif_path = _output_path(directory, settings.sarif) if settings.sarif else None
    sarif_output = sarif_path.as_posix() if sarif_path is not None else ""
    try:
        report_path = _write_report(report, directory, workspace)
    except OSError as error:
        gha.warning(f"could not write {REPORT_NAME}: {error.strerror or error}", title=TITLE)

    def set_outputs() -> None:
        gha.set_output("verdict", report.verdict)
        gha.set_output("max-glibc", report.max_glibc or "")
        gha.set_output("findings", str(_counts(report)))
        gha.set_output("report", report_path)
        gha.set_output("sarif", sarif_output)

    # A GITHUB_OUTPUT that cannot be written (disk full) must not turn the verdict into exit 2.
    _extra("set the step outputs", set_outputs)

    if settings.annotate:
        emit_annotations(plan_annotations(report, location), location)
    stale = report.stale_ignores
    if stale:  # one warning for all of them: the runner keeps only 10 per step
        lines = "\n".join(suppress.stale_message(entry) for entry in stale)
        entries = "entry" if len(stale) == 1 else "entries"
        gha.warning(cut_message(lines), title=f"{TITLE}: {len(stale)} stale ignore {entries}")
    if settings.summary:
        _extra("write the job summary", lambda: _write_summary(report, location))
    if sarif_path is not None:
        write_sarif = lambda: _write_sarif(report, location, sarif_path, workspace)  # noqa: E731
        _extra(f"write the SARIF file {settings.sarif!r}", write_sarif)
    if settings.comment:
        _extra("comment on the pull request", lambda: _post_comment(report, location, settings))
    gha.untrusted_log(_verdict_line(report))
    return EXIT_FAIL if report.verdict == "fail" else EXIT_PASS


def _log_report(report: Report) -> None:
    from lambda_glibc_gate.render.text import render

    binaries = sum(len(artifact.binaries) for artifact in report.artifacts)
    gha.start_group(f"{TITLE}: {len(report.artifacts)} artifact(s), {binaries} ELF file(s)")
    try:
        gha.untrusted_log(render(report, colour=False, show_notes=True))
    finally:
        gha.end_group()


def main() -> int:
    # Undecodable member names must print as escapes, never crash the step.
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8", errors="backslashreplace", line_buffering=True)
    try:
        return run()
    except Exception as error:  # noqa: BLE001 - a bug must still end as a clear exit 2
        for line in traceback.format_exc().splitlines():
            gha.debug(line)
        return could_not_run(f"internal error: {type(error).__name__}: {error}")
