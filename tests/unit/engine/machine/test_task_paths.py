"""A task carries the bundles its mapper reads, each cut to the top-level keys it reads: a
fan-out over a big trigger's array must not ship that array with each of its tasks (workload 4:
1,000 tasks of 5 kB each for a mapper that reads the trigger's URL)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from scenarist_engine.iml import referenced_bundle_keys
from scenarist_engine.machine import Plan, start_run
from scenarist_engine.machine.execution import run_module
from scenarist_engine.model.loading import scenario_from_data

TRIGGER = {"url": "http://x/item", "token": "t", "items": list(range(300)), "deep": {"a": 1}}


def _tasks(mapper: dict[str, Any]) -> tuple[Plan, list[Any]]:
    document = {
        "name": "fan-out",
        "settings": {"parallel_bundles": 1000},
        "flow": [
            {"id": 1, "module": "gateway:CustomWebHook"},
            {"id": 2, "module": "builtin:BasicFeeder", "mapper": {"array": "{{1.items}}"}},
            {"id": 3, "module": "util:FunctionSleep", "mapper": mapper},
        ],
    }
    plan = Plan.build(scenario_from_data(document))
    _, tasks = start_run(plan, run_id="r", now=0.0, trigger=[[TRIGGER]])
    return plan, tasks


def test_a_task_carries_only_the_keys_its_mapper_reads() -> None:
    _, tasks = _tasks({"duration": "0", "note": "{{1.url}}?item={{2.value}}&t={{1.token}}"})
    assert len(tasks) == 300
    assert tasks[7].path == {1: {"url": "http://x/item", "token": "t"}, 2: {"value": 7}}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{1.url}}", {1: frozenset({"url"})}),
        ("{{1.items[2]}} {{1.items[].x}} {{1.deep.a}}", {1: frozenset({"items", "deep"})}),
        ("{{`1`}}", {1: None}),  # the whole bundle
        ("{{1.url}} {{toString(`1`)}}", {1: None}),
        ('{{get(`1`; "url")}}', {1: None}),  # a key the template computes
        ('{{`1`["url"]}}', {1: None}),
        ("{{1}}", {}),  # the number
        ("{{2.value + 1.`odd key`}}", {1: frozenset({"odd key"}), 2: frozenset({"value"})}),
        ("no template", {}),
    ],
)
def test_what_a_template_reads_of_each_bundle(
    template: str, expected: dict[int, frozenset[str] | None]
) -> None:
    assert referenced_bundle_keys(template) == expected


@pytest.mark.parametrize(
    "note",
    [
        "{{1.url}}/{{2.value}}",
        "{{`1`}}",
        '{{get(`1`; "token")}}:{{length(1.items)}}',
        "{{1.deep.a}} {{1.missing}}",
        "{{1.url}} {{ {{broken",
    ],
)
def test_a_cut_task_computes_what_the_whole_path_would(note: str) -> None:
    plan, tasks = _tasks({"duration": "0", "note": note})
    for item, task in enumerate(tasks[:5]):  # tasks come in item order
        whole = dataclasses.replace(task, path={1: TRIGGER, 2: {"value": item}})
        cut, _ = run_module(plan.kinds[3], plan.modules[3], task, clock=lambda: 1.0)
        full, _ = run_module(plan.kinds[3], plan.modules[3], whole, clock=lambda: 1.0)
        assert cut == full
        assert cut.inputs is not None or cut.error is not None  # evaluated, or a parse error
