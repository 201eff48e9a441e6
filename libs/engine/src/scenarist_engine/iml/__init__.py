"""IML: the mapping language, parsed and interpreted by our own code."""

from __future__ import annotations
