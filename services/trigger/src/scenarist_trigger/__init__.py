"""Scenarist trigger service: public webhook ingress."""

from __future__ import annotations
