"""Running one module call: the entry point the connector gateway (or an executor) uses.

``ConnectorRuntime.execute("http:MakeRequest", inputs, connection, run_info)`` resolves the
module, checks its inputs, builds the :class:`ActionContext` (authenticated guarded client,
read-only secrets, redacting logger) and returns the bundles, or raises a
:class:`~scenarist_connector_sdk.errors.ConnectorError` whose type the engine acts on. Anything
else a connector raises becomes a ``RuntimeError``-typed ConnectorError with a redacted message,
so a bug never leaks a secret through an exception text.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from scenarist_connector_sdk import errors
from scenarist_connector_sdk.auth import Connection, TokenCache, authenticator_for
from scenarist_connector_sdk.context import (
    ActionContext,
    ConnectorLogger,
    Metrics,
    NullMetrics,
    Redactor,
    RunInfo,
)
from scenarist_connector_sdk.http import (
    HttpLimits,
    HttpResponse,
    SafeHttpClient,
    raise_for_status,
)
from scenarist_connector_sdk.inputs import prepare_inputs
from scenarist_connector_sdk.net import AddressGuard, NetPolicy, Resolver
from scenarist_connector_sdk.pagination import take
from scenarist_connector_sdk.registry import Bundle, Connector, Module, Registry
from scenarist_connector_sdk.spec import ConnectionTest, ModuleKind

__all__ = ["ConnectorRuntime", "RuntimeSettings", "execute"]

logger = logging.getLogger("scenarist.connector")


@dataclass(frozen=True)
class RuntimeSettings:
    """What the operator sets: the SSRF allow list and HTTP limits."""

    allow: NetPolicy = field(default_factory=NetPolicy)
    limits: HttpLimits = field(default_factory=HttpLimits)
    verify_tls: bool = True


class ConnectorRuntime:
    """Holds what outlives one call: the registry, the HTTP pool and the OAuth2 token cache."""

    def __init__(
        self,
        registry: Registry | None = None,
        settings: RuntimeSettings | None = None,
        *,
        metrics: Metrics | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self.registry = registry if registry is not None else Registry.from_entry_points()
        self.settings = settings or RuntimeSettings()
        self.metrics: Metrics = metrics or NullMetrics()
        self.tokens = TokenCache()
        guard = AddressGuard(self.settings.allow, resolver)
        self.http = SafeHttpClient(
            guard, limits=self.settings.limits, verify=self.settings.verify_tls
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def execute(
        self,
        app_module: str,
        inputs: Mapping[str, Any],
        connection: Mapping[str, Any] | Connection | None = None,
        run_info: Mapping[str, Any] | RunInfo | None = None,
        *,
        version: str | None = None,
    ) -> list[Bundle]:
        """Run one module call; raises :class:`errors.ConnectorError` subclasses on failure."""
        connector, module = self.registry.module(app_module, version)
        conn = (
            connection
            if isinstance(connection, Connection)
            else Connection.from_mapping(connection)
        )
        run = run_info if isinstance(run_info, RunInfo) else RunInfo.from_mapping(run_info)
        redactor = Redactor(conn.secrets.values() if conn else ())
        self._check_connection(connector, module, conn)
        ctx = self._context(app_module, conn, run, redactor)
        prepared = prepare_inputs(module.spec.inputs, inputs)
        try:
            bundles = await _invoke(module, ctx, prepared)
        except errors.ConnectorError as exc:
            exc.message = redactor.redact(exc.message)
            exc.args = (exc.message,)
            self.metrics.increment(
                "connector_module_errors", app_module=app_module, type=exc.error_type.value
            )
            raise
        except Exception as exc:
            message = redactor.redact(f"{type(exc).__name__}: {exc}")
            ctx.logger.error("module %s crashed: %s", app_module, message)
            raise errors.ConnectorError(message) from None
        self.metrics.increment("connector_module_calls", app_module=app_module)
        return bundles

    def connection_test(self, app: str) -> ConnectionTest | None:
        """The app's declared connection test; ``None`` when it declares none."""
        return self.registry.connector(app).spec.connection_test

    async def test_connection(self, app: str, connection: Connection) -> str:
        """Run the app's connection test; the account label, or a typed ConnectorError.

        ConfigurationError when the app declares no test (ask :meth:`connection_test` first)."""
        test = self.connection_test(app)
        if test is None:
            raise errors.ConfigurationError(f"app {app!r} declares no connection test")
        redactor = Redactor(connection.secrets.values())
        auth = authenticator_for(connection, self.http, self.tokens, redactor)
        base = (connection.parameters.get("base_url") or test.base_url).rstrip("/")
        try:
            response = await self.http.with_auth(auth).request(test.method, base + test.path)
            return check_test_response(app, test, response)
        except errors.ConnectorError as exc:
            exc.message = redactor.redact(exc.message)
            exc.args = (exc.message,)
            raise

    def _check_connection(
        self, connector: Connector, module: Module, conn: Connection | None
    ) -> None:
        if conn is None:
            if module.spec.connection_required:
                raise errors.AuthError(
                    f"{connector.spec.name}:{module.spec.name} needs a connection"
                )
            return
        if conn.type != "none" and connector.spec.connection_type(conn.type) is None:
            raise errors.ConfigurationError(
                f"app {connector.spec.name!r} takes no {conn.type!r} connection"
            )

    def _context(
        self, app_module: str, conn: Connection | None, run: RunInfo, redactor: Redactor
    ) -> ActionContext:
        auth = authenticator_for(conn, self.http, self.tokens, redactor)
        fields = {"app_module": app_module, "run_id": run.run_id, "module_id": run.module_id}
        return ActionContext(
            http=self.http.with_auth(auth),
            secrets=MappingProxyType(dict(conn.secrets)) if conn else MappingProxyType({}),
            parameters=MappingProxyType(dict(conn.parameters)) if conn else MappingProxyType({}),
            logger=ConnectorLogger(logger, redactor, fields),
            metrics=self.metrics,
            run=run,
            connection_type=conn.type if conn else "none",
        )


