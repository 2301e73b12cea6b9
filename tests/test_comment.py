"""The sticky PR comment against a real HTTP server on 127.0.0.1 that speaks GitHub's endpoints."""

from __future__ import annotations

import email.utils
import json
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from lambda_glibc_gate import comment as comment_module
from lambda_glibc_gate.comment import MAX_BODY, post_or_update
from lambda_glibc_gate.render.markdown import COMMENT_MARKER, comment_marker, render_comment
from lambda_glibc_gate.report import ArtifactReport, Finding, Report

TOKEN = "ghs_test-token-that-must-never-leak"
REPO = "octo/lambda-app"
PR = 7
BOT = {"login": "github-actions[bot]", "type": "Bot"}
HUMAN = {"login": "mallory", "type": "User"}
APP = {"login": "glibc-gate-app[bot]", "type": "Bot"}  # a GitHub App's installation token
OCTOCAT = {"login": "octocat", "type": "User"}  # a personal access token's owner
FORBIDDEN = "Resource not accessible by integration"


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
        # Who the token acts as: GET /user answers `user` (None: 403, as for installation
        # tokens); GraphQL `viewer { login }` answers `viewer` (None: 403); new comments are
        # written by `author`.
        self.user: dict | None = None
        self.viewer: str | None = BOT["login"]
        self.author: dict = BOT
        self.queue: list[tuple[str, int, dict, object]] = []  # (method, status, headers, payload) first
        self.create_then_fail = False  # POST creates the comment, then answers 502
        self.trickle: tuple[str, float] | None = None  # ("status" | "fields" | "body", seconds a byte)
        self.stopping = threading.Event()
        self._next_id = 1000
        self.server = QuietServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{self.prefix}"

    @property
    def graphql_path(self) -> str:
        return "/api/graphql" if self.prefix == "/api/v3" else "/graphql"

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
                if github.trickle:
                    return self._trickle(status, data)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def _trickle(self, status: int, data: bytes) -> None:
                """One byte at a time: from the status line, from the header fields, or the body."""
                where, pause = github.trickle
                head = (
                    f"HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n"
                ).encode()
                at_once = {"status": 0, "fields": head.index(b"\r\n") + 2, "body": len(head)}[where]
                self.wfile.write(head[:at_once])
                self.wfile.flush()
                for byte in head[at_once:] + data:
                    if github.stopping.wait(pause):
                        return
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()

            def _record(self) -> dict | None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                github.requests.append((self.command, self.path, body, self.headers.get("Authorization")))
                if github.delay:
                    time.sleep(github.delay)
                return body

            def _scripted(self) -> bool:
                """Answer from the queue (for this method) or the identity endpoints."""
                for n, (method, status, headers, payload) in enumerate(github.queue):
                    if method == self.command:
                        del github.queue[n]
                        self._send(status, payload, headers)
                        return True
                path = urlsplit(self.path).path
                if self.command == "GET" and path == github.prefix + "/user":
                    if github.user is None:
                        self._send(403, {"message": FORBIDDEN})
                    else:
                        self._send(200, github.user)
                    return True
                if self.command == "POST" and path == github.graphql_path:
                    if github.viewer is None:
                        self._send(403, {"message": FORBIDDEN})
                    else:
                        self._send(200, {"data": {"viewer": {"login": github.viewer}}})
                    return True
                return False

            def _route(self) -> tuple[str, ...] | None:
                path = urlsplit(self.path).path
                if not path.startswith(github.prefix + "/repos/"):
                    return None
                return tuple(path[len(github.prefix) + len("/repos/") :].split("/"))

            def do_GET(self):
                self._record()
                if self._scripted():
                    return None
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
                if self._scripted():
                    return None
                parts = self._route()
                if "POST" in github.fail:
                    status, message = github.fail["POST"]
                    return self._send(status, {"message": message})
                if parts != (*REPO.split("/"), "issues", str(PR), "comments"):
                    return self._send(404, {"message": "Not Found"})
                created = github.add(github.author, body["body"])
                if github.create_then_fail:
                    github.create_then_fail = False
                    return self._send(502, {"message": "Server Error"})
                return self._send(201, created)

            def do_PATCH(self):
                body = self._record()
                if self._scripted():
                    return None
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
        self.stopping.set()
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


