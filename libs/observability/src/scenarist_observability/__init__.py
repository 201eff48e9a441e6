"""Prometheus metrics, JSON logs, OpenTelemetry setup and W3C propagation for Kafka and gRPC"""

from __future__ import annotations
