from __future__ import annotations

from pathlib import Path

import pytest
from argon2 import PasswordHasher
from cryptography.exceptions import InvalidTag
from scenarist_studio.passwords import Passwords, generate_password
from scenarist_studio.sealing import Sealer, load_or_create_key

CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


async def test_hash_is_argon2id_salted_and_verifies() -> None:
    passwords = Passwords(CHEAP)
    first = await passwords.hash("a long enough password")
    second = await passwords.hash("a long enough password")
    assert first.startswith("$argon2id$") and first != second
    assert await passwords.verify(first, "a long enough password")
    assert not await passwords.verify(first, "a long enough passworD")


async def test_unknown_user_and_garbage_hashes_never_verify() -> None:
    passwords = Passwords(CHEAP)
    assert not await passwords.verify(None, "anything at all")
    assert not await passwords.verify("not-a-hash", "anything at all")
    assert not await passwords.verify(await passwords.hash("x" * 12), "x" * 300)


def test_default_parameters_are_strong() -> None:
    hasher = PasswordHasher()
    assert hasher.memory_cost >= 64 * 1024 and hasher.time_cost >= 2
    assert Passwords.problem("short") and Passwords.problem(generate_password()) is None


def test_sealed_tokens_open_only_for_their_user() -> None:
    sealer = Sealer(b"s" * 32)
    sealed = sealer.seal("sct_secret", "user-1")
    assert b"sct_secret" not in sealed
    assert sealer.open(sealed, "user-1") == "sct_secret"
    with pytest.raises(InvalidTag):
        sealer.open(sealed, "user-2")
    with pytest.raises(InvalidTag):
        Sealer(b"t" * 32).open(sealed, "user-1")


def test_key_file_is_created_once_private(tmp_path: Path) -> None:
    directory = tmp_path
    key = load_or_create_key(directory)
    assert len(key) == 32 and load_or_create_key(directory) == key
    assert (directory / "studio.key").stat().st_mode & 0o777 == 0o600
