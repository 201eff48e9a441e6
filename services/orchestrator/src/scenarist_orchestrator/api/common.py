"""The orchestrator's own reading of store errors (the rest of the status table is shared:
scenarist_runtime.rpc): a lost optimistic-concurrency race is ABORTED, so the caller re-reads
and retries."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

import grpc
from scenarist_runtime import rpc
from scenarist_storage.errors import ConflictError

_CODES: rpc.StoreErrorCodes = {ConflictError: grpc.StatusCode.ABORTED}


def store_errors(context: rpc.Context, what: str) -> AbstractAsyncContextManager[None]:
    return rpc.store_errors(context, what, _CODES)
