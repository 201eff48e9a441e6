"""Random (version 4) UUIDs drawn from a buffer of os.urandom bytes.

uuid.uuid4() makes one getrandom syscall per id; a run makes several ids (its run id, a reply
address, an event id per message), and the profile of the webhook path showed the syscalls at
~3 % of the process. The bytes come from the same source, 4 KiB at a time.
"""

from __future__ import annotations

import os
import threading
import uuid

_CHUNK = 16 * 256


class _RandomIds:
    def __init__(self) -> None:
        self._lock = threading.Lock()  # services may call from gRPC's threads too
        self._buffer = b""
        self._offset = 0

    def next(self) -> uuid.UUID:
        with self._lock:
            if self._offset >= len(self._buffer):
                self._buffer, self._offset = os.urandom(_CHUNK), 0
            raw = self._buffer[self._offset : self._offset + 16]
            self._offset += 16
        return uuid.UUID(bytes=raw, version=4)


_IDS = _RandomIds()


def new_uuid() -> uuid.UUID:
    """A random UUID (version 4, 122 random bits from os.urandom)."""
    return _IDS.next()


def new_id() -> str:
    """new_uuid() as its canonical string."""
    return str(_IDS.next())
