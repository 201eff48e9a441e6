"""Every gRPC call carries `authorization: Bearer <API token>` and runs as that principal.

The interceptor authenticates before the handler runs, so a handler only ever sees a request of
a known organization, through `current_principal()`. Missing or unknown tokens are refused with
UNAUTHENTICATED; `require_role` refuses with PERMISSION_DENIED.
"""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from scenarist_storage.models import Principal, Role

from scenarist_runtime.host import Authenticator

_PRINCIPAL: contextvars.ContextVar[Principal | None] = contextvars.ContextVar(
    "scenarist_principal", default=None
)
_RANK = {Role.VIEWER: 0, Role.EDITOR: 1, Role.OWNER: 2}


def current_principal() -> Principal:
    principal = _PRINCIPAL.get()
    if principal is None:
        raise RuntimeError("no authenticated principal in this context")
    return principal


def has_role(principal: Principal, needed: Role) -> bool:
    return _RANK[principal.role] >= _RANK[needed]


async def require_role(context: grpc.aio.ServicerContext[Any, Any], needed: Role) -> Principal:
    principal = current_principal()
    if not has_role(principal, needed):
        await context.abort(
            grpc.StatusCode.PERMISSION_DENIED, f"this call needs the {needed.value} role"
        )
    return principal


def bearer_token(metadata: tuple[tuple[str, str | bytes], ...] | None) -> str | None:
    for key, value in metadata or ():
        if key.lower() == "authorization":
            text = value.decode() if isinstance(value, bytes) else value
            scheme, _, token = text.partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return None


class AuthInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Authenticate every call except the `public` full method names (e.g. health checks)."""

    def __init__(
        self,
        authenticator: Callable[[], Authenticator],
        public: frozenset[str] = frozenset(),
    ) -> None:
        self._authenticator = authenticator
        self._public = public

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]
        ],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler = await continuation(details)
        if handler is None or details.method in self._public:
            return handler
        token = bearer_token(details.invocation_metadata)
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(handler.unary_unary, token),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._stream(handler.unary_stream, token),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler  # client-streaming calls are not part of our APIs

    async def _principal(
        self, token: str | None, context: grpc.aio.ServicerContext[Any, Any]
    ) -> Principal:
        principal = await self._authenticator().authenticate(token) if token else None
        if principal is None:
            await context.abort(
                grpc.StatusCode.UNAUTHENTICATED,
                "missing or invalid API token (send 'authorization: Bearer <token>')",
            )
        assert principal is not None
        return principal

    def _unary(self, behavior: Any, token: str | None) -> Any:
        async def call(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            principal = await self._principal(token, context)
            reset = _PRINCIPAL.set(principal)
            try:
                return await behavior(request, context)
            finally:
                _PRINCIPAL.reset(reset)

        return call

    def _stream(self, behavior: Any, token: str | None) -> Any:
        async def call(
            request: Any, context: grpc.aio.ServicerContext[Any, Any]
        ) -> AsyncIterator[Any]:
            principal = await self._principal(token, context)
            reset = _PRINCIPAL.set(principal)
            try:
                async for item in behavior(request, context):
                    yield item
            finally:
                _PRINCIPAL.reset(reset)

        return call
