"""RFC 9457 problem details: every refusal of the ingress is one of these: a 4xx for anything
the caller sent, 503 only when a dependency is down."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import orjson
from starlette.responses import Response

PROBLEM_TYPE_BASE = "https://scenarist.dev/problems/"
MEDIA_TYPE = "application/problem+json"


class Problem(Exception):  # noqa: N818 - RFC 9457's name for it
    """A refusal: raised anywhere in the ingress, answered by `problem_response`."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str,
        *,
        errors: Sequence[str] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        # 503 is the one server status: a dependency (Kafka, Postgres) is down, retry later.
        if not (400 <= status <= 499 or status == 503):
            raise ValueError("a problem is a client error (4xx) or 503")
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.errors = list(errors)
        self.headers = dict(headers or {})

    def body(self) -> dict[str, object]:
        body: dict[str, object] = {
            "type": PROBLEM_TYPE_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors:
            body["errors"] = self.errors
        return body


def problem_response(problem: Problem) -> Response:
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store", **problem.headers}
    return Response(
        orjson.dumps(problem.body()), problem.status, headers=headers, media_type=MEDIA_TYPE
    )


def not_found() -> Problem:
    # The same answer for unknown and deleted tokens: a URL's existence is not revealed.
    return Problem(404, "webhook-not-found", "Webhook not found", "no webhook has this URL")


def unauthorized(detail: str, *, basic: bool = False) -> Problem:
    headers = {"WWW-Authenticate": 'Basic realm="scenarist webhook"'} if basic else None
    return Problem(401, "unauthorized", "Unauthorized", detail, headers=headers)


def unavailable(detail: str) -> Problem:
    return Problem(
        503,
        "unavailable",
        "Service unavailable",
        detail,
        headers={"Retry-After": "5"},
    )
