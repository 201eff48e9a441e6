"""Identity records as the API shows them, and the role mapping between store and proto."""

from __future__ import annotations

from scenarist.identity.v1 import identity_pb2
from scenarist_runtime.rpc import timestamp
from scenarist_storage.models import Organization, Role, TokenInfo

ProtoRole = identity_pb2.Role

ROLES: dict[Role, ProtoRole.ValueType] = {
    Role.VIEWER: ProtoRole.ROLE_VIEWER,
    Role.EDITOR: ProtoRole.ROLE_EDITOR,
    Role.OWNER: ProtoRole.ROLE_OWNER,
}
STORE_ROLES = {value: role for role, value in ROLES.items()}


def token_prefix(info: TokenInfo) -> str:
    """The first characters of the token text (`sct_<id hex>_<random>`), derived from its id."""
    return f"sct_{info.id.hex[:8]}"


def organization_message(org: Organization) -> identity_pb2.Organization:
    message = identity_pb2.Organization(id=str(org.id), name=org.name)
    message.created_at.CopyFrom(timestamp(org.created_at))
    return message


def token_message(info: TokenInfo) -> identity_pb2.ApiToken:
    message = identity_pb2.ApiToken(
        id=str(info.id),
        organization_id=str(info.org_id),
        name=info.name,
        role=ROLES[info.role],
        prefix=token_prefix(info),
    )
    message.created_at.CopyFrom(timestamp(info.created_at))
    if info.revoked_at is not None:
        message.revoked_at.CopyFrom(timestamp(info.revoked_at))
    return message
