"""What this box allows one request at a time: the round trips a workload-1 answer cannot avoid,
each measured with nothing else around it. `python -m bench.floors [--duration 8]`.

Workload 1's c=1 targets ask for an answer every 1/(10 × n8n's c=1 rate) standalone and every
1/(5 × n8n's rate) distributed (about 1.1 and 2.2 ms against n8n's ~92 runs/s). This measures the
parts of such an answer on this machine, closed loop at concurrency 1, each in processes of its
own like the services:

- `http`: the load generator against a server that answers at once (the transport's floor);
- `commit`: a server that writes one row to Postgres (its own autocommit transaction, durable as
  the run history's save is) before it answers; asyncpg on uvloop, no framework;
- `kafka`: one record to a topic, a relay process that consumes it and produces it to a second
  topic, and back to the first process: the two hops a distributed answer takes (trigger →
  orchestrator → trigger), with the producer settings of our bus (acks=all, idempotent, no
  linger) and aiokafka consumers; no Postgres, no run.

Prints the table and the JSON (also written to `.bench/floors.json`). Starts Postgres and Kafka
with `deploy/infra.sh` unless they run already, and stops what it started.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
import uuid
from typing import Any

from bench import report
from bench.loadgen import Target, percentile, run_fast, run_point, wait_until_answering
from bench.procs import Reaper, log, read_ready_port, spawn, stop_group
from bench.scenarist_side import ensure_infra, infra_env
from bench.stub_server import RESPONSE, StubProtocol

TABLE = "bench_floor_commit"


class _CommitProtocol(StubProtocol):
    """The stub server's parsing, but each answer waits for one committed INSERT."""

    def __init__(self, pool: Any) -> None:
        super().__init__(0.0)
        self._pool = pool

    def _answer(self) -> None:
        asyncio.get_running_loop().create_task(self._commit_then_answer())

    async def _commit_then_answer(self) -> None:
        await self._pool.execute(f"INSERT INTO {TABLE} (body) VALUES ($1)", '{"order_id": 123}')  # noqa: S608 - fixed name
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(RESPONSE)


async def _serve_commit(dsn: str) -> None:
    import asyncpg  # noqa: PLC0415 - only the server process needs it

    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=4)
    await pool.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (id bigserial PRIMARY KEY, body jsonb)")
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _CommitProtocol(pool), "127.0.0.1", 0)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)  # so the table goes with the server
    print(f"ready {server.sockets[0].getsockname()[1]}", flush=True)
    try:
        await stop.wait()
    finally:
        server.close()
        await pool.execute(f"DROP TABLE IF EXISTS {TABLE}")
        await pool.close()


def _producer(bootstrap: str) -> Any:
    from aiokafka import AIOKafkaProducer  # noqa: PLC0415

    return AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=0
    )


def _consumer(bootstrap: str, topic: str) -> Any:
    from aiokafka import AIOKafkaConsumer  # noqa: PLC0415

    return AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"floor-{uuid.uuid4().hex[:8]}",
        enable_auto_commit=False,
        auto_offset_reset="latest",
    )


async def _relay(bootstrap: str, inbound: str, outbound: str) -> None:
    consumer, producer = _consumer(bootstrap, inbound), _producer(bootstrap)
    await producer.start()
    await consumer.start()
    await consumer.seek_to_end()
    print("ready 0", flush=True)
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=1000)
            for records in batch.values():
                for record in records:
                    await producer.send(outbound, record.value)
    finally:
        await consumer.stop()
        await producer.stop()


async def _topics(bootstrap: str, names: list[str], *, create: bool) -> None:
    """Create or delete the floor's throwaway topics with our bus's own admin calls."""
    from scenarist_bus.kafka import KafkaBus  # noqa: PLC0415
    from scenarist_bus.port import TopicSpec  # noqa: PLC0415

    bus = KafkaBus(bootstrap, client_id="bench-floors")
    try:
        if create:
            await bus.create_topics([TopicSpec(name, 1) for name in names])
        else:
            await bus.delete_topics(names)
    finally:
        await bus.close()


async def _kafka_round_trips(
    bootstrap: str, inbound: str, outbound: str, seconds: float, warmup_s: float
) -> dict[str, Any]:
    consumer, producer = _consumer(bootstrap, outbound), _producer(bootstrap)
    await producer.start()
    await consumer.start()
    await consumer.seek_to_end()
    latencies: list[float] = []
    try:
        started = time.perf_counter()
        measuring_from = started + warmup_s
        while (now := time.perf_counter()) < measuring_from + seconds:
            mark = uuid.uuid4().bytes
            await producer.send(inbound, mark)
            while not await _got(consumer, mark):
                pass
            if now >= measuring_from:
                latencies.append((time.perf_counter() - now) * 1000.0)
    finally:
        await consumer.stop()
        await producer.stop()
    latencies.sort()
    return _summary("kafka", latencies, seconds)


async def _got(consumer: Any, mark: bytes) -> bool:
    batch = await consumer.getmany(timeout_ms=5000)
    if not batch:
        raise TimeoutError("the relay answered nothing within 5 s")
    return any(r.value == mark for records in batch.values() for r in records)


