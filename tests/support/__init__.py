"""Plain helpers shared by the test suites' conftests (importable as `support.*`)."""

from __future__ import annotations
