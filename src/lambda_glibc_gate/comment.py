"""The sticky pull-request comment: create it once, then update that same comment.

Our comment is the first one whose body starts with the hidden marker AND whose author is
the account the token acts as, so nobody can take it over by pasting the marker into their own
comment. That author is learnt only when a comment with our marker exists (see _Identity).
Every failure (fork or read-only token: 403, rate limit, network, timeout) becomes a one-line
warning status; the gate's verdict never depends on the comment. The token is only ever sent
in the Authorization header, to the API host, and never appears in a status.

The whole operation has one deadline: each request has a socket timeout, and a watchdog shuts
the sockets down when the deadline passes, so a server trickling one byte every few seconds
(headers or body) cannot hold the job. Bodies are bounded; 5xx and rate limits are retried
with backoff, as long as the deadline allows.
"""

from __future__ import annotations

import email.utils
import json
import random
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from lambda_glibc_gate.render.markdown import comment_marker

PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")
BOT_LOGIN = "github-actions[bot]"  # the author of comments made with the default GITHUB_TOKEN
MAX_BODY = 65_000  # GitHub refuses bodies over 65,536 characters; keep a margin
MAX_PAGES = 50  # 5,000 comments: enough for any real pull request, and a bound
DEADLINE = 60.0  # seconds for the whole comment operation, retries included
REQUEST_TIMEOUT = 10.0  # seconds to connect, and for each socket read
MAX_RESPONSE = 8 * 1024 * 1024  # bytes of one response body
PER_PAGE = 100  # the API's maximum; 100 comments of 65,536 characters can exceed MAX_RESPONSE,
SMALL_PAGE = 20  # ... so such a page is asked again 20 at a time (at most ~5 MiB)
MAX_ATTEMPTS = 3  # per request: the first try and two retries (after ~1 s and ~2 s)
BACKOFF = 1.0  # seconds before the first retry; doubled each time, plus jitter
CUT_NOTE = "\n\n… (cut to fit GitHub's comment size limit; the job summary has everything)\n"
_REPOSITORY = re.compile(r"^[A-Za-z0-9-]+/(?!\.\.?$)[A-Za-z0-9_.-]+$")
_HINTS = {
    401: "the token is invalid or expired",
    403: "the token cannot write comments: grant `pull-requests: write`; "
    "pull requests from forks only get a read-only token",
    404: "pull request not found, or the token cannot see the repository",
}


class _CommentError(Exception):
    """A reason to give up, already phrased for the status line."""


class _HttpError(_CommentError):
    def __init__(self, text: str, status: int, rate_limited: bool = False) -> None:
        super().__init__(text)
        self.status = status
        self.rate_limited = rate_limited


class _MaybeDone(_HttpError):
    """A 5xx answer to a POST: the comment may have been created all the same."""


class _TooLarge(_CommentError):
    """An answer over MAX_RESPONSE bytes."""


def fit_body(body: str, marker: str = comment_marker(), limit: int = MAX_BODY) -> str:
    """The body with the marker first, cut (with a note) to at most `limit` characters."""
    if not body.startswith(marker + "\n"):
        body = f"{marker}\n{body}"
    if len(body) <= limit:
        return body
    return body[: limit - len(CUT_NOTE)] + CUT_NOTE


@dataclass(frozen=True)
class _Identity:
    """The account the token acts as: its comments are authored by `login` of `type`."""

    login: str
    type: str  # "User" or "Bot", as in a comment's `user.type`

    def wrote(self, user: Any) -> bool:
        return (
            isinstance(user, dict)
            and isinstance(user.get("login"), str)
            and user["login"].casefold() == self.login.casefold()  # logins are case-insensitive
            and user.get("type") == self.type
        )


def _has_marker(comment: Any, marker: str) -> bool:
    """Its first line(s) are exactly our marker (same key, or none)."""
    body = comment.get("body") if isinstance(comment, dict) else None
    if not isinstance(body, str):
        return False
    lines = body.replace("\r\n", "\n").split("\n")
    wanted = marker.split("\n")
    if lines[: len(wanted)] != wanted:
        return False
    # Without a key, a keyed comment (another matrix leg's) is not ours either.
    following = lines[len(wanted)] if len(lines) > len(wanted) else ""
    return not following.startswith("<!-- lambda-glibc-gate key=")


def _same(a: str, b: str) -> bool:
    """Equal as GitHub stores them (it may turn \\n into \\r\\n)."""
    return a.replace("\r\n", "\n").rstrip() == b.replace("\r\n", "\n").rstrip()


