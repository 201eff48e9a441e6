"""Body parsers: the declared type picks the parser; only multipart makes files."""

from __future__ import annotations

import base64
import hashlib

import pytest
from scenarist_trigger.bundle import HEADERS_KEY, METHOD_KEY, build_bundle
from scenarist_trigger.parsers import Parsed, depth, parse_body
from scenarist_trigger.problems import Problem


def parse(body: bytes, content_type: str, *, passthrough: bool = False) -> Parsed:
    return parse_body(body, content_type, json_passthrough=passthrough, max_depth=64)


def _multipart(parts: list[tuple[str, str | None, bytes, str]]) -> tuple[bytes, str]:
    boundary = "XyZbOuNdArY"
    out = b""
    for name, filename, content, mime in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode()
        if mime:
            out += f"Content-Type: {mime}\r\n".encode()
        out += b"\r\n" + content + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


def test_json_object_and_non_objects() -> None:
    assert parse(b'{"a": [1, {"b": 2}]}', "application/json; charset=utf-8").data == {
        "a": [1, {"b": 2}]
    }
    assert parse(b"[1, 2]", "application/vnd.api+json").data == {"value": [1, 2]}
    assert parse(b"", "application/json").data == {}


def test_json_passthrough_keeps_the_text() -> None:
    assert parse(b'{"a":1}', "application/json", passthrough=True).data == {"value": '{"a":1}'}


def test_json_depth_and_syntax_are_refused_with_400() -> None:
    deep = b"[" * 65 + b"]" * 65
    with pytest.raises(Problem) as info:
        parse(deep, "application/json")
    assert info.value.status == 400 and "nesting" in info.value.detail
    assert depth([[1]]) == 2
    with pytest.raises(Problem) as bad:
        parse(b"[" * 5000 + b"]" * 5000, "application/json")
    assert bad.value.status == 400
    with pytest.raises(Problem):
        parse(b"{nope", "application/json")


def test_form_urlencoded_repeats_become_lists() -> None:
    assert parse(b"a=1&b=x+y&a=2&c=", "application/x-www-form-urlencoded").data == {
        "a": ["1", "2"],
        "b": "x y",
        "c": "",
    }


def test_multipart_files_are_references_without_paths() -> None:
    body, content_type = _multipart(
        [
            ("note", None, b"hello", ""),
            ("doc", "../../etc/passwd", b"\x00\x01data", "application/pdf"),
            ("pics", "C:\\Users\\me\\a.png", b"A", "image/png"),
            ("pics", "b.png", b"B", "image/png"),
        ]
    )
    parsed = parse(body, content_type)
    doc = parsed.data["doc"]
    assert doc == {
        "name": "passwd",
        "mime": "application/pdf",
        "size": 6,
        "sha256": hashlib.sha256(b"\x00\x01data").hexdigest(),
        "data": base64.b64encode(b"\x00\x01data").decode(),
    }
    assert [p["name"] for p in parsed.data["pics"]] == ["a.png", "b.png"]
    assert parsed.data["note"] == "hello"
    assert parsed.files["doc"] is parsed.data["doc"] and "note" not in parsed.files


def test_json_look_alike_files_are_plain_data() -> None:
    body = b'{"doc": {"name": "x", "filepath": "/etc/passwd"}}'
    parsed = parse(body, "application/json")
    assert parsed.files == {} and parsed.data["doc"]["filepath"] == "/etc/passwd"


def test_text_and_xml() -> None:
    assert parse("héllo".encode(), "text/plain; charset=utf-8").data == {"value": "héllo"}
    xml = b'<order id="7"><item>a</item><item>b</item><note/></order>'
    assert parse(xml, "application/xml").data == {
        "order": {"@id": "7", "item": ["a", "b"], "note": ""}
    }


def test_xml_entities_and_depth_are_refused() -> None:
    bomb = b'<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    with pytest.raises(Problem) as info:
        parse(bomb, "text/xml")
    assert info.value.status == 400
    with pytest.raises(Problem):
        parse(b"<a>" * 70 + b"</a>" * 70, "application/xml")


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"\x89PNG", "image/png", 415),
        (b"x", "", 415),
        (b"\xff\xfe", "text/plain", 400),
        (b"x", "text/plain; charset=nonsense", 400),
        (b"--x\r\n", "multipart/form-data", 400),
        (b"garbage", "multipart/form-data; boundary=abc", 400),
    ],
)
def test_refusals(body: bytes, content_type: str, status: int) -> None:
    with pytest.raises(Problem) as info:
        parse(body, content_type)
    assert info.value.status == status


def test_bundle_query_wins_and_secrets_stay_out() -> None:
    bundle = build_bundle(
        Parsed({"a": "body", "b": 1}),
        "a=query&c=3&c=4",
        [("Authorization", "Bearer x"), ("X-Trace", "t"), ("X-Custom-Key", "k")],
        "PUT",
        pass_headers=True,
        pass_method=True,
        secret_headers=["x-custom-key"],
    )
    assert bundle["a"] == "query" and bundle["b"] == 1 and bundle["c"] == ["3", "4"]
    assert bundle[HEADERS_KEY] == [{"name": "X-Trace", "value": "t"}]
    assert bundle[METHOD_KEY] == "PUT"
