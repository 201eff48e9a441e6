"""The first organization and its owner token, so a fresh install can be used at once.

`make run` / `make up` call `ensure_bootstrap_admin` once the identity schema is migrated and
write the token to `.scenarist/local.env` for the CLI. Secrets cannot be shown again (only their
hashes are kept), so on an installation that already has organizations it returns no token unless
`mint` asks for a fresh owner token in the oldest organization.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

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


async def write_bootstrap_file(identity: IdentityStore, path: str) -> bool:
    """Mint an owner token into `path` (KEY=VALUE lines, mode 600) unless the file exists.

    The file is written to a temporary name and renamed, so a reader (deploy/services.sh) never
    sees half a token, and concurrent orchestrators starting together leave one complete file.
    Returns whether this call wrote it.
    """
    target = Path(path).expanduser()
    if target.exists():
        return False
    org_id, token = await ensure_bootstrap_admin(identity, mint=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    text = f"SCENARIST_ORGANIZATION_ID={org_id}\nSCENARIST_TOKEN={token}\n"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, target)
    return True
