"""The sticky pull-request comment: create it once, then update that same comment.

Our comment is the first one whose body starts with the hidden marker AND whose author is
the Actions bot, so nobody can take it over by pasting the marker into their own comment.
Every failure (fork or read-only token: 403, network, timeout) becomes a one-line warning
status; the gate's verdict never depends on the comment. The token is only ever sent in
the Authorization header, to the API host, and never appears in a status.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

import requests

from lambda_glibc_gate.render.markdown import comment_marker

PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")
BOT_LOGIN = "github-actions[bot]"
MAX_BODY = 65_000  # GitHub refuses bodies over 65,536 characters; keep a margin
MAX_PAGES = 50  # 5,000 comments: enough for any real pull request, and a bound
CUT_NOTE = "\n\n… (cut to fit GitHub's comment size limit; the job summary has everything)\n"
_REPOSITORY = re.compile(r"^[A-Za-z0-9-]+/(?!\.\.?$)[A-Za-z0-9_.-]+$")
_HINTS = {
    403: "the token cannot write comments: grant `pull-requests: write`; "
    "pull requests from forks only get a read-only token",
    404: "pull request not found, or the token cannot see the repository",
}


class _CommentError(Exception):
    """A reason to give up, already phrased for the status line."""


def fit_body(body: str, marker: str = comment_marker(), limit: int = MAX_BODY) -> str:
    """The body with the marker first, cut (with a note) to at most `limit` characters."""
    if not body.startswith(marker + "\n"):
        body = f"{marker}\n{body}"
    if len(body) <= limit:
        return body
    return body[: limit - len(CUT_NOTE)] + CUT_NOTE


def _is_ours(comment: Any, bot_login: str, marker: str) -> bool:
    """Written by the bot, and its first line(s) are exactly our marker (same key, or none)."""
    if not isinstance(comment, dict):
        return False
    user = comment.get("user") or {}
    body = comment.get("body")
    if not (isinstance(user, dict) and user.get("type") == "Bot" and user.get("login") == bot_login):
        return False
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


class _Api:
    """Just the three REST calls, with a timeout on each and errors turned into _CommentError."""

    def __init__(self, api_url: str, token: str, timeout: float) -> None:
        self.base = api_url.rstrip("/")
        self.origin = urlsplit(self.base)[:2]  # scheme and host the token may be sent to
        self.timeout = timeout
        self.session = requests.Session()
        self.session.trust_env = False  # no netrc/proxy credentials mixed into our requests
        self.session.headers.update(
            {
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "lambda-glibc-gate",
            }
        )

    def call(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        if urlsplit(url)[:2] != self.origin:
            raise _CommentError("the API pointed to another host; not following it")
        try:
            response = self.session.request(method, url, timeout=self.timeout, allow_redirects=False, **kwargs)
        except requests.Timeout:
            raise _CommentError(f"{method} timed out after {self.timeout:g}s") from None
        except requests.RequestException as error:
            raise _CommentError(f"network error: {type(error).__name__}") from None
        if response.status_code >= 300:
            raise _CommentError(self._describe(response))
        return response

    @staticmethod
    def _describe(response: requests.Response) -> str:
        try:
            detail = response.json().get("message", "")
        except (ValueError, AttributeError):
            detail = ""
        text = f"{response.status_code} {response.reason or ''}".strip()
        if detail:
            text += f": {detail}"
        hint = _HINTS.get(response.status_code)
        return f"{text}; {hint}" if hint else text

    def json(self, response: requests.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise _CommentError("the API answered with something that is not JSON") from None

    def find_ours(self, repository: str, number: int, bot_login: str, marker: str) -> dict[str, Any] | None:
        url: str | None = f"{self.base}/repos/{repository}/issues/{number}/comments?per_page=100"
        for _ in range(MAX_PAGES):
            if url is None:
                return None
            response = self.call("GET", url)
            page = self.json(response)
            if not isinstance(page, list):
                raise _CommentError("the comment list is not a list")
            for comment in page:
                if _is_ours(comment, bot_login, marker):
                    return comment
            url = response.links.get("next", {}).get("url")
        return None


def post_or_update(
    body: str,
    token: str,
    api_url: str,
    repository: str,
    event_path: str,
    event_name: str,
    *,
    timeout: float = 10.0,
    bot_login: str = BOT_LOGIN,
    key: str | None = None,
) -> str:
    """Create or update our sticky comment on the pull request; a one-line status, never raises.

    "created comment 123" | "updated comment 123" | "comment unchanged" |
    "skipped: not a pull request" | "warning: could not comment (...)".
    `key` (the same as given to render_comment) keeps one comment per job or matrix leg.
    """
    if event_name not in PULL_REQUEST_EVENTS:
        return "skipped: not a pull request"
    try:
        if not token:
            raise _CommentError("no token: pass `github-token`")
        if not _REPOSITORY.match(repository or ""):
            raise _CommentError("GITHUB_REPOSITORY is not owner/name")
        number = _pull_request_number(event_path)
        api = _Api(api_url or "https://api.github.com", token, timeout)
        marker = comment_marker(key)
        body = fit_body(body, marker)
        ours = api.find_ours(repository, number, bot_login, marker)
        if ours is not None:
            comment_id = ours.get("id")
            if not isinstance(comment_id, int):
                raise _CommentError("our earlier comment has no id")
            if _same(ours.get("body", ""), body):
                return "comment unchanged"
            api.call(
                "PATCH",
                f"{api.base}/repos/{repository}/issues/comments/{comment_id}",
                json={"body": body},
            )
            return f"updated comment {comment_id}"
        created = api.json(
            api.call(
                "POST",
                f"{api.base}/repos/{repository}/issues/{number}/comments",
                json={"body": body},
            )
        )
        new_id = created.get("id") if isinstance(created, dict) else None
        return f"created comment {new_id}"
    except _CommentError as error:
        status = f"warning: could not comment ({_one_line(str(error))})"
    except Exception as error:  # the comment must never fail the gate
        status = f"warning: could not comment (unexpected {type(error).__name__})"
    return status.replace(token, "***") if token else status
