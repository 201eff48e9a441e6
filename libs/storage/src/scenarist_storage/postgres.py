"""asyncpg pool with orjson JSON codecs, and numbered SQL migrations per service schema.

asyncpg ships no type stubs; the narrow Protocols below describe the part of its API the stores
use, so the rest of the package type-checks strictly without `Any` spreading from asyncpg."""

from __future__ import annotations

import importlib.resources
import logging
import re
import zlib
from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Protocol, cast

import asyncpg  # type: ignore[import-untyped]
import orjson

log = logging.getLogger(__name__)

# The service schemas, in the order `migrate --all` applies them.
SERVICE_SCHEMAS: tuple[str, ...] = (
    "identity",
    "orchestrator",
    "log",
    "trigger",
    "gateway",
    "studio",
    "claims",  # shared claim-check bodies (docs/adr/0006-claim-check-store.md)
)

_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_MIGRATION_FILE = re.compile(r"^(\d{4})_[A-Za-z0-9_\-]+\.sql$")
# First key of the two-int advisory lock: "migrations of Scenarist"; the second is the schema.
_LOCK_NAMESPACE = 0x5C3A_0001


class Record(Protocol):
    def __getitem__(self, key: str | int, /) -> Any: ...


class Connection(Protocol):
    async def execute(self, query: str, *args: object, timeout: float | None = None) -> str: ...

    async def executemany(
        self, command: str, args: Iterable[Sequence[object]], *, timeout: float | None = None
    ) -> None: ...

    async def fetch(
        self, query: str, *args: object, timeout: float | None = None
    ) -> list[Record]: ...

    async def fetchrow(
        self, query: str, *args: object, timeout: float | None = None
    ) -> Record | None: ...

    async def fetchval(self, query: str, *args: object, timeout: float | None = None) -> Any: ...

    def transaction(
        self, *, isolation: str | None = None, readonly: bool = False, deferrable: bool = False
    ) -> AbstractAsyncContextManager[Any]: ...


class Pool(Connection, Protocol):
    def acquire(
        self, *, timeout: float | None = None
    ) -> AbstractAsyncContextManager[Connection]: ...

    async def close(self) -> None: ...


def ident(name: str) -> str:
    """`name` checked to be a plain lower-case SQL identifier, so it can be put into SQL text
    (schema names cannot be bind parameters). Anything else is refused, never quoted-through."""
    if not _IDENT.match(name):
        raise ValueError(f"not a valid schema name: {name!r}")
    return name


def qualify(sql: str, schema: str) -> str:
    """SQL text with `{s}` replaced by the checked schema name; stores build their statements once
    so one process can host several services (or tests their own isolated schemas)."""
    return sql.replace("{s}", ident(schema))


def _jsonb_encode(value: Any) -> bytes:
    # jsonb's binary wire format is a version byte (1) followed by the JSON text.
    return b"\x01" + orjson.dumps(value)


def _jsonb_decode(data: bytes) -> Any:
    return orjson.loads(data[1:])


def _json_encode(value: Any) -> str:
    return orjson.dumps(value).decode("utf-8")


async def _init_connection(conn: Any) -> None:
    await conn.set_type_codec(
        "jsonb",
        schema="pg_catalog",
        encoder=_jsonb_encode,
        decoder=_jsonb_decode,
        format="binary",
    )
    await conn.set_type_codec(
        "json", schema="pg_catalog", encoder=_json_encode, decoder=orjson.loads, format="text"
    )


async def _keep_session(conn: Any) -> None:
    """Release without asyncpg's reset query (advisory unlock, CLOSE ALL, UNLISTEN, RESET ALL):
    it is one more round trip on every release, i.e. on every pool query. asyncpg still rolls
    back a transaction left open; nothing else keeps session state (no LISTEN, cursors or
    session SETs), and `migrate`, which takes a session advisory lock, resets its connection."""


async def create_pool(
    dsn: str, *, min_size: int = 1, max_size: int = 10, command_timeout: float | None = 60.0
) -> Pool:
    """A connection pool whose connections encode/decode json and jsonb with orjson."""
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=_keep_session,
        command_timeout=command_timeout,
    )
    return cast(Pool, pool)


