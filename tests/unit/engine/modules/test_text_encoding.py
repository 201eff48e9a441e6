"""Tools: Convert text encoding (the result is a buffer, carried as base64)."""

from __future__ import annotations

import base64
from typing import Any

from module_runs import run_flow

WEBHOOK: dict[str, Any] = {"id": 1, "module": "gateway:CustomWebHook"}


def _convert(**mapper: Any) -> dict[str, Any]:
    return {"id": 2, "module": "util:ConvertTextEncoding", "mapper": mapper}


def _data(outcome: Any) -> bytes:
    [bundle] = outcome.outputs(2)
    return base64.b64decode(bundle["data"])


def test_text_to_latin1() -> None:
    outcome = run_flow([WEBHOOK, _convert(text="{{1.t}}", outputEncoding="latin1")], {"t": "café"})
    assert _data(outcome) == "café".encode("latin-1")
    assert outcome.outputs(2)[0]["encoding"] == "iso8859-1"


def test_a_buffer_is_read_in_the_input_encoding() -> None:
    outcome = run_flow(
        [
            WEBHOOK,
            _convert(
                text='{{toBinary(1.b; "base64")}}',
                inputEncoding="iso-8859-1",
                outputEncoding="utf-16-le",
            ),
        ],
        {"b": base64.b64encode("Grüße".encode("latin-1")).decode()},
    )
    assert _data(outcome) == "Grüße".encode("utf-16-le")


def test_unencodable_characters_fail_unless_replaced() -> None:
    failed = run_flow([WEBHOOK, _convert(text="€ 5", outputEncoding="ascii")])
    assert failed.errors(2) == ["DataError"]
    replaced = run_flow([WEBHOOK, _convert(text="€ 5", outputEncoding="ascii", replace=True)])
    assert _data(replaced) == b"? 5"


def test_unknown_or_non_text_encodings_are_data_errors() -> None:
    for name in ("klingon", "rot13", "base64"):
        outcome = run_flow([WEBHOOK, _convert(text="x", outputEncoding=name)])
        assert outcome.errors(2) == ["DataError"], name
