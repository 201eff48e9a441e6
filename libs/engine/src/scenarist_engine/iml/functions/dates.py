"""IML dates functions."""

from __future__ import annotations
