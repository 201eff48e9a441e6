"""The orchestrator's public gRPC API: scenarios, runs, organizations and API tokens."""

from __future__ import annotations
