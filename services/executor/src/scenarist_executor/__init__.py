"""Scenarist executor service."""

from __future__ import annotations
