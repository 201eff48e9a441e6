"""The log service: keeps the execution history (steps and run summaries) and serves it."""

from __future__ import annotations
