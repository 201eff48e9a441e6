"""An OpenAPI 3.0/3.1 document read into operations: inputs, outputs, body and pagination."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from scenarist_connector_sdk import FieldSpec, FieldType, ModuleKind

from scenarist_connectors.openapi.schema import Resolver, field_for, fields_of, schema_type

__all__ = ["Operation", "Pagination", "Param", "operations"]

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
CURSOR_PARAMS = ("cursor", "starting_after", "after", "page_token", "pageToken", "next_token")
NEXT_CURSOR_PROPS = (
    "next_cursor",
    "nextCursor",
    "next_page_token",
    "nextPageToken",
    "next_token",
    "cursor",
    "next",
)
ITEMS_PROPS = ("data", "items", "results", "records", "values", "entries")
JSON_TYPES = re.compile(r"^application/([\w.+-]+\+)?json")


@dataclass(frozen=True)
class Param:
    """How one input reaches the wire: ``location`` is path, query, header or body."""

    name: str
    wire: str
    location: str


@dataclass(frozen=True)
class Pagination:
    """What ``x-pagination`` declares (or what was recognised); see the package docs."""

    type: str
    items_path: str = ""
    cursor_param: str = "cursor"
    cursor_path: str = ""
    offset_param: str = "offset"
    limit_param: str = "limit"
    page_param: str = "page"
    limit: int = 100

    @classmethod
    def from_extension(cls, value: Mapping[str, Any]) -> Pagination:
        keys = {
            "itemsPath": "items_path",
            "cursorParam": "cursor_param",
            "cursorPath": "cursor_path",
            "offsetParam": "offset_param",
            "limitParam": "limit_param",
            "pageParam": "page_param",
            "limit": "limit",
        }
        given = {keys[k]: v for k, v in value.items() if k in keys}
        return cls(type=str(value.get("type") or "cursor"), **given)


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    path: str
    kind: ModuleKind
    label: str = ""
    description: str = ""
    params: tuple[Param, ...] = ()
    inputs: tuple[FieldSpec, ...] = ()
    outputs: tuple[FieldSpec, ...] = ()
    body: str = ""  # "", "json", "form" or "raw"
    body_content_type: str = ""
    body_object: bool = True
    items_path: str = ""
    pagination: Pagination | None = None
    anonymous: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _name(method: str, path: str, op: Mapping[str, Any]) -> str:
    if op.get("operationId"):
        return str(op["operationId"])
    words = re.sub(r"[^0-9A-Za-z]+", "_", path).strip("_")
    return f"{method}_{words}" if words else method


def _parameters(
    resolver: Resolver, item: Mapping[str, Any], op: Mapping[str, Any]
) -> list[dict[str, Any]]:
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for raw in [*(item.get("parameters") or []), *(op.get("parameters") or [])]:
        param = resolver.deref(raw)
        if isinstance(param, Mapping) and param.get("in") in ("path", "query", "header"):
            merged[(str(param["in"]), str(param["name"]))] = dict(param)
    return list(merged.values())


def _media(content: Mapping[str, Any] | None) -> tuple[str, Mapping[str, Any]] | None:
    """The preferred media type of a content map: JSON, then form, then anything."""
    if not content:
        return None
    ordered = sorted(
        content.items(),
        key=lambda kv: (not JSON_TYPES.match(kv[0]), kv[0] != "application/x-www-form-urlencoded"),
    )
    media_type, media = ordered[0]
    return str(media_type), media if isinstance(media, Mapping) else {}


def _body(
    resolver: Resolver, op: Mapping[str, Any], taken: set[str]
) -> tuple[str, str, bool, list[FieldSpec], list[Param]]:
    request = resolver.deref(op.get("requestBody") or {})
    chosen = _media(request.get("content") if isinstance(request, Mapping) else None)
    if chosen is None:
        return "", "", True, [], []
    media_type, media = chosen
    kind = (
        "json"
        if JSON_TYPES.match(media_type)
        else "form"
        if media_type == "application/x-www-form-urlencoded"
        else "raw"
    )
    schema = resolver.deref(media.get("schema") or {})
    required = bool(request.get("required"))
    if kind != "raw" and isinstance(schema, Mapping) and schema_type(schema) == "object":
        fields = fields_of(resolver, schema)
        renamed = [f if f.name not in taken else _renamed(f) for f in fields]
        params = [
            Param(new.name, old.name, "body") for old, new in zip(fields, renamed, strict=True)
        ]
        return kind, media_type, True, renamed, params
    body_type = FieldType.BINARY if kind == "raw" else FieldType.ANY
    whole = field_for(resolver, "body", schema, required=required)
    whole = FieldSpec(
        "body",
        body_type if kind == "raw" else whole.type,
        "Body",
        required=required,
        fields=whole.fields,
    )
    return kind, media_type, False, [whole], [Param("body", "", "body")]


def _renamed(spec: FieldSpec) -> FieldSpec:
    return FieldSpec(
        f"body_{spec.name}",
        spec.type,
        spec.label,
        spec.required,
        spec.options,
        spec.help,
        spec.default,
        spec.fields,
    )


def _success(resolver: Resolver, op: Mapping[str, Any]) -> tuple[Any, Mapping[str, Any]]:
    """(schema, headers) of the first 2xx response."""
    for code, raw in sorted((op.get("responses") or {}).items(), key=lambda kv: str(kv[0])):
        if str(code).startswith("2"):
            response = resolver.deref(raw)
            if not isinstance(response, Mapping):
                continue
            chosen = _media(response.get("content"))
            schema = resolver.deref(chosen[1].get("schema")) if chosen else None
            return schema, response.get("headers") or {}
    return None, {}


def _items_path(schema: Any, resolver: Resolver) -> str | None:
    """Where a list response keeps its items: "" for a top-level array, a property, or None."""
    if not isinstance(schema, Mapping):
        return None
    if schema_type(schema) == "array":
        return ""
    props = {str(k): resolver.deref(v) for k, v in (schema.get("properties") or {}).items()}
    arrays = [k for k, v in props.items() if isinstance(v, Mapping) and schema_type(v) == "array"]
    named = [k for k in ITEMS_PROPS if k in arrays]
    if named:
        return named[0]
    return arrays[0] if len(arrays) == 1 else None


def _recognised(
    params: list[dict[str, Any]], schema: Any, headers: Mapping[str, Any], items: str | None
) -> Pagination | None:
    query = {str(p["name"]) for p in params if p["in"] == "query"}
    if any(str(name).lower() == "link" for name in headers):
        return Pagination("link", items_path=items or "")
    if items is None:
        return None
    props = set((schema.get("properties") or {}) if isinstance(schema, Mapping) else ())
    cursor = next((p for p in CURSOR_PARAMS if p in query), None)
    next_prop = next((p for p in NEXT_CURSOR_PROPS if p in props), None)
    if cursor and next_prop:
        return Pagination("cursor", items, cursor_param=cursor, cursor_path=next_prop)
    if "offset" in query and "limit" in query:
        return Pagination("offset", items)
    if "page" in query:
        size = next((p for p in ("per_page", "page_size", "pageSize", "limit") if p in query), "")
        return Pagination("page", items, limit_param=size)
    return None


def _operation(
    resolver: Resolver, method: str, path: str, item: Mapping[str, Any], op: Mapping[str, Any]
) -> Operation:
    raw_params = _parameters(resolver, item, op)
    inputs = [
        field_for(
            resolver,
            str(p["name"]),
            p.get("schema"),
            required=bool(p.get("required")) or p["in"] == "path",
            help=str(p.get("description") or ""),
        )
        for p in raw_params
    ]
    params = [Param(str(p["name"]), str(p["name"]), str(p["in"])) for p in raw_params]
    body, content_type, body_object, body_fields, body_params = _body(
        resolver, op, {p.name for p in params}
    )
    schema, headers = _success(resolver, op)
    items = _items_path(schema, resolver)
    extension = op.get("x-pagination")
    pagination = (
        Pagination.from_extension(extension)
        if isinstance(extension, Mapping)
        else _recognised(raw_params, schema, headers, items)
    )
    is_search = pagination is not None or items == ""
    item_schema = _item_schema(resolver, schema, pagination.items_path if pagination else "")
    return Operation(
        name=_name(method, path, op),
        method=method.upper(),
        path=path,
        kind=ModuleKind.SEARCH if is_search else ModuleKind.ACTION,
        label=str(op.get("summary") or ""),
        description=str(op.get("description") or op.get("summary") or ""),
        params=(*params, *body_params),
        inputs=(*inputs, *body_fields),
        outputs=tuple(fields_of(resolver, item_schema if is_search else schema)),
        body=body,
        body_content_type=content_type,
        body_object=body_object,
        items_path=pagination.items_path if pagination else "",
        pagination=pagination,
        anonymous=op.get("security") == [],
    )


def _item_schema(resolver: Resolver, schema: Any, items_path: str) -> Any:
    node = schema
    for part in [p for p in items_path.split(".") if p]:
        node = (
            resolver.deref((node or {}).get("properties", {}).get(part))
            if isinstance(node, Mapping)
            else None
        )
    if isinstance(node, Mapping) and schema_type(node) == "array":
        return resolver.deref(node.get("items"))
    return node


def operations(document: Mapping[str, Any], resolver: Resolver) -> list[Operation]:
    found: list[Operation] = []
    for path, raw in (document.get("paths") or {}).items():
        item = resolver.deref(raw)
        if not isinstance(item, Mapping):
            continue
        for method in METHODS:
            op = item.get(method)
            if isinstance(op, Mapping):
                found.append(_operation(resolver, method, str(path), item, op))
    return found
