"""Array, text, numeric and table aggregators: one bundle per set of bundles from the feeder."""

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
ITEMS = {"items": [{"n": "a", "v": 2}, {"n": "b", "v": "3.5"}, {"n": "c", "v": "x"}]}


def _aggregator(
    kind: str,
    mapper: dict[str, Any] | None = None,
    *,
    module_id: int = 3,
    feeder: int = 2,
    flags: dict[str, Any] | None = None,
    **parameters: Any,
) -> dict[str, Any]:
    module: dict[str, Any] = {
        "id": module_id,
        "module": kind,
        "parameters": {"feeder": feeder, **parameters},
    }
    if mapper is not None:
        module["mapper"] = mapper
    if flags:
        module["flags"] = flags
    return module


def _compose(module_id: int, value: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": module_id,
        "module": "util:ComposeTransformer",
        "mapper": {"value": value},
        **extra,
    }


# -- array aggregator -------------------------------------------------------------------------


def test_array_aggregator_with_a_mapper_collects_the_mapped_fields() -> None:
    outcome = run_flow(
        [
            WEBHOOK,
            ITERATOR,
            _compose(3, "{{upper(2.n)}}"),
            _aggregator(
                "builtin:BasicAggregator", {"name": "{{3.value}}", "v": "{{2.v}}"}, module_id=4
            ),
            _compose(5, '{{length(4.array)}} {{join(map(4.array; "name"); ",")}}'),
        ],
        ITEMS,
    )
    assert outcome.outputs(4) == [
        {"array": [{"name": "A", "v": 2}, {"name": "B", "v": "3.5"}, {"name": "C", "v": "x"}]}
    ]
    assert outcome.outputs(5) == [{"value": "3 A,B,C"}]
    # trigger 1 + iterator 1 + compose 3 + aggregator 1 (one per set) + compose 1
    assert (outcome.ops(4), outcome.ops(5), outcome.operations) == (1, 1, 7)


def test_array_aggregator_without_a_mapper_collects_the_feeder_bundles() -> None:
    outcome = run_flow(
        [WEBHOOK, ITERATOR, _aggregator("builtin:BasicAggregator")], {"items": ["x", "y"]}
    )
    assert outcome.outputs(3) == [
        {
            "array": [
                {"value": "x", "__IMTINDEX__": 1, "__IMTLENGTH__": 2},
                {"value": "y", "__IMTINDEX__": 2, "__IMTLENGTH__": 2},
            ]
        }
    ]


def test_array_aggregator_group_by_gives_one_bundle_per_key_in_first_seen_order() -> None:
    outcome = run_flow(
        [
            WEBHOOK,
            ITERATOR,
            _aggregator(
                "builtin:BasicAggregator", {"n": "{{2.n}}"}, flags={"groupBy": "{{2.kind}}"}
            ),
            _compose(4, "{{3.key}}={{length(3.array)}}"),
        ],
        {
            "items": [
                {"n": 1, "kind": "veg"},
                {"n": 2, "kind": "fruit"},
                {"n": 3, "kind": "veg"},
            ]
        },
    )
    assert outcome.outputs(3) == [
        {"key": "veg", "array": [{"n": 1}, {"n": 3}]},
        {"key": "fruit", "array": [{"n": 2}]},
    ]
    assert outcome.outputs(4) == [{"value": "veg=2"}, {"value": "fruit=1"}]
    assert outcome.ops(4) == 2


def test_aggregator_after_an_empty_iteration_emits_an_empty_aggregation() -> None:
    flow = [
        WEBHOOK,
        ITERATOR,
        _aggregator("builtin:BasicAggregator", {"n": "{{2.n}}"}),
        _compose(4, "{{length(3.array)}}"),
    ]
    outcome = run_flow(flow, {"items": []})
    assert outcome.outputs(3) == [{"array": []}]
    assert outcome.outputs(4) == [{"value": "0"}]
    assert outcome.ops(3) == 1


def test_stop_if_empty_ends_the_flow_after_an_empty_aggregation() -> None:
    flow = [
        WEBHOOK,
        ITERATOR,
        _aggregator("builtin:BasicAggregator", {"n": "{{2.n}}"}, flags={"stopIfEmpty": True}),
        _compose(4, "never"),
    ]
    outcome = run_flow(flow, {"items": []})
    assert outcome.status == "success"
    assert outcome.ops(3) == 0
    assert outcome.ops(4) == 0
    # Not empty: it aggregates as usual.
    assert run_flow(flow, {"items": [{"n": 1}]}).outputs(3) == [{"array": [{"n": 1}]}]


