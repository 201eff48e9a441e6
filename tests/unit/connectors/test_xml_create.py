"""xml:CreateXML: the inverse of ParseXML, with names checked and text escaped."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from scenarist_connector_sdk import ActionContext, InvalidInputError
from scenarist_connector_sdk.testing import fake_context
from scenarist_connectors.xml_app import create_xml, parse_xml


@pytest.fixture
async def ctx() -> AsyncIterator[ActionContext]:
    context = fake_context()
    yield context
    await context.http.aclose()


async def _xml(ctx: ActionContext, **inputs: Any) -> str:
    [out] = await create_xml(ctx, inputs)
    return str(out["xml"])


async def test_round_trip_through_parse_xml(ctx: ActionContext) -> None:
    data = {"r": {"i": [{"_attributes": {"id": "1"}, "_value": "a"}, "b"], "n": ""}}
    text = await _xml(ctx, data=data)
    assert text == '<?xml version="1.0" encoding="UTF-8"?>\n<r><i id="1">a</i><i>b</i><n /></r>'
    [parsed] = await parse_xml(ctx, {"xml": text})
    assert parsed == {"data": data}


async def test_text_and_attributes_are_escaped(ctx: ActionContext) -> None:
    text = await _xml(
        ctx,
        data={"_attributes": {"q": '"><x a="'}, "msg": "</note><evil/> & <b>"},
        rootName="note",
        declaration=False,
    )
    assert text == (
        '<note q="&quot;&gt;&lt;x a=&quot;">'
        "<msg>&lt;/note&gt;&lt;evil/&gt; &amp; &lt;b&gt;</msg></note>"
    )
    [parsed] = await parse_xml(ctx, {"xml": text})
    assert parsed["data"]["note"]["msg"] == "</note><evil/> & <b>"


async def test_values_are_written_as_text(ctx: ActionContext) -> None:
    text = await _xml(
        ctx, data={"v": {"n": 2.0, "f": 1.5, "t": True, "none": None}}, declaration=False
    )
    assert text == "<v><n>2</n><f>1.5</f><t>true</t><none /></v>"


@pytest.mark.parametrize(
    "data",
    [
        {"a b": "x"},  # a key that would inject an attribute
        {"r": {"x><y": "z"}},
        {"r": {"_attributes": {"on load": "1"}}},
        {"1abc": "x"},
        {"r": "bell \x07"},  # not representable in XML 1.0
        {"a": 1, "b": 2},  # two roots and no rootName
    ],
)
async def test_refuses_what_would_not_be_well_formed(ctx: ActionContext, data: Any) -> None:
    with pytest.raises(InvalidInputError):
        await create_xml(ctx, {"data": data})


async def test_refuses_deep_nesting(ctx: ActionContext) -> None:
    data: dict[str, Any] = {"x": "leaf"}
    for _ in range(150):
        data = {"x": data}
    with pytest.raises(InvalidInputError, match="deeper"):
        await create_xml(ctx, {"data": data})
