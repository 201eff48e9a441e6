"""The first organization and its owner token, so a fresh install can be used at once.

`make run` / `make up` call `ensure_bootstrap_admin` once the identity schema is migrated and
write the token to `.scenarist/local.env` for the CLI. Secrets cannot be shown again (only their
hashes are kept), so on an installation that already has organizations it returns no token unless
`mint` asks for a fresh owner token in the oldest organization.
"""

from __future__ import annotations

import uuid

from scenarist_storage.models import Role
from scenarist_storage.ports import IdentityStore

DEFAULT_ORGANIZATION = "default"
BOOTSTRAP_TOKEN_NAME = "bootstrap-admin"  # noqa: S105 - a display name, not a secret


async def ensure_bootstrap_admin(
    identity: IdentityStore, *, mint: bool = False
) -> tuple[uuid.UUID, str | None]:
    """(org id, owner token): a new "default" organization with a new owner token when none
    exists; else the oldest organization and a token only when `mint` is set."""
    org = await identity.first_organization()
    if org is not None and not mint:
        return org.id, None
    if org is None:
        org = await identity.create_organization(DEFAULT_ORGANIZATION)
    _, secret = await identity.create_token(org.id, Role.OWNER, BOOTSTRAP_TOKEN_NAME)
    return org.id, secret