def pool_usage(pool: Pool) -> tuple[int, int] | None:
    """(connections checked out, maximum size) of an asyncpg pool; None for anything else
    (the Pool protocol stays minimal so in-memory stand-ins need not fake pool statistics)."""
    raw: Any = pool
    try:
        size, idle, limit = raw.get_size(), raw.get_idle_size(), raw.get_max_size()
    except AttributeError:
        return None
    return max(0, int(size) - int(idle)), int(limit)


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def bundled_migrations(schema: str) -> Traversable:
    """The migrations directory shipped in this package for a service schema."""
    return importlib.resources.files("scenarist_storage.migrations").joinpath(schema)


def load_migrations(source: str | Path | Traversable) -> list[Migration]:
    """Numbered migrations from a directory, a Traversable, or a dotted package name."""
    if isinstance(source, str) and not Path(source).is_dir():
        source = importlib.resources.files(source)
    root: Traversable = Path(source) if isinstance(source, str) else source
    found: dict[int, Migration] = {}
    for entry in root.iterdir():
        match = _MIGRATION_FILE.match(entry.name)
        if not match:
            continue
        version = int(match.group(1))
        if version in found:
            raise ValueError(f"two migrations numbered {version:04d} in {root}")
        found[version] = Migration(version, entry.name, entry.read_text(encoding="utf-8"))
    return [found[v] for v in sorted(found)]


def _lock_key(schema: str) -> int:
    # crc32 is stable across processes and versions (Python's hash() is salted per process).
    return int.from_bytes(zlib.crc32(schema.encode()).to_bytes(4, "big"), "big", signed=True)


def _checksum(sql: str) -> int:
    return _lock_key(sql)


async def migrate(
    pool: Pool, schema: str, migrations: str | Path | Traversable | None = None
) -> list[int]:
    """Apply pending migrations to `schema` (default: the bundled ones for that schema name);
    returns the versions applied now.

    Each file runs in its own transaction together with its `schema_migrations` row, with
    `search_path` set to the schema so files use unqualified names and one file set can be applied
    to any schema name. A session advisory lock per schema serializes replicas that start at once:
    the second waits, then sees the versions the first recorded and applies nothing."""
    name = ident(schema)
    files = load_migrations(migrations if migrations is not None else bundled_migrations(name))
    applied_now: list[int] = []
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock($1, $2)", _LOCK_NAMESPACE, _lock_key(name))
        try:
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {name}")
            await conn.execute(qualify(_MIGRATIONS_TABLE, name))
            rows = await conn.fetch(
                qualify("SELECT version, checksum FROM {s}.schema_migrations", name)
            )
            done = {int(r["version"]): int(r["checksum"]) for r in rows}
            for m in files:
                if m.version in done:
                    if done[m.version] != _checksum(m.sql):
                        log.warning("migration %s.%s changed after it was applied", name, m.name)
                    continue
                async with conn.transaction():
                    await conn.execute(f"SET LOCAL search_path TO {name}, public")
                    await conn.execute(m.sql)
                    await conn.execute(
                        qualify(
                            "INSERT INTO {s}.schema_migrations (version, name, checksum)"
                            " VALUES ($1, $2, $3)",
                            name,
                        ),
                        m.version,
                        m.name,
                        _checksum(m.sql),
                    )
                applied_now.append(m.version)
                log.info("applied migration %s.%s", name, m.name)
        finally:
            await conn.execute(
                "SELECT pg_advisory_unlock($1, $2)", _LOCK_NAMESPACE, _lock_key(name)
            )
            # Whatever session state a migration file set goes before the pool reuses this
            # connection (the pool itself does not reset; see _keep_session).
            reset = getattr(conn, "reset", None)  # asyncpg's; the Pool protocol stays minimal
            if reset is not None:
                await reset()
    return applied_now


_MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS {s}.schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   integer NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


async def migrate_all(pool: Pool, schemas: Sequence[str] = SERVICE_SCHEMAS) -> dict[str, list[int]]:
    return {schema: await migrate(pool, schema) for schema in schemas}
