from __future__ import annotations

import uuid

import pytest
from scenarist_storage.errors import (
    ConflictError,
    InvalidPageTokenError,
    LimitExceededError,
    NotFoundError,
)
from scenarist_storage.gateway_models import JsonObject, NewConnection, SealedSecret, record_size
from scenarist_storage.ports import ConnectionStore, DataStoreStore
from storage_contract import Stores

pytestmark = pytest.mark.contract

ORG = uuid.UUID("00000000-0000-4000-8000-0000000000e1")
OTHER = uuid.UUID("00000000-0000-4000-8000-0000000000e2")
FIELDS: list[JsonObject] = [{"name": "email", "type": "text", "required": True}]


def _connections(stores: Stores) -> ConnectionStore:
    assert stores.connections is not None
    return stores.connections


def _data(stores: Stores) -> DataStoreStore:
    assert stores.data_stores is not None
    return stores.data_stores


def _new(name: str, *, app: str = "slack", key_id: str = "k1") -> NewConnection:
    return NewConnection(
        org_id=ORG,
        id=uuid.uuid4(),
        app=app,
        type="api_key",
        name=name,
        parameters={"base_url": "https://example.test"},
        secret_fields=("api_key",),
        sealed=SealedSecret(key_id, b"\x00wrapped" + name.encode(), b"\x01cipher"),
    )


async def test_connections_round_trip_and_are_scoped(stores: Stores) -> None:
    conns = _connections(stores)
    new = _new("Team")
    created = await conns.create_connection(new)
    assert created.sealed == new.sealed and created.parameters == new.parameters
    assert created.secret_fields == ("api_key",) and created.app == "slack"
    assert await conns.get_connection(ORG, new.id) == created
    assert await conns.get_connection(OTHER, new.id) is None
    with pytest.raises(ConflictError):
        await conns.create_connection(new)
    with pytest.raises(NotFoundError):
        await conns.delete_connection(OTHER, new.id)
    await conns.delete_connection(ORG, new.id)
    assert await conns.get_connection(ORG, new.id) is None
    with pytest.raises(NotFoundError):
        await conns.delete_connection(ORG, new.id)


async def test_connections_list_by_name_with_paging_and_app_filter(stores: Stores) -> None:
    conns = _connections(stores)
    for name, app in (("b", "slack"), ("a", "github"), ("c", "slack"), ("a", "slack")):
        await conns.create_connection(_new(name, app=app))
    seen: list[str] = []
    token = None
    while True:
        page = await conns.list_connections(ORG, page_size=3, page_token=token)
        seen += [c.name for c in page.items]
        token = page.next_page_token
        if token is None:
            break
    assert seen == ["a", "a", "b", "c"]
    slack = await conns.list_connections(ORG, app="slack")
    assert [c.name for c in slack.items] == ["a", "b", "c"]
    assert (await conns.list_connections(OTHER)).items == []
    with pytest.raises(InvalidPageTokenError):
        await conns.list_connections(ORG, page_token="garbage")


async def test_rewrap_is_compare_and_set(stores: Stores) -> None:
    conns = _connections(stores)
    old = await conns.create_connection(_new("old", key_id="k1"))
    await conns.create_connection(_new("new", key_id="k2"))
    stale = await conns.connections_to_rewrap("k2", 10)
    assert [c.id for c in stale] == [old.id]
    assert await conns.replace_wrapped_key(old.id, "k1", "k2", b"rewrapped")
    assert not await conns.replace_wrapped_key(old.id, "k1", "k2", b"again")
    got = await conns.get_connection(ORG, old.id)
    assert got is not None
    assert got.sealed == SealedSecret("k2", b"rewrapped", old.sealed.ciphertext)
    assert await conns.connections_to_rewrap("k2", 10) == []


