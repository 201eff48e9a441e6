"""Turning MakeRequest's mapper into a request, and a response into Make's output bundle."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any

from scenarist_connector_sdk import ActionContext, HttpResponse, InvalidInputError

Bundle = dict[str, Any]

_TEXT_TYPES = re.compile(
    r"^(text/.*|application/(xml|javascript|x-www-form-urlencoded|x-ndjson)|.*\+xml)$"
)
_JSON_TYPES = re.compile(r"^(application/json|.*\+json|application/x-json|text/json)$")
_FILENAME = re.compile(r"""filename\*?=(?:UTF-8'')?"?([^";]+)"?""", re.IGNORECASE)


def pairs(value: Any, field: str) -> list[tuple[str, str]]:
    """Make's ``[{name, value}]`` arrays (headers, qs, form fields) as tuples."""
    if not value:
        return []
    if isinstance(value, Mapping):
        return [(str(k), _text(v)) for k, v in value.items()]
    if not isinstance(value, list):
        raise InvalidInputError(f"{field!r} must be a list of name/value pairs")
    out = []
    for item in value:
        if not isinstance(item, Mapping) or not item.get("name"):
            raise InvalidInputError(f"every item of {field!r} needs a name")
        out.append((str(item["name"]), _text(item.get("value"))))
    return out


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return (
        value
        if isinstance(value, str)
        else json.dumps(value)
        if isinstance(value, dict | list)
        else str(value)
    )


def _decode_file(item: Mapping[str, Any]) -> tuple[str, tuple[str | None, bytes, str | None]]:
    data = item.get("data")
    if isinstance(data, bytes):
        raw = data
    else:
        try:
            raw = base64.b64decode(str(data or ""), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidInputError(f"file {item.get('name')!r}: data is not base64") from exc
    mime = str(item.get("mimeType") or "application/octet-stream")
    return str(item.get("name")), (str(item.get("fileName") or "file"), raw, mime)


def body(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments for ``SafeHttpClient.request`` carrying the body, per ``bodyType``."""
    kind = inputs.get("bodyType") or ""
    data = inputs.get("data")
    if kind == "raw":
        content = data if isinstance(data, str | bytes) else _text(data)
        return {"content": content, "headers": {"Content-Type": str(inputs.get("contentType"))}}
    if kind == "json":
        if isinstance(data, str):  # JSON text typed by hand: sent as written, checked first
            try:
                json.loads(data)
            except ValueError as exc:
                raise InvalidInputError(f"'data' is not valid JSON: {exc}") from exc
            return {"content": data, "headers": {"Content-Type": "application/json"}}
        return {"json": data}
    if kind == "x_www_form_urlencoded":
        return {"data": dict(pairs(inputs.get("formFields"), "formFields"))}
    if kind == "multipart_form_data":
        files = [
            _decode_file(item) for item in inputs.get("files") or [] if isinstance(item, Mapping)
        ]
        return {"data": dict(pairs(inputs.get("formFields"), "formFields")), "files": files or None}
    return {}


def _headers(response: HttpResponse) -> dict[str, str]:
    merged: dict[str, str] = {}
    for name, value in response.headers.multi_items():
        key = name.lower()
        merged[key] = f"{merged[key]}, {value}" if key in merged else value
    return merged


def is_textual(content_type: str) -> bool:
    return bool(_TEXT_TYPES.match(content_type) or _JSON_TYPES.match(content_type))


def bundle(response: HttpResponse, *, parse: bool) -> Bundle:
    """Make's output: ``{statusCode, headers, data}``, plus file details for binary bodies."""
    out: Bundle = {"statusCode": response.status_code, "headers": _headers(response)}
    kind = response.content_type
    out["contentType"] = kind
    if not response.content:
        out["data"] = ""
    elif kind and not is_textual(kind):
        out.update(_binary(response))
    elif parse and _JSON_TYPES.match(kind):
        out["data"] = response.json()
    else:
        out["data"] = response.text
    return out


def _binary(response: HttpResponse) -> Bundle:
    disposition = response.headers.get("content-disposition", "")
    found = _FILENAME.search(disposition)
    name = found.group(1) if found else response.url.rstrip("/").rsplit("/", 1)[-1].split("?")[0]
    return {
        "data": base64.b64encode(response.content).decode(),
        "fileSize": len(response.content),
        "fileName": name,
    }


def dig(value: Any, path: str) -> Any:
    """``a.b.0.c`` into nested collections and arrays; ``None`` when any step is missing."""
    for step in (s for s in path.split(".") if s):
        if isinstance(value, Mapping):
            value = value.get(step)
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            return None
    return value


def log_line(ctx: ActionContext, method: str, url: str, response: HttpResponse) -> None:
    # DEBUG: a line per outbound call is an access log the run history already holds, and it
    # cost a tenth of the gateway's CPU per call at INFO.
    ctx.logger.debug("%s %s -> %s", method.upper(), url, response.status_code)
