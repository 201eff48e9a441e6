"""The connector gateway: the app catalogue, connections (encrypted secrets) and data stores."""

from __future__ import annotations
