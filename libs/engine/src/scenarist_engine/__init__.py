"""Scenarist's scenario engine: Make's semantics as a pure, deterministic library (no I/O)."""

from __future__ import annotations
