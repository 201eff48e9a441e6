"""Generated protobuf and gRPC code (make proto); never edited by hand"""

from __future__ import annotations
