"""Committing a processed batch when the partitions may have moved on in a rebalance."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from scenarist_bus.port import CommitFailedError, Consumer, Record

log = logging.getLogger(__name__)


async def commit_or_hand_back(consumer: Consumer, records: Sequence[Record]) -> bool:
    """Commit `records`; False when a rebalance took (some of) their partitions meanwhile.

    Losing partitions mid-batch is normal (a member joined or died): the new owner re-reads the
    uncommitted records, so the batch is handed back rather than retried, and the consumer loop
    goes on with whatever it owns now. Our consumers are idempotent, so the redelivery is safe.
    """
    try:
        await consumer.commit(records)
    except CommitFailedError as exc:
        log.warning(
            "partitions moved in a rebalance; %d records handed back: %s", len(records), exc
        )
        return False
    return True
