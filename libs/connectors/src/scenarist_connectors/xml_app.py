"""Make's XML app: ``xml:ParseXML`` with defusedxml (no entity expansion, no external DTDs)."""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element

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

connector = Connector(AppSpec("xml", "1.0.0", "XML", "Parse XML documents safely."))

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
