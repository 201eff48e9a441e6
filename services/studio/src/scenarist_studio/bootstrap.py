"""The first studio user, so `make run` can print a URL and a way in.

The standalone launcher, after `start_host([..., "studio"], ...)` and with the owner token of
`ensure_bootstrap_admin` (scenarist_orchestrator.bootstrap), calls::

    from scenarist_studio.bootstrap import ensure_first_user
    email, password = await ensure_first_user(hosted.host, owner_token)
    print(f"studio: {hosted.http_url}/ as {email}", f"password {password}" if password else "")

A password is only returned when this call created the user (only its hash is kept). When the
studio has no user yet but the installation already had organizations, the launcher must mint
an owner token (`ensure_bootstrap_admin(identity, mint=True)`) and pass it.
"""

from __future__ import annotations

import uuid

from scenarist.identity.v1 import organization_service_pb2
from scenarist_runtime.host import ServiceHost
from scenarist_storage.models import Role

from scenarist_studio.context import Studio
from scenarist_studio.passwords import generate_password

__all__ = ["DEFAULT_EMAIL", "ensure_first_user"]

DEFAULT_EMAIL = "admin@scenarist.local"


async def ensure_first_user(
    host: ServiceHost, owner_token: str | None, *, email: str = DEFAULT_EMAIL
) -> tuple[str, str | None]:
    """(email, password): a new owner in the owner token's organization when the studio has no
    user yet, with a generated password; else the first user's email and None."""
    studio = host.shared.get("studio")
    if not isinstance(studio, Studio):
        raise RuntimeError("the studio service is not started on this host")
    accounts = studio.accounts
    first = await accounts.store.first_user()
    if first is not None:
        return first.email, None
    if owner_token is None:
        raise RuntimeError("the studio has no user yet: pass an owner API token to create one")
    clients = studio.clients
    found = await clients.call(
        clients.organizations.GetOrganization,
        organization_service_pb2.GetOrganizationRequest(),
        owner_token,
    )
    token = await accounts.mint_service_token(owner_token, Role.OWNER, email)
    password = generate_password()
    org_id = uuid.UUID(found.organization.id)
    await accounts.create_user(email, password, Role.OWNER, org_id, token)
    return email, password
