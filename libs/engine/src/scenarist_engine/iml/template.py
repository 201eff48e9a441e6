"""Templates: text with `{{…}}` interpolations, parsed once and cached, and module mappers.

A template that is exactly one `{{…}}` yields the expression's value with its type; any text
around an interpolation makes the result text. Values coming out of bundles are never parsed
again, so trigger data containing "{{…}}" stays literal text (no second-order injection).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from scenarist_engine.errors import ExpressionError, ExpressionLimitError
from scenarist_engine.iml.ast import Call, Key, ModuleRef, Node, Path, walk
from scenarist_engine.iml.context import EvalContext, Limits
from scenarist_engine.iml.evaluator import evaluate, rebuilt
from scenarist_engine.iml.lexer import tokenize
from scenarist_engine.iml.operators import check_size
from scenarist_engine.iml.parser import parse_expression
from scenarist_engine.iml.values import is_erase, is_ignore, to_text

DEFAULT_LIMITS = Limits()
# Mapper templates are short and evaluated for every bundle; long one-off texts (a big
# JSON body) are cheap to re-parse and would only crowd the cache.
_CACHEABLE_LENGTH = 8192
_CACHE_SIZE = 2048


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed template: literal text parts and expression nodes, in order."""

    source: str
    parts: tuple[str | Node, ...]

    @property
    def is_plain(self) -> bool:
        return all(isinstance(part, str) for part in self.parts)

    @property
    def single(self) -> Node | None:
        """The expression when the template is exactly one `{{…}}`, else None."""
        if len(self.parts) == 1 and isinstance(self.parts[0], Node):
            return self.parts[0]
        return None

    def nodes(self) -> list[Node]:
        return [node for part in self.parts if isinstance(part, Node) for node in walk(part)]

    def module_ids(self) -> set[int]:
        return {node.module_id for node in self.nodes() if isinstance(node, ModuleRef)}

    def bundle_keys(self) -> dict[int, frozenset[str] | None]:
        """Per module whose bundle the template reads, the top-level keys it reads: `1.url`
        and `1.items[2]` read `url` and `items`; a bare `1`, `1[…]` or `get(1; …)` read the
        whole bundle (None)."""
        nodes = self.nodes()
        first_key = {
            id(node.base): node.segments[0].name
            for node in nodes
            if isinstance(node, Path)
            and isinstance(node.base, ModuleRef)
            and node.segments
            and isinstance(node.segments[0], Key)
        }
        found: dict[int, set[str] | None] = {}
        for node in nodes:
            if not isinstance(node, ModuleRef):
                continue
            key, keys = first_key.get(id(node)), found.get(node.module_id, set())
            if key is None or keys is None:
                found[node.module_id] = None
            else:
                keys.add(key)
                found[node.module_id] = keys
        return {m: None if keys is None else frozenset(keys) for m, keys in found.items()}

    def function_names(self) -> set[str]:
        return {node.name for node in self.nodes() if isinstance(node, Call)}

    def evaluate(self, ctx: EvalContext) -> Any:
        try:
            single = self.single
            if single is not None:
                return evaluate(single, ctx)
            return self._render(ctx)
        except ExpressionError as exc:
            if exc.source is not None:
                raise
            raise rebuilt(exc, source=self.source) from exc.__cause__ or exc
        except RecursionError as exc:
            raise ExpressionLimitError(
                "expression is nested too deeply", source=self.source
            ) from exc

    def _render(self, ctx: EvalContext) -> str:
        chunks = [
            part if isinstance(part, str) else to_text(evaluate(part, ctx)) for part in self.parts
        ]
        text = "".join(chunks)
        check_size(text, ctx.limits)
        return text


