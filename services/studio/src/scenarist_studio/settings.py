"""Studio settings: `SCENARIST_STUDIO__<FIELD>` environment variables on top of the common ones.

The studio is a client of the other services' public gRPC APIs. Each API's address may be set
(distributed mode: the services run in their own processes); an unset address means "the gRPC
server of this very process", which the studio reaches over loopback like any other client.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from scenarist_runtime.settings import ServiceSettings, load_settings

__all__ = ["ApiTargets", "StudioOptions", "StudioSettings", "load_studio_settings"]


class ApiTargets(BaseModel):
    """host:port of each gRPC API the studio calls; None = this process's own server."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    orchestrator: str | None = None  # ScenarioService, RunService, TokenService, Organization
    log: str | None = None  # LogService
    trigger: str | None = None  # WebhookService, ScheduleService
    connector_gateway: str | None = None  # ConnectorService, ConnectionService


class StudioOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Off only for plain-http development on 127.0.0.1, where browsers drop Secure cookies.
    cookie_secure: bool = True
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    # 32 bytes, URL-safe base64, sealing the per-user service tokens. Unset: a key file under
    # `key_dir` is created once (0600) and reused, so restarts keep tokens readable.
    secret_key: SecretStr | None = None
    key_dir: Path = Path(".scenarist")
    # Public base URL of the trigger's /hooks/* when the trigger service does not report one;
    # unset: the URL the browser used to reach the studio (right for standalone mode).
    hooks_base_url: str | None = None
    targets: ApiTargets = Field(default_factory=ApiTargets)
    grpc_timeout_seconds: float = Field(default=15.0, gt=0)


class StudioSettings(ServiceSettings):
    studio: StudioOptions = Field(default_factory=StudioOptions)


def load_studio_settings() -> StudioSettings:
    return load_settings(StudioSettings)