def test_stop_if_empty_counts_bundles_removed_by_a_filter_as_missing() -> None:
    flow = [
        WEBHOOK,
        ITERATOR,
        _compose(
            3,
            "{{2.n}}",
            filter={"conditions": [[{"a": "{{2.n}}", "o": "number:greater", "b": "5"}]]},
        ),
        _aggregator(
            "builtin:BasicAggregator",
            {"n": "{{3.value}}"},
            module_id=4,
            flags={"stopIfEmpty": True},
        ),
    ]
    assert run_flow(flow, {"items": [{"n": 1}, {"n": 2}]}).ops(4) == 0
    assert run_flow(flow, {"items": [{"n": 1}, {"n": 9}]}).outputs(4) == [{"array": [{"n": "9"}]}]


def test_aggregator_whose_feeder_is_the_trigger_aggregates_each_cycle() -> None:
    flow = [
        WEBHOOK,
        _aggregator("util:TextAggregator", {"value": "{{1.n}}"}, module_id=2, feeder=1),
    ]
    outcome = run_flow(flow, [[{"n": 1}, {"n": 2}], [{"n": 3}]], settings={"max_cycles": 2})
    assert outcome.outputs(2) == [{"text": "1\n2"}, {"text": "3"}]
    assert outcome.ops(2) == 2


def test_aggregator_runs_once_per_feeder_bundle_when_the_feeder_runs_several_times() -> None:
    # The webhook delivers two orders; each order's lines are aggregated on their own.
    flow = [
        WEBHOOK,
        ITERATOR,
        _aggregator("util:NumericAggregator", {"value": "{{2.value}}"}, function="SUM"),
        _compose(4, "{{1.order}}: {{3.result}}"),
    ]
    outcome = run_flow(flow, [{"order": "A", "items": [1, 2]}, {"order": "B", "items": [10]}])
    assert outcome.outputs(3) == [{"result": 3}, {"result": 10}]
    assert outcome.outputs(4) == [{"value": "A: 3"}, {"value": "B: 10"}]


def test_a_failed_bundle_that_is_ignored_is_left_out_of_the_aggregation() -> None:
    parse = {
        "id": 3,
        "module": "json:ParseJSON",
        "mapper": {"json": "{{2.value}}"},
        "onerror": [{"id": 9, "module": "builtin:Ignore"}],
    }
    flow = [
        WEBHOOK,
        ITERATOR,
        parse,
        _aggregator("builtin:BasicAggregator", {"n": "{{3.n}}"}, module_id=4),
    ]
    outcome = run_flow(flow, {"items": ['{"n": 1}', "oops", '{"n": 3}']})
    assert outcome.status == "success"
    assert outcome.outputs(4) == [{"array": [{"n": 1}, {"n": 3}]}]


# -- text aggregator --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        ({}, "a\nb\nc"),  # new line by default
        ({"rowSeparator": "newline"}, "a\nb\nc"),
        ({"rowSeparator": "\n"}, "a\nb\nc"),  # Make's blueprints store the character itself
        ({"rowSeparator": "tab"}, "a\tb\tc"),
        ({"rowSeparator": "comma"}, "a,b,c"),
        ({"rowSeparator": "other", "rowSeparatorOther": " | "}, "a | b | c"),
        ({"rowSeparator": "other"}, "abc"),  # "other" with nothing given joins directly
        ({"rowSeparator": "; "}, "a; b; c"),
    ],
    ids=repr,
)
def test_text_aggregator_joins_with_the_row_separator(
    parameters: dict[str, Any], expected: str
) -> None:
    flow = [
        WEBHOOK,
        ITERATOR,
        _aggregator("util:TextAggregator", {"value": "{{2.n}}"}, **parameters),
    ]
    outcome = run_flow(flow, ITEMS)
    assert outcome.outputs(3) == [{"text": expected}]
    assert outcome.ops(3) == 1


def test_text_aggregator_without_a_mapper_joins_iterated_values() -> None:
    flow = [WEBHOOK, ITERATOR, _aggregator("util:TextAggregator", rowSeparator="comma")]
    assert run_flow(flow, {"items": ["x", 2, True]}).outputs(3) == [{"text": "x,2,true"}]


def test_text_aggregator_of_nothing_is_empty_text() -> None:
    flow = [WEBHOOK, ITERATOR, _aggregator("util:TextAggregator", {"value": "{{2.n}}"})]
    assert run_flow(flow, {"items": []}).outputs(3) == [{"text": ""}]


