"""Gateway settings (environment, `SCENARIST_` prefix).

SCENARIST_SECRETS_KEY            the active key-encryption key: base64 of 32 random bytes
SCENARIST_SECRETS_KEY_ID         its id, stored next to every wrapped data key (default "k1")
SCENARIST_SECRETS_PREVIOUS_KEYS  JSON {"<id>": "<base64 key>"} of retired keys still needed to
                                 unwrap data keys until the startup rewrap has moved them

Running app modules (docs/adr/0005-connector-execution.md):

SCENARIST_CONNECTOR_ALLOW        CIDRs and host names app modules may reach although they are
                                 loopback/private/link-local, comma-separated or a JSON list
                                 (default empty: the public internet only)
SCENARIST_CONNECTOR_TIMEOUT_SECONDS, SCENARIST_CONNECTOR_MAX_RESPONSE_BYTES,
SCENARIST_CONNECTOR_MAX_REDIRECTS    HTTP limits no module can raise
SCENARIST_INTERNAL_SECRET        shared with the executors; without it the internal port is off
SCENARIST_GATEWAY_INTERNAL_PORT  where executors call ExecuteModule (default 50055, 0 = any)
SCENARIST_RATE_LIMIT_BACKEND     auto (standalone: memory, distributed: redis) | memory | redis
SCENARIST_CONNECTION_RATE_LIMIT  {"rate": 10, "burst": 20}: per connection, tokens per second
SCENARIST_APP_RATE_LIMITS        {"slack": {"rate": 1, "burst": 5}}: per app, over app specs
SCENARIST_RATE_LIMIT_MAX_WAIT_SECONDS  how long a call may wait for a token before it answers
                                 RateLimitError(retry_after) instead
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from scenarist_runtime.settings import ServiceSettings

MIB = 1024 * 1024


class RateLimitSetting(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rate: float = Field(gt=0)
    burst: float = Field(ge=1)


class GatewaySettings(ServiceSettings):
    secrets_key: SecretStr | None = None
    secrets_key_id: str = Field(default="k1", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    secrets_previous_keys: dict[str, SecretStr] = Field(default_factory=dict)
    data_store_default_size_bytes: int = Field(default=MIB, gt=0)
    data_store_max_size_bytes: int = Field(default=64 * MIB, gt=0)
    data_store_max_records: int = Field(default=100_000, gt=0)

    connector_allow: str | list[str] = ""
    connector_timeout_seconds: float = Field(default=40.0, gt=0)
    connector_connect_timeout_seconds: float = Field(default=10.0, gt=0)
    connector_max_response_bytes: int = Field(default=10 * MIB, gt=0)
    connector_max_redirects: int = Field(default=10, ge=0)

    internal_secret: SecretStr | None = None
    gateway_internal_port: int = Field(default=50055, ge=0, le=65535)

    rate_limit_backend: Literal["auto", "memory", "redis"] = "auto"
    connection_rate_limit: RateLimitSetting | None = RateLimitSetting(rate=10, burst=20)
    app_rate_limits: dict[str, RateLimitSetting] = Field(default_factory=dict)
    rate_limit_max_wait_seconds: float = Field(default=2.0, ge=0)
