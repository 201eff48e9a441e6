"""Postgres (asyncpg) pool, migrations and repositories, plus in-process stores"""

from __future__ import annotations