async def test_data_stores_create_list_delete(stores: Stores) -> None:
    data = _data(stores)
    first = await data.create_data_store(ORG, "Leads", FIELDS, 1000)
    assert (first.name, first.fields, first.max_size_bytes) == ("Leads", FIELDS, 1000)
    assert (first.size_bytes, first.record_count) == (0, 0)
    with pytest.raises(ConflictError):
        await data.create_data_store(ORG, "Leads", FIELDS, 1000)
    await data.create_data_store(OTHER, "Leads", FIELDS, 1000)  # names are per org
    await data.create_data_store(ORG, "Accounts", FIELDS, 1000)
    page = await data.list_data_stores(ORG, page_size=1)
    assert [s.name for s in page.items] == ["Accounts"]
    assert page.next_page_token is not None
    rest = await data.list_data_stores(ORG, page_size=1, page_token=page.next_page_token)
    assert [s.name for s in rest.items] == ["Leads"] and rest.next_page_token is None
    assert await data.get_data_store(OTHER, first.id) is None
    with pytest.raises(NotFoundError):
        await data.delete_data_store(OTHER, first.id)
    await data.write_record(ORG, first.id, "k", lambda _: {"email": "a"}, max_records=10)
    await data.delete_data_store(ORG, first.id)
    assert await data.get_data_store(ORG, first.id) is None
    with pytest.raises(NotFoundError):
        await data.get_record(ORG, first.id, "k")


async def test_records_write_read_delete_with_accounting(stores: Stores) -> None:
    data = _data(stores)
    store = await data.create_data_store(ORG, "S", FIELDS, 10_000)
    record, created = await data.write_record(
        ORG, store.id, "b", lambda cur: {"email": "x", "seen": cur is None}, max_records=10
    )
    assert created and record.data == {"email": "x", "seen": True} and record.key == "b"
    merged, created = await data.write_record(
        ORG, store.id, "b", lambda cur: {**(cur or {}), "n": 2}, max_records=10
    )
    assert not created and merged.data == {"email": "x", "seen": True, "n": 2}
    await data.write_record(ORG, store.id, "a", lambda _: {"email": "y"}, max_records=10)
    assert [r.key for r in await data.all_records(ORG, store.id)] == ["a", "b"]
    info = await data.get_data_store(ORG, store.id)
    assert info is not None and info.record_count == 2
    assert info.size_bytes == record_size("a", {"email": "y"}) + record_size("b", merged.data)
    got = await data.get_record(ORG, store.id, "b")
    assert got is not None and got.data == merged.data
    assert await data.get_record(ORG, store.id, "zz") is None
    assert await data.delete_record(ORG, store.id, "a")
    assert not await data.delete_record(ORG, store.id, "a")
    assert await data.delete_all_records(ORG, store.id) == 1
    info = await data.get_data_store(ORG, store.id)
    assert info is not None and (info.record_count, info.size_bytes) == (0, 0)


async def test_records_are_scoped_to_the_org(stores: Stores) -> None:
    data = _data(stores)
    store = await data.create_data_store(ORG, "S", FIELDS, 10_000)
    await data.write_record(ORG, store.id, "k", lambda _: {"email": "x"}, max_records=10)
    with pytest.raises(NotFoundError):
        await data.write_record(OTHER, store.id, "k", lambda _: {}, max_records=10)
    for call in (data.get_record, data.delete_record):
        with pytest.raises(NotFoundError):
            await call(OTHER, store.id, "k")
    with pytest.raises(NotFoundError):
        await data.all_records(OTHER, store.id)
    with pytest.raises(NotFoundError):
        await data.delete_all_records(OTHER, store.id)
    assert len(await data.all_records(ORG, store.id)) == 1


async def test_limits_and_failed_changes_write_nothing(stores: Stores) -> None:
    data = _data(stores)
    store = await data.create_data_store(ORG, "S", FIELDS, record_size("a", {"v": "x" * 20}) + 5)
    await data.write_record(ORG, store.id, "a", lambda _: {"v": "x" * 20}, max_records=1)
    with pytest.raises(LimitExceededError):
        await data.write_record(ORG, store.id, "b", lambda _: {}, max_records=1)
    with pytest.raises(LimitExceededError):
        await data.write_record(ORG, store.id, "a", lambda _: {"v": "x" * 40}, max_records=1)

    def refuse(_: JsonObject | None) -> JsonObject:
        raise ConflictError("exists")

    with pytest.raises(ConflictError):
        await data.write_record(ORG, store.id, "a", refuse, max_records=1)
    got = await data.get_record(ORG, store.id, "a")
    assert got is not None and got.data == {"v": "x" * 20}
    info = await data.get_data_store(ORG, store.id)
    assert info is not None and info.record_count == 1
