"""GatewayPollSource: an app's polling trigger (github:WatchIssues, ...) run by the gateway.

One poll is one `ConnectorService.ExecuteModule` call, through the same transports the executor
uses (`scenarist_runtime.gateway`: in-process when the gateway is hosted here, else its internal
port with SCENARIST_INTERNAL_SECRET). The call follows the SDK's polling contract
(`scenarist_connector_sdk.polling`): the module's inputs from the schedule, plus `cursor` (the
stored one, `""` on the first poll) and `limit` (the schedule's max_items); the module answers
one `{"bundles": [...], "cursor": "..."}` bundle.

The connection is looked up by the gateway in the schedule's organization (`RunInfo.
organization_id`), so another organization's connection answers like a missing one.

Failures: a RateLimitError keeps its `retry_after`; AuthError, InvalidConfigurationError, a
configuration status of the RPC (unknown module, built-in module, malformed call) and a module
that is not a polling trigger pause the schedule; anything else is retried at the next slot.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import grpc
import orjson
from scenarist.connector.v1 import connector_service_pb2 as pb
from scenarist_connector_sdk.errors import ConnectorError
from scenarist_connector_sdk.polling import read_poll_result
from scenarist_runtime.gateway import CONFIGURATION_CODES, NO_GATEWAY, Execute

from scenarist_trigger.polling import PollError, PollItem, PollResult, PollTarget

# Error types (scenarist.common.v1.Error.type) that no later poll can get past by itself.
_PAUSING_TYPES = frozenset({"AuthError", "InvalidConfigurationError"})
_RATE_LIMIT = "RateLimitError"


def item_id(bundle: dict[str, Any]) -> str:
    """The seen-id guard's key: the bundle's content. Not its `id` field: a trigger watching
    updates ("watch: updated") emits the same record again once it changed, which is new."""
    canonical = orjson.dumps(bundle, option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.sha256(canonical).hexdigest()[:32]


def poll_request(target: PollTarget, cursor: str | None) -> pb.ExecuteModuleRequest:
    inputs = {**target.inputs, "cursor": cursor or "", "limit": target.max_items}
    return pb.ExecuteModuleRequest(
        app=target.app,
        module=target.module,
        inputs=orjson.dumps(inputs).decode(),
        connection_id=target.connection_id,
        run=pb.RunInfo(
            organization_id=target.org_id,
            scenario_id=target.scenario_id,
            attempt=1,
            idempotency_key=f"poll:{target.schedule_id}:{cursor or ''}",
        ),
    )


def module_failure(target: PollTarget, failure: pb.ModuleError) -> PollError:
    message = f"{target.app}:{target.module}: {failure.type or 'RuntimeError'}: {failure.message}"
    if failure.type == _RATE_LIMIT:
        retry_after = (
            failure.retry_after.ToNanoseconds() / 1e9 if failure.HasField("retry_after") else None
        )
        return PollError(message, retry_after=retry_after)
    return PollError(message, pause=failure.type in _PAUSING_TYPES)


def rpc_failure(target: PollTarget, error: grpc.aio.AioRpcError) -> PollError:
    code = error.code()
    message = f"{target.app}:{target.module}: connector gateway: {code.name}: {error.details()}"
    return PollError(message, pause=code in CONFIGURATION_CODES)


def poll_outcome(target: PollTarget, response: pb.ExecuteModuleResponse) -> PollResult:
    if response.WhichOneof("outcome") == "error":
        raise module_failure(target, response.error)
    try:
        result = read_poll_result(_bundles(response.bundles))
    except ConnectorError as exc:
        # An action polled by mistake: running it every slot would repeat its side effect.
        raise PollError(
            f"{target.app}:{target.module} is not a polling trigger ({exc.message})", pause=True
        ) from exc
    items: list[PollItem] = []
    for bundle in result.bundles:
        shaped = bundle if isinstance(bundle, dict) else {"value": bundle}
        items.append(PollItem(item_id(shaped), shaped))
    # "" would restart the module from its "start" choice: keep the stored cursor instead.
    return PollResult(items, result.cursor or None)


def _bundles(text: str) -> list[dict[str, Any]]:
    # Anything but a PollError would fail the whole scheduler pass, every pass.
    try:
        bundles = orjson.loads(text or "[]")
    except orjson.JSONDecodeError:
        bundles = None
    if not isinstance(bundles, list) or not all(isinstance(b, dict) for b in bundles):
        raise PollError("the connector gateway returned malformed bundles")
    return bundles


class GatewayPollSource:
    """The default PollSource: every app module, through the connector gateway."""

    def __init__(self, execute: Callable[[], Execute | None], *, timeout: float = 30.0) -> None:
        # Looked up per poll: the gateway may start after the trigger in the same process.
        self._execute = execute
        self._timeout = timeout

    async def poll(self, target: PollTarget, cursor: str | None) -> PollResult:
        execute = self._execute()
        if execute is None:
            raise PollError(NO_GATEWAY)
        try:
            response = await execute(poll_request(target, cursor), self._timeout)
        except grpc.aio.AioRpcError as error:
            raise rpc_failure(target, error) from error
        return poll_outcome(target, response)
