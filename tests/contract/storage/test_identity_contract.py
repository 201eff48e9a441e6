from __future__ import annotations

import uuid

import pytest
from scenarist_storage import NotFoundError, Principal, Role
from storage_contract import Stores

pytestmark = pytest.mark.contract


async def test_token_authenticates_to_its_org_and_role(stores: Stores) -> None:
    org = await stores.identity.create_organization("Acme")
    assert await stores.identity.get_organization(org.id) == org
    token_id, secret = await stores.identity.create_token(org.id, Role.EDITOR, "ci")
    assert secret.startswith(f"sct_{token_id.hex}_")
    assert await stores.identity.authenticate(secret) == Principal(org.id, Role.EDITOR, token_id)


async def test_wrong_malformed_and_unknown_secrets_are_refused(stores: Stores) -> None:
    org = await stores.identity.create_organization("Acme")
    _, secret = await stores.identity.create_token(org.id, Role.OWNER, "admin")
    tampered = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    for candidate in (
        tampered,
        "",
        "sct_",
        "nonsense",
        f"sct_{uuid.uuid4().hex}_abc",
        secret + "x",
    ):
        assert await stores.identity.authenticate(candidate) is None
    assert await stores.identity.authenticate(secret) is not None


async def test_secret_is_not_stored_in_clear(stores: Stores) -> None:
    org = await stores.identity.create_organization("Acme")
    _, secret = await stores.identity.create_token(org.id, Role.VIEWER, "read")
    if stores.pool is None:
        assert secret not in repr(vars(stores.identity))
        return
    rows = await stores.pool.fetch(
        f"SELECT secret_hash::text AS h, name FROM {stores.prefix}identity.api_tokens"
    )
    assert (
        len(rows) == 1 and secret not in rows[0]["h"] and len(bytes.fromhex(rows[0]["h"][2:])) == 32
    )


async def test_revoked_token_no_longer_authenticates(stores: Stores) -> None:
    org = await stores.identity.create_organization("Acme")
    token_id, secret = await stores.identity.create_token(org.id, Role.OWNER, "admin")
    other_id, other_secret = await stores.identity.create_token(org.id, Role.VIEWER, "other")
    await stores.identity.revoke_token(org.id, token_id)
    await stores.identity.revoke_token(org.id, token_id)  # idempotent
    assert await stores.identity.authenticate(secret) is None
    assert await stores.identity.authenticate(other_secret) is not None
    listed = {t.id: t for t in await stores.identity.list_tokens(org.id)}
    assert set(listed) == {token_id, other_id}
    assert listed[token_id].revoked_at is not None and listed[other_id].revoked_at is None


async def test_tokens_are_scoped_to_their_organization(stores: Stores) -> None:
    acme = await stores.identity.create_organization("Acme")
    globex = await stores.identity.create_organization("Globex")
    token_id, secret = await stores.identity.create_token(acme.id, Role.OWNER, "admin")
    with pytest.raises(NotFoundError):
        await stores.identity.revoke_token(globex.id, token_id)
    assert await stores.identity.authenticate(secret) is not None
    assert await stores.identity.list_tokens(globex.id) == []
    with pytest.raises(NotFoundError):
        await stores.identity.create_token(uuid.uuid4(), Role.OWNER, "ghost")
    assert await stores.identity.get_organization(uuid.uuid4()) is None


async def test_first_organization_is_the_oldest(stores: Stores) -> None:
    assert await stores.identity.first_organization() is None
    acme = await stores.identity.create_organization("Acme")
    await stores.identity.create_organization("Globex")
    assert await stores.identity.first_organization() == acme
