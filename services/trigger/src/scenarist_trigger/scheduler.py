"""The clock of the trigger service: fires due schedules and polls polling triggers.

One pass (`tick`) claims due schedules in one transaction (Postgres `FOR UPDATE SKIP LOCKED`,
so each schedule is handled by exactly one replica at a time), decides for each what to fire,
and writes, in that same transaction, the advanced schedule (next slot, poll cursor, seen ids)
together with the RunRequested it fires as `pending`. After the commit the pass sends the
pending messages and clears each once the bus acknowledged it.

- A crash after the commit and before the acknowledgement leaves `pending` set; the next pass
  that finds it older than `pending_grace` sends it again. Its run id and idempotency key
  (`schedule:{id}:{slot}`) are the same, so the orchestrator starts one run however often it
  arrives: the key is the final guard.
- A crash before the commit changes nothing: the slot is still due and is fired by the next pass
  (of any replica) with the same key.
- Polled items travel in the pending message written with the cursor that follows them, so an
  item is neither lost nor emitted again after a restart.
- A failed poll keeps the cursor. A rate limit moves the schedule to its first slot after the
  app's `retry_after`; a failure that cannot heal by itself (PollError.pause: refused
  credentials, a wrong connection or module) pauses the schedule once the pass committed, with
  the reason in `last_error` ("paused: ...").

See docs/adr/0003-schedules-and-polling.md for the missed-runs policy and the rate limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import orjson
from scenarist.run.v1.events_pb2 import RunRequested
from scenarist.run.v1.run_pb2 import TRIGGER_SOURCE_POLL, TRIGGER_SOURCE_SCHEDULE
from scenarist_bus import envelope, topics
from scenarist_bus.port import BusError, Producer
from scenarist_observability.metrics import METRICS
from scenarist_observability.tracing import get_tracer
from scenarist_storage.errors import StorageError
from scenarist_storage.ports import ScheduleClaim, ScheduleStore
from scenarist_storage.schedule_models import (
    FireState,
    PendingFire,
    ScheduleDefinition,
    ScheduleRecord,
)

from scenarist_trigger.polling import PollError, PollSource, PollTarget, fresh_items
from scenarist_trigger.timing import Calendar, TimingError, timing_from_json, zone

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
MINUTE = timedelta(minutes=1)
PAUSED = "paused: "
# Schedules a pass pauses after its commit: (organization, schedule, next slot).
Pauses = list[tuple[uuid.UUID, uuid.UUID, datetime | None]]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SchedulerConfig:
    tick_seconds: float = 1.0
    batch: int = 20
    pending_grace: timedelta = timedelta(seconds=30)
    default_runs_per_minute: int = 100  # Make's default scenario rate limit
    poll_timeout_seconds: float = 30.0


def calendar_for(definition: ScheduleDefinition, origin: datetime) -> Calendar:
    """Raises TimingError for a definition that is not (or no longer) valid."""
    return Calendar(
        timing_from_json(definition.timing),
        zone(definition.time_zone),
        origin=origin,
        start_at=definition.start_at,
        end_at=definition.end_at,
    )


def calendar_of(record: ScheduleRecord) -> Calendar:
    return calendar_for(record.definition, record.created_at)


def slot_key(schedule_id: uuid.UUID, slot: datetime) -> str:
    return f"schedule:{schedule_id}:{slot.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}"


class Scheduler:
    def __init__(
        self,
        store: ScheduleStore,
        producer: Producer,
        *,
        clock: Clock = utc_now,
        sources: Mapping[str, PollSource] | None = None,
        default_source: PollSource | None = None,
        config: SchedulerConfig | None = None,
    ) -> None:
        self._store = store
        self._producer = producer
        self._clock = clock
        self._sources = sources if sources is not None else {}
        self._default_source = default_source  # for apps without a source of their own
        self._config = config or SchedulerConfig()
        self.passes = 0  # completed passes, for readiness and tests

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                await self.tick()
            except Exception:  # a pass must never kill the clock; the next one retries
                log.exception("scheduler pass failed")
            self.passes += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self._config.tick_seconds)

    async def tick(self) -> int:
        """One pass; returns the number of RunRequested acknowledged by the bus."""
        now = self._clock()
        outbox: list[tuple[uuid.UUID, PendingFire]] = []
        pauses: Pauses = []
        async with self._store.claim_due(
            now, limit=self._config.batch, pending_before=now - self._config.pending_grace
        ) as claim:
            for record in claim.schedules:
                pending = await self._handle(claim, record, now, pauses)
                if pending is not None:
                    outbox.append((record.id, pending))
        for org_id, schedule_id, due in pauses:
            await self._pause(org_id, schedule_id, due)
        sent = 0
        for schedule_id, pending in outbox:
            if await self._send(schedule_id, pending):
                sent += 1
        return sent

    async def _send(self, schedule_id: uuid.UUID, pending: PendingFire) -> bool:
        message = RunRequested.FromString(pending.message)
        outgoing = envelope.wrap(
            topics.RUNS_REQUESTED,
            message,
            event_type=envelope.RUN_REQUESTED,
            run_id=message.run_id,
            organization_id=message.organization_id,
            source="trigger",
        )
        try:
            # A scheduled run's trace starts when the scheduler fires it.
            with get_tracer().start_as_current_span("schedule fire"):
                await self._producer.send(outgoing)
        except BusError:
            log.warning("sending a scheduled run failed; it stays pending", exc_info=True)
            return False
        await self._store.clear_pending(schedule_id, pending.key)
        METRICS.schedules_fired.inc()
        return True

    async def _pause(self, org_id: uuid.UUID, schedule_id: uuid.UUID, due: datetime | None) -> None:
        # After the commit: the claim's transaction holds the row. A crash before this leaves
        # the schedule unpaused; its next poll fails the same way and pauses it then.
        try:
            await self._store.set_paused(org_id, schedule_id, True, due)
        except StorageError:
            log.warning("pausing a failing polling schedule failed", exc_info=True)

    async def _handle(
        self, claim: ScheduleClaim, record: ScheduleRecord, now: datetime, pauses: Pauses
    ) -> PendingFire | None:
        state = record.state
        if state.pending is not None:
            return state.pending  # left by a pass that did not get its acknowledgement
        slot = state.next_due_at
        if slot is None:
            return None
        try:
            calendar = calendar_of(record)
        except TimingError as exc:
            await claim.save(record.id, FireState(None, None, last_error=f"bad schedule: {exc}"))
            return None
        delayed = state.attempt_at is not None and state.attempt_at > slot
        # Missed runs (everything was down): fire once, for the newest missed slot.
        fire_slot = slot if delayed else calendar.latest_due(slot, now)
        following = calendar.next_due(fire_slot)
        advanced = replace(state, next_due_at=following, attempt_at=following, last_error="")
        trigger: object = {"schedule_id": str(record.id), "due_at": fire_slot.isoformat()}
        source = TRIGGER_SOURCE_SCHEDULE
        if record.definition.poll is not None:
            polled = await self._poll_step(claim, record, calendar, advanced, pauses)
            if polled is None:
                return None
            trigger, advanced = polled
            source = TRIGGER_SOURCE_POLL
        limit = record.definition.max_runs_per_minute or self._config.default_runs_per_minute
        window = now.replace(second=0, microsecond=0)
        if not await claim.take_budget(record.org_id, record.scenario_id, window, limit):
            # Over the scenario's rate: the same slot (same key) is tried next minute.
            await claim.save(record.id, replace(state, attempt_at=window + MINUTE))
            return None
        pending = self._pending(record, fire_slot, trigger, source, now)
        await claim.save(record.id, replace(advanced, pending=pending, last_fired_at=now))
        return pending

    async def _poll_step(
        self,
        claim: ScheduleClaim,
        record: ScheduleRecord,
        calendar: Calendar,
        advanced: FireState,
        pauses: Pauses,
    ) -> tuple[list[dict[str, object]], FireState] | None:
        """(bundles, state with the new cursor) to fire; None when there is nothing to fire
        (the state to keep is saved)."""
        outcome = await self._poll(record, advanced)
        if isinstance(outcome, PollError):
            failed = failed_poll(calendar, advanced, outcome, self._clock())
            await claim.save(record.id, failed)
            if outcome.pause:
                pauses.append((record.org_id, record.id, failed.next_due_at))
            return None
        if isinstance(outcome, FireState):
            await claim.save(record.id, outcome)
            return None
        return outcome

    async def _poll(
        self, record: ScheduleRecord, advanced: FireState
    ) -> tuple[list[dict[str, object]], FireState] | FireState | PollError:
        """(bundles, state with the new cursor) when there are new items; the state advanced
        past this slot with the cursor moved when there are none; or why the poll failed."""
        target = PollTarget.from_json(
            record.definition.poll or {},
            org_id=str(record.org_id),
            scenario_id=str(record.scenario_id),
            schedule_id=str(record.id),
        )
        source = self._sources.get(target.app) or self._default_source
        try:
            if source is None:
                raise PollError(f"no poll source for app {target.app!r}")
            async with asyncio.timeout(self._config.poll_timeout_seconds):
                result = await source.poll(target, record.state.cursor)
        except PollError as exc:
            return exc
        except TimeoutError:
            return PollError("the poll timed out")
        items, seen = fresh_items(result, record.state.seen)
        cursor = result.cursor if result.cursor is not None else record.state.cursor
        moved = replace(advanced, cursor=cursor, seen=seen, last_fired_at=self._clock())
        if not items:
            return moved
        return [item.bundle for item in items], moved

    def _pending(
        self,
        record: ScheduleRecord,
        slot: datetime,
        trigger: object,
        source: int,
        now: datetime,
    ) -> PendingFire:
        key = slot_key(record.id, slot)
        message = RunRequested(
            run_id=str(uuid.uuid4()),
            organization_id=str(record.org_id),
            scenario_id=str(record.scenario_id),
            scenario_version=0,
            trigger=orjson.dumps(trigger).decode(),
            idempotency_key=key,
            source=source,  # type: ignore[arg-type]
            source_ref=str(record.id),
        )
        message.requested_at.FromDatetime(now.astimezone(UTC).replace(tzinfo=None))
        return PendingFire(key, message.SerializeToString(), now)


def failed_poll(
    calendar: Calendar, advanced: FireState, error: PollError, now: datetime
) -> FireState:
    """The state after a failed poll: the cursor and seen ids as they were, the reason shown, and
    under a rate limit the next slot moved to the first one after the app's retry_after."""
    reason = f"{PAUSED}{error}" if error.pause else str(error)
    state = replace(advanced, last_error=reason[:500])
    if error.retry_after is None or advanced.next_due_at is None:
        return state
    ready = now + timedelta(seconds=max(0.0, error.retry_after))
    if advanced.next_due_at >= ready:
        return state
    later = calendar.next_due(ready)
    return replace(state, next_due_at=later, attempt_at=later)
