"""Step logs whose input or output went by claim check (docs/adr/0006-claim-check-store.md).

The log service stores the StepLog as it arrived, references included, so a 10 MB bundle is
stored once (in the claim store) rather than again in the history. GetRunLog resolves the
references of a page into inline input/output, up to a byte budget per page: a gRPC answer is
capped (16 MiB on our servers, 4 MiB in default clients), so a body that does not fit stays a
reference (its size and digest say what it is), as does one that expired.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from scenarist.common.v1.claim_check_pb2 import ClaimCheck
from scenarist.run.v1.events_pb2 import StepLog
from scenarist_runtime.claim_check import ClaimChecks
from scenarist_storage.errors import StorageError

log = logging.getLogger(__name__)

PAGE_BUDGET_BYTES = 3 * 1024 * 1024  # leaves room under a default client's 4 MiB limit


async def resolve_steps(
    steps: Sequence[StepLog], claims: ClaimChecks | None, budget: int = PAGE_BUDGET_BYTES
) -> None:
    """Inline the claim-checked bodies of `steps` in place, while they fit in `budget`."""
    if claims is None:
        return
    for step in steps:
        if step.HasField("input_claim_check"):
            body = await _body(claims, step.input_claim_check, budget)
            if body is not None:
                step.input = body
                step.ClearField("input_claim_check")
                budget -= len(body)
        if step.HasField("output_claim_check"):
            body = await _body(claims, step.output_claim_check, budget)
            if body is not None:
                step.output = body
                step.ClearField("output_claim_check")
                budget -= len(body)


async def _body(claims: ClaimChecks, check: ClaimCheck, budget: int) -> str | None:
    if check.size_bytes > budget:
        return None
    try:
        return (await claims.resolve(b"", check)).decode("utf-8")
    except StorageError as exc:
        log.info("a step body is no longer readable", extra={"problem": str(exc)})
        return None
