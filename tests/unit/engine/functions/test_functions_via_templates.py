"""A few functions end to end through the template evaluator (skipped until it exists)."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from scenarist_engine.iml.context import EvalContext

evaluate_template = getattr(
    importlib.import_module("scenarist_engine.iml"), "evaluate_template", None
)
pytestmark = pytest.mark.skipif(evaluate_template is None, reason="template evaluator not built")

BUNDLE = {
    "amount": 1234.5,
    "name": "hello WORLD",
    "attachments": [
        {"fileName": "a.png", "mimeType": "image/png"},
        {"fileName": "b.pdf", "mimeType": "application/pdf"},
    ],
}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{formatNumber(1.amount; 2)}}", "1.234,50"),
        ("{{startcase(1.name)}}", "Hello World"),
        ('{{map(1.attachments; "fileName"; "mimeType"; "image/png")}}', ["a.png"]),
        ('{{get(1.attachments; "2.fileName")}}', "b.pdf"),
        ('{{ifempty(emptyarray; "x")}}', []),
        ('{{replace("a-b-c"; "/-/g"; "+")}}', "a+b+c"),
        ('{{join(map(1.attachments; "fileName"); ", ")}}', "a.png, b.pdf"),
        ('Total: {{formatNumber(1.amount; 0; "."; ",")}}', "Total: 1,235"),
    ],
)
def test_template(source: str, expected: Any) -> None:
    assert evaluate_template is not None
    assert evaluate_template(source, EvalContext(bundles={1: BUNDLE})) == expected
