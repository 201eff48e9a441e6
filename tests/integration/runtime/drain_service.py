"""A minimal service for the lifecycle tests, run as a subprocess (not collected by pytest).

Environment: SCENARIST_* settings, plus DRAIN_TEST_WORK_SECONDS: how long the one in-flight task
keeps working after the stop request (simulating a batch that is still being processed).
"""

from __future__ import annotations

import asyncio
import logging
import os

from scenarist_runtime import Lifecycle, Phase, ServiceSettings, load_settings, run_service

log = logging.getLogger("drain_service")


async def main(lc: Lifecycle) -> None:
    work_seconds = float(os.environ["DRAIN_TEST_WORK_SECONDS"])

    async def in_flight_batch() -> None:
        await lc.stopping.wait()
        log.info("event", extra={"event": "work_continues"})
        try:
            await asyncio.sleep(work_seconds)  # the work itself, not a wait for a condition
        except asyncio.CancelledError:
            log.info("event", extra={"event": "work_handed_back"})
            raise
        log.info("event", extra={"event": "work_finished"})

    async def hook(name: str) -> None:
        log.info("event", extra={"event": name})

    lc.spawn(in_flight_batch(), name="batch")
    lc.add_shutdown_hook(lambda: hook("stop_fetching"), phase=Phase.STOP_FETCHING)
    lc.add_shutdown_hook(lambda: hook("commit"), phase=Phase.COMMIT)
    lc.add_shutdown_hook(lambda: hook("close_first_opened"))
    lc.add_shutdown_hook(lambda: hook("close_last_opened"))

    async def always_ok() -> str:
        return "fine"

    lc.health.add("fake-db", always_ok)
    lc.set_ready()
    if os.environ.get("DRAIN_TEST_FAIL"):
        raise RuntimeError("main crashed")
    await lc.stopping.wait()


if __name__ == "__main__":
    raise SystemExit(run_service(main, settings=load_settings(ServiceSettings)))