def _summary(name: str, latencies_ms: list[float], seconds: float) -> dict[str, Any]:
    return {
        "floor": name,
        "round_trips_per_s": round(len(latencies_ms) / seconds, 1),
        "p50_ms": round(percentile(latencies_ms, 50), 3),
        "p99_ms": round(percentile(latencies_ms, 99), 3),
        "samples": len(latencies_ms),
    }


async def _http_floor(name: str, port: int, seconds: float, warmup_s: float) -> dict[str, Any]:
    target = Target("127.0.0.1", port, "/", b'{"order_id": 123}', lambda status, _: status == 200)
    await wait_until_answering(target, timeout_s=15.0)
    point = await run_point(target, 1, seconds, warmup_s)
    if point.errors:
        raise RuntimeError(f"{name}: {point.errors} errors, first: {point.first_error}")
    return _summary(name, point.latencies_ms, point.duration_s)


def _server_floor(reaper: Reaper, name: str, argv: list[str], seconds: float) -> dict[str, Any]:
    server = spawn([sys.executable, "-m", "bench.floors", *argv], stdout_pipe=True)
    reaper.defer(f"{name} server", lambda: stop_group(server, f"{name} server"))
    port = read_ready_port(server)
    return run_fast(_http_floor(name, port, seconds, warmup_s=2.0))


def _kafka_floor(reaper: Reaper, bootstrap: str, seconds: float) -> dict[str, Any]:
    suffix = uuid.uuid4().hex[:8]
    inbound, outbound = f"bench-floor-in-{suffix}", f"bench-floor-out-{suffix}"
    names = [inbound, outbound]
    run_fast(_topics(bootstrap, names, create=True))
    reaper.defer("floor topics", lambda: run_fast(_topics(bootstrap, names, create=False)))
    argv = [
        "--role",
        "relay",
        "--bootstrap",
        bootstrap,
        "--inbound",
        inbound,
        "--outbound",
        outbound,
    ]
    relay = spawn([sys.executable, "-m", "bench.floors", *argv], stdout_pipe=True)
    reaper.defer("relay", lambda: stop_group(relay, "relay"))
    read_ready_port(relay, timeout_s=60.0)
    return run_fast(_kafka_round_trips(bootstrap, inbound, outbound, seconds, warmup_s=2.0))


def measure(reaper: Reaper, duration_s: float) -> dict[str, Any]:
    """The three floors; Postgres and Kafka are started (and left to `reaper`) unless they run."""
    ensure_infra("postgres", reaper)
    ensure_infra("kafka", reaper)
    env = infra_env()
    floors = [
        _server_floor(reaper, "http", ["--role", "http-server"], duration_s),
        _server_floor(
            reaper,
            "commit",
            ["--role", "commit-server", "--dsn", env["SCENARIST_POSTGRES_DSN"]],
            duration_s,
        ),
        _kafka_floor(reaper, env["SCENARIST_KAFKA_BOOTSTRAP"], duration_s),
    ]
    return {"machine_cpus": os.cpu_count(), "concurrency": 1, "floors": floors}


def budgets(n8n_c1_runs_per_s: float) -> dict[str, float]:
    """Milliseconds per answer that workload 1's c=1 targets leave against n8n's c=1 rate."""
    return {
        "n8n_default_c1_runs_per_s": n8n_c1_runs_per_s,
        "standalone_10x_ms": round(1000.0 / (10 * n8n_c1_runs_per_s), 3),
        "distributed_5x_ms": round(1000.0 / (5 * n8n_c1_runs_per_s), 3),
    }


def print_table(result: dict[str, Any]) -> None:
    print(f"{'floor (c=1)':<12}{'per s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    for floor in result["floors"]:
        print(
            f"{floor['floor']:<12}{floor['round_trips_per_s']:>10,.1f}"
            f"{floor['p50_ms']:>10.3f}{floor['p99_ms']:>10.3f}"
        )
    if "budgets" in result:
        print(f"workload 1 c=1 budgets per answer: {json.dumps(result['budgets'])}")


def _n8n_c1() -> float | None:
    """n8n default's c=1 rate from the last `make bench-peers`, when there is one."""
    try:
        peers = json.loads((report.OUT_DIR / "peers.json").read_text())
    except (OSError, ValueError):
        return None
    found = report.point(peers.get("systems", {}).get("n8n-default", {}), "w1", 1)
    return float(found["runs_per_s"]) if found else None


def with_budgets(result: dict[str, Any]) -> dict[str, Any]:
    rate = _n8n_c1()
    return result | {"budgets": budgets(rate)} if rate else result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.floors", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per floor")
    parser.add_argument(
        "--role", choices=("measure", "http-server", "commit-server", "relay"), default="measure"
    )
    parser.add_argument("--dsn", default="")
    parser.add_argument("--bootstrap", default="")
    parser.add_argument("--inbound", default="")
    parser.add_argument("--outbound", default="")
    args = parser.parse_args(argv)
    if args.role == "http-server":
        from bench.stub_server import serve  # noqa: PLC0415

        run_fast(serve(0, 0.0))
    elif args.role == "commit-server":
        run_fast(_serve_commit(args.dsn))
    elif args.role == "relay":
        run_fast(_relay(args.bootstrap, args.inbound, args.outbound))
    else:
        with Reaper() as reaper:
            result = with_budgets(measure(reaper, args.duration))
        print_table(result)
        log(f"wrote {report.write('floors.json', result)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
