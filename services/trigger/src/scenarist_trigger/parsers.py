"""Request bodies to bundle data, by declared media type.

The parser is picked from the declared Content-Type alone among a closed list, and only the
multipart parser can produce files: a JSON (or any other) body whose fields *look* like uploads
stays plain data (CVE-2026-21858). Files become references with their content inline as base64
(a claim check will replace it); a client-supplied filename is reduced to its last path segment.
"""

from __future__ import annotations

import base64
import hashlib
import posixpath
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl
from xml.etree.ElementTree import Element, ParseError

import orjson
from defusedxml import DefusedXmlException  # type: ignore[import-untyped]
from defusedxml.ElementTree import fromstring as xml_fromstring  # type: ignore[import-untyped]
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from scenarist_trigger.problems import Problem

MAX_FIELDS = 1000
JsonObject = dict[str, Any]


@dataclass
class Parsed:
    data: JsonObject
    # Field name -> the file reference (or list of them) put into `data` under that name: the
    # identity lets validation tell an upload from a look-alike value.
    files: dict[str, Any] = field(default_factory=dict)


def media_type(content_type: str) -> tuple[str, dict[str, str]]:
    raw_type, raw_params = parse_options_header(content_type)
    params = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw_params.items()}
    return raw_type.decode("latin-1").strip().lower(), params


def bad_body(detail: str) -> Problem:
    return Problem(400, "malformed-body", "Malformed body", detail)


def unsupported(kind: str) -> Problem:
    return Problem(
        415,
        "unsupported-media-type",
        "Unsupported media type",
        f"cannot accept a body of type {kind!r}; send JSON, form data, multipart, text or XML",
    )


def is_json(content_type: str) -> bool:
    kind, _ = media_type(content_type)
    return kind == "application/json" or kind.endswith("+json")


def parse_body(body: bytes, content_type: str, *, json_passthrough: bool, max_depth: int) -> Parsed:
    if not body:
        return Parsed({})
    kind, params = media_type(content_type)
    if kind == "application/json" or kind.endswith("+json"):
        if json_passthrough:
            return Parsed({"value": _text(body, "utf-8")})
        return Parsed(_as_object(parse_json(body, max_depth)))
    if kind == "application/x-www-form-urlencoded":
        return Parsed(parse_form(_text(body, params.get("charset", "utf-8"))))
    if kind == "multipart/form-data":
        return parse_multipart(body, params.get("boundary", ""))
    if kind in ("application/xml", "text/xml") or kind.endswith("+xml"):
        return Parsed(parse_xml(body, max_depth))
    if kind.startswith("text/"):
        return Parsed({"value": _text(body, params.get("charset", "utf-8"))})
    raise unsupported(kind or "(none)")


def _text(body: bytes, charset: str) -> str:
    try:
        return body.decode(charset)
    except LookupError:
        raise bad_body(f"unknown charset {charset[:40]!r}") from None
    except UnicodeDecodeError:
        raise bad_body(f"the body is not valid {charset[:40]}") from None


def _as_object(value: Any) -> JsonObject:
    # A bundle is an object; arrays and scalars travel under "value".
    return value if isinstance(value, dict) else {"value": value}


def parse_json(body: bytes, max_depth: int) -> Any:
    try:
        # orjson refuses nesting beyond 1024 itself, so parsing cannot exhaust the stack.
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise bad_body(f"invalid JSON: {exc}") from None
    if depth(value) > max_depth:
        raise bad_body(f"JSON nesting deeper than {max_depth} levels")
    return value


