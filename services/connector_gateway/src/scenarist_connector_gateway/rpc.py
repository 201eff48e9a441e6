"""The gateway's own reading of store errors (the rest of the status table is shared:
scenarist_runtime.rpc): a taken name is ALREADY_EXISTS, a data store over its limits
RESOURCE_EXHAUSTED."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

import grpc
from scenarist_runtime import rpc
from scenarist_storage.errors import ConflictError, LimitExceededError

_CODES: rpc.StoreErrorCodes = {
    ConflictError: grpc.StatusCode.ALREADY_EXISTS,
    LimitExceededError: grpc.StatusCode.RESOURCE_EXHAUSTED,
}


def store_errors(context: rpc.Context, what: str) -> AbstractAsyncContextManager[None]:
    return rpc.store_errors(context, what, _CODES)
