"""Scenarist studio: the visual builder's web app and the REST API behind it."""

from __future__ import annotations