def depth(value: Any) -> int:
    """Nesting depth, iteratively (no recursion on attacker-shaped data)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


def _add(data: JsonObject, name: str, value: Any) -> None:
    # A repeated name becomes a list, as form submissions of multi-selects expect.
    if name not in data:
        data[name] = value
    elif isinstance(data[name], list) and getattr(data[name], "_repeated", False):
        data[name].append(value)
    else:
        data[name] = _Repeated([data[name], value])


class _Repeated(list[Any]):
    _repeated = True


def parse_form(text: str) -> JsonObject:
    try:
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError as exc:
        raise bad_body(f"invalid form data: {exc}") from None
    data: JsonObject = {}
    for name, value in pairs:
        _add(data, name, value)
    return {k: list(v) if isinstance(v, _Repeated) else v for k, v in data.items()}


@dataclass
class _Part:
    headers: dict[str, bytes] = field(default_factory=dict)
    chunks: list[bytes] = field(default_factory=list)


class _MultipartCollector:
    def __init__(self) -> None:
        self.parts: list[_Part] = []
        self._header_name = b""
        self._header_value = b""

    def on_part_begin(self) -> None:
        if len(self.parts) >= MAX_FIELDS:
            raise bad_body(f"more than {MAX_FIELDS} multipart parts")
        self.parts.append(_Part())

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        self.parts[-1].chunks.append(data[start:end])

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        name = self._header_name.decode("latin-1").strip().lower()
        self.parts[-1].headers[name] = self._header_value
        self._header_name = self._header_value = b""


def parse_multipart(body: bytes, boundary: str) -> Parsed:
    if not boundary or len(boundary) > 200:
        raise bad_body("multipart body without a valid boundary")
    collector = _MultipartCollector()
    callbacks: Any = {
        "on_part_begin": collector.on_part_begin,
        "on_part_data": collector.on_part_data,
        "on_header_field": collector.on_header_field,
        "on_header_value": collector.on_header_value,
        "on_header_end": collector.on_header_end,
    }
    try:
        parser = MultipartParser(boundary, callbacks)
        parser.write(body)
        parser.finalize()
    except (MultipartParseError, ValueError) as exc:
        raise bad_body(f"invalid multipart body: {exc}") from None
    return _collect_parts(collector.parts)


def _collect_parts(parts: list[_Part]) -> Parsed:
    parsed = Parsed({})
    uploads: dict[str, list[JsonObject]] = {}
    for part in parts:
        disposition, params = media_type(
            part.headers.get("content-disposition", b"").decode("latin-1")
        )
        name = params.get("name")
        if disposition != "form-data" or not name:
            continue
        content = b"".join(part.chunks)
        if "filename" in params:
            mime = part.headers.get("content-type", b"application/octet-stream")
            ref = file_reference(params["filename"], mime.decode("latin-1"), content)
            uploads.setdefault(name, []).append(ref)
        else:
            _add(parsed.data, name, content.decode("utf-8", "replace"))
    parsed.data = {k: list(v) if isinstance(v, _Repeated) else v for k, v in parsed.data.items()}
    for name, refs in uploads.items():
        parsed.files[name] = parsed.data[name] = refs[0] if len(refs) == 1 else refs
    return parsed


def file_reference(filename: str, mime: str, content: bytes) -> JsonObject:
    # Only the last segment of whatever path the client sent: never a path on any machine.
    name = posixpath.basename(filename.replace("\\", "/")) or "file"
    return {
        "name": name,
        "mime": mime.strip() or "application/octet-stream",
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "data": base64.b64encode(content).decode("ascii"),
    }


def parse_xml(body: bytes, max_depth: int) -> JsonObject:
    try:
        root = xml_fromstring(body, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise bad_body(f"invalid XML: {exc}") from None
    return {_tag(root): _element(root, 1, max_depth)}


def _tag(element: Element) -> str:
    tag = str(element.tag)
    return tag.rsplit("}", 1)[-1]  # namespaces dropped: "{urn:x}item" -> "item"


def _element(element: Element, level: int, max_depth: int) -> Any:
    if level > max_depth:
        raise bad_body(f"XML nesting deeper than {max_depth} levels")
    children = list(element)
    text = (element.text or "").strip()
    if not children and not element.attrib:
        return text
    node: JsonObject = {f"@{_tag_name(k)}": v for k, v in element.attrib.items()}
    for child in children:
        _add(node, _tag(child), _element(child, level + 1, max_depth))
    if text:
        node["#text"] = text
    return {k: list(v) if isinstance(v, _Repeated) else v for k, v in node.items()}


def _tag_name(name: str) -> str:
    return name.rsplit("}", 1)[-1]