def _parse(source: str, max_depth: int) -> Template:
    parts: list[str | Node] = []
    text_start = 0
    while (opening := source.find("{{", text_start)) >= 0:
        # In `{{{1.a}}}` (JSON around a value) the outer brace is text, the inner `{{` opens.
        while source.startswith("{", opening + 2):
            opening += 1
        tokens, end = tokenize(source, opening + 2)
        node = parse_expression(tokens, source, max_depth)
        if opening > text_start:
            parts.append(source[text_start:opening])
        parts.append(node)
        text_start = end
    if text_start < len(source):
        parts.append(source[text_start:])
    return Template(source, tuple(parts))


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _parse_cached(source: str, max_depth: int) -> Template:
    return _parse(source, max_depth)


def parse_template(source: str, limits: Limits | None = None) -> Template:
    """The parsed template; ExpressionError (with position) on a syntax error and
    ExpressionLimitError when the template is too long or nested too deeply."""
    limits = limits or DEFAULT_LIMITS
    if len(source) > limits.max_template_length:
        raise ExpressionLimitError(
            f"template is longer than {limits.max_template_length} characters"
        )
    try:
        if len(source) <= _CACHEABLE_LENGTH:
            return _parse_cached(source, limits.max_depth)
        return _parse(source, limits.max_depth)
    except RecursionError as exc:
        raise ExpressionLimitError("expression is nested too deeply", source=source) from exc


def evaluate_template(source: str, ctx: EvalContext) -> Any:
    """The value of a template: typed for a lone `{{…}}`, text otherwise, and `source`
    itself when it has no `{{`."""
    if "{{" not in source:
        return source
    return parse_template(source, ctx.limits).evaluate(ctx)


def referenced_module_ids(source: str) -> set[int]:
    """Ids of the modules whose bundles the template reads."""
    if "{{" not in source:
        return set()
    return parse_template(source).module_ids()


def referenced_bundle_keys(source: str) -> dict[int, frozenset[str] | None]:
    """Per module whose bundle the template reads, the top-level keys it reads (None: all)."""
    if "{{" not in source:
        return {}
    return parse_template(source).bundle_keys()


def referenced_function_names(source: str) -> set[str]:
    """Names of the functions the template calls (for checking them before a run)."""
    if "{{" not in source:
        return set()
    return parse_template(source).function_names()


def evaluate_mapping(value: Any, ctx: EvalContext, *, field: str = "") -> Any:
    """A module's mapper with every string inside evaluated as a template.

    Dict keys and non-string values are kept as they are. Inside a collection, a value that
    evaluates to `ignore` drops the key (or array item) and `erase` becomes null; a directive
    at the top level is returned unchanged for the caller to interpret. Errors name the
    field they came from, e.g. "mapper.items[0].name" (array positions count from 0, as in
    the scenario document).
    """
    return _map_value(value, ctx, field, 0)


def _map_value(value: Any, ctx: EvalContext, field: str, depth: int) -> Any:
    if isinstance(value, str):
        if "{{" not in value:
            return value
        try:
            return evaluate_template(value, ctx)
        except ExpressionError as exc:
            raise rebuilt(exc, field=field or None) from exc.__cause__ or exc
    if isinstance(value, dict | list):
        if depth >= ctx.limits.max_depth:
            raise ExpressionLimitError(
                f"mapping is nested more than {ctx.limits.max_depth} levels deep",
                field=field or None,
            )
        if isinstance(value, dict):
            return _map_dict(value, ctx, field, depth + 1)
        return _map_list(value, ctx, field, depth + 1)
    return value


def _map_dict(value: dict[Any, Any], ctx: EvalContext, field: str, depth: int) -> dict[Any, Any]:
    result: dict[Any, Any] = {}
    for key, item in value.items():
        mapped = _map_value(item, ctx, f"{field}.{key}" if field else str(key), depth)
        if is_ignore(mapped):
            continue
        result[key] = None if is_erase(mapped) else mapped
    return result


def _map_list(value: list[Any], ctx: EvalContext, field: str, depth: int) -> list[Any]:
    result: list[Any] = []
    for position, item in enumerate(value):
        mapped = _map_value(item, ctx, f"{field}[{position}]", depth)
        if is_ignore(mapped):
            continue
        result.append(None if is_erase(mapped) else mapped)
    return result
