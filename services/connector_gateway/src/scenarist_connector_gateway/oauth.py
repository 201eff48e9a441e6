"""OAuth2 authorization-code connections: starting and completing the flow, keeping tokens fresh.

The state is 256 random bits that only the caller sees; the gateway keeps its SHA-256 with the
organization, connection, redirect URI, expiry and the sealed PKCE verifier, and deletes the row
when the state is used, so a state works once, for its own organization only. Tokens live in the
connection's sealed secrets (``access_token``, ``refresh_token``); the access token's expiry is
the connection's ``expires_at``. Every token endpoint call goes through the runtime's
SSRF-guarded client.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import grpc
import orjson
from scenarist_connector_sdk import Connection, Registry, SafeHttpClient, errors
from scenarist_connector_sdk.oauth import (
    TokenSet,
    authorization_url,
    check_url,
    code_challenge,
    exchange_code,
    new_code_verifier,
    new_state,
    refresh_tokens,
)
from scenarist_storage.gateway_models import ConnectionRecord
from scenarist_storage.ports import ConnectionStore

from scenarist_connector_gateway.oauth_store import OAuthStore, PendingAuthorization, TokenSlot
from scenarist_connector_gateway.secrets import Keyring, SecretUnavailableError, connection_aad

Secrets = dict[str, str]
STATE_TTL = timedelta(minutes=10)
# Refresh this long before the access token expires, so a call never starts with a dying token.
EXPIRY_MARGIN = timedelta(seconds=60)


class FlowRefusedError(Exception):
    """A flow call the gateway refuses, with the gRPC status to answer."""

    def __init__(self, code: grpc.StatusCode, message: str, field: str = "state") -> None:
        self.code, self.message, self.field = code, message, field
        super().__init__(message)


@dataclass(frozen=True)
class StartedAuthorization:
    url: str
    state: str
    expires_at: datetime


def state_hash(state: str) -> bytes:
    return hashlib.sha256(state.encode()).digest()


def verifier_aad(org_id: uuid.UUID, connection_id: uuid.UUID, hashed: bytes) -> bytes:
    # Binds the sealed verifier to its row: copied onto another flow, it does not open.
    return f"scenarist/oauth-state/{org_id}/{connection_id}/{hashed.hex()}".encode()


def uses_authorization_code(kind: str, parameters: Mapping[str, str]) -> bool:
    return kind == "oauth2" and parameters.get("grant_type") == "authorization_code"


class OAuthFlows:
    def __init__(
        self,
        store: OAuthStore,
        connections: ConnectionStore,
        keyring: Keyring,
        http: SafeHttpClient,
        registry: Registry,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        state_ttl: timedelta = STATE_TTL,
    ) -> None:
        self._store, self._connections, self._keyring = store, connections, keyring
        self._http, self._registry = http, registry
        self._clock, self._ttl = clock, state_ttl

    async def start(
        self, org_id: uuid.UUID, connection_id: uuid.UUID, redirect_uri: str
    ) -> StartedAuthorization:
        record = await self._connections.get_connection(org_id, connection_id)
        if record is None:
            raise FlowRefusedError(grpc.StatusCode.NOT_FOUND, f"connection {connection_id}")
        if not uses_authorization_code(record.type, record.parameters):
            raise FlowRefusedError(
                grpc.StatusCode.FAILED_PRECONDITION,
                "only oauth2 connections with grant_type authorization_code are authorized",
            )
        try:
            check_url(redirect_uri, "redirect_uri")
        except errors.ConnectorError as exc:
            raise FlowRefusedError(
                grpc.StatusCode.INVALID_ARGUMENT, exc.message, "redirect_uri"
            ) from None
        try:
            connection = self.connection(record, self._open(record))
        except errors.ConnectorError as exc:
            raise FlowRefusedError(grpc.StatusCode.FAILED_PRECONDITION, exc.message) from None
        state, verifier = new_state(), new_code_verifier()
        hashed = state_hash(state)
        expires_at = self._clock() + self._ttl
        sealed = self._keyring.seal(verifier.encode(), verifier_aad(org_id, record.id, hashed))
        try:
            url = authorization_url(
                connection.require("authorize_url"),
                client_id=connection.require("client_id"),
                redirect_uri=redirect_uri,
                state=state,
                challenge=code_challenge(verifier),
                scope=connection.value("scope"),
            )
        except errors.ConnectorError as exc:
            raise FlowRefusedError(grpc.StatusCode.FAILED_PRECONDITION, exc.message) from None
        pending = PendingAuthorization(hashed, org_id, record.id, redirect_uri, sealed, expires_at)
        await self._store.save_state(pending)
        return StartedAuthorization(url, state, expires_at)

    async def complete(self, org_id: uuid.UUID, state: str, code: str) -> ConnectionRecord:
        if not state or not code:
            raise FlowRefusedError(grpc.StatusCode.INVALID_ARGUMENT, "state and code are required")
        pending = await self._store.take_state(org_id, state_hash(state))
        # Unknown, used, another org's and expired states read alike: nothing to probe.
        if pending is None or pending.expires_at <= self._clock():
            raise FlowRefusedError(
                grpc.StatusCode.INVALID_ARGUMENT, "the state is unknown, used or expired"
            )
        aad = verifier_aad(org_id, pending.connection_id, pending.state_hash)
        verifier = self._keyring.open(pending.sealed_verifier, aad).decode()
        async with self._store.locked(org_id, pending.connection_id) as slot:
            if slot is None:
                raise FlowRefusedError(
                    grpc.StatusCode.NOT_FOUND, f"connection {pending.connection_id}"
                )
            secrets = self._open(slot.record)
            try:
                granted = await exchange_code(
                    self._http,
                    self.connection(slot.record, secrets),
                    code=code,
                    redirect_uri=pending.redirect_uri,
                    code_verifier=verifier,
                )
            except errors.ConnectorError as exc:
                raise FlowRefusedError(
                    grpc.StatusCode.FAILED_PRECONDITION,
                    f"{exc.error_type.value}: {exc.message}",
                ) from None
            record, _ = await self._save(slot, secrets, granted)
            return record

    async def fresh(self, org_id: uuid.UUID, connection_id: uuid.UUID, used: Secrets) -> Secrets:
        """The secrets to call with: refreshed first when the access token is about to expire."""
        return await self._refresh(org_id, connection_id, used, refused=False)

    async def after_refusal(
        self, org_id: uuid.UUID, connection_id: uuid.UUID, used: Secrets
    ) -> Secrets:
        """New secrets after the app refused ``used``'s access token (HTTP 401)."""
        return await self._refresh(org_id, connection_id, used, refused=True)

    def expiring(self, expires_at: datetime | None) -> bool:
        return expires_at is not None and expires_at - EXPIRY_MARGIN <= self._clock()

    async def _refresh(
        self, org_id: uuid.UUID, connection_id: uuid.UUID, used: Secrets, *, refused: bool
    ) -> Secrets:
        async with self._store.locked(org_id, connection_id) as slot:
            if slot is None:
                raise errors.ConfigurationError(f"connection {connection_id} not found")
            current = self._open(slot.record)
            # Whoever held the lock before us may have refreshed already: then use theirs.
            replaced = current.get("access_token") != used.get("access_token")
            if replaced or not (refused or self.expiring(slot.record.expires_at)):
                return current
            granted = await refresh_tokens(self._http, self.connection(slot.record, current))
            _, secrets = await self._save(slot, current, granted)
            return secrets

    async def _save(
        self, slot: TokenSlot, secrets: Secrets, granted: TokenSet
    ) -> tuple[ConnectionRecord, Secrets]:
        updated = {**secrets, "access_token": granted.access_token}
        if granted.refresh_token:
            updated["refresh_token"] = granted.refresh_token
        record = slot.record
        sealed = self._keyring.seal(
            orjson.dumps(updated, option=orjson.OPT_SORT_KEYS),
            connection_aad(record.org_id, record.id),
        )
        expires_at = self._clock() + timedelta(seconds=granted.expires_in)
        return await slot.save(sealed, sorted(updated), expires_at), updated

    def _open(self, record: ConnectionRecord) -> Secrets:
        try:
            plain = self._keyring.open(record.sealed, connection_aad(record.org_id, record.id))
        except SecretUnavailableError:
            raise errors.AuthError(
                f"connection {record.id}: the stored credentials cannot be decrypted"
            ) from None
        return {str(k): str(v) for k, v in orjson.loads(plain).items()}

    def connection(self, record: ConnectionRecord, secrets: Secrets) -> Connection:
        """The connection with the app spec's oauth2 defaults (e.g. its token URL) filled in."""
        return Connection("oauth2", {**self._defaults(record.app), **record.parameters}, secrets)

    def _defaults(self, app: str) -> dict[str, str]:
        try:
            spec = self._registry.connector(app).spec
        except errors.ConnectorError:
            return {}
        kind = spec.connection_type("oauth2")
        fields = kind.fields if kind is not None else ()
        return {f.name: str(f.default) for f in fields if f.default is not None}
