"""Real Postgres for the end-to-end trace test, from the root conftest (tests/conftest.py), with a
throwaway database per session so concurrent runs on one server never clash."""

from __future__ import annotations

import pytest
from support.infra import FreshDatabase


@pytest.fixture(scope="session")
def trace_database_dsn(fresh_database: FreshDatabase) -> str:
    return fresh_database("trace")
