"""IML array functions."""

from __future__ import annotations
