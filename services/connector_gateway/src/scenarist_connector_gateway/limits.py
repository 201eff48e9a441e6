"""Which rate-limit buckets govern an app call, and the limiter that keeps them.

Every call takes a token from its connection's bucket (the credentials are what an API meters)
and from its app's bucket when the app has a limit (a platform-wide OAuth client, a vendor's
global quota). An app declares its default in ``AppSpec.metadata`` (``rate_limit_per_second``,
``rate_limit_burst``); ``SCENARIST_APP_RATE_LIMITS`` overrides it per app.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from scenarist_connector_sdk import Registry
from scenarist_limiter import Bucket, Limit, MemoryRateLimiter, RateLimiter
from scenarist_limiter.redis_limiter import RedisRateLimiter
from scenarist_observability.metrics import METRICS

from scenarist_connector_gateway.settings import GatewaySettings

log = logging.getLogger(__name__)


def connection_key(connection_id: str) -> str:
    return f"conn:{connection_id}"


def app_key(app: str) -> str:
    return f"app:{app}"


def _spec_limit(metadata: Mapping[str, str]) -> Limit | None:
    rate = metadata.get("rate_limit_per_second")
    if not rate:
        return None
    try:
        per_second = float(rate)
        return Limit(per_second, float(metadata.get("rate_limit_burst") or max(1.0, per_second)))
    except ValueError as exc:
        log.warning("ignoring an app's malformed rate limit", extra={"problem": str(exc)})
        return None


@dataclass(frozen=True)
class RateLimits:
    connection: Limit | None = None
    apps: Mapping[str, Limit] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: GatewaySettings, registry: Registry) -> RateLimits:
        apps: dict[str, Limit] = {}
        for described in registry.list_apps():
            name = str(described["name"])
            found = _spec_limit(registry.connector(name).spec.metadata)
            if found is not None:
                apps[name] = found
        for name, setting in settings.app_rate_limits.items():
            apps[name] = Limit(setting.rate, setting.burst)
        own = settings.connection_rate_limit
        return cls(Limit(own.rate, own.burst) if own else None, apps)

    def buckets(self, app: str, connection_id: str | None) -> list[Bucket]:
        found: list[Bucket] = []
        if connection_id:
            # Always present, limited or not: an upstream Retry-After blocks this bucket.
            found.append(Bucket(connection_key(connection_id), self.connection))
        if app in self.apps:
            found.append(Bucket(app_key(app), self.apps[app]))
        return found


def observe_redis_pool(limiter: RateLimiter, service: str) -> Callable[[], None] | None:
    """Redis pool gauges read at scrape time; returns how to remove them (None: no Redis)."""
    if not isinstance(limiter, RedisRateLimiter):
        return None
    METRICS.redis_pool_in_use.labels(service).set_function(lambda: limiter.pool_usage()[0])
    METRICS.redis_pool_size.labels(service).set_function(lambda: limiter.pool_usage()[1])

    def forget() -> None:
        for gauge in (METRICS.redis_pool_in_use, METRICS.redis_pool_size):
            with contextlib.suppress(KeyError):
                gauge.remove(service)

    return forget


def build_limiter(settings: GatewaySettings) -> RateLimiter:
    """Redis shares buckets between gateway replicas; one process can keep them itself."""
    backend = settings.rate_limit_backend
    if backend == "auto":
        backend = "memory" if settings.mode == "standalone" else "redis"
    if backend == "memory":
        return MemoryRateLimiter()
    return RedisRateLimiter.from_url(settings.redis_url.get_secret_value())
