"""What an expression can see while it is evaluated, and the limits it runs under.

Everything non-deterministic (the clock, ids, randomness) comes from here, so the same run
state always evaluates to the same values.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class Limits:
    """Resource bounds. Exceeding one raises ExpressionLimitError; nothing hangs."""

    max_template_length: int = 100_000
    max_depth: int = 64
    max_text_length: int = 16_000_000
    max_array_length: int = 1_000_000
    max_steps: int = 2_000_000
    regex_timeout_seconds: float = 0.25


def _default_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


@dataclass
class EvalContext:
    """The bundles and variables an expression refers to, plus the run's clock and ids."""

    bundles: Mapping[int, Any] = field(default_factory=dict)
    variables: Mapping[str, Any] = field(default_factory=dict)
    now: datetime = field(default_factory=lambda: datetime(1970, 1, 1, tzinfo=UTC))
    execution_id: str = ""
    timezone: str = "UTC"
    seed: int = 0
    limits: Limits = field(default_factory=Limits)
    uuid_factory: Callable[[random.Random], str] = _default_uuid
    steps: int = field(default=0, init=False)
    _rng: random.Random | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def rng(self) -> random.Random:
        """Seeded on first use: most expressions draw nothing, and seeding a Mersenne Twister
        for every module of every run showed in the webhook path's profile."""
        if self._rng is None:
            self._rng = random.Random(self.seed)  # noqa: S311 - not for cryptography
        return self._rng

    def new_uuid(self) -> str:
        return self.uuid_factory(self.rng)
