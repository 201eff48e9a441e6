"""The trigger bundle of one webhook request: body fields, then the query string (which wins on
a name clash, as in Make), then the request headers and method when the webhook passes them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from scenarist_trigger.parsers import MAX_FIELDS, Parsed, bad_body

HEADERS_KEY = "__IMTHEADERS__"  # Make's names, so imported blueprints map the same fields
METHOD_KEY = "__IMTMETHOD__"
# Credentials never enter a bundle: bundles are shown in the execution history.
_SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "x-make-apikey", "x-api-key"}
)


def query_fields(query: str) -> dict[str, Any]:
    try:
        pairs = parse_qsl(query, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError as exc:
        raise bad_body(f"invalid query string: {exc}") from None
    fields: dict[str, Any] = {}
    for name, value in pairs:
        previous = fields.get(name)
        if previous is None:
            fields[name] = value
        elif isinstance(previous, list):
            previous.append(value)
        else:
            fields[name] = [previous, value]
    return fields


def build_bundle(
    parsed: Parsed,
    query: str,
    headers: Iterable[tuple[str, str]],
    method: str,
    *,
    pass_headers: bool,
    pass_method: bool,
    secret_headers: Iterable[str] = (),
) -> dict[str, Any]:
    bundle = dict(parsed.data)
    bundle.update(query_fields(query))
    if pass_headers:
        hidden = _SECRET_HEADERS | {h.lower() for h in secret_headers}
        bundle[HEADERS_KEY] = [
            {"name": name, "value": value} for name, value in headers if name.lower() not in hidden
        ]
    if pass_method:
        bundle[METHOD_KEY] = method
    return bundle
