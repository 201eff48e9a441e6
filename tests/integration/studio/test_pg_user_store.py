"""The Postgres user store against a real server (`postgres_server_dsn` in tests/conftest.py), in a
schema of its own migrated from the bundled `studio` migrations, dropped at the end."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from scenarist_storage.models import Role
from scenarist_storage.postgres import Pool, bundled_migrations, create_pool, migrate
from scenarist_studio.pg_users import PgUserStore
from scenarist_studio.users import ApiTokenRecord, EmailTakenError, SessionRecord, User, digest

pytestmark = pytest.mark.integration


@pytest.fixture
async def store(postgres_server_dsn: str) -> AsyncIterator[PgUserStore]:
    pool: Pool = await create_pool(postgres_server_dsn, min_size=1, max_size=2)
    schema = f"t{uuid.uuid4().hex[:10]}_studio"
    try:
        await migrate(pool, schema, bundled_migrations("studio"))
        yield PgUserStore(pool, schema)
    finally:
        await pool.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await pool.close()


def _user(email: str, role: Role = Role.EDITOR) -> User:
    return User(
        id=uuid.uuid4(),
        org_id=uuid.uuid4(),
        email=email,
        password_hash="$argon2id$fake",
        role=role,
        sealed_token=b"sealed",
        created_at=datetime.now(UTC),
    )


async def test_users_are_unique_by_email_case_insensitively(store: PgUserStore) -> None:
    ada = _user("Ada@Example.com")
    await store.add_user(ada)
    with pytest.raises(EmailTakenError):
        await store.add_user(_user("ada@example.COM"))
    assert await store.user_by_email("ADA@example.com") == ada
    assert await store.first_user() == ada
    assert await store.users(ada.org_id) == [ada]
    await store.set_password(ada.id, "$argon2id$new")
    found = await store.user(ada.id)
    assert found is not None and found.password_hash == "$argon2id$new"


async def test_sessions_expire_and_end(store: PgUserStore) -> None:
    ada = _user("ada@example.com")
    await store.add_user(ada)
    now = datetime.now(UTC)
    session = SessionRecord(digest("s1"), ada.id, "csrf", now + timedelta(hours=1))
    await store.add_session(session)
    assert await store.session(digest("s1"), now) == session
    assert await store.session(digest("s1"), now + timedelta(hours=2)) is None
    await store.delete_session(digest("s1"))
    assert await store.session(digest("s1"), now) is None


async def test_tokens_are_found_by_hash_and_revoked_by_their_owner_only(store: PgUserStore) -> None:
    ada, bob = _user("ada@example.com"), _user("bob@example.com")
    await store.add_user(ada)
    await store.add_user(bob)
    now = datetime.now(UTC)
    token = ApiTokenRecord(
        uuid.uuid4(), ada.id, "ci", digest("sst_x"), "sst_x", Role.VIEWER, now, None
    )
    await store.add_token(token)
    assert await store.token(digest("sst_x")) == token
    assert await store.tokens(ada.id) == [token]
    assert not await store.revoke_token(bob.id, token.id, now)
    assert await store.revoke_token(ada.id, token.id, now)
    revoked = await store.token(digest("sst_x"))
    assert revoked is not None and revoked.revoked_at is not None
