"""Built-in connectors."""

from __future__ import annotations
