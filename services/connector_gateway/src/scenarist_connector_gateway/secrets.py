"""Envelope encryption of connection secrets with AES-256-GCM and a rotatable key.

Each connection gets a fresh random 256-bit data key that encrypts its secret JSON; the data key
is stored only wrapped (AES-256-GCM again) under a key-encryption key (KEK) from the settings,
named by a key id. Rotating the KEK therefore re-encrypts 32-byte data keys (`rewrap`), never
the secrets. Both layers authenticate associated data naming the connection (and, for the
wrapped key, the KEK id), so a ciphertext copied onto another row or relabelled with another key
id fails to open instead of decrypting as someone else's credentials.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from scenarist_storage.gateway_models import SealedSecret
from scenarist_storage.ports import ConnectionStore

from scenarist_connector_gateway.settings import GatewaySettings

log = logging.getLogger(__name__)

KEY_BYTES = 32
NONCE_BYTES = 12


class SecretsKeyError(ValueError):
    """The configured keys are missing or malformed (a configuration error, at startup)."""


class SecretUnavailableError(Exception):
    """A sealed secret cannot be opened: unknown key id, wrong key, or tampered ciphertext."""


def connection_aad(org_id: uuid.UUID, connection_id: uuid.UUID) -> bytes:
    return f"scenarist/connection/{org_id}/{connection_id}".encode()


def _encrypt(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _decrypt(key: bytes, blob: bytes, aad: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
    except (InvalidTag, ValueError) as exc:
        raise SecretUnavailableError("the secret does not open with the configured key") from exc


def _wrap_aad(key_id: str, aad: bytes) -> bytes:
    return b"kek:" + key_id.encode() + b"|" + aad


def decode_key(text: str, name: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SecretsKeyError(f"{name} is not valid base64") from exc
    if len(key) != KEY_BYTES:
        raise SecretsKeyError(f"{name} must decode to {KEY_BYTES} bytes, got {len(key)}")
    return key


@dataclass(frozen=True)
class Keyring:
    """Key-encryption keys by id; `active_id` wraps new data keys."""

    active_id: str
    keys: Mapping[str, bytes]

    def __post_init__(self) -> None:
        if self.active_id not in self.keys:
            raise SecretsKeyError(f"the active key id {self.active_id!r} has no key")
        for key_id, key in self.keys.items():
            if len(key) != KEY_BYTES:
                raise SecretsKeyError(f"key {key_id!r} is not {KEY_BYTES} bytes")

    def __repr__(self) -> str:  # keys must never reach a log line
        return f"Keyring(active_id={self.active_id!r}, ids={sorted(self.keys)!r})"

    @classmethod
    def generate(cls, key_id: str = "k1") -> Keyring:
        return cls(key_id, {key_id: AESGCM.generate_key(bit_length=256)})

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> Keyring:
        if settings.secrets_key is None:
            raise SecretsKeyError(
                "SCENARIST_SECRETS_KEY is not set: the connector gateway needs a key-encryption "
                "key (base64 of 32 random bytes, e.g. `openssl rand -base64 32`)"
            )
        keys = {
            key_id: decode_key(
                value.get_secret_value(), f"SCENARIST_SECRETS_PREVIOUS_KEYS[{key_id}]"
            )
            for key_id, value in settings.secrets_previous_keys.items()
        }
        keys[settings.secrets_key_id] = decode_key(
            settings.secrets_key.get_secret_value(), "SCENARIST_SECRETS_KEY"
        )
        return cls(settings.secrets_key_id, keys)

    def _kek(self, key_id: str) -> bytes:
        found = self.keys.get(key_id)
        if found is None:
            raise SecretUnavailableError(f"no key-encryption key with id {key_id!r} is configured")
        return found

    def seal(self, plaintext: bytes, aad: bytes) -> SealedSecret:
        data_key = AESGCM.generate_key(bit_length=256)
        wrapped = _encrypt(self._kek(self.active_id), data_key, _wrap_aad(self.active_id, aad))
        return SealedSecret(self.active_id, wrapped, _encrypt(data_key, plaintext, aad))

    def _data_key(self, sealed: SealedSecret, aad: bytes) -> bytes:
        return _decrypt(self._kek(sealed.key_id), sealed.wrapped_key, _wrap_aad(sealed.key_id, aad))

    def open(self, sealed: SealedSecret, aad: bytes) -> bytes:
        return _decrypt(self._data_key(sealed, aad), sealed.ciphertext, aad)

    def rewrap(self, sealed: SealedSecret, aad: bytes) -> SealedSecret:
        """The same secret with its data key wrapped under the active key."""
        data_key = self._data_key(sealed, aad)
        wrapped = _encrypt(self._kek(self.active_id), data_key, _wrap_aad(self.active_id, aad))
        return SealedSecret(self.active_id, wrapped, sealed.ciphertext)


async def rewrap(store: ConnectionStore, keyring: Keyring, *, batch_size: int = 200) -> int:
    """Move every connection's data key under the active key; returns how many moved.

    Rows whose key is not in the keyring are skipped (and logged by id only); the loop ends when
    a batch makes no progress, so such rows cannot spin it forever."""
    moved = 0
    skipped: set[uuid.UUID] = set()
    while True:
        stale = await store.connections_to_rewrap(keyring.active_id, batch_size + len(skipped))
        todo = [c for c in stale if c.id not in skipped]
        if not todo:
            return moved
        for connection in todo:
            aad = connection_aad(connection.org_id, connection.id)
            try:
                sealed = keyring.rewrap(connection.sealed, aad)
            except SecretUnavailableError:
                log.error(
                    "cannot rewrap a connection: its key is not configured",
                    extra={"connection": str(connection.id), "key_id": connection.sealed.key_id},
                )
                skipped.add(connection.id)
                continue
            if await store.replace_wrapped_key(
                connection.id, connection.sealed.key_id, sealed.key_id, sealed.wrapped_key
            ):
                moved += 1
