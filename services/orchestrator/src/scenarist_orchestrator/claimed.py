"""Claim checks on the orchestrator's side of the run path (docs/adr/0006-claim-check-store.md).

A webhook body, a task or a step log above the threshold does not fit a Kafka record: the
trigger's RunRequested and the executor's TaskResult may carry a reference instead of the body,
and the tasks and step logs this orchestrator emits do the same. Storing is asynchronous while
the machine's output is collected synchronously, so an oversized message is queued as a
`Deferred` at its position in the run's outbox and built just before the batch is saved
(`materialize`), keeping the outbox order the machine produced.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from scenarist.common.v1.claim_check_pb2 import ClaimCheck
from scenarist.run.v1.events_pb2 import RunRequested, StepLog, TaskResult
from scenarist_engine.machine import ModuleTask, Operation, RunState
from scenarist_runtime.claim_check import ClaimChecks, from_message
from scenarist_storage.claims import ClaimNotFoundError, ClaimRef
from scenarist_storage.models import OutboxMessage

from scenarist_orchestrator import big_json, messages

Deferred = Callable[[ClaimChecks], Awaitable[OutboxMessage]]
Pending = list[tuple[int, Deferred]]  # (position in the run's outbox, how to build it)
# A run's step logs until its save: built, or built then (bodies by claim check).
Steps = list[StepLog | Callable[[ClaimChecks], Awaitable[StepLog]]]


async def trigger_of(request: RunRequested, claims: ClaimChecks | None) -> Any:
    """The trigger bundle a RunRequested carries, inline or by claim check; ValueError when
    its claim expired (a request queued or parked longer than SCENARIST_CLAIM_TTL_SECONDS)."""
    if request.HasField("trigger_claim_check"):
        if claims is None:
            raise ValueError("the trigger travels by claim check but no claim store is set")
        check = request.trigger_claim_check
        try:
            # Only the text is kept while it is decoded: the bytes go as soon as it exists.
            text = (await claims.resolve(b"", check)).decode("utf-8")
        except ClaimNotFoundError:
            raise ValueError(
                f"the trigger's body {check.ref} has expired or is missing from the claim store"
            ) from None
        return big_json.loads(text)
    return orjson.loads(request.trigger) if request.trigger else {}


def trigger_claim_of(request: RunRequested) -> ClaimRef | None:
    """The claim a RunRequested's trigger is kept in (the run row stores this reference)."""
    if not request.HasField("trigger_claim_check"):
        return None
    return from_message(request.trigger_claim_check)


async def result_body(payload: TaskResult, claims: ClaimChecks | None) -> bytes:
    if not payload.HasField("claim_check"):
        return payload.result
    if claims is None:
        raise ValueError("the result travels by claim check but no claim store is set")
    return await claims.resolve(b"", payload.claim_check)


def add_task(
    outbox: list[OutboxMessage],
    pending: Pending,
    task: ModuleTask,
    ids: tuple[str, str],
    claims: ClaimChecks | None,
) -> None:
    """Append the task's message, or defer it when its body goes by claim check.
    `ids`: (organization, scenario)."""
    body = messages.task_body(task)
    if claims is None or not claims.needed(len(body)):
        outbox.append(messages.task_message(task, *ids, body))
        return

    async def build(store: ClaimChecks) -> OutboxMessage:
        return messages.task_message(task, *ids, check=await store.offload(body))

    pending.append((len(outbox), build))


def add_step(
    steps: Steps,
    step: tuple[Operation, RunState, str, str],
    confidential: bool,
    claims: ClaimChecks | None,
) -> None:
    """Append the step log, or defer it when its input or output goes by claim check.
    `step`: (operation, state, organization, module kind)."""
    if confidential:
        steps.append(messages.step_log(*step, confidential))
        return
    bodies = _inline_bodies(step[0], claims)
    if bodies is not None:
        steps.append(messages.step_log(*step, confidential, bodies=bodies))
        return

    async def build(store: ClaimChecks) -> StepLog:
        return await _store_step(store, step, confidential)

    steps.append(build)


async def materialize_steps(steps: Steps, claims: ClaimChecks | None) -> list[StepLog]:
    """The step logs with every deferred one stored and built, in order (one at a time, each
    step's bodies freed before the next is built)."""
    built: list[StepLog] = []
    for step in steps:
        if isinstance(step, StepLog):
            built.append(step)
        else:
            assert claims is not None  # only deferred when there is a store
            built.append(await step(claims))
    return built


def _inline_bodies(operation: Operation, claims: ClaimChecks | None) -> tuple[bytes, bytes] | None:
    """The step's input and output JSON when both go inline; None as soon as one does not
    (then each is serialized again when stored, see _store_step). One at a time: a big
    step's two bodies never exist at once (10 MB each for workload 5's module 2)."""
    inputs = orjson.dumps(operation.inputs)
    if claims is not None and claims.needed(len(inputs)):
        return None
    output = orjson.dumps(operation.output)
    if claims is not None and claims.needed(len(output)):
        return None
    return inputs, output


async def _store_step(
    store: ClaimChecks, step: tuple[Operation, RunState, str, str], confidential: bool
) -> StepLog:
    """The step log with its big bodies stored. Each body is serialized just before it is
    stored and dropped right after: a batch's big bodies (a 10 MB trigger is the output of
    module 1 and maybe of every module that passes it on) never all exist at once."""
    operation = step[0]
    kept: list[bytes] = []
    checks: list[ClaimCheck | None] = []
    for value in (operation.inputs, operation.output):
        body = orjson.dumps(value)
        check = await store.offload(body, history=True)
        kept.append(b"" if check is not None else body)
        checks.append(check)
        del body
    return messages.step_log(
        *step, confidential, bodies=(kept[0], kept[1]), checks=(checks[0], checks[1])
    )


async def materialize(
    outbox: list[OutboxMessage], pending: Pending, claims: ClaimChecks | None
) -> list[OutboxMessage]:
    """The outbox with every deferred message stored and built, in the machine's order."""
    if not pending:
        return outbox
    assert claims is not None  # only deferred when there is a store
    merged = list(outbox)
    while pending:  # from the back, so positions stay valid; each build freed once done
        position, build = pending.pop()
        merged.insert(position, await build(claims))
    return merged
