"""Session fixtures for real infrastructure, shared by every suite (helpers in support/infra.py).

Each server is resolved once per session, whichever directories run: from the environment
(`make test`), else from `deploy/infra.sh`, started only if nothing listens there and then
stopped at the end. Nothing starts unless a test asks for it, so unit runs stay offline. A
server that cannot be had fails the tests needing it with the reason; they are never skipped.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from support.infra import (
    KAFKA,
    POSTGRES,
    REDIS,
    FreshDatabase,
    InfraUnavailableError,
    Server,
    new_database,
    running,
)


@contextlib.contextmanager
def _required(server: Server) -> Iterator[str]:
    with contextlib.ExitStack() as stack:
        try:
            address = stack.enter_context(running(server))
        except InfraUnavailableError as exc:
            pytest.fail(f"no {server.component} for these tests: {exc}")
        yield address


@pytest.fixture(scope="session")
def postgres_server_dsn() -> Iterator[str]:
    """DSN of the Postgres server (its default database): create databases or schemas in it."""
    with _required(POSTGRES) as dsn:
        yield dsn


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with _required(REDIS) as url:
        yield url


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    with _required(KAFKA) as bootstrap:
        yield bootstrap


@pytest.fixture(scope="session")
def fresh_database(postgres_server_dsn: str) -> Iterator[FreshDatabase]:
    """`fresh_database("log")` is the DSN of a new database scn_log_<random>, dropped at the end
    of the session. Call it from session fixtures (it runs its own event loop)."""
    with contextlib.ExitStack() as created:

        def create(label: str) -> str:
            return created.enter_context(new_database(postgres_server_dsn, label))

        yield create
