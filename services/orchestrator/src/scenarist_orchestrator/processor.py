"""The orchestrator's hot path: one batch of records in, one transaction of state and messages out.

Records of one run share a partition (keyed by run id), and this process owns the partition, so
it keeps the runs it is driving in memory and loads them from Postgres only after a rebalance.
Every batch ends in one `save_states` call that writes the new run states and the messages they
produce (tasks, step logs, run events) atomically, fenced by the owner epoch; a triggered run is
inserted by that save too. A batch saves twice only when such an insert finds its run there
already (a redelivery or a duplicate), which is then looked up and saved as before.

Cancellation (RunService.CancelRun) arrives as a RUN_CANCEL envelope on runs.requested, keyed by
the run id, so the run's owner applies it in order with the run's other messages: the run is
stored with status "cancelled" (the engine has no such status; the row's status is the truth),
a CANCELLED run event is emitted, and results still arriving for it are ignored.

With a `Parking` (the hosted service always has one), triggered runs of an inactive scenario wait
in its queue instead of starting; see parking.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
from scenarist.run.v1.events_pb2 import RunEventType, RunRequested, TaskResult
from scenarist_bus import envelope
from scenarist_bus.envelope import Decoded, DecodeError
from scenarist_bus.port import Record
from scenarist_engine.machine import (
    ModuleTask,
    RunStatus,
    apply_result,
    load_result,
)
from scenarist_engine.machine.state_entries import StateSaver, load_split_state, split_core
from scenarist_observability.metrics import METRICS
from scenarist_runtime.claim_check import ClaimChecks
from scenarist_storage.errors import StorageError
from scenarist_storage.models import (
    RUN_STATUS_QUEUED,
    OutboxMessage,
    RunRecord,
    SaveResult,
    StateWrite,
)
from scenarist_storage.ports import RunStore

from scenarist_orchestrator import claimed, messages, run_trace
from scenarist_orchestrator.app_modules import mask_secret_inputs
from scenarist_orchestrator.counting import count_saved
from scenarist_orchestrator.live_run import CANCELLED, LiveRun
from scenarist_orchestrator.new_runs import Begun, Planned, RunPlanner, begin, is_fresh
from scenarist_orchestrator.parking import PARKED_SOURCES, Parking
from scenarist_orchestrator.plans import PlanCache, ScenarioNotFoundError

log = logging.getLogger(__name__)

SERVICE = "orchestrator"

ACCEPTED = frozenset({envelope.RUN_REQUESTED, envelope.RUN_CANCEL, envelope.TASK_RESULT})
LIVE_STATUSES = ("running", "queued")


@dataclass
class BatchOutcome:
    dead_letters: list[tuple[Record, str]] = field(default_factory=list)
    saved: SaveResult | None = None
    finished: list[uuid.UUID] = field(default_factory=list)
    parked: list[tuple[StateWrite, OutboxMessage]] = field(default_factory=list)


@dataclass(frozen=True)
class OutboxHandoff:
    """Between the loop and a batch's save: the outbox ids the loop has published (deleted in
    the save) and how long the save leases its new rows to the loop (None: to the relay)."""

    published: Sequence[int]
    lease_seconds: float | None


class RunProcessor:
    def __init__(
        self,
        runs: RunStore,
        plans: PlanCache,
        clock: Callable[[], float] = time.time,
        parking: Parking | None = None,
        claims: ClaimChecks | None = None,
    ) -> None:
        self._claims = claims  # None: every body inline (tests, and nothing above the limit)
        self._runs = runs
        self._plans = plans
        self._clock = clock
        self._live: dict[str, LiveRun] = {}
        self._parking = parking  # None: every run starts, active scenario or not
        self._planner = RunPlanner(runs, plans, parking, claims)
        self._traces: Mapping[str, dict[str, str]] = {}

    def forget(self) -> None:
        """Drop every cached run: after losing partitions, Postgres is the truth again."""
        self._live.clear()

    @property
    def live_runs(self) -> int:
        return len(self._live)

    def tasks_out(self, run_id: str) -> int:
        """How many of a run's tasks are out (0: not a run this process is driving now)."""
        live = self._live.get(run_id)
        return len(live.state.in_flight) if live is not None else 0

    async def process(
        self,
        records: Sequence[Record],
        epoch: int,
        traces: Mapping[str, dict[str, str]] | None = None,
        *,
        published: Sequence[int] = (),
        lease_seconds: float | None = None,
    ) -> BatchOutcome:
        """`traces`: run id -> the trace context this batch continues the run in.
        `lease_seconds`: the batch's outbox rows come back leased in `outcome.saved.leased` for
        the caller to publish; `published`: outbox ids it has published, deleted with the save
        (`outcome.saved` is None when the batch saved nothing: they were not deleted)."""
        self._traces = traces or {}
        outcome = BatchOutcome()
        requests: list[Decoded] = []
        others: list[Decoded] = []  # results and cancellations, in arrival order
        for record in records:
            try:
                decoded = envelope.unwrap(record, accept=ACCEPTED)
            except DecodeError as exc:
                outcome.dead_letters.append((record, str(exc)))
                continue
            (requests if decoded.envelope.type == envelope.RUN_REQUESTED else others).append(
                decoded
            )
        touched: dict[str, LiveRun] = {}
        queued_cancels: dict[str, StateWrite] = {}
        fresh = await self._start_runs(requests, touched, outcome, epoch)
        for decoded in others:
            if decoded.envelope.type == envelope.RUN_CANCEL:
                await self._cancel(decoded, touched, queued_cancels, epoch)
            else:
                await self._apply_result(decoded, touched, outcome)
        parked_writes = [w for w, _ in outcome.parked if str(w.run_id) not in queued_cancels]
        await self._save(
            touched,
            epoch,
            outcome,
            [*queued_cancels.values(), *parked_writes],
            [event for _, event in outcome.parked],
            handoff=OutboxHandoff(published, lease_seconds),
        )
        if outcome.saved is not None and fresh:
            await self._start_existing(fresh, touched, outcome, epoch, lease_seconds)
        return outcome

    # ----- new runs ---------------------------------------------------------------------------

    async def _start_runs(
        self,
        requests: list[Decoded],
        touched: dict[str, LiveRun],
        outcome: BatchOutcome,
        epoch: int,
    ) -> dict[str, Planned]:
        """Start the batch's new runs. A trigger's request (latest version, active, not a
        resumed retry) names a run that does not exist yet unless it is a redelivery, so it is
        started at once and its first save inserts it (one statement for the row and its first
        state, instead of an insert, then a save); those are returned, for `_start_existing` to
        pick up the few whose insert found the run there already. Any other request (a pinned
        version: the API and retries created the run first) is looked up before it starts."""
        planned = await self._planner.plan(requests, outcome.dead_letters)
        fresh = {key: item for key, item in planned.items() if is_fresh(item)}
        now = self._clock()
        created_at = datetime.fromtimestamp(now, UTC)  # as its start says, not its later insert
        for key, item in fresh.items():
            live = self._start(item, begin(item, now))
            live.create = dataclasses.replace(item.new_run, created_at=created_at)
            touched[key] = live
        known = {key: item for key, item in planned.items() if key not in fresh}
        if known:
            await self._start_created(known, touched, outcome, epoch)
        return fresh

    async def _start_existing(
        self,
        fresh: dict[str, Planned],
        touched: dict[str, LiveRun],
        outcome: BatchOutcome,
        epoch: int,
        lease_seconds: float | None,
    ) -> None:
        """The fresh runs whose insert was rejected, started as any request for an existing run
        is (a redelivery of a run created but never started starts now; a duplicate starts
        nothing), in a second save. A cancel in the same batch still applies to it."""
        first = outcome.saved
        assert first is not None
        retry = {key: fresh[key] for key in map(str, first.rejected) if key in fresh}
        if not retry:
            return
        cancelled = [key for key in retry if touched[key].cancelled]
        again: dict[str, LiveRun] = {}
        await self._start_created(retry, again, outcome, epoch, early=False)
        cancels: list[StateWrite] = []
        for key in cancelled:
            self._live.pop(key, None)  # started again just now: it stays unstarted, cancelled
            again.pop(key, None)
            write = await self._cancel_unstarted(key, str(retry[key].new_run.org_id), epoch)
            if write is not None:
                cancels.append(write)
        outcome.saved = None
        await self._save(
            again, epoch, outcome, cancels, [], handoff=OutboxHandoff((), lease_seconds)
        )
        second = outcome.saved or SaveResult((), (), 0)
        outcome.saved = SaveResult(
            accepted=first.accepted + second.accepted,
            rejected=tuple(r for r in first.rejected if str(r) not in retry) + second.rejected,
            outbox_written=first.outbox_written + second.outbox_written,
            leased=first.leased + second.leased,
        )

    async def _start_created(
        self,
        planned: dict[str, Planned],
        touched: dict[str, LiveRun],
        outcome: BatchOutcome,
        epoch: int,
        *,
        early: bool = True,
    ) -> None:
        """Create the runs that do not exist yet, then start those that are new or were
        created but never started (parked ones queue instead). `early=False`: start none
        before the lookup (their runs exist: they are started with the version they have)."""
        # The engine starts the runs while Postgres inserts them: a start is pure CPU and the
        # insert a round trip, and the loop waited for each in turn (0.7 + 0.4 ms of a 4 ms
        # webhook answer at concurrency 1). A start whose run turns out not to be new, or to be
        # pinned to another version, is dropped or redone below.
        creating = asyncio.ensure_future(self._create(planned))
        await asyncio.sleep(0)  # the insert is on its way before the CPU work begins
        now = self._clock()
        try:
            begun = {
                key: begin(item, now) for key, item in planned.items() if item.active and early
            }
        finally:
            created = await creating
        for item, (record, is_new) in zip(planned.values(), created, strict=True):
            # A redelivered request whose run was created but never started is started now; a
            # duplicate delivery (same idempotency key, other run id) starts nothing.
            if record.id != item.new_run.run_id or not (is_new or record.status == "queued"):
                continue
            if not item.active and item.request.source in PARKED_SOURCES:
                assert self._parking is not None  # only then are scenarios ever inactive here
                outcome.parked.append(await self._parking.park(item.request, epoch))
                continue
            start = begun.get(item.request.run_id)
            if record.version != item.new_run.version:
                # Created earlier (parked, or a redelivery): it runs the version it was pinned to.
                item.plan, _ = await self._plans.get(
                    record.org_id, record.scenario_id, record.version
                )
                item.new_run = dataclasses.replace(item.new_run, version=record.version)
                start = None
            touched[item.request.run_id] = self._start(item, start)

    async def _create(self, planned: dict[str, Planned]) -> list[tuple[RunRecord, bool]]:
        with METRICS.db_transaction_duration.labels(SERVICE).time():
            return await self._runs.create_runs([p.new_run for p in planned.values()])

    def _start(self, item: Planned, begun: Begun | None) -> LiveRun:
        request, new_run, plan = item.request, item.new_run, item.plan
        now, state, tasks = begun or begin(item, self._clock())
        live = LiveRun(
            new_run.org_id, new_run.scenario_id, new_run.version, plan, state, request.reply_to
        )
        live.started = True
        live.unsaved_start = True
        live.source = new_run.source
        self._live[request.run_id] = live
        self._collect(live, tasks, now)
        return live

    # ----- results ----------------------------------------------------------------------------

    async def _apply_result(
        self, decoded: Decoded, touched: dict[str, LiveRun], outcome: BatchOutcome
    ) -> None:
        payload = envelope.payload_as(decoded, TaskResult)
        try:
            body = await claimed.result_body(payload, self._claims)
            result = load_result(orjson.loads(body))
            live = await self._load(payload.run_id, decoded.envelope.organization_id)
        except (ValueError, ScenarioNotFoundError, StorageError) as exc:
            outcome.dead_letters.append((decoded.record, f"bad task result: {exc}"))
            return
        if live is None or live.cancelled:
            log.info(
                "result for a run that is unknown, finished or cancelled",
                extra={"run_id": payload.run_id},
            )
            return
        now = self._clock()
        tasks = apply_result(live.plan, live.state, result, now)
        self._collect(live, tasks, now)
        touched[payload.run_id] = live

    async def _load(self, run_id: str, org_text: str) -> LiveRun | None:
        live = self._live.get(run_id)
        if live is not None:
            return live
        org_id = uuid.UUID(org_text)
        record = await self._runs.get(org_id, uuid.UUID(run_id))
        if record is None or not record.state or record.status not in LIVE_STATUSES:
            return None
        plan, _ = await self._plans.get(org_id, record.scenario_id, record.version)
        stored, trace = run_trace.split_trace(record.state)
        entries = await self._runs.state_entries(org_id, record.id) if split_core(stored) else {}
        state = load_split_state(stored, entries)
        live = LiveRun(org_id, record.scenario_id, record.version, plan, state)
        live.saver = StateSaver(stored=entries)
        live.trace = trace
        live.saved_operations = live.state.operations
        self._live[run_id] = live
        return live

    # ----- cancellation -----------------------------------------------------------------------

    async def _cancel(
        self,
        decoded: Decoded,
        touched: dict[str, LiveRun],
        queued_cancels: dict[str, StateWrite],
        epoch: int,
    ) -> None:
        request = envelope.payload_as(decoded, RunRequested)
        run_id, org_text = request.run_id, decoded.envelope.organization_id
        try:
            live = touched.get(run_id) or await self._load(run_id, org_text)
        except (ValueError, ScenarioNotFoundError):
            live = None
        if live is None:
            write = await self._cancel_unstarted(run_id, org_text, epoch)
            if write is not None:
                queued_cancels[run_id] = write
            return
        if live.cancelled or live.state.status is not RunStatus.RUNNING:
            return  # finished (possibly earlier in this batch): nothing to stop
        now = self._clock()
        live.cancelled = True
        live.state.finished_at = now
        live.outbox.append(
            messages.run_event(
                live.state,
                str(live.org_id),
                RunEventType.RUN_EVENT_TYPE_CANCELLED,
                now,
                version=live.version,
                reply_to=live.reply_to,
                status=messages.CANCELLED_STATUS,
            )
        )
        touched[run_id] = live

    async def _cancel_unstarted(self, run_id: str, org_text: str, epoch: int) -> StateWrite | None:
        """A run that is queued without state (requested, never started) is cancelled in place,
        so a late RunRequested for it starts nothing."""
        try:
            org_id, run_uuid = uuid.UUID(org_text), uuid.UUID(run_id)
        except ValueError:
            return None
        record = await self._runs.get(org_id, run_uuid)
        if record is None or record.status != RUN_STATUS_QUEUED or record.state:
            return None
        return StateWrite(org_id, run_uuid, epoch, {}, CANCELLED, record.operations)

    # ----- writing ----------------------------------------------------------------------------

    def _collect(self, live: LiveRun, tasks: list[ModuleTask], now: float) -> None:
        """Queue the messages a step produced: tasks, step logs and run events."""
        org, scenario = str(live.org_id), str(live.scenario_id)
        state = live.state
        if live.started and state.status is RunStatus.RUNNING:
            live.outbox.append(self._event(live, RunEventType.RUN_EVENT_TYPE_STARTED, now))
        live.started = False  # finished at once: FINISHED alone says so, with started_at
        for task in tasks:
            claimed.add_task(live.outbox, live.pending, task, (org, scenario), self._claims)
        live.unsaved_tasks += len(tasks)
        live.unsaved_retries += sum(1 for task in tasks if task.attempt > 1)
        confidential = live.plan.scenario.settings.confidential
        for operation in state.log:
            kind = live.plan.modules[operation.module_id].module
            operation.inputs = mask_secret_inputs(kind, operation.inputs)
            step = (operation, state, org, kind)
            claimed.add_step(live.steps, step, confidential, self._claims)
        state.log.clear()  # emitted; the log service keeps the history, not the run state
        if state.status is not RunStatus.RUNNING:
            live.outbox.append(self._event(live, RunEventType.RUN_EVENT_TYPE_FINISHED, now))
        elif state.response is not None and not live.responded:
            # A webhook caller may be waiting: tell it as soon as the response exists.
            live.outbox.append(self._event(live, RunEventType.RUN_EVENT_TYPE_OPERATION, now))
            live.responded = True

    def _trace(self, run_id: str, live: LiveRun) -> dict[str, str]:
        live.trace = self._traces.get(run_id) or live.trace
        return live.trace

    def _event(self, live: LiveRun, kind: RunEventType.ValueType, now: float) -> OutboxMessage:
        return messages.run_event(
            live.state, str(live.org_id), kind, now, version=live.version, reply_to=live.reply_to
        )

    async def _save(
        self,
        touched: dict[str, LiveRun],
        epoch: int,
        outcome: BatchOutcome,
        extra_writes: list[StateWrite],
        extra_outbox: list[OutboxMessage],
        *,
        handoff: OutboxHandoff,
    ) -> None:
        if not touched and not extra_writes:
            return
        writes: list[StateWrite] = list(extra_writes)
        outbox: list[OutboxMessage] = list(extra_outbox)
        for run_id, live in touched.items():
            state = live.state
            live.outbox = await claimed.materialize(live.outbox, live.pending, self._claims)
            if live.steps:
                # First in the run's outbox: the history gets its steps no later than when each
                # step was a message of its own.
                steps = await claimed.materialize_steps(live.steps, self._claims)
                live.steps = []
                batches = messages.steps_messages(steps, run_id, str(live.org_id))
                live.outbox[:0] = batches
            delta = live.saver.delta(state, final=live.cancelled)
            writes.append(
                StateWrite(
                    org_id=live.org_id,
                    run_id=uuid.UUID(run_id),
                    owner_epoch=epoch,
                    state=run_trace.with_trace(delta.core, self._trace(run_id, live)),
                    status=live.status,
                    operations=state.operations,
                    entries=delta.entries,
                    dropped=delta.dropped,
                    create=live.create,
                )
            )
            outbox.extend(run_trace.traced(live.outbox, live.trace))
            live.outbox = []
        try:
            with METRICS.db_transaction_duration.labels(SERVICE).time():
                outcome.saved = await self._runs.save_states(
                    writes, outbox, lease_seconds=handoff.lease_seconds, published=handoff.published
                )
        except BaseException:
            # The batch's runs moved on in memory (and their savers with them) but Postgres
            # did not: whoever drives them next loads them again.
            for run_id in touched:
                self._live.pop(run_id, None)
            raise
        for rejected in outcome.saved.rejected:
            self._live.pop(str(rejected), None)  # another orchestrator owns it now
        accepted = {str(run_id) for run_id in outcome.saved.accepted}
        for run_id, live in touched.items():
            if run_id in accepted:
                count_saved(live)
                live.create = None
            elif live.create is not None:
                continue  # not inserted: it was never this run (see _start_existing)
            if live.cancelled or live.state.status is not RunStatus.RUNNING:
                self._live.pop(run_id, None)
                outcome.finished.append(uuid.UUID(run_id))