# -- numeric aggregator -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("function", "expected", "empty"),
    [
        ("SUM", 5.5, 0),
        ("AVG", 2.75, 0),
        ("MIN", 2, None),
        ("MAX", 3.5, None),
        ("COUNT", 3, 0),  # counts bundles, numeric or not
        ("sum", 5.5, 0),  # the function name is case-insensitive
    ],
)
def test_numeric_aggregator_functions(function: str, expected: Any, empty: Any) -> None:
    # Values that are not numbers ("x") are skipped by every function but COUNT.
    flow = [
        WEBHOOK,
        ITERATOR,
        _aggregator("util:NumericAggregator", {"value": "{{2.v}}"}, function=function),
    ]
    assert run_flow(flow, ITEMS).outputs(3) == [{"result": expected}]
    assert run_flow(flow, {"items": []}).outputs(3) == [{"result": empty}]


def test_numeric_aggregator_integral_results_are_integers() -> None:
    flow = [
        WEBHOOK,
        ITERATOR,
        _aggregator("util:NumericAggregator", {"value": "{{2.value}}"}, function="AVG"),
    ]
    assert run_flow(flow, {"items": [1.5, 2.5]}).outputs(3) == [{"result": 2}]


def test_numeric_aggregator_sum_with_group_by() -> None:
    flow = [
        WEBHOOK,
        ITERATOR,
        _aggregator(
            "util:NumericAggregator",
            {"value": "{{2.v}}"},
            function="SUM",
            flags={"groupBy": "{{2.n}}"},
        ),
    ]
    outcome = run_flow(
        flow, {"items": [{"n": "a", "v": 1}, {"n": "b", "v": 2}, {"n": "a", "v": 3}]}
    )
    assert outcome.outputs(3) == [{"key": "a", "result": 4}, {"key": "b", "result": 2}]


def test_numeric_aggregator_alias_from_make_blueprints() -> None:
    flow = [
        WEBHOOK,
        ITERATOR,
        _aggregator("util:FunctionAggregator2", {"value": "{{2.value}}"}, function="MAX"),
    ]
    assert run_flow(flow, {"items": [3, 9, 4]}).outputs(3) == [{"result": 9}]


def test_unknown_numeric_function_fails_the_aggregator_not_the_engine() -> None:
    flow = [
        WEBHOOK,
        ITERATOR,
        _aggregator("util:NumericAggregator", {"value": "{{2.value}}"}, function="MEDIAN"),
        _compose(4, "never"),
    ]
    outcome = run_flow(flow, {"items": [1, 2]})
    assert outcome.status == "error"
    assert outcome.error_type == "DataError"
    assert outcome.errors(3) == ["DataError"]
    assert outcome.ops(3) == 1  # the failed aggregation is an operation like any other
    assert outcome.ops(4) == 0


def test_failed_aggregation_goes_to_the_aggregators_error_handler() -> None:
    aggregator = _aggregator("util:NumericAggregator", {"value": "{{2.value}}"}, function="MEDIAN")
    aggregator["onerror"] = [{"id": 9, "module": "builtin:Resume", "mapper": {"result": -1}}]
    flow = [WEBHOOK, ITERATOR, aggregator, _compose(4, "{{3.result}}")]
    outcome = run_flow(flow, {"items": [1, 2]})
    assert outcome.status == "success"
    assert outcome.outputs(4) == [{"value": "-1"}]


def test_failed_aggregation_with_incomplete_executions_is_parked() -> None:
    flow = [
        WEBHOOK,
        ITERATOR,
        _aggregator("util:NumericAggregator", {"value": "{{2.value}}"}, function="MEDIAN"),
        _compose(4, "never"),
    ]
    outcome = run_flow(flow, {"items": [1]}, settings={"store_incomplete": True})
    assert outcome.status == "warning"
    assert [item["module_id"] for item in outcome.result["incomplete"]] == [3]


# -- table aggregator -------------------------------------------------------------------------


def test_table_aggregator_joins_columns_and_rows() -> None:
    flow = [
        WEBHOOK,
        ITERATOR,
        _aggregator("util:TableAggregator", {"value": ["{{2.n}}", "{{2.v}}"]}),
    ]
    assert run_flow(flow, ITEMS).outputs(3) == [{"text": "a\t2\nb\t3.5\nc\tx"}]


