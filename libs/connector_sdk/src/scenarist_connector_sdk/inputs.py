"""Check a module's evaluated inputs against its field specs before any connector code runs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from scenarist_connector_sdk.errors import InvalidInputError
from scenarist_connector_sdk.spec import FieldSpec, FieldType

__all__ = ["prepare_inputs"]

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


def _number(value: Any, integer: bool) -> int | float:
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    number = float(value) if isinstance(value, str) else value
    if not isinstance(number, int | float):
        raise ValueError(f"{type(value).__name__} is not a number")
    if integer:
        if number != int(number):
            raise ValueError(f"{value!r} is not a whole number")
        return int(number)
    return number


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{value!r} is not a boolean")


def _coerce(spec: FieldSpec, value: Any) -> Any:
    if spec.type in (FieldType.NUMBER, FieldType.INTEGER):
        return _number(value, spec.type is FieldType.INTEGER)
    if spec.type is FieldType.BOOLEAN:
        return _boolean(value)
    if spec.type is FieldType.SELECT and spec.options:
        allowed = {option.value for option in spec.options}
        chosen = value if spec.multiple and isinstance(value, list) else [value]
        wrong = [item for item in chosen if item not in allowed]
        if wrong:
            raise ValueError(f"{wrong[0]!r} is not one of {sorted(map(str, allowed))}")
        return value
    if spec.type is FieldType.ARRAY and not isinstance(value, list):
        raise ValueError(f"expected an array, got {type(value).__name__}")
    if spec.type is FieldType.COLLECTION and not isinstance(value, Mapping):
        raise ValueError(f"expected a collection, got {type(value).__name__}")
    return value


def _missing(value: Any) -> bool:
    return value is None or value in ("", [])


def prepare_inputs(fields: Iterable[FieldSpec], inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Inputs with defaults filled and simple types coerced; every problem reported at once."""
    prepared = dict(inputs)
    problems: list[str] = []
    for spec in fields:
        value = prepared.get(spec.name)
        if _missing(value):
            if spec.default is not None:
                prepared[spec.name] = spec.default
            elif spec.required:
                problems.append(f"{spec.name!r} is required")
            continue
        try:
            prepared[spec.name] = _coerce(spec, value)
        except (ValueError, TypeError, OverflowError) as exc:
            problems.append(f"{spec.name!r}: {exc}")
    if problems:
        raise InvalidInputError("invalid inputs: " + "; ".join(problems))
    return prepared
