"""Running one app module for an executor: connection, rate limits, the connector runtime.

``ModuleRunner.execute`` takes and returns the proto messages of ``ConnectorService.
ExecuteModule``, so the gRPC handler (distributed mode) and the in-process callable that
standalone executors use (``host.shared["connector_execute"]``) are the same code. A module
failure is a ``ModuleError`` in the response; only a malformed call raises
:class:`CallRefusedError`.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import grpc
import orjson
from scenarist.connector.v1 import connector_service_pb2 as pb
from scenarist_connector_sdk import ConnectorRuntime, errors
from scenarist_connector_sdk.context import Redactor
from scenarist_engine.modules import BUILTIN_KINDS
from scenarist_limiter import Decision, RateLimiter, acquire
from scenarist_observability.metrics import METRICS
from scenarist_observability.tracing import get_tracer, service_scope
from scenarist_storage.ports import ConnectionStore

from scenarist_connector_gateway.limits import RateLimits, connection_key
from scenarist_connector_gateway.oauth import OAuthFlows, uses_authorization_code
from scenarist_connector_gateway.secrets import Keyring, SecretUnavailableError, connection_aad

log = logging.getLogger(__name__)

SERVICE = "connector_gateway"


class CallRefusedError(Exception):
    """The call itself is wrong (not the module): answered with a gRPC status."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class _Call:
    app: str
    app_module: str
    org_id: uuid.UUID
    inputs: dict[str, Any]
    connection_id: str


def _error(exc: errors.ConnectorError) -> pb.ExecuteModuleResponse:
    failure = pb.ModuleError(type=exc.error_type.value, message=exc.message)
    if exc.retry_after is not None:
        failure.retry_after.SetInParent()
        failure.retry_after.FromNanoseconds(int(max(0.0, exc.retry_after) * 1e9))
    return pb.ExecuteModuleResponse(error=failure)


def _decode_inputs(text: str) -> dict[str, Any]:
    try:
        inputs = orjson.loads(text or "{}")
    except orjson.JSONDecodeError as exc:
        raise CallRefusedError(
            grpc.StatusCode.INVALID_ARGUMENT, f"inputs: not JSON ({exc})"
        ) from exc
    if not isinstance(inputs, dict):
        raise CallRefusedError(grpc.StatusCode.INVALID_ARGUMENT, "inputs: must be a JSON object")
    return inputs


