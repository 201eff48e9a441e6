"""Postgres (asyncpg) implementations of the store ports. Each takes the pool and the schema it
owns (default: the service's schema name; tests use throwaway ones)."""

from __future__ import annotations

from scenarist_storage.pg.identity import PgIdentityStore
from scenarist_storage.pg.logs import PgLogStore
from scenarist_storage.pg.runs import PgRunStore
from scenarist_storage.pg.scenarios import PgScenarioStore

__all__ = ["PgIdentityStore", "PgLogStore", "PgRunStore", "PgScenarioStore"]