def _pull_request_number(event_path: str) -> int:
    try:
        with open(event_path, encoding="utf-8") as handle:
            event = json.load(handle)
    except (OSError, ValueError) as error:
        raise _CommentError(f"cannot read the event payload: {type(error).__name__}") from None
    number = event.get("number") if isinstance(event, dict) else None
    if number is None and isinstance(event, dict):
        number = (event.get("pull_request") or {}).get("number")
    if not isinstance(number, int) or isinstance(number, bool) or number <= 0:
        raise _CommentError("the event payload has no pull request number")
    return number


def _one_line(text: str, limit: int = 200) -> str:
    text = re.sub(r"\s+", " ", str(text)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _graphql_url(api_base: str) -> str:
    """GitHub's GraphQL endpoint beside the REST one: /graphql, or /api/graphql on GHES."""
    if api_base.endswith("/api/v3"):
        return api_base[: -len("v3")] + "graphql"
    return api_base + "/graphql"


# -- the deadline: a watchdog that shuts our sockets down --------------------------------------


class _Watchdog:
    """Shuts down every socket of one session when the deadline passes.

    A socket read timeout bounds each recv, not a response: a server sending one byte every
    few seconds never trips it, in the headers (which requests reads before returning) or the
    body. Shutting the socket down makes the blocked read return at once.
    """

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(seconds, 0.0), self.fire)
        self._timer.daemon = True

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.cancel()

    def track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self.fired:
                self._shut(sock)

    def fire(self) -> None:
        with self._lock:
            self.fired = True
            for sock in self._sockets:
                self._shut(sock)

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        try:  # the plain socket's shutdown: for TLS too, without touching the SSL object
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except (OSError, ValueError):
            pass


def _watched_adapter(watchdog: _Watchdog) -> HTTPAdapter:
    """An adapter whose connections hand their socket to the watchdog once connected."""

    def connection(base: type[HTTPConnection]) -> type[HTTPConnection]:
        class Watched(base):  # type: ignore[valid-type, misc]
            def connect(self) -> None:
                super().connect()
                watchdog.track(self.sock)

        return Watched

    pools = {
        "http": type("WatchedPool", (HTTPConnectionPool,), {"ConnectionCls": connection(HTTPConnection)}),
        "https": type("WatchedPool", (HTTPSConnectionPool,), {"ConnectionCls": connection(HTTPSConnection)}),
    }

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = pools

    return Adapter(max_retries=0)


# -- one answer, rate limits, retries ----------------------------------------------------------


@dataclass
class _Answer:
    status: int
    headers: Any  # requests' case-insensitive dict
    content: bytes
    links: dict[str, Any]
    reason: str = ""

    def json(self) -> Any:
        try:
            return json.loads(self.content)
        except ValueError:
            raise _CommentError("the API answered with something that is not JSON") from None

    def message(self) -> str:
        try:
            payload = json.loads(self.content)
        except ValueError:
            return ""
        message = payload.get("message") if isinstance(payload, dict) else None
        return message if isinstance(message, str) else ""


def _rate_limited(answer: _Answer) -> bool:
    """A 429, or a 403 that is a rate limit rather than a missing permission.

    GitHub answers an exceeded primary rate limit with 403 or 429 and `x-ratelimit-remaining: 0`,
    a secondary one with 403 or 429 and a message about a secondary rate limit, often with
    `retry-after` (docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api,
    "Exceeding the rate limit"). A permission 403 has none of these.
    """
    if answer.status == 429:
        return True
    if answer.status != 403:
        return False
    return (
        answer.headers.get("x-ratelimit-remaining") == "0"
        or "retry-after" in answer.headers
        or "rate limit" in answer.message().lower()
    )


def _rate_limit_wait(answer: _Answer, now: float) -> float:
    """Seconds GitHub asks us to wait, by the same doc: retry-after (seconds or an HTTP date),
    else x-ratelimit-reset (epoch seconds) when nothing remains, else at least one minute."""
    retry_after = (answer.headers.get("retry-after") or "").strip()
    if retry_after:
        if retry_after.isdigit():
            return float(retry_after)
        try:
            return max(email.utils.parsedate_to_datetime(retry_after).timestamp() - now, 0.0)
        except (TypeError, ValueError, OverflowError):
            pass
    reset = (answer.headers.get("x-ratelimit-reset") or "").strip()
    if answer.headers.get("x-ratelimit-remaining") == "0" and reset.isdigit():
        return max(float(reset) - now, 0.0)
    return 60.0


def _describe(answer: _Answer, rate_limited: bool) -> str:
    text = f"{answer.status} {answer.reason or ''}".strip()
    detail = answer.message()
    if detail:
        text += f": {detail}"
    if rate_limited:
        return f"{text}; rate limited by GitHub (not a permission problem): try again later"
    hint = _HINTS.get(answer.status)
    return f"{text}; {hint}" if hint else text


