"""Scenarist orchestrator service."""

from __future__ import annotations
