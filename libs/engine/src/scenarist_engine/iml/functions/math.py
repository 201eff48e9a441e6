"""IML math functions."""

from __future__ import annotations
