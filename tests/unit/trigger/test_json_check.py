"""check_json accepts and refuses what parse_json does, without keeping the decoded body."""

from __future__ import annotations

import pytest
from scenarist_trigger.json_check import check_json
from scenarist_trigger.parsers import depth, parse_json
from scenarist_trigger.problems import Problem

VALID = [
    b"{}",
    b" \r\n\t{} ",
    b'{"a": [1, {"b": [[], {"c": null}]}], "d": "caf\xc3\xa9"}',
    b'{"a": 1, "a": 2}',
    b'{"e": "\\ud83d\\ude00 \\u00e9 \\n"}',
    b'{"big": 123456789012345678901234567890, "f": -1.5e300}',
    b"[[[[1]]], [{}]]",
    b'"text"',
    b"12",
]
INVALID = [
    b"",
    b"{",
    b'{"a": 1,}',
    b'{"a": NaN}',
    b'{"a": Infinity}',
    b'{"a": -Infinity}',
    b'{"a": 1e400}',
    b'{"a": ' + b"9" * 400 + b"}",
    b'{"a": "\\ud800"}',
    b'{"a": "\\udc00x"}',
    b'{"a": "\x01"}',
    b'{"a": "\xff"}',
    b"\xef\xbb\xbf{}",
    b'{"a": 1} x',
    b"{'a': 1}",
]


@pytest.mark.parametrize("body", VALID)
def test_accepts_what_parse_json_accepts(body: bytes) -> None:
    parse_json(body, 64)
    check_json(body, 64)


@pytest.mark.parametrize("body", INVALID)
def test_refuses_what_parse_json_refuses(body: bytes) -> None:
    with pytest.raises(Problem) as parsed:
        parse_json(body, 64)
    with pytest.raises(Problem) as checked:
        check_json(body, 64)
    assert checked.value.status == parsed.value.status == 400


@pytest.mark.parametrize(
    "body",
    [
        b'{"a": {"b": {"c": 1}}}',
        b'{"a": [[{"b": [1]}]]}',
        b"[[[{}]]]",
        b'[{"a": [[[{"b": {}}]]]}, []]',
        b'{"a": [], "b": [[1], {"c": [[]]}]}',
    ],
)
def test_depth_limit_matches_parse_json(body: bytes) -> None:
    levels = depth(parse_json(body, 64))
    check_json(body, levels)
    with pytest.raises(Problem, match="nesting"):
        check_json(body, levels - 1)


def test_nesting_beyond_the_scanner_is_refused_as_too_deep() -> None:
    with pytest.raises(Problem, match="nesting"):
        check_json(b"[" * 100_000 + b"]" * 100_000, 64)
