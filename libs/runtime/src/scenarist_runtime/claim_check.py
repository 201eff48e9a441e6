"""Claim checks on the run path: bodies above a threshold go to the ClaimStore, the Kafka
message carries a `scenarist.common.v1.ClaimCheck` (see scenarist_storage.claims and
docs/adr/0006-claim-check-store.md).

Every service of one process shares one `ClaimChecks` (`claim_checks(host)`), backed by the
`claims` schema of the process's Postgres. Settings (environment, prefix SCENARIST_):
CLAIM_CHECK_THRESHOLD_BYTES (default 256 KiB; bodies above it are stored) and
CLAIM_TTL_SECONDS (default 7 days: how long a body of the run path — trigger, task, result —
stays readable; bounds how long a run may be queued or in flight) and
CLAIM_HISTORY_TTL_SECONDS (default 30 days, the log service's default retention: step-log
bodies, which GetRunLog reads back). Expired bodies are deleted by the log service's retention
sweep (ClaimStore.expire).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from pydantic import Field
from scenarist.common.v1.claim_check_pb2 import ClaimCheck
from scenarist_storage.claims import ClaimRef, ClaimStore
from scenarist_storage.pg.claims import PgClaimStore

from scenarist_runtime.host import ServiceHost
from scenarist_runtime.settings import ServiceSettings, load_settings

SHARED_KEY = "claim_checks"
DEFAULT_THRESHOLD = 256 * 1024
DEFAULT_TTL_SECONDS = 7 * 24 * 3600
DEFAULT_HISTORY_TTL_SECONDS = 30 * 24 * 3600


class ClaimCheckSettings(ServiceSettings):
    # Kafka's default record limit is 1 MiB; staying well below it leaves room for the
    # envelope and keeps records small enough that batches stay fast.
    claim_check_threshold_bytes: int = Field(default=DEFAULT_THRESHOLD, ge=1024)
    claim_ttl_seconds: float = Field(default=DEFAULT_TTL_SECONDS, gt=0)
    claim_history_ttl_seconds: float = Field(default=DEFAULT_HISTORY_TTL_SECONDS, gt=0)


class ClaimChecks:
    """Offloads big bodies and resolves references; the one place that knows the threshold."""

    def __init__(
        self,
        store: ClaimStore,
        *,
        threshold: int = DEFAULT_THRESHOLD,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        history_ttl_seconds: float = DEFAULT_HISTORY_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.threshold = threshold
        self._ttl = timedelta(seconds=ttl_seconds)
        self._history_ttl = timedelta(seconds=history_ttl_seconds)
        self._clock = clock

    def needed(self, size: int) -> bool:
        return size > self.threshold

    async def offload(self, data: bytes, *, history: bool = False) -> ClaimCheck | None:
        """A reference to `data` once stored, or None when it is small enough to go inline.
        `history`: a step-log body, kept as long as the execution history."""
        if not self.needed(len(data)):
            return None
        ttl = self._history_ttl if history else self._ttl
        expires_at = datetime.fromtimestamp(self._clock(), UTC) + ttl
        ref = await self.store.put(data, expires_at=expires_at)
        return to_message(ref)

    async def resolve(self, inline: bytes, check: ClaimCheck | None) -> bytes:
        """The body a message carries: `inline`, or the stored body its claim check names."""
        if check is None or not check.ref:
            return inline
        return await self.store.get(from_message(check))


def to_message(ref: ClaimRef) -> ClaimCheck:
    return ClaimCheck(
        ref=ref.ref, size_bytes=ref.size_bytes, sha256=ref.sha256, content_type=ref.content_type
    )


def from_message(check: ClaimCheck) -> ClaimRef:
    return ClaimRef(check.ref, check.sha256, check.size_bytes, check.content_type)


def claim_checks(host: ServiceHost) -> ClaimChecks:
    """The process's ClaimChecks, created by the first service that asks."""
    found = host.shared.get(SHARED_KEY)
    if isinstance(found, ClaimChecks):
        return found
    settings = load_settings(ClaimCheckSettings, overrides=dict(host.settings))
    created = ClaimChecks(
        PgClaimStore(host.pool),
        threshold=settings.claim_check_threshold_bytes,
        ttl_seconds=settings.claim_ttl_seconds,
        history_ttl_seconds=settings.claim_history_ttl_seconds,
    )
    host.shared[SHARED_KEY] = created
    return created