def creates(github: FakeGitHub) -> list[str]:
    return [path for method, path, *_ in github.requests if method == "POST" and path.endswith("/comments")]


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
    gets = [path for method, path, *_ in github.requests if method == "GET" and "/comments" in path]
    assert len(gets) == 2 and "page=2" in gets[1]  # followed the Link rel="next" header
    assert status == f"updated comment {ours['id']}"
    assert github.methods()[-1] == "PATCH"
    assert github.requests[-1][1].endswith(f"/repos/{REPO}/issues/comments/{ours['id']}")
    assert ours["body"] == body("new verdict")
    assert creates(github) == []
    # The default token cannot call GET /user; GraphQL's viewer named its bot.
    assert [(m, p) for m, p, *_ in github.requests if "/comments" not in p] == [("GET", "/user"), ("POST", "/graphql")]


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
    assert [method for method, path, *_ in github.requests if "/comments" in path] == ["GET"]


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
    assert len(creates(github)) == 1


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


# -- who the token acts as ------------------------------------------------------------------


def test_a_personal_token_reruns_edit_its_own_comment(github, event):
    """GET /user names a personal token's owner; their comment is ours, a bot's or another human's is not."""
    github.user = github.author = OCTOCAT
    bots = github.add(BOT, body("the default token's"))
    other = github.add(HUMAN, body("a different human pasted the marker"))
    first = post_or_update(body("run 1"), "ghp_personal", github.url, REPO, event, "pull_request")
    assert first.startswith("created comment ")
    again = post_or_update(body("run 2"), "ghp_personal", github.url, REPO, event, "pull_request")
    assert again == f"updated comment {first.split()[-1]}"
    assert github.comments[-1]["body"] == body("run 2") and len(creates(github)) == 1
    assert bots["body"] == body("the default token's") and other["body"].startswith(COMMENT_MARKER + "\na different")
    assert ("GET", "/user") in [(m, p) for m, p, *_ in github.requests]


@pytest.mark.parametrize("viewer", ["glibc-gate-app[bot]", "glibc-gate-app"])
def test_a_github_app_token_reruns_edit_the_apps_comment(github, event, viewer):
    """An installation token: GET /user is refused, GraphQL's viewer names the app's bot."""
    github.viewer, github.author = viewer, APP
    actions = github.add(BOT, body("github-actions wrote this one"))
    first = post(github, event, body("run 1"))
    assert first.startswith("created comment ")
    again = post(github, event, body("run 2"))
    assert again == f"updated comment {first.split()[-1]}"
    assert actions["body"] == body("github-actions wrote this one")
    assert len(creates(github)) == 1


def test_an_app_that_cannot_be_named_never_edits_another_bots_comment(github, event):
    """GraphQL refused too: only the default token's bot is ours, so another app's is left alone."""
    github.viewer, github.author = None, APP
    earlier = github.add(APP, body("an app's comment"))
    planted = github.add(HUMAN, body("a human pasted the marker"))
    assert post(github, event, body("new")).startswith("created comment ")
    assert earlier["body"] == body("an app's comment") and planted["body"] == body("a human pasted the marker")


def test_a_bot_and_a_user_of_the_same_name_are_not_confused(github, event):
    github.user = github.author = OCTOCAT
    github.add({"login": "octocat", "type": "Bot"}, body("same login, not the same account type"))
    assert post_or_update(body(), "ghp_personal", github.url, REPO, event, "pull_request").startswith("created")


