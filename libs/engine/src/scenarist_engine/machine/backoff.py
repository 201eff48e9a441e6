"""Exponential backoff with deterministic jitter for module retries."""

from __future__ import annotations

import hashlib

from scenarist_engine.model import RetryPolicy


def retry_delay(policy: RetryPolicy, attempt: int, salt: str) -> float:
    """Seconds to wait before attempt `attempt + 1`.

    The jitter is drawn from a hash of `salt` (run, task, attempt), so replaying a run
    computes the same schedule while different tasks still spread out.
    """
    base = policy.initial_interval_seconds * policy.multiplier ** (attempt - 1)
    capped = min(base, policy.max_interval_seconds)
    digest = hashlib.sha256(f"{salt}/{attempt}".encode()).digest()
    unit = int.from_bytes(digest[:8], "big") / 2**64  # uniform in [0, 1)
    jittered = capped * (1 + policy.jitter * (2 * unit - 1))
    return max(0.0, jittered)
