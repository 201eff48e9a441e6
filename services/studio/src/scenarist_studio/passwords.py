"""Password hashing with argon2id (argon2-cffi), off the event loop.

argon2id with the library's RFC 9106 "low memory" profile (64 MiB, 3 passes, 4 lanes) costs
tens of milliseconds of CPU per check, so hashing runs in a worker thread and never stalls the
loop that also serves gRPC and HTTP. Unit tests pass a cheap `PasswordHasher` instead.
"""

from __future__ import annotations

import asyncio
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ["Passwords", "generate_password"]

MIN_LENGTH = 10
MAX_LENGTH = 256  # argon2 takes any length; the cap keeps a request from buying CPU time


class Passwords:
    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        # Verifying against this when the email is unknown keeps sign-in time independent of
        # whether the account exists.
        self._dummy = self._hasher.hash(secrets.token_urlsafe(16))

    @staticmethod
    def problem(password: str) -> str | None:
        """Why `password` is refused as a new password, or None."""
        if len(password) < MIN_LENGTH:
            return f"use at least {MIN_LENGTH} characters"
        if len(password) > MAX_LENGTH:
            return f"use at most {MAX_LENGTH} characters"
        return None

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, stored: str | None, password: str) -> bool:
        if len(password) > MAX_LENGTH:
            return False
        return await asyncio.to_thread(self._verify, stored or self._dummy, password, stored)

    def _verify(self, stored: str, password: str, real: str | None) -> bool:
        try:
            self._hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return real is not None

    def needs_rehash(self, stored: str) -> bool:
        return self._hasher.check_needs_rehash(stored)


def generate_password() -> str:
    """A 20-character password for generated accounts (about 119 bits)."""
    return secrets.token_urlsafe(15)
