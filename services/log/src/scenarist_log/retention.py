"""Retention: history older than the configured age is deleted, on a fixed interval; so are
claim-check bodies whose expiry passed (run-path bodies after CLAIM_TTL_SECONDS, step-log bodies
after CLAIM_HISTORY_TTL_SECONDS), since the log service is the last reader of both."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from scenarist_storage.claims import ClaimStore
from scenarist_storage.ports import LogStore

log = logging.getLogger(__name__)


class RetentionLoop:
    def __init__(
        self,
        logs: LogStore,
        *,
        max_age: timedelta,
        interval_seconds: float,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        claims: ClaimStore | None = None,
    ) -> None:
        self._claims = claims
        self._logs = logs
        self._max_age = max_age
        self._interval = interval_seconds
        self._clock = clock

    async def sweep(self) -> None:
        cutoff = self._clock() - self._max_age
        result = await self._logs.delete_older_than(cutoff)
        if result.steps or result.runs:
            log.info(
                "retention deleted history",
                extra={"steps": result.steps, "runs": result.runs, "cutoff": cutoff.isoformat()},
            )
        if self._claims is not None:
            await self._expire_claims()

    async def _expire_claims(self, chunk: int = 1000) -> None:
        assert self._claims is not None
        expired = 0
        while True:  # in chunks, so one sweep never holds a huge delete
            deleted = await self._claims.expire(self._clock(), chunk)
            expired += deleted
            if deleted < chunk:
                break
        if expired:
            log.info("retention deleted expired claim checks", extra={"claims": expired})

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                await self.sweep()
            except Exception:  # a failed sweep is retried next interval; history only grows
                log.exception("retention sweep failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self._interval)
