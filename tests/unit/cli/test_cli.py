"""The `scenarist` command line, called in-process: exit codes, stdout and stderr."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from scenarist_cli.main import main

EXAMPLES = Path(__file__).parents[3] / "examples"
ORDER_ROUTER = EXAMPLES / "order-router.yaml"

INVALID = """\
name: Broken
flow:
  - {id: 1, module: gateway:CustomWebHook}
  - {id: 2, module: util:ComposeTransformer, mapper: {value: "{{9.missing}}"}}
  - {id: 2, module: nope:Unknown}
  - {id: 4, module: builtin:BasicAggregator, mapper: {x: "{{1.a +}}"}}
"""

PARSE_BODY = """\
name: Parse the body
flow:
  - {id: 1, module: gateway:CustomWebHook}
  - {id: 2, module: json:ParseJSON, mapper: {json: "{{1.body}}"}}
  - {id: 3, module: util:ComposeTransformer, mapper: {value: "n={{2.n}}"}}
"""


def _write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _stdout_json(capsys: pytest.CaptureFixture[str]) -> Any:
    captured = capsys.readouterr()
    assert captured.err == ""
    return json.loads(captured.out)


def _stderr_json(capsys: pytest.CaptureFixture[str]) -> Any:
    captured = capsys.readouterr()
    assert captured.out == ""
    return json.loads(captured.err)


# -- validate ---------------------------------------------------------------------------------


def test_validate_a_valid_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(ORDER_ROUTER)]) == 0
    assert _stdout_json(capsys) == {"valid": True, "file": str(ORDER_ROUTER)}


def test_validate_prints_every_issue_of_an_invalid_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", _write(tmp_path, INVALID)]) == 2
    report = _stderr_json(capsys)
    assert report["error"] == "invalid scenario"
    issues = "\n".join(report["issues"])
    assert len(report["issues"]) >= 4
    for fragment in (
        "refers to module 9",
        "id 2 is also used",
        "unknown module kind 'nope:Unknown'",
        "flow[3].mapper.x",  # the bad template, with where it is
        "feeder",
    ):
        assert fragment in issues


def test_validate_a_json_blueprint_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = {
        "name": "JSON document",
        "flow": [{"id": 1, "module": "gateway:CustomWebHook"}],
    }
    assert main(["validate", _write(tmp_path, json.dumps(document), "scenario.json")]) == 0
    assert _stdout_json(capsys)["valid"] is True


def test_validate_a_file_that_is_not_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(tmp_path / "missing.yaml")]) == 2
    assert "missing.yaml" in _stderr_json(capsys)["error"]


def test_validate_a_file_that_is_not_yaml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", _write(tmp_path, "name: [unclosed\n")]) == 2
    assert _stderr_json(capsys)["error"]


# -- eval -------------------------------------------------------------------------------------


def test_eval_the_format_date_acceptance_example(capsys: pytest.CaptureFixture[str]) -> None:
    template = '{{formatDate(parseDate("2026-01-31"; "YYYY-MM-DD"); "DD.MM.YYYY")}}'
    assert main(["eval", template]) == 0
    captured = capsys.readouterr()
    assert captured.out == '"31.01.2026"\n'
    assert json.loads(captured.out) == "31.01.2026"


def test_eval_reads_module_outputs_from_data(capsys: pytest.CaptureFixture[str]) -> None:
    data = json.dumps({"1": {"name": "Ada", "items": [{"qty": 2}, {"qty": 3}]}})
    assert main(["eval", '{{upper(1.name)}} {{sum(map(1.items; "qty"))}}', "--data", data]) == 0
    assert _stdout_json(capsys) == "ADA 5"


def test_eval_keeps_the_type_of_a_lone_expression(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "{{1.n * 2}}", "--data", '{"1": {"n": 21}}']) == 0
    assert _stdout_json(capsys) == 42


def test_eval_an_unquoted_regex_literal(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", '{{replace("a  b"; /\\s+/g; "-")}}']) == 0
    assert _stdout_json(capsys) == "a-b"


def test_eval_a_bad_template_reports_the_position(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "{{1 +}}"]) == 2
    report = _stderr_json(capsys)
    assert "position 5" in report["error"]


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ('{"1": ', "--data is not valid JSON"),
        ("[1, 2]", "--data must be a JSON object"),
        ('{"one": {}}', "--data keys must be module ids"),
    ],
)
def test_eval_bad_data_is_invalid_input(
    data: str, fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval", "{{1.a}}", "--data", data]) == 2
    assert fragment in _stderr_json(capsys)["error"]


def test_eval_without_a_template_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["eval"])
    assert exited.value.code == 2
    assert "template" in capsys.readouterr().err


# -- run --------------------------------------------------------------------------------------


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code = main(["run", *argv])
    result: dict[str, Any] = _stdout_json(capsys)
    return code, result


def test_run_success_prints_the_run_result(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, result = _run(
        capsys, _write(tmp_path, PARSE_BODY), "--trigger", '{"body": "{\\"n\\": 7}"}'
    )
    assert code == 0
    assert result["status"] == "success"
    assert result["scenario"] == "Parse the body"
    assert result["operations"] == 3
    assert result["cycles"] == 1
    assert result["error"] is None
    outputs = {module["id"]: module["runs"][0]["output"] for module in result["modules"]}
    assert outputs[3] == [{"value": "n=7"}]


def test_run_that_fails_exits_1_with_the_error_in_the_result(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, result = _run(capsys, _write(tmp_path, PARSE_BODY), "--trigger", '{"body": "oops"}')
    assert code == 1
    assert result["status"] == "error"
    assert result["error"]["type"] == "DataError"
    assert [module["id"] for module in result["modules"]] == [1, 2]


def test_run_a_failure_handled_by_a_directive_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    handled = PARSE_BODY.replace(
        '{json: "{{1.body}}"}}', '{json: "{{1.body}}"}, onerror: [{id: 9, module: builtin:Ignore}]}'
    )
    code, result = _run(capsys, _write(tmp_path, handled), "--trigger", '{"body": "oops"}')
    assert code == 0
    assert result["status"] == "success"


def test_run_an_invalid_file_exits_2_without_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", _write(tmp_path, INVALID)]) == 2
    report = _stderr_json(capsys)
    assert report["error"] == "invalid scenario"
    assert report["issues"]


def test_run_with_a_bad_trigger_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", _write(tmp_path, PARSE_BODY), "--trigger", "{nope"]) == 2
    assert "--trigger is not valid JSON" in _stderr_json(capsys)["error"]


def test_run_trigger_list_of_lists_is_one_cycle_per_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = PARSE_BODY.replace(
        "name: Parse the body\n", "name: Cycles\nsettings: {max_cycles: 5}\n"
    )
    trigger = json.dumps([[{"body": '{"n": 1}'}, {"body": '{"n": 2}'}], [{"body": '{"n": 3}'}]])
    code, result = _run(capsys, _write(tmp_path, scenario), "--trigger", trigger)
    assert code == 0
    assert result["cycles"] == 2
    compose = next(module for module in result["modules"] if module["id"] == 3)
    assert [(run["cycle"], run["output"]) for run in compose["runs"]] == [
        (1, [{"value": "n=1"}]),
        (1, [{"value": "n=2"}]),
        (2, [{"value": "n=3"}]),
    ]
    # The trigger costs one operation per cycle.
    trigger_module = next(module for module in result["modules"] if module["id"] == 1)
    assert trigger_module["operations"] == 2


def test_run_without_a_trigger_runs_on_one_empty_bundle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = PARSE_BODY.replace("{{1.body}}", '{\\"n\\": 0}')
    code, result = _run(capsys, _write(tmp_path, scenario))
    assert code == 0
    assert result["operations"] == 3


# -- the example ------------------------------------------------------------------------------


@pytest.mark.parametrize(("amount", "tier"), [(142.5, "big"), (5, "small")])
def test_order_router_example_answers_by_amount(
    amount: float, tier: str, capsys: pytest.CaptureFixture[str]
) -> None:
    trigger = {"email": "Ada@Example.com", "amount": amount, "items": [{"qty": 2}, {"qty": 1}]}
    code, result = _run(capsys, str(ORDER_ROUTER), "--trigger", json.dumps(trigger))
    assert code == 0
    assert result["status"] == "success"
    assert result["response"] == {
        "status": 200,
        "headers": [],
        "body": {"email": "ada@example.com", "total_qty": 3, "tier": tier},
    }
    # Trigger, Set variables and one Webhook response: the router is free.
    assert result["operations"] == 3


def test_order_router_example_sends_a_big_order_without_items_to_the_fallback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    trigger = {"email": "a@b.cz", "amount": 500, "items": []}
    code, result = _run(capsys, str(ORDER_ROUTER), "--trigger", json.dumps(trigger))
    assert code == 0
    assert result["response"]["body"]["tier"] == "small"