async def _invoke(module: Module, ctx: ActionContext, inputs: dict[str, Any]) -> list[Bundle]:
    result = module.run(ctx, inputs)
    if isinstance(result, AsyncIterator):
        return await take(result, _limit(module, inputs))
    bundles = await result
    if module.spec.kind is ModuleKind.SEARCH:
        return bundles[: _limit(module, inputs)]
    return bundles


def check_test_response(app: str, test: ConnectionTest, response: HttpResponse) -> str:
    """The account label of a passed test; raises the typed error of a failed one."""
    raise_for_status(response)
    body = response.json() if "json" in response.content_type else None
    if test.ok_field and not (isinstance(body, dict) and body.get(test.ok_field) is True):
        detail = body.get("error") if isinstance(body, dict) else None
        raise errors.AuthError(f"{app} refused the credentials ({detail or 'not ok'})")
    value: Any = body
    for part in test.account_field.split(".") if test.account_field else ():
        value = value.get(part) if isinstance(value, dict) else None
    return str(value) if isinstance(value, str | int) and test.account_field else ""


def _limit(module: Module, inputs: Mapping[str, Any]) -> int:
    """A search's bound: the mapper's ``limit`` (Make's name), never above the spec's maximum."""
    cap = module.spec.max_results
    asked = inputs.get("limit")
    if isinstance(asked, int | float) and not isinstance(asked, bool) and asked > 0:
        return min(int(asked), cap)
    return cap


_default: ConnectorRuntime | None = None


async def execute(
    app_module: str,
    inputs: Mapping[str, Any],
    connection: Mapping[str, Any] | Connection | None,
    run_info: Mapping[str, Any] | RunInfo | None,
) -> list[Bundle]:
    """Run a module with a process-wide runtime over the installed connectors (no allow list).

    Hosts that need an allow list or custom limits build their own :class:`ConnectorRuntime`.
    """
    global _default  # noqa: PLW0603 - one lazily built runtime per process, by design
    if _default is None:
        _default = ConnectorRuntime()
    return await _default.execute(app_module, inputs, connection, run_info)
