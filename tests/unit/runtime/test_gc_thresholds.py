"""SCENARIST_GC_THRESHOLDS: three positive integers, or the defaults (with a warning)."""

from __future__ import annotations

import pytest
from scenarist_runtime.gc_tuning import THRESHOLDS, _thresholds


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", THRESHOLDS),
        ("700,10,10", (700, 10, 10)),
        (" 5000, 5 ,5 ", (5000, 5, 5)),
        ("700,10", THRESHOLDS),
        ("a,b,c", THRESHOLDS),
        ("0,10,10", THRESHOLDS),
    ],
)
def test_thresholds_from_the_environment(raw: str, expected: tuple[int, int, int]) -> None:
    assert _thresholds(raw) == expected
