"""The connector SDK: how a Scenarist connector is written and run.

A connector is a declarative :class:`AppSpec` plus small async functions registered on a
:class:`Connector`; each receives one :class:`ActionContext` and the module's inputs and returns
(or, for searches, yields) bundles. Failures are typed :mod:`errors`.
"""

from __future__ import annotations

from scenarist_connector_sdk import errors
from scenarist_connector_sdk.auth import Connection
from scenarist_connector_sdk.context import ActionContext, Metrics, RunInfo
from scenarist_connector_sdk.errors import (
    AuthError,
    BlockedTargetError,
    ConfigurationError,
    ConnectorError,
    InvalidInputError,
    NotFoundError,
    RateLimitError,
    ResponseTooLargeError,
)
from scenarist_connector_sdk.http import HttpLimits, HttpResponse, SafeHttpClient, raise_for_status
from scenarist_connector_sdk.net import AddressGuard, NetPolicy
from scenarist_connector_sdk.registry import ENTRY_POINT_GROUP, Bundle, Connector, Module, Registry
from scenarist_connector_sdk.runtime import ConnectorRuntime, RuntimeSettings, execute
from scenarist_connector_sdk.spec import (
    AppSpec,
    ConnectionTest,
    ConnectionTypeSpec,
    FieldSpec,
    FieldType,
    ModuleKind,
    ModuleSpec,
    Option,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "ActionContext",
    "AddressGuard",
    "AppSpec",
    "AuthError",
    "BlockedTargetError",
    "Bundle",
    "ConfigurationError",
    "Connection",
    "ConnectionTest",
    "ConnectionTypeSpec",
    "Connector",
    "ConnectorError",
    "ConnectorRuntime",
    "FieldSpec",
    "FieldType",
    "HttpLimits",
    "HttpResponse",
    "InvalidInputError",
    "Metrics",
    "Module",
    "ModuleKind",
    "ModuleSpec",
    "NetPolicy",
    "NotFoundError",
    "Option",
    "RateLimitError",
    "Registry",
    "ResponseTooLargeError",
    "RunInfo",
    "RuntimeSettings",
    "SafeHttpClient",
    "errors",
    "execute",
    "raise_for_status",
]
