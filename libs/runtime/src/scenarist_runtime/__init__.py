"""Service settings, lifecycle (run, drain, shutdown), health and metrics endpoints"""

from __future__ import annotations

from scenarist_runtime.health import CheckResult, HealthChecks, ReadinessCheck, health_routes
from scenarist_runtime.http import HttpServer, build_app
from scenarist_runtime.lifecycle import Lifecycle, Phase, run_service, serve
from scenarist_runtime.settings import ServiceSettings, SettingsError, load_settings

__all__ = [
    "CheckResult",
    "HealthChecks",
    "HttpServer",
    "Lifecycle",
    "Phase",
    "ReadinessCheck",
    "ServiceSettings",
    "SettingsError",
    "build_app",
    "health_routes",
    "load_settings",
    "run_service",
    "serve",
]
