"""The token cache in front of the identity store, and the bootstrap of a fresh installation."""

from __future__ import annotations

from scenarist_orchestrator.authenticator import CachingAuthenticator
from scenarist_orchestrator.bootstrap import ensure_bootstrap_admin
from scenarist_storage.memory.identity import MemoryIdentityStore
from scenarist_storage.models import Principal, Role


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class CountingStore(MemoryIdentityStore):
    def __init__(self) -> None:
        super().__init__()
        self.lookups = 0

    async def authenticate(self, secret: str) -> Principal | None:
        self.lookups += 1
        return await super().authenticate(secret)


async def test_the_cache_answers_within_its_ttl_then_asks_again() -> None:
    store, clock = CountingStore(), Clock()
    org = await store.create_organization("acme")
    token_id, secret = await store.create_token(org.id, Role.EDITOR, "ci")
    auth = CachingAuthenticator(store, ttl_seconds=2.0, clock=clock)
    principal = await auth.authenticate(secret)
    assert principal == Principal(org.id, Role.EDITOR, token_id)
    assert await auth.authenticate(secret) == principal
    assert store.lookups == 1

    await store.revoke_token(org.id, token_id)  # e.g. by another replica
    assert await auth.authenticate(secret) == principal  # still cached...
    clock.now = 2.5
    assert await auth.authenticate(secret) is None  # ...but only for the TTL
    assert store.lookups == 2


async def test_forget_drops_a_revoked_token_at_once_and_unknown_tokens_are_cached() -> None:
    store, clock = CountingStore(), Clock()
    org = await store.create_organization("acme")
    token_id, secret = await store.create_token(org.id, Role.OWNER, "admin")
    auth = CachingAuthenticator(store, clock=clock)
    assert await auth.authenticate(secret) is not None
    await store.revoke_token(org.id, token_id)
    auth.forget(token_id)
    assert await auth.authenticate(secret) is None
    lookups = store.lookups
    assert await auth.authenticate("sct_bogus") is None
    assert await auth.authenticate("sct_bogus") is None
    assert store.lookups == lookups + 1


async def test_the_cache_is_bounded() -> None:
    store = CountingStore()
    auth = CachingAuthenticator(store, max_entries=3)
    for n in range(10):
        await auth.authenticate(f"sct_{n}")
    await auth.authenticate("sct_0")  # evicted long ago: asked again
    assert store.lookups == 11


async def test_bootstrap_creates_the_first_organization_and_an_owner_token_once() -> None:
    store = MemoryIdentityStore()
    org_id, token = await ensure_bootstrap_admin(store)
    assert token is not None
    principal = await store.authenticate(token)
    assert principal is not None and (principal.org_id, principal.role) == (org_id, Role.OWNER)
    organization = await store.get_organization(org_id)
    assert organization is not None and organization.name == "default"

    again_id, again = await ensure_bootstrap_admin(store)
    assert (again_id, again) == (org_id, None)
    minted_id, minted = await ensure_bootstrap_admin(store, mint=True)
    assert minted_id == org_id and minted is not None and minted != token
    first = await store.first_organization()
    assert first is not None and first.id == org_id  # no second organization
