"""pin_mmap_threshold: glibc's threshold is fixed unless the environment sets it already."""

from __future__ import annotations

import sys

import pytest
from scenarist_runtime import malloc


def test_an_explicit_environment_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "65536")
    assert malloc.pin_mmap_threshold() is False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's knob")
def test_pinned_on_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    assert malloc.pin_mmap_threshold() is True


def test_other_platforms_are_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(malloc.sys, "platform", "darwin")
    assert malloc.pin_mmap_threshold() is False
