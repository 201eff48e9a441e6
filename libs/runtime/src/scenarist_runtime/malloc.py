"""Big buffers go back to the operating system when they are freed (glibc).

glibc serves an allocation of at least M_MMAP_THRESHOLD (128 KiB) with its own mmap, returned
to the kernel on free; but each time such a block is freed it raises the threshold to that
block's size (up to 32 MiB). After one 10 MB webhook body, every later buffer below 10 MB comes
from the main heap, and freed holes there stay resident: a claim fetched from Postgres (asyncpg's
read chunks, the body) and its decoded text left ~18 MiB that the decoded objects, which Python
keeps in arenas of its own, could not reuse (workload 5 in BENCHMARKS.md). Setting the threshold
explicitly turns that adjustment off; 128 KiB is glibc's own default, so only the ratchet goes.

An explicit MALLOC_MMAP_THRESHOLD_ in the environment wins (glibc read it at start). Other C
libraries (musl) have no such knob: nothing is changed there.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number (malloc.h)
MMAP_THRESHOLD_BYTES = 128 * 1024


def pin_mmap_threshold() -> bool:
    """Fix glibc's mmap threshold at its default; whether it was set."""
    if not sys.platform.startswith("linux") or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    done = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
    if not done:
        log.debug("mallopt(M_MMAP_THRESHOLD) refused")
    return done
