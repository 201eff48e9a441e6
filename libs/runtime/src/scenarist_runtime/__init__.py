"""Service settings, lifecycle (run, drain, shutdown), health and metrics endpoints"""

from __future__ import annotations
