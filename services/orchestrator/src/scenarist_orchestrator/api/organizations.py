"""OrganizationService: "who am I" for a token; creating tenants is the bootstrap's job."""

# ruff: noqa: N802 - RPC method names are fixed by the generated servicer base class
from __future__ import annotations

import grpc
from scenarist.identity.v1 import organization_service_pb2, organization_service_pb2_grpc
from scenarist_runtime.auth import current_principal
from scenarist_runtime.rpc import Context, abort, not_found
from scenarist_storage.ports import IdentityStore

from scenarist_orchestrator.api.identity_view import ROLES, organization_message

pb = organization_service_pb2


class OrganizationServicer(organization_service_pb2_grpc.OrganizationServiceServicer):
    def __init__(self, identity: IdentityStore) -> None:
        self._identity = identity

    async def CreateOrganization(
        self, request: pb.CreateOrganizationRequest, context: Context
    ) -> pb.CreateOrganizationResponse:
        # No token role spans organizations (the store has owner/editor/viewer within one), so
        # no caller may create one; the bootstrap creates the first organization.
        await abort(
            context,
            grpc.StatusCode.PERMISSION_DENIED,
            "organizations are created by the platform bootstrap, not through API tokens",
        )

    async def GetOrganization(
        self, request: pb.GetOrganizationRequest, context: Context
    ) -> pb.GetOrganizationResponse:
        principal = current_principal()
        org = await self._identity.get_organization(principal.org_id)
        if org is None:
            await not_found(context, "organization")
        return pb.GetOrganizationResponse(
            organization=organization_message(org), role=ROLES[principal.role]
        )
