"""Import an OpenAPI 3.0/3.1 document (JSON or YAML) as a working connector.

``import_openapi(document, app="petstore")`` builds a :class:`Connector` at runtime:

* one module per operation, named by ``operationId`` (else ``<method>_<path words>``);
* inputs from path/query/header parameters and the JSON (or form) request body, flattened one
  level (body properties become inputs; nested objects are collection fields; a body property
  named like a parameter becomes ``body_<name>``; a non-object body is one ``body`` input);
* outputs from the first 2xx response's schema;
* connection types from ``components.securitySchemes`` (see :mod:`.security`), each with a
  ``base_url`` parameter defaulting to ``servers[0].url`` (variables filled with their
  defaults) or to the ``base_url`` given here; an operation with ``security: []`` is sent
  without credentials;
* pagination: an operation's ``x-pagination`` extension, e.g.
  ``{"type": "cursor", "itemsPath": "data", "cursorParam": "cursor", "cursorPath":
  "meta.next"}`` (types ``cursor``, ``offset``, ``page``, ``link``; keys ``itemsPath``,
  ``cursorParam``, ``cursorPath``, ``offsetParam``, ``limitParam``, ``pageParam``, ``limit``);
  without it these patterns are recognised: a declared ``Link`` response header (follow
  ``rel="next"``); a cursor query parameter (cursor, starting_after, after, page_token,
  pageToken, next_token) with a next-cursor response property (next_cursor, nextCursor,
  next_page_token, nextPageToken, next_token, cursor, next); ``offset`` + ``limit`` query
  parameters; a ``page`` query parameter (page size from per_page, page_size, pageSize or
  limit). Paginated operations and those answering a top-level array are searches (one bundle
  per item, items found at ``itemsPath`` or the response's data/items/results/... array).

``installed_connectors`` is the ``scenarist.connectors`` entry point: every ``*.json``,
``*.yaml`` or ``*.yml`` in the directories of ``SCENARIST_OPENAPI_SPECS`` (path-separated),
each registered under its file name as the app name.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from scenarist_connector_sdk import AppSpec, Connector, ModuleSpec, errors

from scenarist_connectors.openapi.document import operations
from scenarist_connectors.openapi.handler import Target, handler_for
from scenarist_connectors.openapi.schema import Resolver
from scenarist_connectors.openapi.security import (
    api_key_scheme,
    base_url_field,
    connection_types,
)

__all__ = ["SPECS_ENV", "import_openapi", "installed_connectors", "load_document"]

SPECS_ENV = "SCENARIST_OPENAPI_SPECS"


def load_document(source: str | bytes | Mapping[str, Any]) -> dict[str, Any]:
    """A parsed OpenAPI 3 document from JSON or YAML text (or an already parsed mapping)."""
    if isinstance(source, Mapping):
        document: Any = dict(source)
    else:
        text = source.decode() if isinstance(source, bytes) else source
        try:
            document = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
        except (ValueError, yaml.YAMLError) as exc:
            raise errors.InvalidInputError(f"OpenAPI: not JSON or YAML: {exc}") from exc
    if not isinstance(document, dict) or not str(document.get("openapi", "")).startswith("3."):
        raise errors.InvalidInputError("OpenAPI: only OpenAPI 3.0 and 3.1 documents are supported")
    return document


def _server(document: Mapping[str, Any]) -> str:
    servers = document.get("servers") or [{}]
    server = servers[0] if isinstance(servers[0], Mapping) else {}
    url = str(server.get("url") or "")
    for name, variable in (server.get("variables") or {}).items():
        url = url.replace("{" + str(name) + "}", str(variable.get("default", "")))
    return url.rstrip("/")


def import_openapi(
    source: str | bytes | Mapping[str, Any],
    *,
    app: str,
    version: str | None = None,
    base_url: str | None = None,
) -> Connector:
    """A connector for every operation of the document, registered as ``app``."""
    document = load_document(source)
    resolver = Resolver(document)
    info = document.get("info") or {}
    default_base = (base_url or _server(document)).rstrip("/")
    spec = AppSpec(
        app,
        version or str(info.get("version") or "1.0.0"),
        str(info.get("title") or app),
        str(info.get("description") or ""),
        connection_types=connection_types(document, resolver, base_url_field(default_base)),
        metadata={"source": "openapi", "openapi": str(document.get("openapi"))},
    )
    connector = Connector(spec)
    target = Target(default_base, api_key_scheme(document, resolver))
    for op in operations(document, resolver):
        module = ModuleSpec(
            op.name,
            op.kind,
            label=op.label,
            description=op.description or f"{op.method} {op.path}",
            inputs=op.inputs,
            outputs=op.outputs,
            max_results=1000,
        )
        connector.module(module)(handler_for(op, app, target))
    return connector


def installed_connectors() -> list[Connector]:
    """The documents the operator dropped into ``SCENARIST_OPENAPI_SPECS``."""
    found: list[Connector] = []
    for directory in filter(None, os.environ.get(SPECS_ENV, "").split(os.pathsep)):
        for path in sorted(Path(directory).glob("*")):
            if path.suffix.lower() in (".json", ".yaml", ".yml"):
                name = re.sub(r"[^a-z0-9-]+", "-", path.stem.lower()).strip("-")
                found.append(import_openapi(path.read_text(encoding="utf-8"), app=name))
    return found
