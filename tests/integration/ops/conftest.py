"""Real Postgres and Redis for the ops checks, from the root conftest (tests/conftest.py), with a
throwaway database per session so concurrent test runs on the same server never clash."""

from __future__ import annotations

import pytest
from support.infra import FreshDatabase


@pytest.fixture(scope="session")
def ops_database_dsn(fresh_database: FreshDatabase) -> str:
    return fresh_database("ops")
