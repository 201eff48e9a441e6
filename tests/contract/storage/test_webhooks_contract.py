"""WebhookStore contract: memory and Postgres behave alike (org scoping, token-hash lookup,
rotation, attach/detach, newest-first paging)."""

from __future__ import annotations

import hashlib
import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from scenarist_storage.errors import ConflictError, InvalidPageTokenError, NotFoundError
from scenarist_storage.ports import WebhookStore
from scenarist_storage.webhook_models import NewWebhook, WebhookAuthData, WebhookAuthType
from storage_contract import Stores

pytestmark = pytest.mark.contract

ORG = uuid.UUID("00000000-0000-4000-8000-0000000000a1")
OTHER = uuid.UUID("00000000-0000-4000-8000-0000000000b2")


def _store(stores: Stores) -> WebhookStore:
    assert stores.webhooks is not None
    return stores.webhooks


def _new(org: uuid.UUID = ORG, scenario: uuid.UUID | None = None, **kw: object) -> NewWebhook:
    token = os.urandom(16)
    fields: dict[str, object] = {
        "id": uuid.uuid4(),
        "org_id": org,
        "scenario_id": scenario,
        "name": "hook",
        "token_hash": hashlib.sha256(token).digest(),
        "sealed_token": b"sealed:" + token,
    }
    fields.update(kw)
    return NewWebhook(**fields)  # type: ignore[arg-type]


async def test_create_get_and_find_by_token_hash(stores: Stores) -> None:
    store = _store(stores)
    auth = WebhookAuthData(WebhookAuthType.BASIC, username="u", secret_hash=b"h" * 32)
    options = {"pass_headers": True, "ip_allow_list": ["10.0.0.0/8"], "data_structure": []}
    new = _new(scenario=uuid.uuid4(), auth=auth, options=options)
    created = await store.create(new)
    assert created.id == new.id and created.scenario_id == new.scenario_id
    assert created.auth == auth and created.options == options and created.rotated_at is None
    assert await store.get(ORG, new.id) == created
    assert await store.find_by_token_hash(new.token_hash) == created
    assert await store.get(OTHER, new.id) is None
    assert await store.find_by_token_hash(hashlib.sha256(b"nope").digest()) is None


async def test_duplicate_token_hash_conflicts(stores: Stores) -> None:
    store = _store(stores)
    first = await store.create(_new())
    with pytest.raises(ConflictError):
        await store.create(_new(token_hash=first.token_hash))


async def test_rotate_token_and_auth(stores: Stores) -> None:
    store = _store(stores)
    created = await store.create(_new())
    new_hash = hashlib.sha256(b"new token").digest()
    expires = datetime(2030, 1, 1, tzinfo=UTC)
    auth = WebhookAuthData(
        WebhookAuthType.STANDARD_WEBHOOKS,
        sealed_secret=b"s2",
        previous_sealed_secret=b"s1",
        previous_expires_at=expires,
    )
    rotated = await store.rotate(ORG, created.id, token=(new_hash, b"sealed2"), auth=auth)
    assert rotated.token_hash == new_hash and rotated.sealed_token == b"sealed2"
    assert rotated.auth == auth and rotated.rotated_at is not None
    assert await store.find_by_token_hash(created.token_hash) is None
    assert await store.find_by_token_hash(new_hash) == rotated
    only_auth = await store.rotate(ORG, created.id, auth=WebhookAuthData())
    assert only_auth.token_hash == new_hash and only_auth.auth == WebhookAuthData()
    with pytest.raises(NotFoundError):
        await store.rotate(OTHER, created.id, auth=WebhookAuthData())


async def test_rotate_to_a_taken_token_conflicts(stores: Stores) -> None:
    store = _store(stores)
    first, second = await store.create(_new()), await store.create(_new())
    with pytest.raises(ConflictError):
        await store.rotate(ORG, second.id, token=(first.token_hash, b"x"))
    assert (await store.find_by_token_hash(second.token_hash)) is not None


async def test_attach_detach_and_delete_are_org_scoped(stores: Stores) -> None:
    store = _store(stores)
    created = await store.create(_new())
    scenario = uuid.uuid4()
    assert (await store.attach(ORG, created.id, scenario)).scenario_id == scenario
    assert (await store.attach(ORG, created.id, None)).scenario_id is None
    with pytest.raises(NotFoundError):
        await store.attach(OTHER, created.id, scenario)
    with pytest.raises(NotFoundError):
        await store.delete(OTHER, created.id)
    await store.delete(ORG, created.id)
    assert await store.get(ORG, created.id) is None
    assert await store.find_by_token_hash(created.token_hash) is None
    with pytest.raises(NotFoundError):
        await store.delete(ORG, created.id)


async def test_list_newest_first_with_paging_and_filter(stores: Stores) -> None:
    store = _store(stores)
    scenario = uuid.uuid4()
    made = [await store.create(_new(scenario=scenario if n % 2 else None)) for n in range(5)]
    await store.create(_new(org=OTHER))
    first = await store.list(ORG, page_size=2)
    assert [w.id for w in first.items] == [made[4].id, made[3].id]
    assert first.next_page_token is not None
    rest = await store.list(ORG, page_size=10, page_token=first.next_page_token)
    assert [w.id for w in rest.items] == [made[2].id, made[1].id, made[0].id]
    assert rest.next_page_token is None
    attached = await store.list(ORG, scenario_id=scenario)
    assert [w.id for w in attached.items] == [made[3].id, made[1].id]
    with pytest.raises(InvalidPageTokenError):
        await store.list(ORG, page_token="garbage")


async def test_timestamps_are_aware(stores: Stores) -> None:
    created = await _store(stores).create(_new())
    assert created.created_at.tzinfo is not None
    assert abs(created.created_at - datetime.now(UTC)) < timedelta(minutes=5)
