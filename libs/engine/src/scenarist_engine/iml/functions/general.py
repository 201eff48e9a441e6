"""IML general functions."""

from __future__ import annotations
