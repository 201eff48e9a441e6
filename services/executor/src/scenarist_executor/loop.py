"""The executor's consumer loop: fetch tasks, run them, produce results, then commit."""

from __future__ import annotations

import asyncio

from scenarist_bus import topics
from scenarist_bus.consuming import commit_or_hand_back
from scenarist_bus.dlq import dead_letter
from scenarist_bus.lag import LagReporter
from scenarist_bus.port import Bus, Consumer, Producer
from scenarist_observability.metrics import METRICS

from scenarist_executor.worker import TaskWorker

GROUP = "scenarist-executor"


class ExecutorLoop:
    def __init__(
        self, bus: Bus, worker: TaskWorker, *, batch_size: int = 64, poll_ms: int = 50
    ) -> None:
        self._bus = bus
        self._worker = worker
        self._batch_size = batch_size
        self._poll_ms = poll_ms
        self._producer: Producer | None = None
        self._consumer: Consumer | None = None
        self._lag: LagReporter | None = None

    async def start(self) -> None:
        self._producer = await self._bus.producer()
        self._consumer = self._bus.consumer(
            GROUP, (topics.TASKS_MODULE,), max_poll_records=self._batch_size
        )
        await self._consumer.start()
        self._lag = LagReporter(self._consumer)

    async def run_once(self) -> int:
        assert self._consumer is not None and self._producer is not None
        records = await self._consumer.getmany(self._poll_ms, self._batch_size)
        if self._lag is not None:
            await self._lag.maybe_report()
        if not records:
            return 0
        METRICS.bus_messages_consumed.labels(topics.TASKS_MODULE).inc(len(records))
        METRICS.bus_batch_size.labels(topics.TASKS_MODULE).observe(len(records))
        output = await self._worker.handle(records, consumer_group=GROUP)
        for record, reason in output.dead_letters:
            await dead_letter(self._producer, record, reason, error_type="invalid_message")
            METRICS.dlq_messages.labels(record.topic, "invalid_message").inc()
        if output.results:
            await self._producer.send_batch(output.results)  # counted by the producer
        await commit_or_hand_back(self._consumer, records)
        return len(records)

    async def run(self, stopping: asyncio.Event) -> None:
        await self.start()
        try:
            while not stopping.is_set():
                await self.run_once()
        finally:
            await self.stop()

    async def stop(self) -> None:
        if self._lag is not None:
            self._lag.clear()
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None
