"""Flow control: triggers, iterator, repeater and webhook response, as a Make user sees them."""

from __future__ import annotations

from typing import Any

import pytest
from module_runs import run_flow

WEBHOOK: dict[str, Any] = {"id": 1, "module": "gateway:CustomWebHook"}
ITERATOR: dict[str, Any] = {
    "id": 2,
    "module": "builtin:BasicFeeder",
    "mapper": {"array": "{{1.items}}"},
}


def _compose(module_id: int, value: str) -> dict[str, Any]:
    return {"id": module_id, "module": "util:ComposeTransformer", "mapper": {"value": value}}


# -- triggers ---------------------------------------------------------------------------------


def test_trigger_costs_one_operation_per_cycle_whatever_it_returns() -> None:
    outcome = run_flow(
        [WEBHOOK, _compose(2, "{{1.n}}")],
        [[{"n": 1}, {"n": 2}, {"n": 3}], [{"n": 4}]],
        settings={"max_cycles": 2},
    )
    assert outcome.status == "success"
    assert outcome.ops(1) == 2
    assert outcome.outputs(2) == [{"value": "1"}, {"value": "2"}, {"value": "3"}, {"value": "4"}]
    assert outcome.result["cycles"] == 2


def test_trigger_without_bundles_ends_the_run_after_the_first_module() -> None:
    outcome = run_flow([WEBHOOK, _compose(2, "never")], [])
    assert outcome.status == "success"
    assert outcome.operations == 1
    assert outcome.order == [1]


# -- iterator ---------------------------------------------------------------------------------


def test_iterator_over_collections_spreads_their_fields() -> None:
    outcome = run_flow(
        [WEBHOOK, ITERATOR, _compose(3, "{{2.sku}} {{2.__IMTINDEX__}}/{{2.__IMTLENGTH__}}")],
        {"items": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}]},
    )
    assert outcome.outputs(2) == [
        {"sku": "A", "qty": 1, "__IMTINDEX__": 1, "__IMTLENGTH__": 2},
        {"sku": "B", "qty": 2, "__IMTINDEX__": 2, "__IMTLENGTH__": 2},
    ]
    assert outcome.outputs(3) == [{"value": "A 1/2"}, {"value": "B 2/2"}]
    # One operation for the iterator itself, one per bundle for the module after it.
    assert (outcome.ops(2), outcome.ops(3), outcome.operations) == (1, 2, 4)


def test_iterator_over_scalars_puts_each_in_value() -> None:
    outcome = run_flow(
        [WEBHOOK, ITERATOR, _compose(3, "{{2.value * 10}}")], {"items": [1, "2", None, True]}
    )
    assert [bundle["value"] for bundle in outcome.outputs(2)] == [1, "2", None, True]
    assert [bundle["__IMTINDEX__"] for bundle in outcome.outputs(2)] == [1, 2, 3, 4]
    assert {bundle["__IMTLENGTH__"] for bundle in outcome.outputs(2)} == {4}
    assert outcome.outputs(3)[:2] == [{"value": "10"}, {"value": "20"}]


def test_iterator_over_nested_arrays_keeps_each_inner_array_whole() -> None:
    outcome = run_flow([WEBHOOK, ITERATOR], {"items": [[1, 2], []]})
    assert [bundle["value"] for bundle in outcome.outputs(2)] == [[1, 2], []]


@pytest.mark.parametrize("trigger", [{"items": []}, {"items": None}, {}], ids=str)
def test_iterator_over_an_empty_or_missing_array_emits_nothing(trigger: dict[str, Any]) -> None:
    outcome = run_flow([WEBHOOK, ITERATOR, _compose(3, "never")], trigger)
    assert outcome.status == "success"
    assert outcome.outputs(2) == []
    assert outcome.ops(2) == 1  # the iterator still ran once
    assert outcome.ops(3) == 0


@pytest.mark.parametrize("value", ["a,b", 3, {"a": 1}, True], ids=repr)
def test_iterator_over_a_non_array_is_a_data_error(value: Any) -> None:
    outcome = run_flow([WEBHOOK, ITERATOR, _compose(3, "never")], {"items": value})
    assert outcome.status == "error"
    assert outcome.error_type == "DataError"
    assert outcome.errors(2) == ["DataError"]
    assert outcome.ops(3) == 0


def test_iterator_error_can_be_ignored_by_a_handler() -> None:
    iterator = {**ITERATOR, "onerror": [{"id": 9, "module": "builtin:Ignore"}]}
    outcome = run_flow([WEBHOOK, iterator, _compose(3, "never")], {"items": "not an array"})
    assert outcome.status == "success"
    assert outcome.ops(3) == 0


def test_each_iterated_bundle_runs_the_rest_of_the_flow_before_the_next() -> None:
    flow = [WEBHOOK, ITERATOR, _compose(3, "a{{2.value}}"), _compose(4, "b{{2.value}}")]
    outcome = run_flow(flow, {"items": [1, 2]})
    log = [(entry.module_id, entry.output) for entry in outcome.state.log if entry.module_id > 2]
    assert log == [
        (3, [{"value": "a1"}]),
        (4, [{"value": "b1"}]),
        (3, [{"value": "a2"}]),
        (4, [{"value": "b2"}]),
    ]


# -- repeater ---------------------------------------------------------------------------------


def _repeater(**mapper: Any) -> dict[str, Any]:
    return {"id": 2, "module": "builtin:BasicRepeater", "mapper": mapper}