class ModuleRunner:
    def __init__(
        self,
        runtime: ConnectorRuntime,
        connections: ConnectionStore,
        keyring: Keyring,
        limiter: RateLimiter,
        limits: RateLimits,
        *,
        max_wait: float = 2.0,
        oauth: OAuthFlows | None = None,
    ) -> None:
        self.runtime = runtime
        self.oauth = oauth
        self._connections = connections
        self._keyring = keyring
        self._limiter = limiter
        self._limits = limits
        self._max_wait = max_wait

    async def execute(
        self, request: pb.ExecuteModuleRequest, *, timeout: float | None = None
    ) -> pb.ExecuteModuleResponse:
        """Run the module; a malformed call raises CallRefusedError, a module failure never does."""
        # Standalone executors call this in their own task: the span still says who ran it.
        with (
            service_scope(SERVICE),
            get_tracer().start_as_current_span(
                f"execute {request.app}:{request.module}",
                attributes={"scenarist.app": request.app, "scenarist.run_id": request.run.run_id},
            ),
        ):
            return await self._execute(request, timeout)

    async def _execute(
        self, request: pb.ExecuteModuleRequest, timeout: float | None
    ) -> pb.ExecuteModuleResponse:
        call = self._check(request)
        started = time.perf_counter()
        try:
            async with asyncio.timeout(timeout):
                bundles = await self._run(call, request.run)
        except errors.ConnectorError as exc:
            METRICS.connector_calls.labels(call.app, _outcome(exc)).inc()
            log.info(
                "app module failed",
                extra={"app_module": call.app_module, "type": exc.error_type.value},
            )
            return _error(exc)
        except TimeoutError:
            METRICS.connector_calls.labels(call.app, "timeout").inc()
            return _error(errors.TimeoutError(f"{call.app_module} ran out of time"))
        finally:
            METRICS.connector_call_duration.labels(call.app).observe(time.perf_counter() - started)
        METRICS.connector_calls.labels(call.app, "ok").inc()
        return pb.ExecuteModuleResponse(bundles=orjson.dumps(bundles, default=str).decode())

    def _check(self, request: pb.ExecuteModuleRequest) -> _Call:
        if not request.app or not request.module:
            raise CallRefusedError(grpc.StatusCode.INVALID_ARGUMENT, "app and module are required")
        app_module = f"{request.app}:{request.module}"
        if app_module in BUILTIN_KINDS:
            raise CallRefusedError(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"{app_module} is a built-in module: executors run it with the engine",
            )
        try:
            self.runtime.registry.module(app_module)
        except errors.ConnectorError as exc:
            raise CallRefusedError(grpc.StatusCode.NOT_FOUND, exc.message) from exc
        try:
            org_id = uuid.UUID(request.run.organization_id)
        except ValueError as exc:
            raise CallRefusedError(
                grpc.StatusCode.INVALID_ARGUMENT, "run.organization_id: must be a UUID"
            ) from exc
        inputs = _decode_inputs(request.inputs)
        return _Call(request.app, app_module, org_id, inputs, request.connection_id)

    async def _run(self, call: _Call, run: pb.RunInfo) -> Any:
        connection = await self._connection(call)
        await self._take(call)
        try:
            try:
                bundles = await self.runtime.execute(
                    call.app_module, call.inputs, connection, _run_info(run)
                )
            except errors.AuthError as exc:
                # The app refused an OAuth2 access token it should still take (revoked early,
                # clock skew): refresh once and call again.
                if exc.status_code != 401 or connection is None or not _refreshable(connection):
                    raise
                connection = await self._refreshed(call, connection)
                bundles = await self.runtime.execute(
                    call.app_module, call.inputs, connection, _run_info(run)
                )
        except errors.RateLimitError as exc:
            if call.connection_id and exc.retry_after:
                # Every replica now holds this connection's calls until the API is ready again.
                await self._block(connection_key(call.connection_id), exc.retry_after)
            raise
        secrets = (connection or {}).get("secrets") or {}
        # An API that echoes credentials back must not carry them into run logs.
        return Redactor(secrets.values()).redact_value(bundles) if secrets else bundles

    async def _refreshed(self, call: _Call, connection: Mapping[str, Any]) -> dict[str, Any]:
        assert self.oauth is not None  # _refreshable said so
        secrets = await self.oauth.after_refusal(
            call.org_id, uuid.UUID(call.connection_id), dict(connection["secrets"])
        )
        return {**connection, "secrets": secrets}

    async def _connection(self, call: _Call) -> Mapping[str, Any] | None:
        if not call.connection_id:
            return None
        try:
            connection_id = uuid.UUID(call.connection_id)
        except ValueError:
            raise errors.ConfigurationError(
                f"connection {call.connection_id!r} is not a connection id"
            ) from None
        record = await self._connections.get_connection(call.org_id, connection_id)
        # Another organization's connection is reported exactly like a missing one.
        if record is None:
            raise errors.ConfigurationError(f"connection {connection_id} not found")
        if record.app != call.app:
            raise errors.ConfigurationError(
                f"connection {connection_id} is for app {record.app!r}, not {call.app!r}"
            )
        try:
            secrets = orjson.loads(
                self._keyring.open(record.sealed, connection_aad(record.org_id, record.id))
            )
        except SecretUnavailableError:
            raise errors.AuthError(
                f"connection {connection_id}: the stored credentials cannot be decrypted"
            ) from None
        if (
            self.oauth is not None
            and uses_authorization_code(record.type, record.parameters)
            and self.oauth.expiring(record.expires_at)
        ):
            secrets = await self.oauth.fresh(record.org_id, record.id, secrets)
        return {
            "type": record.type,
            "parameters": dict(record.parameters),
            "secrets": secrets,
            # Only the gateway reads this; the SDK's Connection ignores unknown keys.
            "refreshable": self.oauth is not None
            and uses_authorization_code(record.type, record.parameters),
        }

    async def _take(self, call: _Call) -> None:
        buckets = self._limits.buckets(call.app, call.connection_id or None)
        if not buckets:
            return
        waited = False

        async def sleep(seconds: float) -> None:
            nonlocal waited
            waited = True
            await asyncio.sleep(seconds)

        try:
            decision = await acquire(self._limiter, buckets, max_wait=self._max_wait, sleep=sleep)
        except Exception as exc:  # the limiter's store is down: limits are protection, not gates
            log.warning("rate limiter unavailable; calling without it", extra={"error": str(exc)})
            return
        if waited:
            METRICS.rate_limit_waits.labels(call.app).inc()
        _raise_if_refused(call, decision)

    async def _block(self, key: str, seconds: float) -> None:
        try:
            await self._limiter.block(key, seconds)
        except Exception as exc:  # the engine's retry delay still honours retry_after
            log.warning("rate limiter unavailable; block not stored", extra={"error": str(exc)})


def _refreshable(connection: Mapping[str, Any]) -> bool:
    return bool(connection.get("refreshable"))


def _raise_if_refused(call: _Call, decision: Decision) -> None:
    if not decision.allowed:
        raise errors.RateLimitError(
            f"{call.app_module}: rate limit reached, retry in {decision.retry_after:.1f}s",
            retry_after=decision.retry_after,
        )


def _outcome(exc: errors.ConnectorError) -> str:
    if isinstance(exc, errors.RateLimitError):
        return "rate_limited"
    if isinstance(exc, errors.TimeoutError):
        return "timeout"
    return "error"


def _run_info(run: pb.RunInfo) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "module_id": run.module_id,
        "idempotency_key": run.idempotency_key,
        "attempt": run.attempt or 1,
        "organization_id": run.organization_id,
        "scenario_id": run.scenario_id,
        "task_id": run.task_id,
    }
