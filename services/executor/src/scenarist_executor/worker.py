"""Executors run module tasks: decode, wait until due, run the module, report the result.

Tasks of one batch run concurrently (they wait on the outside world); the batch's results are
produced together and only then are the task offsets committed, so a killed executor's tasks are
delivered again to another one (at-least-once; results carry the attempt and the orchestrator
applies each once).

Bodies above the claim-check threshold travel by reference both ways: a task whose body is
stored is read from the ClaimStore, and a result above the threshold is stored before it is
sent (docs/adr/0006-claim-check-store.md).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

import orjson
from scenarist.common.v1.claim_check_pb2 import ClaimCheck
from scenarist.run.v1.events_pb2 import ModuleTask as ModuleTaskMessage
from scenarist.run.v1.events_pb2 import TaskResult as TaskResultMessage
from scenarist_bus import envelope, topics
from scenarist_bus.envelope import Decoded, DecodeError
from scenarist_bus.port import OutgoingMessage, Record
from scenarist_engine.errors import ErrorType
from scenarist_engine.machine import ModuleTask, TaskResult, dump_result, load_task
from scenarist_engine.machine.execution import run_module
from scenarist_engine.machine.state import ErrorInfo
from scenarist_engine.model import Module
from scenarist_engine.modules import ModuleKind, kind_named
from scenarist_observability.metrics import METRICS, label_value, module_kind_family
from scenarist_observability.tracing import inject_kafka_headers, kafka_process_span
from scenarist_runtime.claim_check import ClaimChecks
from scenarist_storage.errors import StorageError

from scenarist_executor.apps import AppModuleRunner

SOURCE = "executor"
Sleep = Callable[[float], Awaitable[None]]


@dataclass
class BatchOutput:
    results: list[OutgoingMessage] = field(default_factory=list)
    dead_letters: list[tuple[Record, str]] = field(default_factory=list)


class TaskWorker:
    def __init__(
        self,
        external: Mapping[str, ModuleKind] | None = None,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Sleep = asyncio.sleep,
        module_cache_size: int = 4096,
        apps: AppModuleRunner | None = None,
        claims: ClaimChecks | None = None,
    ) -> None:
        self._claims = claims  # None: bodies are inline (tests; a claimed task is refused)
        self._external = dict(external or {})
        self._apps = apps
        self._clock = clock
        self._sleep = sleep
        self._modules: OrderedDict[bytes, Module] = OrderedDict()
        self._module_cache_size = module_cache_size

    async def handle(
        self, records: Sequence[Record], *, consumer_group: str | None = None
    ) -> BatchOutput:
        output = BatchOutput()
        ready: list[tuple[Decoded, ModuleTask]] = []
        for record in records:
            try:
                decoded = envelope.unwrap(record, accept=frozenset({envelope.TASK_MODULE}))
                message = envelope.payload_as(decoded, ModuleTaskMessage)
                body = await self._task_body(message)
                ready.append((decoded, load_task(orjson.loads(body))))
            except (DecodeError, ValueError, StorageError) as exc:
                output.dead_letters.append((record, f"bad module task: {exc}"))
        if len(ready) == 1:  # the window's case: gather would wrap the one task in another
            decoded, task = ready[0]
            output.results.append(await self._traced(decoded, task, consumer_group))
            return output
        output.results.extend(
            await asyncio.gather(
                *(self._traced(decoded, task, consumer_group) for decoded, task in ready)
            )
        )
        return output

    async def _traced(
        self, decoded: Decoded, task: ModuleTask, consumer_group: str | None
    ) -> OutgoingMessage:
        """Run the task in a span continuing the run's trace; the result carries it on."""
        record, org_id = decoded.record, decoded.envelope.organization_id
        with kafka_process_span(
            record.topic,
            record.headers,
            partition=record.partition,
            offset=record.offset,
            consumer_group=consumer_group,
        ) as span:
            span.set_attribute("scenarist.run_id", task.run_id)
            span.set_attribute("scenarist.module", str(task.module.get("module", "")))
            result = await self._run(task, org_id)
            body = orjson.dumps(dump_result(result))
            check = await self._claims.offload(body) if self._claims is not None else None
            return _result_message(result, org_id, task, body, check)

    async def _task_body(self, message: ModuleTaskMessage) -> bytes:
        if not message.HasField("claim_check"):
            return message.task
        if self._claims is None:
            raise ValueError("the task travels by claim check but no claim store is set")
        return await self._claims.resolve(b"", message.claim_check)

    async def _run(self, task: ModuleTask, org_id: str) -> TaskResult:
        wait = task.not_before - self._clock()
        if wait > 0:
            await self._sleep(wait)
        family = module_kind_family(str(task.module.get("module", "")))
        started = time.perf_counter()
        METRICS.tasks_in_flight.inc()
        try:
            result = await self._execute(task, org_id)
        finally:
            METRICS.tasks_in_flight.dec()
        _count(family, result, time.perf_counter() - started)
        return result

    async def _execute(self, task: ModuleTask, org_id: str) -> TaskResult:
        try:
            module = self._module(task)
        except ValueError as exc:
            return _failure(task, f"invalid module in task: {exc}")
        kind = self._external.get(module.module) or kind_named(module.module)
        if kind is None and self._apps is not None:
            # Not the engine's: an app module, run by the connector gateway.
            return await self._apps.run(module, task, org_id)
        if kind is None or kind.run is None:
            return _failure(task, f"no executor for module kind {module.module!r}")
        result, delay = run_module(kind, module, task, self._clock)
        if delay > 0:
            await self._sleep(delay)
            result.finished_at = self._clock()
        return result

    def _module(self, task: ModuleTask) -> Module:
        # The same module definition arrives with every bundle; validate it once.
        key = orjson.dumps(task.module, option=orjson.OPT_SORT_KEYS)
        module = self._modules.get(key)
        if module is None:
            module = Module.model_validate(task.module)
            self._modules[key] = module
            if len(self._modules) > self._module_cache_size:
                self._modules.popitem(last=False)
        return module


def _count(family: str, result: TaskResult, seconds: float) -> None:
    outcome = "ok" if result.error is None else "error"
    METRICS.tasks_executed.labels(family, outcome).inc()
    METRICS.task_duration.labels(family).observe(seconds)
    if result.error is not None:
        METRICS.module_errors.labels(label_value(result.error.type)).inc()


def _failure(task: ModuleTask, message: str) -> TaskResult:
    return TaskResult(
        run_id=task.run_id,
        task_id=task.task_id,
        attempt=task.attempt,
        error=ErrorInfo(ErrorType.INVALID_CONFIGURATION.value, message),
    )


def _result_message(
    result: TaskResult, org_id: str, task: ModuleTask, body: bytes, check: ClaimCheck | None
) -> OutgoingMessage:
    """`check`: the body was stored (above the threshold) and travels by reference."""
    payload = TaskResultMessage(
        run_id=result.run_id, task_id=result.task_id, attempt=result.attempt
    )
    if check is not None:
        payload.claim_check.CopyFrom(check)
    else:
        payload.result = body
    return envelope.wrap(
        topics.TASKS_RESULTS,
        payload,
        event_type=envelope.TASK_RESULT,
        run_id=task.run_id,
        organization_id=org_id,
        source=SOURCE,
        attempt=task.attempt,
        headers=inject_kafka_headers(),  # the task's process span: the result's parent
    )
