"""``scenarist_consumer_lag{topic, partition}`` from a consumer loop, at most every few seconds.

Consumer loops call :meth:`LagReporter.maybe_report` after each batch (and each empty poll); it
asks the consumer for its lag only when the interval has passed, so the hot path pays nothing
but a clock read. Partitions the member no longer owns lose their series: the new owner reports
them (the gauge has no member label, so two owners must never both keep a value).

Only one consumer group per topic should report (the loop that does the topic's real work), as
the series carry no group label either.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from scenarist_observability.metrics import METRICS, Metrics

from scenarist_bus.port import Consumer, TopicPartition

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_SECONDS = 5.0


class LagReporter:
    def __init__(
        self,
        consumer: Consumer,
        *,
        interval_seconds: float = DEFAULT_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        metrics: Metrics | None = None,
    ) -> None:
        self._consumer = consumer
        self._interval = interval_seconds
        self._clock = clock
        self._metrics = metrics or METRICS
        self._next = 0.0  # report on the first call
        self._reported: set[TopicPartition] = set()

    async def maybe_report(self) -> bool:
        """Update the gauges if the interval has passed; True when it did."""
        now = self._clock()
        if now < self._next:
            return False
        self._next = now + self._interval
        try:
            lag = await self._consumer.lag()
        except Exception as exc:  # a broker hiccup must not stop the loop; next interval retries
            log.debug("reading consumer lag failed", exc_info=exc)
            return False
        gauge = self._metrics.consumer_lag
        for tp, value in lag.items():
            gauge.labels(tp.topic, str(tp.partition)).set(value)
        self._forget(self._reported - set(lag))
        self._reported = set(lag)
        return True

    def clear(self) -> None:
        """Drop every series this reporter set (the loop stopped and owns nothing any more)."""
        self._forget(self._reported)
        self._reported = set()

    def _forget(self, partitions: set[TopicPartition]) -> None:
        for tp in partitions:
            try:
                self._metrics.consumer_lag.remove(tp.topic, str(tp.partition))
            except KeyError:
                continue
