"""Loading a scenario document from JSON or YAML text, with every problem reported at once.

Loading checks structure only (types, required fields, unknown keys); the semantic rules live
in validate.py. A Make blueprint export is accepted too and converted on the way in.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError

from scenarist_engine.errors import ScenarioValidationError, ValidationIssue
from scenarist_engine.model.blueprint import from_make_blueprint, looks_like_make_blueprint
from scenarist_engine.model.scenario import Scenario

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
# Aliases are legitimate YAML, but each one can multiply the expanded size ("billion laughs").
MAX_YAML_ALIASES = 100
# Bounds the expanded document, whatever the aliases did, before pydantic copies it.
MAX_NODES = 1_000_000
MAX_DEPTH = 200

Format = Literal["json", "yaml", "auto"]


def load_scenario_file(path: str | Path) -> Scenario:
    """Read a .json/.yaml/.yml file (the format follows the suffix, else it is sniffed)."""
    file = Path(path)
    suffix = file.suffix.lower()
    fmt: Format = "json" if suffix == ".json" else "yaml" if suffix in {".yaml", ".yml"} else "auto"
    if file.stat().st_size > MAX_DOCUMENT_BYTES:
        raise _single_issue("", f"document is larger than {MAX_DOCUMENT_BYTES} bytes")
    return load_scenario_text(file.read_text(encoding="utf-8"), fmt=fmt)


def load_scenario_text(text: str, *, fmt: Format = "auto") -> Scenario:
    """Parse JSON or YAML text into a Scenario; raises ScenarioValidationError."""
    if len(text.encode("utf-8")) > MAX_DOCUMENT_BYTES:
        raise _single_issue("", f"document is larger than {MAX_DOCUMENT_BYTES} bytes")
    if fmt == "auto":
        fmt = "json" if text.lstrip().startswith(("{", "[")) else "yaml"
    data = _parse_json(text) if fmt == "json" else _parse_yaml(text)
    return scenario_from_data(data)


def scenario_from_data(data: Any) -> Scenario:
    """A Scenario from already-parsed data (native document or Make blueprint)."""
    data = _normalized(data)
    if not isinstance(data, dict):
        raise _single_issue("", "a scenario document must be an object")
    if looks_like_make_blueprint(data):
        data = from_make_blueprint(data)
    try:
        return Scenario.model_validate(data)
    except ValidationError as error:
        raise ScenarioValidationError(_issues(error, data)) from None


def format_path(loc: Sequence[str | int], base: str = "") -> str:
    """`("flow", 1, "routes", 0, "mapper")` -> `flow[1].routes[0].mapper` (after `base`)."""
    path = base
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part.isidentifier():
            path += f".{part}" if path else part
        else:
            path += f"[{json.dumps(part, ensure_ascii=False)}]"
    return path


def module_id_at(data: Any, loc: Sequence[str | int]) -> int | None:
    """The id of the innermost module the location points into, read from the raw data."""
    current, found = data, None
    previous: str | int | None = None
    for part in loc:
        current = _child(current, part)
        if current is None:
            break
        if isinstance(part, int) and previous in {"flow", "onerror"} and isinstance(current, dict):
            module_id = current.get("id")
            if isinstance(module_id, int) and not isinstance(module_id, bool):
                found = module_id
        previous = part
    return found


def _child(node: Any, part: str | int) -> Any:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return None


def _issues(error: ValidationError, data: Any) -> list[ValidationIssue]:
    issues = []
    for detail in error.errors(include_url=False):
        loc = [part for part in detail["loc"] if isinstance(part, str | int)]
        issues.append(
            ValidationIssue(
                path=format_path(loc),
                message=detail["msg"],
                module_id=module_id_at(data, loc),
            )
        )
    return issues


def _single_issue(path: str, message: str) -> ScenarioValidationError:
    return ScenarioValidationError([ValidationIssue(path=path, message=message)])


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno} column {error.colno}"
        raise _single_issue("", f"invalid JSON at {where}: {error.msg}") from None
    except RecursionError:
        raise _single_issue("", "JSON document is nested too deeply") from None


def _parse_yaml(text: str) -> Any:
    try:
        _check_yaml_aliases(text)
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise _single_issue("", f"invalid YAML{where}: {error.problem}") from None
    except yaml.YAMLError as error:
        raise _single_issue("", f"invalid YAML: {error}") from None
    except RecursionError:
        raise _single_issue("", "YAML document is nested too deeply") from None


def _check_yaml_aliases(text: str) -> None:
    # Counting events needs no object construction, so the bomb never expands here.
    aliases = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_YAML_ALIASES:
                raise _single_issue("", f"YAML document uses more than {MAX_YAML_ALIASES} aliases")


class _Budget:
    def __init__(self) -> None:
        self.nodes = 0


def _normalized(data: Any) -> Any:
    """A tree copy with bounded size and depth; YAML dates become ISO text like in JSON."""
    return _copy(data, _Budget(), 0)


def _copy(node: Any, budget: _Budget, depth: int) -> Any:
    budget.nodes += 1
    if budget.nodes > MAX_NODES:
        raise _single_issue("", f"document has more than {MAX_NODES} values")
    if depth > MAX_DEPTH:
        raise _single_issue("", f"document is nested deeper than {MAX_DEPTH} levels")
    if isinstance(node, dict):
        return {key: _copy(value, budget, depth + 1) for key, value in node.items()}
    if isinstance(node, list):
        return [_copy(item, budget, depth + 1) for item in node]
    # YAML turns unquoted 2024-01-01 into a date; the document model is JSON-shaped.
    if isinstance(node, datetime | date | time):
        return node.isoformat()
    return node
