"""GitHub issues: ``github:CreateIssue``, ``github:SearchIssues``, ``github:WatchIssues``.

REST v3 shapes: errors are ``{"message", "documentation_url"}`` (422 adds ``errors``), pages are
linked with ``Link: <...>; rel="next"``, and rate limits come as 403/429 with
``x-ratelimit-remaining: 0`` + ``x-ratelimit-reset`` or (secondary limits) ``Retry-After``.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import aclosing
from typing import Any, cast

from scenarist_connector_sdk import (
    ActionContext,
    AppSpec,
    ConnectionTest,
    ConnectionTypeSpec,
    Connector,
    FieldSpec,
    FieldType,
    HttpResponse,
    Option,
    errors,
)
from scenarist_connector_sdk.http import retry_after_seconds
from scenarist_connector_sdk.pagination import by_link_header
from scenarist_connector_sdk.polling import poll_fields, poll_limit, poll_result, starts_now

from scenarist_connectors._api import base_url, base_url_field, check, json_body

__all__ = ["connector"]

API = "https://api.github.com"
HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}

connector = Connector(
    AppSpec(
        "github",
        "1.0.0",
        "GitHub",
        "Create, search and watch issues.",
        connection_types=(
            ConnectionTypeSpec(
                "bearer",
                "Personal access token or app installation token",
                (
                    FieldSpec("token", FieldType.TEXT, "Token", required=True, secret=True),
                    base_url_field(API),
                ),
            ),
        ),
        connection_test=ConnectionTest("/user", API, account_field="login"),
    )
)

ISSUE = [
    FieldSpec("id", FieldType.INTEGER, "ID"),
    FieldSpec("number", FieldType.INTEGER, "Number"),
    FieldSpec("title", FieldType.TEXT, "Title"),
    FieldSpec("body", FieldType.TEXT, "Body"),
    FieldSpec("state", FieldType.TEXT, "State"),
    FieldSpec("html_url", FieldType.URL, "URL"),
    FieldSpec("user", FieldType.COLLECTION, "Author", fields=(FieldSpec("login"),)),
    FieldSpec("labels", FieldType.ARRAY, "Labels", fields=(FieldSpec("name"),)),
    FieldSpec("created_at", FieldType.DATE, "Created"),
    FieldSpec("updated_at", FieldType.DATE, "Updated"),
]
_REPO = [
    FieldSpec("owner", FieldType.TEXT, "Owner", required=True),
    FieldSpec("repo", FieldType.TEXT, "Repository", required=True),
]


def _rate_limited(response: HttpResponse) -> float | None:
    """Seconds to wait when a 403/429 is a rate limit rather than a refusal, else None."""
    if response.status_code not in (403, 429):
        return None
    retry = retry_after_seconds(response.headers.get("retry-after"))
    if retry is not None:
        return retry
    if response.headers.get("x-ratelimit-remaining") == "0":
        reset = response.headers.get("x-ratelimit-reset", "")
        return max(0.0, float(reset) - time.time()) if reset.isdigit() else 60.0
    return 60.0 if response.status_code == 429 else None


def _checked(response: HttpResponse) -> Any:
    wait = _rate_limited(response)
    if wait is not None:
        body = json_body(response)
        message = body.get("message", "") if isinstance(body, dict) else ""
        raise errors.RateLimitError(
            f"GitHub: {message or 'rate limited'} (HTTP {response.status_code})",
            retry_after=wait,
            status_code=response.status_code,
        )
    return check(response, "GitHub", _message)


def _message(body: Any) -> str:
    text = str(body.get("message") or "")
    details = [str(e.get("message") or e.get("code")) for e in body.get("errors") or []]
    return "; ".join([text, *details]) if details else text


@connector.action(
    "CreateIssue",
    label="Create an issue",
    connection_required=True,
    inputs=[
        *_REPO,
        FieldSpec("title", FieldType.TEXT, "Title", required=True),
        FieldSpec("body", FieldType.TEXT, "Body"),
        FieldSpec("labels", FieldType.ARRAY, "Labels", fields=(FieldSpec("name"),)),
        FieldSpec("assignees", FieldType.ARRAY, "Assignees (logins)"),
    ],
    outputs=ISSUE,
)
async def create_issue(ctx: ActionContext, inputs: dict[str, Any]) -> list[dict[str, Any]]:
    payload: dict[str, Any] = {"title": inputs["title"]}
    if inputs.get("body"):
        payload["body"] = inputs["body"]
    for name in ("labels", "assignees"):
        if inputs.get(name):
            payload[name] = [_name(item) for item in inputs[name]]
    url = f"{base_url(ctx, API)}/repos/{inputs['owner']}/{inputs['repo']}/issues"
    return [_checked(await ctx.http.post(url, json=payload, headers=HEADERS))]


def _name(item: Any) -> str:
    return str(item.get("name")) if isinstance(item, dict) else str(item)


@connector.search(
    "SearchIssues",
    label="Search issues",
    description="GitHub's issue search syntax (repo:o/r is:open label:bug ...), all pages.",
    connection_required=True,
    max_results=1000,
    inputs=[
        FieldSpec("q", FieldType.TEXT, "Query", required=True),
        FieldSpec(
            "sort",
            FieldType.SELECT,
            "Sort",
            options=tuple(Option(v) for v in ("", "comments", "created", "updated")),
        ),
        FieldSpec("order", FieldType.SELECT, "Order", options=(Option("desc"), Option("asc"))),
        FieldSpec("limit", FieldType.INTEGER, "Maximum number of results", default=100),
    ],
    outputs=ISSUE,
)
async def search_issues(ctx: ActionContext, inputs: dict[str, Any]) -> AsyncIterator[Any]:
    params = {"q": str(inputs["q"]), "per_page": "100"}
    for name in ("sort", "order"):
        if inputs.get(name):
            params[name] = str(inputs[name])

    def items(response: HttpResponse) -> Sequence[Any]:
        return list(_checked(response).get("items") or [])

    url = f"{base_url(ctx, API)}/search/issues"
    async for issue in by_link_header(ctx.http, url, items, params=params, headers=HEADERS):
        yield issue


def _split(cursor: str) -> tuple[str, set[int]]:
    """``"<updated_at>|<id>,<id>"``: the last emitted timestamp and the ids emitted at it."""
    stamp, _, ids = cursor.partition("|")
    return stamp, {int(i) for i in ids.split(",") if i.isdigit()}


def _join(stamp: str, ids: set[int]) -> str:
    # "|" (not ""): polled an empty repository; the next poll takes every issue from the start.
    return f"{stamp}|{','.join(str(i) for i in sorted(ids))}"


@connector.trigger(
    "WatchIssues",
    label="Watch issues",
    description="Polls a repository's issues by updated time (since=cursor); pull requests "
    "are skipped. 'new' emits issues created since the last poll, 'updated' every change.",
    connection_required=True,
    inputs=poll_fields(
        *_REPO,
        FieldSpec(
            "watch",
            FieldType.SELECT,
            "Watch",
            options=(Option("new", "New issues"), Option("updated", "New and updated issues")),
            default="new",
        ),
    ),
    outputs=ISSUE,
)
async def watch_issues(ctx: ActionContext, inputs: dict[str, Any]) -> list[dict[str, Any]]:
    url = f"{base_url(ctx, API)}/repos/{inputs['owner']}/{inputs['repo']}/issues"
    if starts_now(inputs):
        params = {"state": "all", "sort": "updated", "direction": "desc", "per_page": "1"}
        latest = _checked(await ctx.http.get(url, params=params, headers=HEADERS))
        first = latest[0] if latest else None
        return poll_result([], _join(first["updated_at"], {first["id"]}) if first else "|")
    stamp, seen = _split(str(inputs.get("cursor") or ""))
    params = {"state": "all", "sort": "updated", "direction": "asc", "per_page": "100"}
    if stamp:
        params["since"] = stamp

    def items(response: HttpResponse) -> Sequence[Any]:
        return list(_checked(response))

    emitted: list[dict[str, Any]] = []
    position = (stamp, set(seen))
    limit, only_new = poll_limit(inputs), inputs.get("watch", "new") == "new"
    pages = cast(
        "AsyncGenerator[Any, None]",
        by_link_header(ctx.http, url, items, params=params, headers=HEADERS),
    )
    async with aclosing(pages):
        async for issue in pages:
            when, ident = str(issue["updated_at"]), int(issue["id"])
            if when < stamp or (when == stamp and ident in seen):
                continue  # emitted by an earlier poll: since= is inclusive
            position = (when, {*position[1], ident} if when == position[0] else {ident})
            if _wanted(issue, stamp, seen, only_new):
                emitted.append(issue)
                if len(emitted) >= limit:
                    break
    return poll_result(emitted, _join(*position))


def _wanted(issue: dict[str, Any], stamp: str, seen: set[int], only_new: bool) -> bool:
    if "pull_request" in issue:
        return False
    created = str(issue.get("created_at") or "")
    return not only_new or created > stamp or (created == stamp and int(issue["id"]) not in seen)