@pytest.mark.parametrize(
    ("mapper", "expected"),
    [
        ({"repeats": 3}, [1, 2, 3]),  # start 1, step 1 by default
        ({"start": 0, "repeats": "4", "step": 5}, [0, 5, 10, 15]),
        ({"start": 10, "repeats": 3, "step": -2}, [10, 8, 6]),
        ({"start": 0.5, "repeats": 2, "step": 0.25}, [0.5, 0.75]),
        ({"repeats": "{{1.n}}"}, [1, 2]),
        ({"repeats": 0}, []),
    ],
    ids=str,
)
def test_repeater_counts_from_start_by_step(mapper: dict[str, Any], expected: list[Any]) -> None:
    outcome = run_flow([WEBHOOK, _repeater(**mapper), _compose(3, "{{2.i}}")], {"n": 2})
    assert outcome.status == "success"
    assert [bundle["i"] for bundle in outcome.outputs(2)] == expected
    assert outcome.ops(2) == 1
    assert outcome.ops(3) == len(expected)


def test_repeater_allows_the_limit_of_ten_thousand() -> None:
    outcome = run_flow([WEBHOOK, _repeater(repeats=10_000)])
    assert outcome.status == "success"
    assert len(outcome.outputs(2)) == 10_000
    assert outcome.outputs(2)[-1] == {"i": 10_000}


@pytest.mark.parametrize("repeats", [10_001, -1, "many"], ids=repr)
def test_repeater_refuses_repeats_out_of_bounds(repeats: Any) -> None:
    outcome = run_flow([WEBHOOK, _repeater(repeats=repeats)])
    assert outcome.status == "error"
    assert outcome.error_type == "DataError"
    assert outcome.outputs(2) == []


# -- webhook response -------------------------------------------------------------------------


def _respond(module_id: int, **mapper: Any) -> dict[str, Any]:
    return {"id": module_id, "module": "gateway:WebhookRespond", "mapper": mapper}


def test_webhook_response_turns_the_status_text_into_a_number() -> None:
    outcome = run_flow(
        [
            WEBHOOK,
            _respond(
                2,
                status="201",
                body='{"id": {{1.id}}}',
                headers=[
                    {"key": "Content-Type", "value": "application/json"},
                    {"key": "X-Request-Id", "value": "{{1.id}}"},
                ],
            ),
        ],
        {"id": 7},
    )
    assert outcome.status == "success"
    assert outcome.response == {
        "status": 201,
        "headers": [
            {"key": "Content-Type", "value": "application/json"},
            {"key": "X-Request-Id", "value": 7},
        ],
        "body": '{"id": 7}',
    }
    assert outcome.outputs(2) == [{}]
    assert outcome.ops(2) == 1


def test_webhook_response_defaults_to_200_without_headers() -> None:
    outcome = run_flow([WEBHOOK, _respond(2, body="ok")])
    assert outcome.response == {"status": 200, "headers": [], "body": "ok"}


def test_webhook_response_body_keeps_its_mapped_structure() -> None:
    outcome = run_flow([WEBHOOK, _respond(2, status=302, body={"n": "{{1.n}}"})], {"n": 3})
    assert outcome.response is not None
    assert outcome.response["status"] == 302
    assert outcome.response["body"] == {"n": 3}


@pytest.mark.parametrize("status", ["abc", "", "99", "600", "201.5", "-200"], ids=repr)
def test_webhook_response_invalid_status_is_a_data_error(status: str) -> None:
    outcome = run_flow([WEBHOOK, _respond(2, status=status)])
    assert outcome.status == "error"
    assert outcome.error_type == "DataError"
    assert outcome.response is None


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "text/plain"},  # an object, not a list
        "Content-Type: text/plain",
        [{"value": "no key"}],
        ["Content-Type"],
        [{"key": "", "value": "empty name"}],
        [{"key": "Bad Name", "value": "space in the name"}],
        [{"key": "X-A\r\nSet-Cookie", "value": "s=1"}],  # response splitting through the name
        [{"key": "X-A", "value": "1\r\nSet-Cookie: s=1"}],  # and through the value
    ],
    ids=repr,
)
def test_webhook_response_validates_the_headers_list(headers: Any) -> None:
    outcome = run_flow([WEBHOOK, _respond(2, status="200", headers=headers)])
    assert outcome.status == "error"
    assert outcome.error_type == "DataError"
    assert outcome.response is None


def test_the_first_webhook_response_wins() -> None:
    flow = [
        WEBHOOK,
        _respond(2, status="200", body="first"),
        _respond(3, status="404", body="second"),
    ]
    outcome = run_flow(flow)
    assert outcome.status == "success"
    assert outcome.ops(3) == 1  # the later module still runs and costs its operation
    assert outcome.response == {"status": 200, "headers": [], "body": "first"}


def test_the_first_bundle_response_wins_over_later_bundles() -> None:
    outcome = run_flow(
        [WEBHOOK, ITERATOR, _respond(3, status="200", body="{{2.value}}")],
        {"items": ["a", "b", "c"]},
    )
    assert outcome.ops(3) == 3
    assert outcome.response is not None
    assert outcome.response["body"] == "a"


def test_a_response_given_before_a_failure_is_kept() -> None:
    failing = {"id": 3, "module": "json:ParseJSON", "mapper": {"json": "not json"}}
    outcome = run_flow([WEBHOOK, _respond(2, status="202", body="accepted"), failing])
    assert outcome.status == "error"
    assert outcome.response is not None
    assert outcome.response["status"] == 202
