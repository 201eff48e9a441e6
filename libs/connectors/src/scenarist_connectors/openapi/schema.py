"""JSON Schema (as OpenAPI 3.0/3.1 uses it) to typed fields, with local ``$ref`` resolution."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scenarist_connector_sdk import FieldSpec, FieldType, Option, errors

__all__ = ["Resolver", "field_for", "fields_of", "schema_type"]

_MAX_DEPTH = 32
_FORMATS = {
    "date": FieldType.DATE,
    "date-time": FieldType.DATE,
    "email": FieldType.EMAIL,
    "uri": FieldType.URL,
    "url": FieldType.URL,
    "binary": FieldType.BINARY,
}
_TYPES = {
    "integer": FieldType.INTEGER,
    "number": FieldType.NUMBER,
    "boolean": FieldType.BOOLEAN,
    "array": FieldType.ARRAY,
    "object": FieldType.COLLECTION,
}


class Resolver:
    """Follows ``#/...`` references inside one document (remote references are refused)."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document

    def deref(self, node: Any, depth: int = 0) -> Any:
        while isinstance(node, Mapping) and "$ref" in node:
            if depth > _MAX_DEPTH:
                raise errors.InvalidInputError("OpenAPI: $ref chain too deep (a cycle?)")
            node = self._lookup(str(node["$ref"]))
            depth += 1
        if isinstance(node, Mapping) and "allOf" in node:
            return self._merge(node, depth)
        return node

    def _lookup(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            raise errors.InvalidInputError(f"OpenAPI: only local $ref are supported, not {ref!r}")
        node: Any = self.document
        for part in ref[2:].split("/"):
            key = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, Mapping) or key not in node:
                raise errors.InvalidInputError(f"OpenAPI: unresolvable $ref {ref!r}")
            node = node[key]
        return node

    def _merge(self, node: Mapping[str, Any], depth: int) -> dict[str, Any]:
        merged: dict[str, Any] = {k: v for k, v in node.items() if k != "allOf"}
        properties: dict[str, Any] = dict(merged.get("properties") or {})
        required: list[str] = list(merged.get("required") or [])
        for part in node["allOf"]:
            resolved = self.deref(part, depth + 1)
            if isinstance(resolved, Mapping):
                properties.update(resolved.get("properties") or {})
                required += list(resolved.get("required") or [])
                merged.setdefault("type", resolved.get("type"))
        merged.update(properties=properties, required=required)
        return merged


def schema_type(schema: Mapping[str, Any]) -> str:
    """The schema's type; 3.1's ``["string", "null"]`` counts as ``string``."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind is None and "properties" in schema:
        return "object"
    return str(kind or "")


def _field_type(schema: Mapping[str, Any]) -> FieldType:
    if schema.get("enum"):
        return FieldType.SELECT
    kind = schema_type(schema)
    if kind == "string":
        return _FORMATS.get(str(schema.get("format") or ""), FieldType.TEXT)
    return _TYPES.get(kind, FieldType.ANY)


def field_for(
    resolver: Resolver,
    name: str,
    schema: Any,
    *,
    required: bool = False,
    help: str = "",
    nested: bool = True,
) -> FieldSpec:
    """One field; objects keep one level of children (``nested``), arrays their item fields."""
    resolved = resolver.deref(schema) if schema is not None else {}
    if not isinstance(resolved, Mapping):
        resolved = {}
    kind = _field_type(resolved)
    children: tuple[FieldSpec, ...] = ()
    if nested and kind is FieldType.COLLECTION:
        children = tuple(fields_of(resolver, resolved, nested=False))
    elif nested and kind is FieldType.ARRAY:
        items = resolver.deref(resolved.get("items") or {})
        if isinstance(items, Mapping) and schema_type(items) == "object":
            children = tuple(fields_of(resolver, items, nested=False))
    return FieldSpec(
        name,
        kind,
        str(resolved.get("title") or name),
        required=required,
        options=tuple(Option(value) for value in resolved.get("enum") or ()),
        help=help or str(resolved.get("description") or ""),
        default=resolved.get("default"),
        fields=children,
    )


def fields_of(resolver: Resolver, schema: Any, *, nested: bool = True) -> list[FieldSpec]:
    """The fields of an object schema's properties (none for other schemas)."""
    resolved = resolver.deref(schema) if schema is not None else {}
    if not isinstance(resolved, Mapping) or schema_type(resolved) != "object":
        return []
    required = set(resolved.get("required") or ())
    return [
        field_for(resolver, str(name), prop, required=name in required, nested=nested)
        for name, prop in (resolved.get("properties") or {}).items()
    ]
