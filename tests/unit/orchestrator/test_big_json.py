"""big_json decodes what orjson decodes, to the same values (a big trigger takes this path)."""

from __future__ import annotations

import orjson
import pytest
from scenarist_orchestrator import big_json

SAME = [
    '{"a": [1, -2, 3.5, true, false, null], "b": {"c": "caf\\u00e9 \\ud83d\\ude00"}}',
    '{"i64": -9223372036854775808, "u64": 18446744073709551615, "n": 123456789012345678}',
    '{"over": 18446744073709551616, "under": -9223372036854775809}',
    '{"long": ' + "9" * 60 + ', "e": 1e300, "d": 1.0}',
    '{"dup": 1, "dup": 2}',
    "[[], {}]",
]


@pytest.mark.parametrize("text", SAME)
def test_same_values_as_orjson(text: str) -> None:
    expected = orjson.loads(text)
    decoded = big_json.loads(text)
    assert decoded == expected
    assert orjson.dumps(decoded) == orjson.dumps(expected)  # ints stay ints, floats floats


@pytest.mark.parametrize("text", ['{"a": NaN}', '{"a": -Infinity}', "{", '{"a": 1} 2'])
def test_refuses_what_orjson_refuses(text: str) -> None:
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(text)
    with pytest.raises(ValueError):
        big_json.loads(text)
