"""Faults around the GitHub Action (issue 5, part 6): entrypoint.py run as the runner runs the
container (the environment and the runner-protocol parsing of tests/test_action.py), with
artifacts that cannot be read and with every extra output failing in turn.

The rules under test:
- an artifact that cannot be read is a finding on that artifact: the others are still scanned
  and reported in full;
- the job summary, the SARIF file, the JSON report and the PR comment are extras: when one
  fails there is a warning, and the verdict stands;
- the exit code always reflects the verdict (0 pass, 1 fail), whatever else went wrong.
"""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from test_action import BAD, GOOD, elf, make_zip, run_step, workspace  # noqa: F401 - fixture

REPORT = "lambda-glibc-gate-report.json"
EXPECTED_CODE = {GOOD: 0, BAD: 1}
VERDICT = {GOOD: "pass", BAD: "fail"}


def report_of(step) -> dict:
    return json.loads((step.workspace / REPORT).read_text(encoding="utf-8"))


def by_name(report: dict) -> dict[str, dict]:
    return {Path(artifact["path"]).name: artifact for artifact in report["artifacts"]}


def problems(artifact: dict) -> set[str]:
    return {finding.get("problem") or finding["rule"] for finding in artifact["findings"]}


def assert_verdict_stands(step, fixture: str) -> None:
    assert step.returncode == EXPECTED_CODE[fixture], step.stdout + step.stderr
    assert "Traceback" not in step.stdout + step.stderr
    assert not any("could not run" in error.properties.get("title", "") for error in step.errors())
    verdict_lines = [line for line in step.log.plain if "lambda-glibc-gate: " + VERDICT[fixture].upper() in line]
    assert verdict_lines, step.stdout[-3000:]


