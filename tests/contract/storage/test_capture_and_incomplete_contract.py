"""CaptureStore, IncompleteStore and WebhookStore.update: memory and Postgres behave alike
(organization scoping, first capture / first closure wins, bounded bodies)."""

from __future__ import annotations

import hashlib
import os
import uuid

import pytest
from scenarist_storage.capture_models import MAX_CAPTURE_BYTES, CaptureStore
from scenarist_storage.errors import NotFoundError
from scenarist_storage.incomplete_models import CLOSURE_RESOLVED, CLOSURE_RETRIED, IncompleteStore
from scenarist_storage.memory.captures import MemoryCaptureStore
from scenarist_storage.memory.incomplete import MemoryIncompleteStore
from scenarist_storage.pg.captures import PgCaptureStore
from scenarist_storage.pg.incomplete import PgIncompleteStore
from scenarist_storage.ports import WebhookStore
from scenarist_storage.webhook_models import NewWebhook
from storage_contract import Stores

pytestmark = pytest.mark.contract

ORG = uuid.UUID("00000000-0000-4000-8000-0000000000c1")
OTHER = uuid.UUID("00000000-0000-4000-8000-0000000000c2")


class _Hooks:
    """Creates webhooks and remembers their owners (what the memory capture store asks)."""

    def __init__(self, store: WebhookStore) -> None:
        self.store = store
        self.owners: dict[uuid.UUID, uuid.UUID] = {}

    async def create(self, org: uuid.UUID = ORG) -> uuid.UUID:
        token = os.urandom(16)
        webhook_id = uuid.uuid4()
        await self.store.create(
            NewWebhook(
                id=webhook_id,
                org_id=org,
                scenario_id=None,
                name="hook",
                token_hash=hashlib.sha256(token).digest(),
                sealed_token=b"sealed:" + token,
            )
        )
        self.owners[webhook_id] = org
        return webhook_id


def _captures(stores: Stores, hooks: _Hooks) -> CaptureStore:
    if stores.pool is None:
        return MemoryCaptureStore(hooks.owners.get)
    return PgCaptureStore(stores.pool, stores.prefix + "trigger")


def _incomplete(stores: Stores) -> IncompleteStore:
    if stores.pool is None:
        return MemoryIncompleteStore()
    return PgIncompleteStore(stores.pool, stores.prefix + "orchestrator")


async def test_only_an_armed_webhook_captures_and_only_once(stores: Stores) -> None:
    assert stores.webhooks is not None
    hooks = _Hooks(stores.webhooks)
    captures = _captures(stores, hooks)
    hook = await hooks.create()
    assert await captures.capture(hook, "application/json", b"{}") is None
    armed = await captures.arm(ORG, hook)
    assert armed.waiting and armed.captured_at is None
    assert hook in await captures.waiting()
    first = await captures.capture(hook, "application/json", b'{"a": 1}')
    assert first is not None and not first.waiting and first.body == b'{"a": 1}'
    assert await captures.capture(hook, "application/json", b'{"b": 2}') is None
    assert hook not in await captures.waiting()
    stored = await captures.get(ORG, hook)
    assert stored is not None and stored.body == b'{"a": 1}' and stored.body_bytes == 8
    assert await captures.get(OTHER, hook) is None
    with pytest.raises(NotFoundError):
        await captures.arm(OTHER, hook)
    rearmed = await captures.arm(ORG, hook)  # discards the earlier capture
    assert rearmed.waiting and rearmed.body == b""


async def test_a_large_body_is_kept_by_size_only(stores: Stores) -> None:
    assert stores.webhooks is not None
    hooks = _Hooks(stores.webhooks)
    captures = _captures(stores, hooks)
    hook = await hooks.create()
    await captures.arm(ORG, hook)
    found = await captures.capture(hook, "application/json", b"x" * (MAX_CAPTURE_BYTES + 1))
    assert found is not None and found.too_large and found.body == b""
    assert found.body_bytes == MAX_CAPTURE_BYTES + 1


async def test_webhook_update_replaces_name_and_options(stores: Stores) -> None:
    assert stores.webhooks is not None
    hooks = _Hooks(stores.webhooks)
    hook = await hooks.create()
    renamed = await stores.webhooks.update(ORG, hook, name="renamed")
    assert renamed.name == "renamed" and renamed.options == {}
    structure = {"data_structure": [{"name": "email", "type": "email"}]}
    updated = await stores.webhooks.update(ORG, hook, options=structure)
    assert updated.name == "renamed" and updated.options == structure
    with pytest.raises(NotFoundError):
        await stores.webhooks.update(OTHER, hook, name="stolen")


async def test_the_first_closure_of_an_incomplete_execution_wins(stores: Stores) -> None:
    store = _incomplete(stores)
    run, retry_run = uuid.uuid4(), uuid.uuid4()
    key = f"{run}/t3"
    retried, made = await store.close(ORG, key, run, CLOSURE_RETRIED, retry_run)
    assert made and retried.status == CLOSURE_RETRIED and retried.retry_run_id == retry_run
    again, made = await store.close(ORG, key, run, CLOSURE_RESOLVED)
    assert not made and again.status == CLOSURE_RETRIED and again.retry_run_id == retry_run
    other, made = await store.close(OTHER, key, run, CLOSURE_RESOLVED)
    assert made and other.status == CLOSURE_RESOLVED
    found = await store.closures(ORG, [run, uuid.uuid4()])
    assert list(found) == [key] and found[key].status == CLOSURE_RETRIED
    assert await store.closures(ORG, []) == {}