class _Api:
    """The REST calls, each bounded in time and size, retried where GitHub says it is safe."""

    def __init__(
        self,
        api_url: str,
        token: str,
        timeout: float,
        deadline: float,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
    ) -> None:
        self.base = api_url.rstrip("/")
        self.origin = urlsplit(self.base)[:2]  # scheme and host the token may be sent to
        self.timeout = timeout
        self.budget = deadline
        self.sleep = sleep
        self.clock = clock
        self.ends = clock() + deadline
        self.watchdog = _Watchdog(deadline)
        self.session = requests.Session()
        self.session.trust_env = False  # no netrc/proxy credentials mixed into our requests
        adapter = _watched_adapter(self.watchdog)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update(
            {
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "lambda-glibc-gate",
            }
        )
        self._identity: _Identity | None = None

    def __enter__(self) -> _Api:
        self.watchdog.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.watchdog.stop()
        self.session.close()

    # - time -

    def left(self) -> float:
        return self.ends - self.clock()

    def _late(self) -> _CommentError:
        return _CommentError(f"gave up after {self.budget:g}s: the API answered too slowly")

    def backoff(self, attempt: int, because: str, at_least: float = 0.0) -> None:
        """Sleep 1, 2, 4 … s plus jitter (or what GitHub asked for); never past the deadline."""
        wait = max(at_least, BACKOFF * 2**attempt + random.uniform(0, BACKOFF))
        if wait >= self.left():
            raise _CommentError(f"{because}; no time left to retry within {self.budget:g}s")
        self.sleep(wait)

    # - one request -

    def call(self, method: str, url: str, payload: Any = None, *, idempotent: bool | None = None) -> _Answer:
        """One request with retries: 5xx and 429 / rate-limit 403, while the deadline allows.

        A rate-limited request was refused, so it is always safe to send again; after a 5xx
        only an idempotent one is (a POST that creates a comment is not: _MaybeDone).
        """
        idempotent = method != "POST" if idempotent is None else idempotent
        for attempt in range(MAX_ATTEMPTS):
            answer = self._once(method, url, payload)
            if answer.status < 300:
                return answer
            limited = _rate_limited(answer)
            text = _describe(answer, limited)
            last = attempt == MAX_ATTEMPTS - 1
            if limited:
                wait = _rate_limit_wait(answer, time.time())
                if last or wait >= self.left():
                    raise _HttpError(f"{text} (GitHub asks to wait {wait:.0f}s)", answer.status, True)
                self.sleep(wait)
            elif answer.status >= 500:
                if not idempotent or last:
                    raise (_HttpError if idempotent else _MaybeDone)(text, answer.status)
                asked = _rate_limit_wait(answer, time.time()) if "retry-after" in answer.headers else 0.0
                self.backoff(attempt, text, asked)
            else:
                raise _HttpError(text, answer.status)
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(self, method: str, url: str, payload: Any) -> _Answer:
        if urlsplit(url)[:2] != self.origin:
            raise _CommentError("the API pointed to another host; not following it")
        left = self.left()
        if left <= 0 or self.watchdog.fired:
            raise self._late()
        wait = min(self.timeout, left)
        try:
            response = self.session.request(
                method, url, json=payload, timeout=(wait, wait), allow_redirects=False, stream=True
            )
            try:
                content = self._read(response)
            finally:
                response.close()
        except requests.Timeout:
            if self.left() <= 0:
                raise self._late() from None
            raise _CommentError(f"{method} timed out after {wait:g}s") from None
        except requests.RequestException as error:
            if self.watchdog.fired or self.left() <= 0:
                raise self._late() from None
            raise _CommentError(f"network error: {type(error).__name__}") from None
        if self.watchdog.fired:  # cut short mid-headers, it can look whole: never trust it
            raise self._late()
        return _Answer(response.status_code, response.headers, content, response.links, response.reason or "")

    def _read(self, response: requests.Response) -> bytes:
        """The body, streamed: at most MAX_RESPONSE bytes, and not past the deadline."""
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_RESPONSE:
            raise _TooLarge(f"the API answer is larger than {MAX_RESPONSE} bytes")
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(chunk_size=64 * 1024):
            size += len(chunk)
            if size > MAX_RESPONSE:
                raise _TooLarge(f"the API answer is larger than {MAX_RESPONSE} bytes")
            if self.left() <= 0:
                raise self._late()
            chunks.append(chunk)
        return b"".join(chunks)

    # - who we are -

    def identity(self) -> _Identity:
        """The author of the comments this token writes.

        - Personal (ghp_, github_pat_) and OAuth / user-to-server tokens: `GET /user` gives
          the login (docs: REST "Get the authenticated user").
        - Installation tokens (ghs_: the default GITHUB_TOKEN, a GitHub App's token) get
          403 "Resource not accessible by integration" there, and `GET /app` needs the app's
          JWT. GraphQL `viewer { login }` does answer them with the app's bot login
          ("<slug>[bot]", the `user.login` of the comments it writes; the docs: "API requests
          made by an app installation are attributed to the app"). When that fails too, the
          author is the default token's `github-actions[bot]`: a custom app then gets a new
          comment each run rather than any risk of editing someone else's.
        """
        if self._identity is None:
            self._identity = self._ask_identity()
        return self._identity

    def _ask_identity(self) -> _Identity:
        try:
            user = self.call("GET", f"{self.base}/user").json()
        except _HttpError as error:
            if error.rate_limited or error.status not in (401, 403, 404):
                raise
        else:
            if isinstance(user, dict) and isinstance(user.get("login"), str) and user["login"]:
                return _Identity(user["login"], "Bot" if user.get("type") == "Bot" else "User")
        try:
            query = {"query": "query { viewer { login } }"}
            reply = self.call("POST", _graphql_url(self.base), query, idempotent=True).json()
        except _HttpError as error:
            if error.rate_limited:
                raise
            reply = None
        login = ((reply or {}).get("data") or {}).get("viewer") if isinstance(reply, dict) else None
        login = login.get("login") if isinstance(login, dict) else None
        if isinstance(login, str) and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]*(\[bot\])?", login):
            return _Identity(login.removesuffix("[bot]") + "[bot]", "Bot")
        return _Identity(BOT_LOGIN, "Bot")

    # - the comments -

    def find_ours(self, repository: str, number: int, marker: str) -> dict[str, Any] | None:
        try:
            return self._find(repository, number, marker, PER_PAGE)
        except _TooLarge:  # a page of 100 long comments: ask again in smaller pages
            return self._find(repository, number, marker, SMALL_PAGE)

    def _find(self, repository: str, number: int, marker: str, per_page: int) -> dict[str, Any] | None:
        url: str | None = f"{self.base}/repos/{repository}/issues/{number}/comments?per_page={per_page}"
        for _ in range(MAX_PAGES * PER_PAGE // per_page):
            if url is None:
                return None
            answer = self.call("GET", url)
            page = answer.json()
            if not isinstance(page, list):
                raise _CommentError("the comment list is not a list")
            for comment in page:
                # Who we are is asked only once a comment carries our marker.
                if _has_marker(comment, marker) and self.identity().wrote(comment.get("user")):
                    return comment
            url = answer.links.get("next", {}).get("url")
        return None


def _upsert(api: _Api, repository: str, number: int, marker: str, body: str) -> str:
    for attempt in range(2):
        ours = api.find_ours(repository, number, marker)
        if ours is not None:
            comment_id = ours.get("id")
            if not isinstance(comment_id, int):
                raise _CommentError("our earlier comment has no id")
            if _same(ours.get("body", ""), body):
                return "comment unchanged" if attempt == 0 else f"created comment {comment_id}"
            api.call("PATCH", f"{api.base}/repos/{repository}/issues/comments/{comment_id}", {"body": body})
            return f"updated comment {comment_id}"
        try:
            created = api.call("POST", f"{api.base}/repos/{repository}/issues/{number}/comments", {"body": body})
        except _MaybeDone:
            if attempt:
                raise
            api.backoff(0, "the API failed while creating the comment")  # then look again: it may exist
            continue
        new = created.json()
        return f"created comment {new.get('id') if isinstance(new, dict) else None}"
    raise AssertionError("unreachable")  # pragma: no cover


def post_or_update(
    body: str,
    token: str,
    api_url: str,
    repository: str,
    event_path: str,
    event_name: str,
    *,
    timeout: float = REQUEST_TIMEOUT,
    deadline: float = DEADLINE,
    key: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> str:
    """Create or update our sticky comment on the pull request; a one-line status, never raises.

    "created comment 123" | "updated comment 123" | "comment unchanged" |
    "skipped: not a pull request" | "warning: could not comment (...)".
    `key` (the same as given to render_comment) keeps one comment per job or matrix leg.
    `timeout` bounds connecting and each socket read; `deadline` the whole operation.
    """
    if event_name not in PULL_REQUEST_EVENTS:
        return "skipped: not a pull request"
    try:
        if not token:
            raise _CommentError("no token: pass `github-token`")
        if not _REPOSITORY.match(repository or ""):
            raise _CommentError("GITHUB_REPOSITORY is not owner/name")
        number = _pull_request_number(event_path)
        marker = comment_marker(key)
        body = fit_body(body, marker)
        with _Api(api_url or "https://api.github.com", token, timeout, deadline, sleep, clock) as api:
            return _upsert(api, repository, number, marker, body)
    except _CommentError as error:
        status = f"warning: could not comment ({_one_line(str(error))})"
    except Exception as error:  # the comment must never fail the gate
        status = f"warning: could not comment (unexpected {type(error).__name__})"
    return status.replace(token, "***") if token else status
