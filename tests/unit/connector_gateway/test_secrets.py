from __future__ import annotations

import base64
import dataclasses
import uuid

import pytest
from pydantic import SecretStr
from scenarist_connector_gateway.secrets import (
    Keyring,
    SecretsKeyError,
    SecretUnavailableError,
    connection_aad,
    rewrap,
)
from scenarist_connector_gateway.settings import GatewaySettings
from scenarist_storage.gateway_models import NewConnection
from scenarist_storage.memory.gateway import MemoryConnectionStore

AAD = connection_aad(uuid.UUID(int=1), uuid.UUID(int=2))
SECRET = b'{"api_key":"sk-live-123"}'


def _flip(blob: bytes, at: int) -> bytes:
    return blob[:at] + bytes([blob[at] ^ 1]) + blob[at + 1 :]


def test_round_trip_and_fresh_data_key_per_seal() -> None:
    keyring = Keyring.generate()
    sealed = keyring.seal(SECRET, AAD)
    assert keyring.open(sealed, AAD) == SECRET
    assert SECRET not in sealed.ciphertext and SECRET not in sealed.wrapped_key
    again = keyring.seal(SECRET, AAD)
    assert again.ciphertext != sealed.ciphertext and again.wrapped_key != sealed.wrapped_key


def test_wrong_key_fails() -> None:
    sealed = Keyring.generate().seal(SECRET, AAD)
    with pytest.raises(SecretUnavailableError):
        Keyring.generate().open(sealed, AAD)
    with pytest.raises(SecretUnavailableError):  # unknown key id
        Keyring.generate("other").open(sealed, AAD)


@pytest.mark.parametrize("part", ["ciphertext", "wrapped_key"])
@pytest.mark.parametrize("at", [0, 13, -1])
def test_tampering_fails(part: str, at: int) -> None:
    keyring = Keyring.generate()
    sealed = keyring.seal(SECRET, AAD)
    blob: bytes = getattr(sealed, part)
    flipped = _flip(blob, at % len(blob))
    if part == "ciphertext":
        tampered = dataclasses.replace(sealed, ciphertext=flipped)
    else:
        tampered = dataclasses.replace(sealed, wrapped_key=flipped)
    with pytest.raises(SecretUnavailableError):
        keyring.open(tampered, AAD)


def test_a_ciphertext_is_bound_to_its_connection_and_key_id() -> None:
    keyring = Keyring("a", {"a": bytes(32), "b": bytes(32)})
    sealed = keyring.seal(SECRET, AAD)
    with pytest.raises(SecretUnavailableError):
        keyring.open(sealed, connection_aad(uuid.UUID(int=1), uuid.UUID(int=3)))
    with pytest.raises(SecretUnavailableError):  # same key bytes, relabelled id
        keyring.open(dataclasses.replace(sealed, key_id="b"), AAD)


def test_rewrap_moves_the_data_key_not_the_secret() -> None:
    old = Keyring.generate("old")
    sealed = old.seal(SECRET, AAD)
    rotated = Keyring("new", {**old.keys, "new": Keyring.generate("new").keys["new"]})
    moved = rotated.rewrap(sealed, AAD)
    assert moved.key_id == "new" and moved.ciphertext == sealed.ciphertext
    assert Keyring("new", {"new": rotated.keys["new"]}).open(moved, AAD) == SECRET


async def test_rewrap_over_a_store_skips_unknown_keys() -> None:
    store = MemoryConnectionStore()
    old, lost = Keyring.generate("old"), Keyring.generate("lost")
    org = uuid.uuid4()
    ids = []
    for keyring in (old, old, lost):
        cid = uuid.uuid4()
        ids.append(cid)
        sealed = keyring.seal(SECRET, connection_aad(org, cid))
        new = NewConnection(org, cid, "slack", "api_key", "c", {}, ("api_key",), sealed)
        await store.create_connection(new)
    rotated = Keyring("new", {"old": old.keys["old"], "new": bytes(range(32))})
    assert await rewrap(store, rotated, batch_size=1) == 2
    assert await rewrap(store, rotated) == 0
    for cid in ids[:2]:
        found = await store.get_connection(org, cid)
        assert found is not None and found.sealed.key_id == "new"
        assert rotated.open(found.sealed, connection_aad(org, cid)) == SECRET


def test_keyring_from_settings() -> None:
    key = base64.b64encode(bytes(range(32))).decode()
    old = base64.b64encode(bytes(32)).decode()
    settings = GatewaySettings(
        secrets_key=SecretStr(key),
        secrets_key_id="k2",
        secrets_previous_keys={"k1": SecretStr(old)},
    )
    keyring = Keyring.from_settings(settings)
    assert keyring.active_id == "k2" and set(keyring.keys) == {"k1", "k2"}
    assert key not in repr(keyring)
    with pytest.raises(SecretsKeyError, match="SCENARIST_SECRETS_KEY is not set"):
        Keyring.from_settings(GatewaySettings())
    with pytest.raises(SecretsKeyError, match="32 bytes"):
        Keyring.from_settings(GatewaySettings(secrets_key=SecretStr("c2hvcnQ=")))
    with pytest.raises(SecretsKeyError, match="base64"):
        Keyring.from_settings(GatewaySettings(secrets_key=SecretStr("not base64!")))
