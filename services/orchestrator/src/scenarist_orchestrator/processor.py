"""The orchestrator's hot path: one batch of records in, one transaction of state and messages out.

Records of one run share a partition (keyed by run id), and this process owns the partition, so
it keeps the runs it is driving in memory and loads them from Postgres only after a rebalance.
Every batch ends in one `save_states` call that writes the new run states and the messages they
produce (tasks, step logs, run events) atomically, fenced by the owner epoch.

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
from typing import Any

import orjson
from scenarist.run.v1.events_pb2 import RunEventType, RunRequested, TaskResult
from scenarist_bus import envelope
from scenarist_bus.envelope import Decoded, DecodeError
from scenarist_bus.port import Record
from scenarist_engine.machine import (
    IncompleteExecution,
    ModuleTask,
    Plan,
    RunState,
    RunStatus,
    apply_result,
    load_result,
    start_run,
    trigger_batches,
)
from scenarist_engine.machine.state_entries import StateSaver, load_split_state, split_core
from scenarist_observability.metrics import METRICS
from scenarist_runtime.claim_check import ClaimChecks
from scenarist_storage.errors import StorageError
from scenarist_storage.models import (
    RUN_STATUS_QUEUED,
    NewRun,
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
from scenarist_orchestrator.parking import DROPPED_SOURCES, PARKED_SOURCES, Parking
from scenarist_orchestrator.plans import PlanCache, ScenarioNotFoundError
from scenarist_orchestrator.resume import parked_execution

log = logging.getLogger(__name__)

SERVICE = "orchestrator"

ACCEPTED = frozenset({envelope.RUN_REQUESTED, envelope.RUN_CANCEL, envelope.TASK_RESULT})
LIVE_STATUSES = ("running", "queued")
# (org, scenario) -> the latest version's plan, its version and whether it is active.
LatestPlans = dict[tuple[uuid.UUID, uuid.UUID], tuple[Plan, int, bool]]
SOURCES = {1: "webhook", 2: "manual", 3: "api", 4: "schedule", 5: "poll", 6: "scenario"}


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


@dataclass
class Planned:
    request: RunRequested
    new_run: NewRun
    plan: Plan
    active: bool
    resume: IncompleteExecution | None = None  # a retry of a parked bundle starts there
    trigger: Any = None  # the parsed trigger bundle (parsed once: it may be megabytes)


Begun = tuple[float, RunState, list[ModuleTask]]  # a run's first steps: (now, state, tasks)


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
        self._traces: Mapping[str, dict[str, str]] = {}

    def forget(self) -> None:
        """Drop every cached run: after losing partitions, Postgres is the truth again."""
        self._live.clear()

    @property
    def live_runs(self) -> int:
        return len(self._live)

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
        await self._start_runs(requests, touched, outcome, epoch)
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
        return outcome

    # ----- new runs ---------------------------------------------------------------------------

    async def _start_runs(
        self,
        requests: list[Decoded],
        touched: dict[str, LiveRun],
        outcome: BatchOutcome,
        epoch: int,
    ) -> None:
        planned: dict[str, Planned] = {}
        latest: LatestPlans = {}
        for decoded in requests:
            request = envelope.payload_as(decoded, RunRequested)
            try:
                item = await self._new_run(request, latest)
            except (ValueError, ScenarioNotFoundError, StorageError) as exc:
                outcome.dead_letters.append((decoded.record, f"cannot start run: {exc}"))
                continue
            if not item.active and request.source in DROPPED_SOURCES:
                log.info("schedule fired for an inactive scenario; dropped")
                continue
            planned.setdefault(request.run_id, item)
        if not planned:
            return
        # The engine starts the runs while Postgres inserts them: a start is pure CPU and the
        # insert a round trip, and the loop waited for each in turn (0.7 + 0.4 ms of a 4 ms
        # webhook answer at concurrency 1). A start whose run turns out not to be new, or to be
        # pinned to another version, is dropped or redone below.
        creating = asyncio.ensure_future(self._create(planned))
        await asyncio.sleep(0)  # the insert is on its way before the CPU work begins
        now = self._clock()
        try:
            begun = {key: self._begin(item, now) for key, item in planned.items() if item.active}
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

    async def _new_run(self, request: RunRequested, latest: LatestPlans) -> Planned:
        """`latest`: the scenarios' latest plans already read in this batch (a webhook under
        load brings many requests for one scenario per batch; one read serves them all)."""
        org_id = uuid.UUID(request.organization_id)
        scenario_id = uuid.UUID(request.scenario_id)
        active = True
        if self._parking is not None and request.scenario_version == 0:
            found = latest.get((org_id, scenario_id))
            if found is None:
                found = await self._plans.latest(org_id, scenario_id)
                latest[(org_id, scenario_id)] = found
            plan, version, active = found
        else:
            plan, version = await self._plans.get(org_id, scenario_id, request.scenario_version)
        resume = await parked_execution(self._runs, org_id, request)
        # A claim-checked trigger stays in the claim store: the run keeps the reference, not
        # a second copy of a body that may be megabytes (docs/adr/0006-claim-check-store.md).
        claim = claimed.trigger_claim_of(request)
        trigger: Any = None
        if claim is None or resume is None:
            # A resumed run starts from its parked bundle and never reads its trigger: a claim
            # that expired since must not stop the retry.
            trigger = await claimed.trigger_of(request, self._claims)
        new_run = NewRun(
            org_id=org_id,
            scenario_id=scenario_id,
            version=version,
            run_id=uuid.UUID(request.run_id),
            idempotency_key=request.idempotency_key or None,
            trigger={} if claim is not None else _as_object(trigger),
            source=SOURCES.get(request.source, "api"),
            trigger_claim=claim,
        )
        return Planned(request, new_run, plan, active, resume, trigger)

    def _begin(self, item: Planned, now: float) -> Begun:
        """The run's first steps (pure: nothing is kept until `_start`)."""
        state, tasks = start_run(
            item.plan,
            run_id=str(item.new_run.run_id),
            scenario_id=str(item.new_run.scenario_id),
            now=now,
            # A resumed run is one cycle from the parked module: no trigger batches to replay.
            trigger=None if item.resume else trigger_batches(item.trigger),
            resume=item.resume,
        )
        return now, state, tasks

    def _start(self, item: Planned, begun: Begun | None) -> LiveRun:
        request, new_run, plan = item.request, item.new_run, item.plan
        now, state, tasks = begun or self._begin(item, self._clock())
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
            if live.cancelled or live.state.status is not RunStatus.RUNNING:
                self._live.pop(run_id, None)
                outcome.finished.append(uuid.UUID(run_id))


def _as_object(trigger: Any) -> dict[str, Any]:
    return trigger if isinstance(trigger, dict) else {"value": trigger}
