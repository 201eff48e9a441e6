"""Make's XML app: ``xml:ParseXML`` with defusedxml (no entity expansion, no external DTDs) and
``xml:CreateXML`` (names checked, text escaped by ElementTree)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from defusedxml import DefusedXmlException  # type: ignore[import-untyped,unused-ignore]
from defusedxml.ElementTree import (  # type: ignore[import-untyped,unused-ignore]
    ParseError,
    fromstring,
)
from scenarist_connector_sdk import (
    ActionContext,
    AppSpec,
    Connector,
    FieldSpec,
    FieldType,
    InvalidInputError,
)

__all__ = ["connector"]

connector = Connector(AppSpec("xml", "1.0.0", "XML", "Parse and create XML documents safely."))

MAX_XML_BYTES = 5 * 1024 * 1024


def _node(element: Element) -> Any:
    """Element → collection: attributes under ``_attributes``, text under ``_value``."""
    children: dict[str, Any] = {}
    for child in element:
        value = _node(child)
        if child.tag in children:
            existing = children[child.tag]
            children[child.tag] = (
                [*existing, value] if isinstance(existing, list) else [existing, value]
            )
        else:
            children[child.tag] = value
    text = (element.text or "").strip()
    if not children and not element.attrib:
        return text
    if element.attrib:
        children["_attributes"] = dict(element.attrib)
    if text:
        children["_value"] = text
    return children


@connector.action(
    "ParseXML",
    label="Parse XML",
    inputs=[FieldSpec("xml", FieldType.TEXT, "XML", required=True)],
    outputs=[FieldSpec("data", FieldType.COLLECTION, "Document", required=True)],
)
async def parse_xml(ctx: ActionContext, inputs: dict[str, Any]) -> list[dict[str, Any]]:
    text = str(inputs["xml"])
    if len(text.encode()) > MAX_XML_BYTES:
        raise InvalidInputError(f"XML larger than {MAX_XML_BYTES} bytes")
    try:
        root = fromstring(text, forbid_dtd=True)
    except (ParseError, DefusedXmlException) as exc:
        raise InvalidInputError(f"invalid or unsafe XML: {exc}") from exc
    return [{"data": {root.tag: _node(root)}}]


# XML 1.0 names (ASCII letters, digits, "_", "-", ".", one optional prefix); anything else could
# smuggle markup through a key, since ElementTree writes tag names as they are.
_NAME = re.compile(r"[A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?", re.ASCII)
# Characters XML 1.0 cannot carry at all, even escaped.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
MAX_XML_DEPTH = 100


def _name(key: Any) -> str:
    name = str(key)
    if not _NAME.fullmatch(name):
        raise InvalidInputError(f"{name!r} is not a valid XML element or attribute name")
    return name


def _text(value: Any) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    else:
        text = "" if value is None else str(value)
    if _ILLEGAL.search(text):
        raise InvalidInputError("the text contains characters XML cannot carry")
    return text


def _fill(element: Element, value: Any, depth: int) -> None:
    """The inverse of ParseXML's ``_node``: ``_attributes``, ``_value`` and child elements."""
    if depth > MAX_XML_DEPTH:
        raise InvalidInputError(f"the data is nested deeper than {MAX_XML_DEPTH}")
    if not isinstance(value, Mapping):
        element.text = _text(value)
        return
    for key, child in value.items():
        if key == "_attributes" and isinstance(child, Mapping):
            for name, attribute in child.items():
                element.set(_name(name), _text(attribute))
        elif key == "_value":
            element.text = _text(child)
        else:
            for item in child if isinstance(child, list) else [child]:
                _fill(SubElement(element, _name(key)), item, depth + 1)


@connector.action(
    "CreateXML",
    label="Create XML",
    description="A collection as an XML document: keys are elements, arrays repeat them, "
    "``_attributes`` and ``_value`` as ParseXML outputs them.",
    inputs=[
        FieldSpec("data", FieldType.COLLECTION, "Data", required=True),
        FieldSpec("rootName", FieldType.TEXT, "Root element (when data has several keys)"),
        FieldSpec("declaration", FieldType.BOOLEAN, "XML declaration", default=True),
    ],
    outputs=[FieldSpec("xml", FieldType.TEXT, "XML", required=True)],
)
async def create_xml(ctx: ActionContext, inputs: dict[str, Any]) -> list[dict[str, Any]]:
    data = inputs["data"]
    if not isinstance(data, Mapping):
        raise InvalidInputError("data must be a collection")
    root_name = str(inputs.get("rootName") or "")
    if not root_name:
        if len(data) != 1:
            raise InvalidInputError("data needs exactly one top-level key, or set rootName")
        root_name, data = next(iter(data.items()))
    root = Element(_name(root_name))
    _fill(root, data, 0)
    body = tostring(root, encoding="unicode")
    if len(body.encode()) > MAX_XML_BYTES:
        raise InvalidInputError(f"XML larger than {MAX_XML_BYTES} bytes")
    declaration = inputs.get("declaration") not in (False, "false")
    prefix = '<?xml version="1.0" encoding="UTF-8"?>\n' if declaration else ""
    return [{"xml": prefix + body}]