# -- artifacts that cannot be read --------------------------------------------------------
def broken_artifacts(dist: Path) -> None:
    """Five artifacts: two real, three broken in different ways."""
    make_zip(dist / "a-bad.zip", {"bootstrap": elf(BAD)})
    make_zip(dist / "b-good.zip", {"bootstrap": elf(GOOD)})
    whole = make_zip(dist / "c-truncated.zip", {"bootstrap": elf(GOOD)}).read_bytes()
    (dist / "c-truncated.zip").write_bytes(whole[: len(whole) // 2])
    (dist / "d-empty.zip").write_bytes(b"")
    (dist / "e-text.zip").write_text("not a zip\n", encoding="utf-8")


def test_broken_artifacts_among_several_leave_a_full_report_for_the_others(workspace):  # noqa: F811
    broken_artifacts(workspace / "dist")
    step = run_step(workspace, {"artifacts": "dist/*.zip"})

    assert_verdict_stands(step, BAD)
    assert step.outputs["verdict"] == "fail"
    artifacts = by_name(report_of(step))
    assert sorted(artifacts) == ["a-bad.zip", "b-good.zip", "c-truncated.zip", "d-empty.zip", "e-text.zip"]
    # the readable ones are judged in full
    assert [b["glibc_required"] for b in artifacts["a-bad.zip"]["binaries"]] == ["2.38"]
    assert "glibc-too-new" in problems(artifacts["a-bad.zip"])
    assert [b["glibc_required"] for b in artifacts["b-good.zip"]["binaries"]] == ["2.34"]
    assert not [f for f in artifacts["b-good.zip"]["findings"] if f["severity"] == "error"]
    # each broken one carries its own finding
    for name in ("c-truncated.zip", "d-empty.zip", "e-text.zip"):
        assert "not-a-zip" in problems(artifacts[name]), artifacts[name]["findings"]
    # and the summary names every artifact
    for name in artifacts:
        assert name in step.summary


def test_an_artifact_that_is_no_file_among_several_is_a_finding(workspace):  # noqa: F811
    # GIVEN a glob that also matches a FIFO and a dangling symlink (a half-written build)
    dist = workspace / "dist"
    make_zip(dist / "a-bad.zip", {"bootstrap": elf(BAD)})
    make_zip(dist / "b-good.zip", {"bootstrap": elf(GOOD)})
    os.mkfifo(dist / "c-fifo.zip")
    (dist / "d-dangling.zip").symlink_to("gone.zip")
    # WHEN the action scans them
    step = run_step(workspace, {"artifacts": "dist/*.zip"})
    # THEN the two real ones are judged, the FIFO is a finding, and the step fails on the verdict
    assert_verdict_stands(step, BAD)
    artifacts = by_name(report_of(step))
    assert [b["glibc_required"] for b in artifacts["a-bad.zip"]["binaries"]] == ["2.38"]
    assert [b["glibc_required"] for b in artifacts["b-good.zip"]["binaries"]] == ["2.34"]
    (unreadable,) = [f for f in artifacts["c-fifo.zip"]["findings"] if f["rule"] == "unreadable-archive"]
    assert "c-fifo.zip" in unreadable["message"] and unreadable["severity"] == "error"


def test_many_artifacts_each_reported_once_in_order(workspace):  # noqa: F811
    dist = workspace / "dist"
    expected = {}
    for index in range(12):
        name = f"fn{index:02d}.zip"
        if index % 4 == 3:
            (dist / name).write_bytes(b"PK\x03\x04 truncated")
            expected[name] = None
        else:
            fixture = BAD if index % 4 == 1 else GOOD
            make_zip(dist / name, {"bootstrap": elf(fixture)})
            expected[name] = "2.38" if fixture == BAD else "2.34"
    step = run_step(workspace, {"artifacts": "dist/*.zip"})
    assert_verdict_stands(step, BAD)
    report = report_of(step)
    assert [Path(a["path"]).name for a in report["artifacts"]] == sorted(expected)
    for name, artifact in by_name(report).items():
        glibc = [b["glibc_required"] for b in artifact["binaries"]]
        assert glibc == ([] if expected[name] is None else [expected[name]]), name


# -- extras that fail ---------------------------------------------------------------------
@pytest.mark.parametrize(("summary", "fixture"), [("directory", BAD), ("/dev/full", GOOD), ("unset", BAD)])
def test_summary_failures_never_hide_the_verdict(workspace, summary, fixture):  # noqa: F811
    make_zip(workspace / "fn.zip", {"bootstrap": elf(fixture)})
    target = {"directory": str(workspace.parent), "/dev/full": "/dev/full", "unset": ""}[summary]
    step = run_step(workspace, {"artifacts": "fn.zip"}, env={"GITHUB_STEP_SUMMARY": target})
    assert_verdict_stands(step, fixture)
    assert step.outputs["verdict"] == VERDICT[fixture]
    assert any("job summary" in warning.message for warning in step.warnings()), step.stdout[-2000:]


@pytest.mark.parametrize("fixture", [GOOD, BAD])
def test_outputs_file_failure_never_hides_the_verdict(workspace, fixture):  # noqa: F811
    # GIVEN a runner whose GITHUB_OUTPUT cannot take a byte (disk full)
    make_zip(workspace / "fn.zip", {"bootstrap": elf(fixture)})
    step = run_step(workspace, {"artifacts": "fn.zip"}, env={"GITHUB_OUTPUT": "/dev/full"})
    # THEN the exit code still says pass / fail
    assert_verdict_stands(step, fixture)


@pytest.mark.parametrize("fixture", [GOOD])
def test_report_and_sarif_failures_never_hide_the_verdict(workspace, fixture):  # noqa: F811
    make_zip(workspace / "fn.zip", {"bootstrap": elf(fixture)})
    (workspace / REPORT).mkdir()  # the JSON report cannot be written
    (workspace / "results").write_text("a file where a folder should be", encoding="utf-8")
    step = run_step(workspace, {"artifacts": "fn.zip", "sarif": "results/scan.sarif"})
    assert_verdict_stands(step, fixture)
    assert step.outputs["verdict"] == VERDICT[fixture]
    messages = [warning.message for warning in step.warnings()]
    assert any(REPORT in message for message in messages), messages
    assert any("SARIF" in message for message in messages), messages


class _BrokenApi(BaseHTTPRequestHandler):
    """A GitHub API that answers every call with an error page, or with JSON that is not."""

    mode = "500"

    def _answer(self) -> None:
        if type(self).mode == "500":
            body, code, kind = b"<html>Internal Server Error</html>", 500, "text/html"
        else:
            body, code, kind = b"{not json", 200, "application/json"
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 - http.server API
        self._answer()

    def do_POST(self):  # noqa: N802 - http.server API
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._answer()

    do_PATCH = do_POST

    def log_message(self, *args):
        pass


@pytest.fixture
def broken_api():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _BrokenApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(("api", "fixture"), [("unreachable", BAD), ("500", GOOD), ("not-json", BAD),
                                              ("no-event-file", GOOD)])
def test_comment_failures_never_hide_the_verdict(workspace, broken_api, api, fixture):  # noqa: F811
    make_zip(workspace / "fn.zip", {"bootstrap": elf(fixture)})
    env = {}
    if api in ("500", "not-json"):
        _BrokenApi.mode = api
        env["GITHUB_API_URL"] = broken_api
    elif api == "no-event-file":
        env["GITHUB_EVENT_PATH"] = str(workspace.parent / "missing-event.json")
    # "unreachable": run_step's default API URL, a port nothing listens on
    step = run_step(workspace, {"artifacts": "fn.zip", "comment": "true"}, env=env)
    assert_verdict_stands(step, fixture)
    assert step.outputs["verdict"] == VERDICT[fixture]
    if api != "no-event-file":
        assert any("comment" in (w.properties.get("title", "") + w.message).lower() for w in step.warnings())


@pytest.mark.parametrize("fixture", [GOOD, BAD])
def test_everything_optional_failing_at_once(workspace, fixture):  # noqa: F811
    # GIVEN summary, SARIF, JSON report and comment all failing, and a broken artifact
    make_zip(workspace / "dist" / "fn.zip", {"bootstrap": elf(fixture)})
    (workspace / "dist" / "broken.zip").write_bytes(b"PK\x05\x06")
    (workspace / REPORT).mkdir()
    step = run_step(
        workspace,
        {"artifacts": "dist/fn.zip\ndist/broken.zip", "comment": "true", "sarif": "/dev/full"},
        env={"GITHUB_STEP_SUMMARY": "/dev/full"},
    )
    # THEN the broken artifact fails the step on its own, and everything else is a warning
    assert step.returncode == 1, step.stdout + step.stderr
    assert step.outputs["verdict"] == "fail"
    titles = " ".join(w.properties.get("title", "") + " " + w.message for w in step.warnings())
    for what in ("job summary", "SARIF", REPORT, "comment"):
        assert what.lower() in titles.lower(), (what, titles)
    errors = " ".join(e.properties.get("title", "") for e in step.errors())
    assert "broken.zip" in errors
    if fixture == BAD:
        assert "glibc-too-new" in errors
