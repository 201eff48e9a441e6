from __future__ import annotations

import uuid

import pytest
from scenarist_storage import ConflictError, InvalidPageTokenError, NotFoundError
from storage_contract import Stores

pytestmark = pytest.mark.contract

ORG = uuid.UUID("00000000-0000-4000-8000-000000000001")
OTHER = uuid.UUID("00000000-0000-4000-8000-000000000002")
DOC = {"trigger": {"type": "webhook"}, "modules": [{"id": 1, "app": "http", "params": {"n": 1.5}}]}


async def test_create_get_and_versions(stores: Stores) -> None:
    s = stores.scenarios
    created = await s.create(ORG, "Sync leads", DOC)
    assert (created.version, created.latest_version, created.active) == (1, 1, False)
    assert created.document == DOC and created.org_id == ORG
    v2 = await s.new_version(ORG, created.id, {"modules": []})
    v3 = await s.new_version(ORG, created.id, {"modules": [1]}, name="Renamed")
    assert (v2.version, v3.version, v3.name) == (2, 3, "Renamed")
    latest = await s.get(ORG, created.id)
    assert latest is not None and latest.version == 3 and latest.document == {"modules": [1]}
    first = await s.get(ORG, created.id, 1)
    assert first is not None and first.document == DOC and first.latest_version == 3
    assert await s.get(ORG, created.id, 4) is None


async def test_expected_version_guards_concurrent_edits(stores: Stores) -> None:
    created = await stores.scenarios.create(ORG, "a", DOC)
    await stores.scenarios.new_version(ORG, created.id, DOC, expected_version=1)
    with pytest.raises(ConflictError):
        await stores.scenarios.new_version(ORG, created.id, DOC, expected_version=1)
    latest = await stores.scenarios.get(ORG, created.id)
    assert latest is not None and latest.version == 2


async def test_other_organization_sees_nothing(stores: Stores) -> None:
    s = stores.scenarios
    created = await s.create(ORG, "mine", DOC)
    assert await s.get(OTHER, created.id) is None
    assert (await s.list(OTHER)).items == []
    for call in (
        s.new_version(OTHER, created.id, DOC),
        s.set_active(OTHER, created.id, True),
        s.delete(OTHER, created.id),
    ):
        with pytest.raises(NotFoundError):
            await call
    unchanged = await s.get(ORG, created.id)
    assert unchanged is not None and unchanged.version == 1 and not unchanged.active


async def test_activate_and_soft_delete(stores: Stores) -> None:
    s = stores.scenarios
    created = await s.create(ORG, "x", DOC)
    assert (await s.set_active(ORG, created.id, True)).active
    assert (await s.set_active(ORG, created.id, True)).active  # idempotent
    await s.delete(ORG, created.id)
    assert await s.get(ORG, created.id) is None
    kept = await s.get(ORG, created.id, 1, include_deleted=True)
    assert kept is not None and kept.document == DOC and not kept.active
    assert (await s.list(ORG)).items == []
    with pytest.raises(NotFoundError):
        await s.delete(ORG, created.id)
    with pytest.raises(NotFoundError):
        await s.new_version(ORG, created.id, DOC)
    with pytest.raises(NotFoundError):
        await s.set_active(ORG, created.id, True)


async def test_list_pages_by_name_without_gaps_or_duplicates(stores: Stores) -> None:
    s = stores.scenarios
    names = ["beta", "Alpha", "alpha", "gamma", "beta", "Éclair", "delta", "zeta", "beta", "eta"]
    ids = {(await s.create(ORG, n, {"n": n})).id for n in names}
    await s.create(OTHER, "alpha", DOC)
    seen: list[tuple[str, str]] = []
    token: str | None = None
    pages = 0
    while True:
        page = await s.list(ORG, page_size=3, page_token=token)
        assert len(page.items) <= 3
        seen += [(r.name, str(r.id)) for r in page.items]
        pages += 1
        token = page.next_page_token
        if token is None:
            break
    assert pages == 4
    assert seen == sorted(seen)  # (name, id) in code-point order
    assert {uuid.UUID(i) for _, i in seen} == ids and len(seen) == len(names)


async def test_list_name_filter_is_case_insensitive_substring(stores: Stores) -> None:
    s = stores.scenarios
    for n in ["Sync CRM", "crm backup", "Invoices", "100% done", "a_b"]:
        await s.create(ORG, n, DOC)
    page = await s.list(ORG, name_contains="CRM")
    assert sorted(r.name for r in page.items) == ["Sync CRM", "crm backup"]
    assert [r.name for r in (await s.list(ORG, name_contains="%")).items] == ["100% done"]
    assert [r.name for r in (await s.list(ORG, name_contains="_")).items] == ["a_b"]
    first = await s.list(ORG, name_contains="c", page_size=1)
    assert first.next_page_token is not None
    rest = await s.list(ORG, name_contains="c", page_size=10, page_token=first.next_page_token)
    assert len(first.items) + len(rest.items) == 3 and rest.next_page_token is None


async def test_bad_page_arguments(stores: Stores) -> None:
    for token in ("garbage!!", "W10", "WyJydW5zIiwgMV0"):
        with pytest.raises(InvalidPageTokenError):
            await stores.scenarios.list(ORG, page_token=token)
    with pytest.raises(ValueError):
        await stores.scenarios.list(ORG, page_size=0)
