"""``components.securitySchemes`` to connection types the SDK's authenticators understand.

apiKey (header or query) → ``api_key`` with the scheme's parameter name and placement as
defaults; http basic → ``basic``; http bearer → ``bearer``; oauth2 clientCredentials →
``oauth2`` with the token URL and scopes as defaults; other oauth2 flows (authorization code,
implicit) and openIdConnect → ``oauth2`` carrying an access token the gateway obtains. Cookie
API keys are not supported. Only the first scheme of each connection type is used.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from scenarist_connector_sdk import ConnectionTypeSpec, FieldSpec, FieldType
from scenarist_connector_sdk.auth import API_KEY, BASIC, BEARER, OAUTH2

from scenarist_connectors.openapi.schema import Resolver

__all__ = ["api_key_scheme", "base_url_field", "connection_types"]


def _with_defaults(spec: ConnectionTypeSpec, label: str, **defaults: Any) -> ConnectionTypeSpec:
    fields = tuple(
        dataclasses.replace(f, default=defaults[f.name]) if f.name in defaults else f
        for f in spec.fields
    )
    return ConnectionTypeSpec(spec.type, label or spec.label, fields)


def _oauth2(scheme: Mapping[str, Any], label: str) -> ConnectionTypeSpec:
    flows = scheme.get("flows") or {}
    credentials = flows.get("clientCredentials")
    if isinstance(credentials, Mapping):
        return _with_defaults(
            OAUTH2,
            label,
            token_url=credentials.get("tokenUrl"),
            scope=" ".join(credentials.get("scopes") or {}),
        )
    return _with_defaults(OAUTH2, label, grant_type="authorization_code")


def _one(scheme: Mapping[str, Any]) -> ConnectionTypeSpec | None:
    kind = str(scheme.get("type") or "")
    label = str(scheme.get("description") or "")
    if kind == "apiKey" and scheme.get("in") in ("header", "query"):
        return _with_defaults(API_KEY, label, name=scheme.get("name"), placement=scheme["in"])
    if kind == "http" and str(scheme.get("scheme") or "").lower() == "basic":
        return _with_defaults(BASIC, label)
    if kind == "http" and str(scheme.get("scheme") or "").lower() == "bearer":
        return _with_defaults(BEARER, label)
    if kind in ("oauth2", "openIdConnect"):
        return _oauth2(scheme, label)
    return None


def connection_types(
    document: Mapping[str, Any], resolver: Resolver, base_url: FieldSpec
) -> tuple[ConnectionTypeSpec, ...]:
    """One connection type per supported scheme, each with a ``base_url`` parameter."""
    schemes = (document.get("components") or {}).get("securitySchemes") or {}
    found: dict[str, ConnectionTypeSpec] = {}
    for raw in schemes.values():
        spec = _one(resolver.deref(raw))
        if spec is not None and spec.type not in found:
            found[spec.type] = dataclasses.replace(spec, fields=(*spec.fields, base_url))
    none = ConnectionTypeSpec("none", "No authentication", (base_url,))
    return (none, *found.values())


def base_url_field(default: str) -> FieldSpec:
    return FieldSpec("base_url", FieldType.URL, "API base URL", default=default or None)


def api_key_scheme(document: Mapping[str, Any], resolver: Resolver) -> tuple[str, str] | None:
    """(name, placement) of the first header/query apiKey scheme, the one ``api_key`` uses."""
    schemes = (document.get("components") or {}).get("securitySchemes") or {}
    for raw in schemes.values():
        scheme = resolver.deref(raw)
        if scheme.get("type") == "apiKey" and scheme.get("in") in ("header", "query"):
            return str(scheme["name"]), str(scheme["in"])
    return None
