"""Gateway settings (environment, `SCENARIST_` prefix).

SCENARIST_SECRETS_KEY            the active key-encryption key: base64 of 32 random bytes
SCENARIST_SECRETS_KEY_ID         its id, stored next to every wrapped data key (default "k1")
SCENARIST_SECRETS_PREVIOUS_KEYS  JSON {"<id>": "<base64 key>"} of retired keys still needed to
                                 unwrap data keys until the startup rewrap has moved them
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from scenarist_runtime.settings import ServiceSettings

MIB = 1024 * 1024


class GatewaySettings(ServiceSettings):
    secrets_key: SecretStr | None = None
    secrets_key_id: str = Field(default="k1", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    secrets_previous_keys: dict[str, SecretStr] = Field(default_factory=dict)
    data_store_default_size_bytes: int = Field(default=MIB, gt=0)
    data_store_max_size_bytes: int = Field(default=64 * MIB, gt=0)
    data_store_max_records: int = Field(default=100_000, gt=0)
