"""ClaimStore contract: the same suite against the in-memory and the Postgres claim store."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from scenarist_storage.claims import (
    ClaimCorruptError,
    ClaimNotFoundError,
    ClaimRef,
    ClaimStore,
    digest,
)
from scenarist_storage.memory.claims import MemoryClaimStore
from scenarist_storage.pg.claims import PgClaimStore
from scenarist_storage.postgres import bundled_migrations, create_pool, migrate

NOW = datetime(2026, 1, 1, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


@pytest.fixture(
    params=[pytest.param("memory"), pytest.param("postgres", marks=pytest.mark.integration)]
)
async def claims(request: pytest.FixtureRequest) -> AsyncIterator[ClaimStore]:
    if request.param == "memory":
        yield MemoryClaimStore()
        return
    dsn: str = request.getfixturevalue("pg_dsn")
    pool = await create_pool(dsn, min_size=1, max_size=2)
    schema = f"t{uuid.uuid4().hex[:10]}_claims"
    await migrate(pool, schema, bundled_migrations("claims"))
    try:
        yield PgClaimStore(pool, schema)
    finally:
        await pool.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await pool.close()


async def test_put_then_get_returns_the_same_bytes(claims: ClaimStore) -> None:
    body = b'{"records": [' + b'"x",' * 100_000 + b'"y"]}'
    ref = await claims.put(body, expires_at=LATER)
    assert ref.size_bytes == len(body)
    assert ref.sha256 == digest(body)
    assert ref.content_type == "application/json"
    assert await claims.get(ref) == body


async def test_same_bytes_give_the_same_ref(claims: ClaimStore) -> None:
    first = await claims.put(b"abc", expires_at=NOW)
    second = await claims.put(b"abc", expires_at=LATER, content_type="text/plain")
    assert first == second  # content-addressed; the first content type stays


async def test_a_second_put_extends_but_never_shortens_expiry(claims: ClaimStore) -> None:
    ref = await claims.put(b"kept", expires_at=LATER)
    await claims.put(b"kept", expires_at=NOW)
    assert await claims.expire(NOW + timedelta(minutes=1)) == 0
    assert await claims.get(ref) == b"kept"


async def test_expire_deletes_only_due_bodies(claims: ClaimStore) -> None:
    due = await claims.put(b"due", expires_at=NOW)
    kept = await claims.put(b"kept", expires_at=LATER)
    assert await claims.expire(NOW) == 1
    with pytest.raises(ClaimNotFoundError):
        await claims.get(due)
    assert await claims.get(kept) == b"kept"


async def test_expire_respects_its_limit(claims: ClaimStore) -> None:
    for index in range(3):
        await claims.put(f"body {index}".encode(), expires_at=NOW)
    assert await claims.expire(NOW, limit=2) == 2
    assert await claims.expire(NOW, limit=2) == 1


async def test_delete_drops_bodies_and_ignores_unknown_refs(claims: ClaimStore) -> None:
    ref = await claims.put(b"gone", expires_at=LATER)
    assert await claims.delete([ref.ref, "claim:sha256:" + "0" * 64, "nonsense"]) == 1
    with pytest.raises(ClaimNotFoundError):
        await claims.get(ref)


async def test_get_of_a_foreign_ref_is_not_found(claims: ClaimStore) -> None:
    with pytest.raises(ClaimNotFoundError):
        await claims.get(ClaimRef("pg:other/1", "0" * 64, 1))


async def test_a_ref_with_the_wrong_size_is_refused(claims: ClaimStore) -> None:
    ref = await claims.put(b"twelve bytes", expires_at=LATER)
    with pytest.raises(ClaimCorruptError):
        await claims.get(ClaimRef(ref.ref, ref.sha256, ref.size_bytes + 1))


async def test_big_bodies_round_trip_and_stay_content_addressed(claims: ClaimStore) -> None:
    """Bodies of megabytes (the Postgres store streams them in): every byte back, one row per
    digest, and a second put only extends the expiry."""
    big = bytes(range(256)) * (3 * 4096 + 7)  # ~3 MiB, not a whole number of chunks
    other = big[:-1] + b"!"
    first = await claims.put(big, expires_at=NOW)
    second = await claims.put(other, expires_at=NOW, content_type="application/octet-stream")
    again = await claims.put(big, expires_at=LATER, content_type="text/plain")
    assert again == first and first.size_bytes == len(big) and first.sha256 == digest(big)
    assert second.content_type == "application/octet-stream" and second != first
    assert await claims.get(first) == big and await claims.get(second) == other
    assert await claims.expire(NOW + timedelta(seconds=1)) == 1  # `other`; `big` extended
    assert await claims.get(first) == big
