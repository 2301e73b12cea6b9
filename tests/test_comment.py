"""The sticky PR comment against a real HTTP server on 127.0.0.1 that speaks GitHub's endpoints."""

from __future__ import annotations

import json
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from lambda_glibc_gate.comment import MAX_BODY, post_or_update
from lambda_glibc_gate.render.markdown import COMMENT_MARKER, comment_marker, render_comment
from lambda_glibc_gate.report import ArtifactReport, Finding, Report

TOKEN = "ghs_test-token-that-must-never-leak"
REPO = "octo/lambda-app"
PR = 7
BOT = {"login": "github-actions[bot]", "type": "Bot"}
HUMAN = {"login": "mallory", "type": "User"}


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True  # a handler still sleeping does not block teardown

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):  # the timeout test hangs up on purpose
            super().handle_error(request, client_address)


class FakeGitHub:
    """Issue comments of one pull request: list (paginated, Link headers), create, update."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix  # "/api/v3" on GitHub Enterprise Server
        self.comments: list[dict] = []
        self.requests: list[tuple[str, str, dict | None, str | None]] = []
        self.fail: dict[str, tuple[int, str]] = {}  # method -> (status, message)
        self.delay = 0.0
        self.next_link_host: str | None = None  # send "next" to another host
        self._next_id = 1000
        self.server = QuietServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{self.prefix}"

    def add(self, user: dict, body: str) -> dict:
        comment = {"id": self._next_id, "user": dict(user), "body": body}
        self._next_id += 1
        self.comments.append(comment)
        return comment

    def methods(self) -> list[str]:
        return [method for method, *_ in self.requests]

    def _handler(self):
        github = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest output clean
                pass

            def _send(self, status: int, payload, headers: dict | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def _record(self) -> dict | None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                github.requests.append((self.command, self.path, body, self.headers.get("Authorization")))
                if github.delay:
                    time.sleep(github.delay)
                return body

            def _route(self) -> tuple[str, ...] | None:
                path = urlsplit(self.path).path
                if not path.startswith(github.prefix + "/repos/"):
                    return None
                return tuple(path[len(github.prefix) + len("/repos/") :].split("/"))

            def do_GET(self):
                self._record()
                parts = self._route()
                if "GET" in github.fail:
                    status, message = github.fail["GET"]
                    return self._send(status, {"message": message})
                if parts != (*REPO.split("/"), "issues", str(PR), "comments"):
                    return self._send(404, {"message": "Not Found"})
                query = parse_qs(urlsplit(self.path).query)
                per_page = min(int(query.get("per_page", ["30"])[0]), 100)
                page = int(query.get("page", ["1"])[0])
                chunk = github.comments[(page - 1) * per_page : page * per_page]
                headers = {}
                if page * per_page < len(github.comments):
                    host = github.next_link_host or f"127.0.0.1:{github.server.server_address[1]}"
                    base = f"http://{host}{urlsplit(self.path).path}"
                    headers["Link"] = (
                        f'<{base}?per_page={per_page}&page={page + 1}>; rel="next", '
                        f'<{base}?per_page={per_page}&page=99>; rel="last"'
                    )
                return self._send(200, chunk, headers)

            def do_POST(self):
                body = self._record()
                parts = self._route()
                if "POST" in github.fail:
                    status, message = github.fail["POST"]
                    return self._send(status, {"message": message})
                if parts != (*REPO.split("/"), "issues", str(PR), "comments"):
                    return self._send(404, {"message": "Not Found"})
                return self._send(201, github.add(BOT, body["body"]))

            def do_PATCH(self):
                body = self._record()
                parts = self._route()
                if "PATCH" in github.fail:
                    status, message = github.fail["PATCH"]
                    return self._send(status, {"message": message})
                if parts is None or parts[2:4] != ("issues", "comments"):
                    return self._send(404, {"message": "Not Found"})
                for comment in github.comments:
                    if str(comment["id"]) == parts[4]:
                        comment["body"] = body["body"]
                        return self._send(200, comment)
                return self._send(404, {"message": "Not Found"})

        return Handler

    def __enter__(self) -> FakeGitHub:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def github():
    with FakeGitHub() as server:
        yield server


@pytest.fixture
def event(tmp_path):
    path = tmp_path / "event.json"
    path.write_text(json.dumps({"action": "synchronize", "number": PR, "pull_request": {}}))
    return str(path)


def post(github: FakeGitHub, event: str, body: str, **kwargs) -> str:
    kwargs.setdefault("event_name", "pull_request")
    return post_or_update(body, TOKEN, github.url, REPO, event, **kwargs)


def failing() -> Report:
    artifact = ArtifactReport("fn.zip", "zip", "provided.al2023", "x86_64")
    artifact.findings.append(Finding("glibc-too-new", "error", "bootstrap needs glibc 2.38", member="bootstrap"))
    return Report(runtime={"id": "provided.al2023", "glibc": "2.34"}, artifacts=[artifact])


def body(text: str = "❌ bootstrap needs glibc 2.38") -> str:
    return f"{COMMENT_MARKER}\n{text}\n"


def test_creates_a_comment_when_none_is_ours(github, event):
    github.add(HUMAN, "LGTM")
    status = post(github, event, body())
    assert github.methods() == ["GET", "POST"]
    created = github.comments[-1]
    assert status == f"created comment {created['id']}"
    assert created["body"] == body()
    assert all(auth == f"Bearer {TOKEN}" for *_, auth in github.requests)
    assert "per_page=100" in github.requests[0][1]


def test_updates_our_comment_found_on_the_second_page(github, event):
    for n in range(130):
        github.add(HUMAN, f"comment {n}")
    ours = github.add(BOT, body("old verdict"))
    status = post(github, event, body("new verdict"))
    gets = [path for method, path, *_ in github.requests if method == "GET"]
    assert len(gets) == 2 and "page=2" in gets[1]  # followed the Link rel="next" header
    assert status == f"updated comment {ours['id']}"
    assert github.methods()[-1] == "PATCH"
    assert github.requests[-1][1].endswith(f"/repos/{REPO}/issues/comments/{ours['id']}")
    assert ours["body"] == body("new verdict")
    assert "POST" not in github.methods()


def test_a_humans_comment_with_our_marker_is_not_taken_over(github, event):
    planted = github.add(HUMAN, body("I pasted the marker"))
    impostor = github.add({"login": "other-app[bot]", "type": "Bot"}, body("me too"))
    status = post(github, event, body())
    assert status.startswith("created comment ")
    assert "PATCH" not in github.methods()
    assert planted["body"] == body("I pasted the marker")
    assert impostor["body"] == body("me too")


def test_unchanged_body_makes_no_write(github, event):
    github.add(BOT, body().replace("\n", "\r\n"))  # GitHub may store CRLF
    assert post(github, event, body()) == "comment unchanged"
    assert github.methods() == ["GET"]


def test_forbidden_gives_a_warning_status_without_the_token(github, event):
    github.fail["POST"] = (403, "Resource not accessible by integration")
    status = post(github, event, body())
    assert status.startswith("warning: could not comment (403")
    assert "Resource not accessible by integration" in status
    assert "pull-requests: write" in status
    assert TOKEN not in status and "\n" not in status


def test_not_found_on_list_gives_a_warning(github, event):
    github.fail["GET"] = (404, "Not Found")
    status = post(github, event, body())
    assert status.startswith("warning: could not comment (404")
    assert github.methods() == ["GET"]


def test_connection_refused_gives_a_warning(event):
    with socket.socket() as probe:  # a port that nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    status = post_or_update(body(), TOKEN, f"http://127.0.0.1:{port}", REPO, event, "pull_request", timeout=5)
    assert status == "warning: could not comment (network error: ConnectionError)"


def test_timeout_gives_a_warning(github, event):
    github.delay = 1.0
    status = post(github, event, body(), timeout=0.2)
    assert status.startswith("warning: could not comment (GET timed out")


def test_only_pull_request_events_comment(github, event):
    for name in ("push", "workflow_dispatch", "schedule", ""):
        assert post(github, event, body(), event_name=name) == "skipped: not a pull request"
    assert github.requests == []
    assert post(github, event, body(), event_name="pull_request_target").startswith("created")


def test_number_from_the_pull_request_object(github, tmp_path):
    path = tmp_path / "event.json"
    path.write_text(json.dumps({"pull_request": {"number": PR}}))
    assert post(github, str(path), body()).startswith("created comment ")


@pytest.mark.parametrize("payload", ["not json", json.dumps({"number": "7"}), json.dumps([1])])
def test_bad_event_payload_gives_a_warning(github, tmp_path, payload):
    path = tmp_path / "event.json"
    path.write_text(payload)
    assert post(github, str(path), body()).startswith("warning: could not comment (")
    assert github.requests == []


def test_missing_event_file_gives_a_warning(github, tmp_path):
    status = post(github, str(tmp_path / "absent.json"), body())
    assert status == "warning: could not comment (cannot read the event payload: FileNotFoundError)"


def test_enterprise_api_prefix_is_respected(event):
    with FakeGitHub(prefix="/api/v3") as enterprise:
        status = post(enterprise, event, body())
        assert status.startswith("created comment ")
        assert all(path.startswith("/api/v3/repos/") for _, path, *_ in enterprise.requests)


def test_next_link_to_another_host_is_not_followed(github, event):
    for n in range(120):
        github.add(HUMAN, f"comment {n}")
    github.next_link_host = "localhost:1"  # a different origin: the token must not go there
    status = post(github, event, body())
    assert status.startswith("warning: could not comment (")
    assert github.methods() == ["GET"]


def test_long_body_is_cut_under_the_limit_and_keeps_the_marker(github, event):
    status = post(github, event, body("x" * 100_000))
    assert status.startswith("created comment ")
    sent = github.requests[-1][2]["body"]
    assert len(sent) <= MAX_BODY < 65_536
    assert sent.startswith(COMMENT_MARKER) and "cut to fit" in sent


def test_marker_is_added_when_missing(github, event):
    post(github, event, "no marker here")
    assert github.comments[-1]["body"].startswith(COMMENT_MARKER)
    # ... so the next run finds and updates it instead of posting again.
    status = post(github, event, "no marker here, new text")
    assert re.fullmatch(r"updated comment \d+", status)
    assert github.methods().count("POST") == 1


def test_empty_token_or_bad_repository_warns_without_requests(github, event):
    assert post_or_update(body(), "", github.url, REPO, event, "pull_request").startswith(
        "warning: could not comment (no token"
    )
    assert post_or_update(body(), TOKEN, github.url, "../x", event, "pull_request").startswith(
        "warning: could not comment (GITHUB_REPOSITORY"
    )
    assert github.requests == []


def test_each_key_keeps_its_own_comment(github, event):
    arm = post(github, event, render_comment(failing(), key="build/arm64"), key="build/arm64")
    x86 = post(github, event, render_comment(failing(), key="build/x86_64"), key="build/x86_64")
    plain = post(github, event, body(), key=None)
    assert [s.split()[0] for s in (arm, x86, plain)] == ["created"] * 3
    ids = [int(s.split()[-1]) for s in (arm, x86, plain)]
    assert len(set(ids)) == 3
    again = post(github, event, render_comment(failing(), key="build/x86_64") + "changed", key="build/x86_64")
    assert again == f"updated comment {ids[1]}"
    assert post(github, event, body("new"), key=None) == f"updated comment {ids[2]}"


def test_key_cannot_break_out_of_the_hidden_comment():
    marker = comment_marker("x --> <img src=x> <!--")
    hidden = marker.split("\n")[1]
    assert hidden.startswith("<!-- ") and hidden.endswith(" -->")
    assert "-->" not in hidden[5:-4] and "<" not in hidden[5:-4] and "--" not in hidden[5:-4]