def test_identity_is_asked_only_when_a_comment_carries_the_marker(github, event):
    github.add(HUMAN, "LGTM")
    post(github, event, body())
    listing = f"/repos/{REPO}/issues/{PR}/comments?per_page=100"
    assert [p for _, p, *_ in github.requests] == [listing, creates(github)[0]]


def test_enterprise_graphql_endpoint(event):
    with FakeGitHub(prefix="/api/v3") as enterprise:
        enterprise.viewer, enterprise.author = APP["login"], APP
        first = post(enterprise, event, body("1"))
        assert post(enterprise, event, body("2")) == f"updated comment {first.split()[-1]}"
        assert ("POST", "/api/graphql") in [(m, p) for m, p, *_ in enterprise.requests]


# -- deadline, bounded body, retries, rate limits ---------------------------------------------


@pytest.mark.parametrize("where", ["status", "fields", "body"])
def test_a_trickling_server_is_cut_at_the_deadline(github, event, where):
    """One byte every 0.25 s never trips the 5 s read timeout; the 1 s deadline still holds."""
    github.trickle = (where, 0.25)
    started = time.monotonic()
    status = post(github, event, body(), timeout=5, deadline=1.0)
    assert time.monotonic() - started < 3
    assert status == "warning: could not comment (gave up after 1s: the API answered too slowly)"


def test_a_declared_oversized_body_is_refused(github, event, monkeypatch):
    monkeypatch.setattr(comment_module, "MAX_RESPONSE", 1000)
    github.queue += [("GET", 200, {}, ["x" * 2000])] * 2  # pages of 100, then of 20
    status = post(github, event, body())
    assert status.startswith("warning: could not comment (the API answer is larger than 1000 bytes")


def test_an_undeclared_oversized_body_is_cut_while_streaming(github, event, monkeypatch):
    monkeypatch.setattr(comment_module, "MAX_RESPONSE", 50_000)

    class Endless(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # no Content-Length: the body runs until the server closes

        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            for _ in range(10_000):
                self.wfile.write(b"[" + b" " * 8191)

        def log_message(self, *args):
            pass

    server = QuietServer(("127.0.0.1", 0), Endless)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        api = f"http://127.0.0.1:{server.server_address[1]}"
        status = post_or_update(body(), TOKEN, api, REPO, event, "pull_request")
    finally:
        server.shutdown()
        server.server_close()
    assert status.startswith("warning: could not comment (the API answer is larger than 50000 bytes")


def test_a_page_too_large_is_asked_again_in_smaller_pages(github, event, monkeypatch):
    monkeypatch.setattr(comment_module, "MAX_RESPONSE", 40_000)
    for n in range(60):
        github.add(HUMAN, f"{n} " + "y" * 900)  # 100 a page would be ~60 kB, 20 a page ~20 kB
    ours = github.add(BOT, body("old"))
    assert post(github, event, body("new")) == f"updated comment {ours['id']}"
    assert any("per_page=20" in p for _, p, *_ in github.requests)


def test_server_errors_are_retried_with_growing_backoff(github, event):
    slept: list[float] = []
    github.queue += [("GET", 502, {}, {"message": "Bad Gateway"}), ("GET", 503, {}, {"message": "Unavailable"})]
    status = post(github, event, body(), sleep=slept.append)
    assert status.startswith("created comment ")
    assert len(slept) == 2 and 1 <= slept[0] < 2 <= slept[1] < 3  # 1 s, 2 s, plus jitter under 1 s


def test_server_errors_give_up_after_a_few_attempts(github, event):
    slept: list[float] = []
    github.queue += [("GET", 500, {}, {"message": "boom"})] * 6
    status = post(github, event, body(), sleep=slept.append)
    assert status == "warning: could not comment (500 Internal Server Error: boom)"
    assert len(slept) == comment_module.MAX_ATTEMPTS - 1


@pytest.mark.parametrize("retry_after", ["7", "http-date"])
def test_429_waits_as_long_as_retry_after_says(github, event, retry_after):
    if retry_after == "http-date":
        retry_after = email.utils.formatdate(time.time() + 9, usegmt=True)
    slept: list[float] = []
    github.queue.append(("GET", 429, {"Retry-After": retry_after}, {"message": "Too Many Requests"}))
    assert post(github, event, body(), sleep=slept.append).startswith("created comment ")
    assert len(slept) == 1 and (slept[0] == 7 or 7 <= slept[0] <= 9)


def test_a_wait_past_the_deadline_gives_up_at_once(github, event):
    slept: list[float] = []
    github.queue.append(("GET", 429, {"Retry-After": "120"}, {"message": "Too Many Requests"}))
    status = post(github, event, body(), sleep=slept.append, deadline=60)
    assert slept == [] and github.methods() == ["GET"]
    assert "rate limited by GitHub" in status and "wait 120s" in status


def test_a_rate_limit_403_is_not_called_a_permission_problem(github, event):
    reset = str(int(time.time()) + 3600)
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset}
    github.queue.append(("POST", 403, headers, {"message": "API rate limit exceeded for installation ID 1."}))
    status = post(github, event, body(), sleep=lambda s: None)
    assert status.startswith("warning: could not comment (403")
    assert "rate limited by GitHub (not a permission problem)" in status
    assert "pull-requests: write" not in status


