"""What the builder offers: apps and modules (ConnectorService), IML functions and filter
operators (from the engine itself), and expression checking with the parser's own message."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from scenarist.connector.v1 import connector_service_pb2 as pb
from scenarist_engine.errors import ExpressionError
from scenarist_engine.filters import OPERATOR_TABLE
from scenarist_engine.iml import parse_template
from scenarist_engine.iml.functions import FUNCTIONS

from scenarist_studio.builtin_fields import with_builtin_fields
from scenarist_studio.context import Ctx
from scenarist_studio.routing import Endpoint
from scenarist_studio.views import app_view, module_view

MAX_PAGES = 20
_UNARY = frozenset({"exist", "notexist"})
_KIND_LABELS = {
    "text": "Text",
    "number": "Number",
    "date": "Date",
    "time": "Time",
    "array": "Array",
    "boolean": "Boolean",
}
_VERB_LABELS = {
    "equal": "Equal to",
    "notequal": "Not equal to",
    "contain": "Contains",
    "notcontain": "Does not contain",
    "startwith": "Starts with",
    "notstartwith": "Does not start with",
    "endwith": "Ends with",
    "notendwith": "Does not end with",
    "pattern": "Matches pattern",
    "notpattern": "Does not match pattern",
    "greater": "Greater than",
    "less": "Less than",
    "greaterorequal": "Greater than or equal to",
    "lessorequal": "Less than or equal to",
}


class Expression(BaseModel):
    template: str = Field(max_length=65_536)


async def list_apps(ctx: Ctx) -> dict[str, Any]:
    apps: list[dict[str, Any]] = []
    token = ""
    for _ in range(MAX_PAGES):
        page = await ctx.call(
            ctx.studio.clients.connectors.ListApps,
            pb.ListAppsRequest(page_size=500, page_token=token),
        )
        apps += [app_view(a) for a in page.apps]
        token = page.next_page_token
        if not token:
            break
    return {"apps": apps}


async def list_modules(ctx: Ctx) -> dict[str, Any]:
    modules: list[dict[str, Any]] = []
    token = ""
    for _ in range(MAX_PAGES):
        page = await ctx.call(
            ctx.studio.clients.connectors.ListModules,
            pb.ListModulesRequest(app=ctx.param("app"), page_size=500, page_token=token),
        )
        modules += [with_builtin_fields(module_view(m)) for m in page.modules]
        token = page.next_page_token
        if not token:
            break
    return {"modules": modules}


def _function_list() -> list[dict[str, Any]]:
    return [
        {
            "name": spec.name,
            "signature": spec.signature,
            "category": spec.category,
            "description": spec.description,
        }
        for spec in sorted(FUNCTIONS.values(), key=lambda s: (s.category, s.name))
    ]


def _operator_label(code: str) -> str:
    if code in _UNARY:
        return "Exists" if code == "exist" else "Does not exist"
    kind, verb, *rest = code.split(":")
    label = f"{_KIND_LABELS.get(kind, kind)} operators: {_VERB_LABELS.get(verb, verb)}"
    return label + (" (case insensitive)" if rest else "")


def operator_list() -> list[dict[str, Any]]:
    return [
        {"code": code, "label": _operator_label(code), "unary": code in _UNARY}
        for code in sorted(OPERATOR_TABLE)
    ]


_FUNCTIONS = _function_list()
_OPERATORS = operator_list()


async def functions(ctx: Ctx) -> dict[str, Any]:
    return {"functions": _FUNCTIONS}


async def operators(ctx: Ctx) -> dict[str, Any]:
    return {"operators": _OPERATORS}


async def validate_expression(ctx: Ctx) -> dict[str, Any]:
    template = ctx.payload(Expression).template
    try:
        parsed = parse_template(template)
    except ExpressionError as error:
        return {"valid": False, "message": error.message, "position": error.position}
    return {
        "valid": True,
        "module_ids": sorted(parsed.module_ids()),
        "functions": sorted(parsed.function_names()),
    }


ENDPOINTS = (
    Endpoint("GET", "/apps", list_apps, "The connector catalogue's apps", "catalogue"),
    Endpoint(
        "GET", "/apps/{app}/modules", list_modules, "Modules of an app, with fields", "catalogue"
    ),
    Endpoint("GET", "/iml/functions", functions, "IML functions with signatures", "catalogue"),
    Endpoint(
        "POST",
        "/iml/validate",
        validate_expression,
        "Parse a template; the parser's message if invalid",
        "catalogue",
        body=Expression,
    ),
    Endpoint("GET", "/filters/operators", operators, "Every filter operator code", "catalogue"),
)
