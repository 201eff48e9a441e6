"""Trigger settings: the common service settings plus the webhook ingress and scheduler knobs.

Read from the environment like every other setting (``SCENARIST_PUBLIC_URL``,
``SCENARIST_WEBHOOK_RESPONSE_TIMEOUT_SECONDS``, ...); the values the host was started with win.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from scenarist_runtime.gateway import GatewayClientSettings
from scenarist_runtime.settings import ServiceSettings, load_settings

DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024  # Make's 5 MB payload limit


class TriggerSettings(GatewayClientSettings):
    # GatewayClientSettings: where polling triggers reach the connector gateway
    # (SCENARIST_GATEWAY_TARGET, SCENARIST_INTERNAL_SECRET, SCENARIST_GATEWAY_TRANSPORT).
    # Base of the URLs shown to users; the ingress itself never trusts it.
    public_url: str = "http://127.0.0.1:8080"
    # base64 of 32 bytes: the AES-256-GCM key sealing URL tokens and signing secrets. When unset,
    # standalone mode keeps a generated key in `webhook_key_file`; distributed mode refuses to
    # start (replicas must share one key).
    webhook_secret_key: SecretStr | None = None
    webhook_key_file: str = "~/.scenarist/webhook-secret.key"
    # How long a caller waits for a Webhook response module before getting 202 with the run id.
    webhook_response_timeout_seconds: float = Field(default=30.0, gt=0, le=300)
    webhook_default_rate_per_minute: int = Field(default=1800, gt=0)  # Make: 300 per 10 s
    webhook_max_body_bytes: int = Field(default=DEFAULT_MAX_BODY_BYTES, gt=0)
    # Peers (CIDRs) whose X-Forwarded-For is believed; empty trusts nobody's.
    webhook_trusted_proxies: list[str] = Field(default_factory=list)
    webhook_max_json_depth: int = Field(default=64, gt=0, le=512)
    # How often the scheduler looks for due schedules (each pass is one short transaction).
    schedule_tick_seconds: float = Field(default=1.0, gt=0, le=60)
    schedule_batch: int = Field(default=20, gt=0, le=1000)
    # A fired run whose bus acknowledgement never came is sent again after this long.
    schedule_pending_grace_seconds: float = Field(default=30.0, gt=0)
    # Make's default "maximum runs to start per minute" of a scenario.
    schedule_default_runs_per_minute: int = Field(default=100, gt=0)
    schedule_poll_timeout_seconds: float = Field(default=30.0, gt=0, le=600)


def trigger_settings(base: ServiceSettings) -> TriggerSettings:
    if isinstance(base, TriggerSettings):
        return base
    return load_settings(TriggerSettings, overrides=dict(base))