def test_a_secondary_rate_limit_403_is_retried(github, event):
    slept: list[float] = []
    message = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
    github.queue.append(("POST", 403, {"Retry-After": "3"}, {"message": message}))
    assert post(github, event, body(), sleep=slept.append).startswith("created comment ")
    assert slept == [3.0] and len(creates(github)) == 2 and len(github.comments) == 1


def test_a_permission_403_is_not_retried(github, event):
    github.fail["POST"] = (403, FORBIDDEN)
    status = post(github, event, body(), sleep=lambda s: pytest.fail("no retry for a permission error"))
    assert "pull-requests: write" in status and "rate limited" not in status
    assert len(creates(github)) == 1


def test_a_post_answered_5xx_is_not_sent_twice_when_it_went_through(github, event):
    """Create is not idempotent: after a 5xx, look again before posting again."""
    github.create_then_fail = True
    status = post(github, event, body(), sleep=lambda s: None)
    assert len(github.comments) == 1 and len(creates(github)) == 1
    assert status == f"created comment {github.comments[0]['id']}"


def test_graphql_is_a_query_so_a_5xx_there_is_retried(github, event):
    github.viewer, github.author = APP["login"], APP
    earlier = github.add(APP, body("old"))
    github.queue.append(("POST", 502, {}, {"message": "Bad Gateway"}))  # the viewer query
    assert post(github, event, body("new"), sleep=lambda s: None) == f"updated comment {earlier['id']}"


def test_a_post_answered_5xx_that_did_not_go_through_is_sent_again(github, event):
    github.queue.append(("POST", 502, {}, {"message": "Bad Gateway"}))
    status = post(github, event, body(), sleep=lambda s: None)
    assert status.startswith("created comment ") and len(github.comments) == 1 and len(creates(github)) == 2


def test_retries_never_sleep_past_the_deadline(github, event):
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    github.queue += [("GET", 503, {}, {"message": "down"})] * 6
    status = post(github, event, body(), sleep=sleep, clock=lambda: now[0], deadline=2.5)
    assert status == "warning: could not comment (503 Service Unavailable: down; no time left to retry within 2.5s)"
    assert sum(slept) < 2.5


def test_an_unexpected_answer_is_one_warning_never_a_traceback(github, event):
    github.add(BOT, body("old"))
    github.queue.append(("GET", 200, {}, {"not": "a list"}))
    assert post(github, event, body()) == "warning: could not comment (the comment list is not a list)"
    github.user = "a string, not a user"  # type: ignore[assignment]
    github.queue.append(("POST", 200, {}, {"data": None}))  # GraphQL's viewer without data
    assert post(github, event, body("new")).startswith("updated comment ")  # fell back to github-actions[bot]
