"""The gateway-native ``datastore`` app on the in-memory store: Make's module semantics, typed
errors, organization scoping, and the spec the orchestrator knows the modules from."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from scenarist_connector_gateway.apps import with_apps
from scenarist_connector_gateway.catalogue import builtin_catalogue
from scenarist_connector_gateway.datastore_app import datastore_connector
from scenarist_connector_gateway.record_values import fit_record
from scenarist_connector_gateway.structure import FieldSpec
from scenarist_connector_sdk import ConnectorRuntime, Registry, errors
from scenarist_connectors import datastore_spec
from scenarist_engine.errors import ErrorType
from scenarist_orchestrator.app_modules import app_kinds, known_modules
from scenarist_storage.memory.gateway import MemoryDataStoreStore

FIELDS: list[dict[str, Any]] = [
    {"name": "email", "type": "text", "required": True},
    {"name": "age", "type": "number"},
    {"name": "vip", "type": "boolean"},
]


class Harness:
    def __init__(self, max_records: int = 100) -> None:
        self.org = uuid.uuid4()
        self.store = MemoryDataStoreStore()
        self.runtime = ConnectorRuntime(
            Registry([datastore_connector(self.store, max_records=max_records)])
        )

    async def data_store(self, org: uuid.UUID | None = None, size: int = 1 << 20) -> str:
        info = await self.store.create_data_store(org or self.org, "people", FIELDS, size)
        return str(info.id)

    async def run(self, module: str, store: str, **inputs: Any) -> list[dict[str, Any]]:
        run = {"organization_id": str(self.org), "run_id": "r1"}
        return await self.runtime.execute(
            f"datastore:{module}", {"datastore": store, **inputs}, None, run
        )


async def test_add_get_exist_update_delete() -> None:
    h = Harness()
    ds = await h.data_store()
    [added] = await h.run("AddRecord", ds, key="a", data={"email": "a@x.io", "age": "41"})
    assert added == {"key": "a", "data": {"email": "a@x.io", "age": 41}}
    assert await h.run("GetRecord", ds, key="a") == [{"email": "a@x.io", "age": 41}]
    wrapped = await h.run("GetRecord", ds, key="a", returnWrapped=True)
    assert wrapped == [added]
    assert await h.run("ExistRecord", ds, key="a") == [{"exist": True}]
    [updated] = await h.run("UpdateRecord", ds, key="a", data={"vip": "true", "age": ""})
    assert updated["data"] == {"email": "a@x.io", "age": 41, "vip": True}
    assert await h.run("DeleteRecord", ds, key="a") == [{"key": "a", "deleted": True}]
    assert await h.run("ExistRecord", ds, key="a") == [{"exist": False}]


async def test_missing_record_is_an_empty_bundle_on_get_and_not_found_on_update() -> None:
    h = Harness()
    ds = await h.data_store()
    assert await h.run("GetRecord", ds, key="nope") == [{}]
    with pytest.raises(errors.NotFoundError):
        await h.run("UpdateRecord", ds, key="nope", data={"age": 1})
    [inserted] = await h.run("UpdateRecord", ds, key="n", insert=True, data={"email": "n@x"})
    assert inserted["data"] == {"email": "n@x"}


async def test_add_without_key_generates_one_and_existing_key_needs_overwrite() -> None:
    h = Harness()
    ds = await h.data_store()
    [generated] = await h.run("AddRecord", ds, data={"email": "g@x"})
    assert len(generated["key"]) == 32
    await h.run("AddRecord", ds, key=7, data={"email": "s@x"})
    with pytest.raises(errors.InvalidInputError, match="overwrite"):
        await h.run("AddRecord", ds, key="7", data={"email": "t@x"})
    [replaced] = await h.run("AddRecord", ds, key="7", overwrite=True, data={"email": "t@x"})
    assert replaced == {"key": "7", "data": {"email": "t@x"}}


async def test_structure_violations_are_data_errors_with_every_path() -> None:
    h = Harness()
    ds = await h.data_store()
    with pytest.raises(errors.InvalidInputError) as caught:
        await h.run("AddRecord", ds, key="b", data={"age": "old", "color": "red"})
    assert caught.value.error_type is ErrorType.DATA
    for path in ("data.age: must be a number", "data.color", "data.email: is required"):
        assert path in caught.value.message
    assert await h.run("CountRecords", ds) == [{"count": 0}]


async def test_limits_are_data_errors() -> None:
    h = Harness(max_records=1)
    ds = await h.data_store()
    await h.run("AddRecord", ds, key="1", data={"email": "1@x"})
    with pytest.raises(errors.InvalidInputError, match="data store"):
        await h.run("AddRecord", ds, key="2", data={"email": "2@x"})


async def test_search_filter_sort_limit_count_and_delete_all() -> None:
    h = Harness()
    ds = await h.data_store()
    for n, age in enumerate([30, 50, 40, 20]):
        await h.run("AddRecord", ds, key=f"k{n}", data={"email": f"{n}@x", "age": age})
    older = [[{"a": "age", "o": "number:greater", "b": 25}]]
    found = await h.run(
        "SearchRecords", ds, filter=older, sort={"field": "age", "order": "desc"}, limit=2
    )
    assert [b["data"]["age"] for b in found] == [50, 40]
    assert set(found[0]) == {"key", "data"}
    assert await h.run("CountRecords", ds, filter=older) == [{"count": 3}]
    flat = [{"a": "key", "o": "text:equal", "b": "k3"}]
    assert [b["key"] for b in await h.run("SearchRecords", ds, filter=flat)] == ["k3"]
    assert await h.run("DeleteAllRecords", ds) == [{"deleted": 4}]
    assert await h.run("SearchRecords", ds) == []


async def test_invalid_searches_are_configuration_errors_in_the_mapper_spelling() -> None:
    h = Harness()
    ds = await h.data_store()
    with pytest.raises(errors.ConfigurationError, match=r"filter\[1\]\[1\]\.o: unknown"):
        await h.run("SearchRecords", ds, filter=[[{"a": "age", "o": "number:bigger"}]])
    with pytest.raises(errors.ConfigurationError, match="sort"):
        await h.run("SearchRecords", ds, sort={"field": "nope"})
    with pytest.raises(errors.ConfigurationError, match="OR-groups"):
        await h.run("CountRecords", ds, filter=[{"a": "age"}, ["age > 3"]])
    with pytest.raises(errors.ConfigurationError, match=r"filter\[1\]\[1\]: must be"):
        await h.run("CountRecords", ds, filter=[["age > 3"]])


async def test_a_store_of_another_org_answers_like_a_missing_one() -> None:
    h = Harness()
    theirs = await h.data_store(org=uuid.uuid4())
    with pytest.raises(errors.ConfigurationError) as other:
        await h.run("ExistRecord", theirs, key="a")
    missing = str(uuid.uuid4())
    with pytest.raises(errors.ConfigurationError) as absent:
        await h.run("ExistRecord", missing, key="a")
    assert str(other.value).replace(theirs, "?") == str(absent.value).replace(missing, "?")
    with pytest.raises(errors.ConfigurationError, match="not a data store id"):
        await h.run("ExistRecord", "people", key="a")


def test_fit_record_converts_text_where_the_structure_says_so() -> None:
    structure = (
        FieldSpec("n", "number"),
        FieldSpec("t", "text"),
        FieldSpec("c", "collection", fields=(FieldSpec("b", "boolean"),)),
    )
    data = {"n": "-3", "t": 2.5, "c": {"b": "FALSE"}, "x": None, "y": ""}
    assert fit_record(data, structure) == {"n": -3, "t": "2.5", "c": {"b": False}}
    assert fit_record({"n": "1.5e2"}, structure) == {"n": 150.0}
    assert fit_record({"n": "many"}, structure) == {"n": "many"}


def test_the_catalogue_and_the_orchestrator_know_every_module() -> None:
    names = {f"datastore:{m.name}" for m in datastore_spec.MODULES}
    modules = ["AddRecord", "UpdateRecord", "GetRecord", "ExistRecord", "DeleteRecord"]
    modules += ["SearchRecords", "CountRecords", "DeleteAllRecords"]
    assert names == {f"datastore:{n}" for n in modules}
    assert names <= known_modules()
    assert not app_kinds()["datastore:SearchRecords"].inline
    registry = Registry([datastore_connector(MemoryDataStoreStore(), max_records=1)])
    catalogue = with_apps(builtin_catalogue(), registry)
    assert names <= catalogue.module_names()
    [search] = [m for m in catalogue.modules["datastore"] if m.name == "SearchRecords"]
    assert {f.name for f in search.inputs} == {"datastore", "filter", "sort", "limit"}