def test_table_aggregator_with_other_separators() -> None:
    flow = [
        WEBHOOK,
        ITERATOR,
        _aggregator(
            "util:TableAggregator",
            {"value": ["{{2.n}}", "{{2.v}}"]},
            columnSeparator="comma",
            rowSeparator="other",
            rowSeparatorOther=" / ",
        ),
    ]
    assert run_flow(flow, ITEMS).outputs(3) == [{"text": "a,2 / b,3.5 / c,x"}]


def test_table_aggregator_single_value_is_one_column() -> None:
    flow = [WEBHOOK, ITERATOR, _aggregator("util:TableAggregator", {"value": "{{2.n}}"})]
    assert run_flow(flow, ITEMS).outputs(3) == [{"text": "a\nb\nc"}]


# -- aggregators and routers, aggregators inside aggregators ----------------------------------


def _route(*flow: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"flow": list(flow), **extra}


BIG_ONLY = {"conditions": [[{"a": "{{2.v}}", "o": "number:greater", "b": "1"}]]}


def test_aggregator_inside_a_router_route_after_the_feeder() -> None:
    router = {
        "id": 3,
        "module": "builtin:BasicRouter",
        "routes": [
            _route(
                _compose(4, "big {{2.v}}", filter=BIG_ONLY),
                _aggregator("builtin:BasicAggregator", {"s": "{{4.value}}"}, module_id=5),
                _compose(6, "{{length(5.array)}} big"),
            ),
            _route(
                _aggregator(
                    "util:NumericAggregator", {"value": "{{2.v}}"}, module_id=7, function="SUM"
                )
            ),
        ],
    }
    outcome = run_flow([WEBHOOK, ITERATOR, router], {"items": [{"v": 1}, {"v": 2}, {"v": 3}]})
    assert outcome.status == "success"
    assert outcome.outputs(5) == [{"array": [{"s": "big 2"}, {"s": "big 3"}]}]
    assert outcome.outputs(6) == [{"value": "2 big"}]
    assert outcome.outputs(7) == [{"result": 6}]
    # Each aggregator waits for every bundle of the feeder, then they emit in route order.
    assert outcome.order == [1, 2, 4, 5, 6, 7]
    # trigger + iterator + compose 2 (one filtered) + aggregator + compose + aggregator; the
    # router itself is free.
    assert outcome.operations == 7


def test_aggregator_in_a_route_with_no_matching_bundle_emits_an_empty_aggregation() -> None:
    router = {
        "id": 3,
        "module": "builtin:BasicRouter",
        "routes": [
            _route(
                _compose(4, "big", filter=BIG_ONLY),
                _aggregator("builtin:BasicAggregator", {"s": "{{4.value}}"}, module_id=5),
            )
        ],
    }
    outcome = run_flow([WEBHOOK, ITERATOR, router], {"items": [{"v": 0}, {"v": 1}]})
    assert outcome.outputs(5) == [{"array": []}]


NESTED = [
    WEBHOOK,
    {"id": 2, "module": "builtin:BasicFeeder", "mapper": {"array": "{{1.orders}}"}},
    {"id": 3, "module": "builtin:BasicFeeder", "mapper": {"array": "{{2.lines}}"}},
    _aggregator(
        "util:NumericAggregator", {"value": "{{3.qty}}"}, module_id=4, feeder=3, function="SUM"
    ),
    _aggregator(
        "builtin:BasicAggregator", {"order": "{{2.id}}", "qty": "{{4.result}}"}, module_id=5
    ),
    _compose(6, '{{join(map(5.array; "qty"); "+")}}'),
]
ORDERS = {
    "orders": [
        {"id": "A", "lines": [{"qty": 1}, {"qty": 2}]},
        {"id": "B", "lines": []},
        {"id": "C", "lines": [{"qty": 5}]},
    ]
}


@pytest.mark.parametrize("parallel", [1, 4])
def test_nested_aggregators_each_close_over_their_own_feeder(parallel: int) -> None:
    outcome = run_flow(NESTED, ORDERS, settings={"parallel_bundles": parallel})
    assert outcome.status == "success"
    assert outcome.outputs(5) == [
        {
            "array": [
                {"order": "A", "qty": 3},
                {"order": "B", "qty": 0},
                {"order": "C", "qty": 5},
            ]
        }
    ]
    assert outcome.outputs(6) == [{"value": "3+0+5"}]
    # trigger 1 + outer iterator 1 + inner iterator 3 + inner aggregator 3 + outer 1 + compose 1
    assert (outcome.ops(3), outcome.ops(4), outcome.ops(5), outcome.operations) == (3, 3, 1, 10)
