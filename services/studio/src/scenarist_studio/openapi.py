"""The OpenAPI 3.1 document, generated from the route table (so every route is in it)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from scenarist_studio.routing import CSRF_HEADER, SESSION_COOKIE, Endpoint

__all__ = ["API_PREFIX", "openapi_document"]

API_PREFIX = "/api"
_PARAM = re.compile(r"{([a-z_]+)}")
_PROBLEM = {"$ref": "#/components/schemas/Problem"}
_REF = "#/components/schemas/{model}"


def _responses(endpoint: Endpoint) -> dict[str, Any]:
    problem = {"content": {"application/problem+json": {"schema": _PROBLEM}}}
    ok: dict[str, Any] = {"description": "Success"}
    if endpoint.status != 204:
        ok["content"] = {"application/json": {"schema": {"type": "object"}}}
    found: dict[str, Any] = {str(endpoint.status): ok}
    found["400"] = {"description": "Invalid request", **problem}
    if endpoint.role is not None:
        found["401"] = {"description": "Not signed in", **problem}
        found["403"] = {"description": "Role too low, or CSRF token missing", **problem}
    return found


def _operation(endpoint: Endpoint, schemas: dict[str, Any]) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PARAM.findall(endpoint.path)
    ]
    parameters += [
        {
            "name": q.name,
            "in": "query",
            "required": False,
            "description": q.description,
            "schema": {"type": q.type},
        }
        for q in endpoint.query
    ]
    operation: dict[str, Any] = {
        "operationId": endpoint.handler.__name__,
        "summary": endpoint.summary,
        "tags": [endpoint.tag],
        "parameters": parameters,
        "responses": _responses(endpoint),
        "x-required-role": endpoint.role.value if endpoint.role is not None else None,
    }
    if endpoint.role is None:
        operation["security"] = []
    if endpoint.body is not None:
        schema = endpoint.body.model_json_schema(ref_template=_REF)
        schemas.update(schema.pop("$defs", {}))
        schemas[endpoint.body.__name__] = schema
        operation["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": _REF.format(model=endpoint.body.__name__)}}
            },
        }
    return operation


def openapi_document(endpoints: Sequence[Endpoint], version: str) -> dict[str, Any]:
    schemas: dict[str, Any] = {
        "Problem": {
            "type": "object",
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "violations": {"type": "array", "items": {"type": "object"}},
            },
        }
    }
    paths: dict[str, dict[str, Any]] = {
        f"{API_PREFIX}/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "tags": ["meta"],
                "security": [],
                "responses": {"200": {"description": "The OpenAPI document"}},
            }
        }
    }
    for endpoint in endpoints:
        path = paths.setdefault(API_PREFIX + endpoint.path, {})
        path[endpoint.method.lower()] = _operation(endpoint, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Scenarist studio API",
            "version": version,
            "description": (
                "The REST API of the Scenarist studio. Sign in with POST /api/session (a"
                " session cookie; unsafe methods then need the X-CSRF-Token header equal to"
                " the scenarist_csrf cookie) or send `Authorization: Bearer sst_…` with a token"
                " from POST /api/tokens. Errors are application/problem+json."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE},
                "csrf": {"type": "apiKey", "in": "header", "name": CSRF_HEADER},
                "token": {"type": "http", "scheme": "bearer"},
            },
        },
        "security": [{"session": [], "csrf": []}, {"token": []}],
    }
