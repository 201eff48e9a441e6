"""Error-handler routes with modules before their directive."""

from __future__ import annotations

from typing import Any

from module_runs import run_flow

WEBHOOK: dict[str, Any] = {"id": 1, "module": "gateway:CustomWebHook"}
AFTER: dict[str, Any] = {
    "id": 3,
    "module": "util:ComposeTransformer",
    "mapper": {"value": "got {{2.name}}"},
}


def _failing_parse(*handler: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": 2,
        "module": "json:ParseJSON",
        "mapper": {"json": "{{1.text}}"},
        "onerror": list(handler),
    }


def test_a_directive_after_handler_modules_resumes_the_failed_module() -> None:
    note = {"id": 8, "module": "util:ComposeTransformer", "mapper": {"value": "{{2.error.type}}"}}
    resume = {"id": 9, "module": "builtin:Resume", "mapper": {"name": "{{8.value}}"}}
    outcome = run_flow([WEBHOOK, _failing_parse(note, resume), AFTER], {"text": "{oops"})
    assert outcome.status == "success"
    assert outcome.outputs(8) == [{"value": "DataError"}]
    assert outcome.outputs(3) == [{"value": "got DataError"}]


def test_a_directive_after_an_iterator_in_the_handler_answers_for_every_bundle() -> None:
    feed = {"id": 7, "module": "builtin:BasicFeeder", "mapper": {"array": ["a", "b"]}}
    ignore = {"id": 9, "module": "builtin:Ignore"}
    outcome = run_flow([WEBHOOK, _failing_parse(feed, ignore), AFTER], {"text": "{oops"})
    assert outcome.status == "success"
    assert outcome.outputs(3) == []
