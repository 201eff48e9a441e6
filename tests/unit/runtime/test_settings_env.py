from __future__ import annotations

import pytest
from pydantic import BaseModel, Field
from scenarist_runtime.settings import ServiceSettings, SettingsError, load_settings


class KafkaTuning(BaseModel):
    batch_size: int = 100
    linger_ms: int = 5


class ExecutorSettings(ServiceSettings):
    concurrency: int = 8
    kafka: KafkaTuning = KafkaTuning()
    allowed_hosts: list[str] = Field(default_factory=list)


def test_defaults() -> None:
    settings = load_settings(ServiceSettings, environ={})
    assert settings.drain_timeout_seconds == 30
    assert settings.mode == "distributed"
    assert settings.http_host == "127.0.0.1"


def test_env_vars_nested_and_json_values() -> None:
    settings = load_settings(
        ExecutorSettings,
        environ={
            "SCENARIST_SERVICE_NAME": "executor",
            "SCENARIST_HTTP_PORT": "9100",
            "SCENARIST_MODE": "standalone",
            "SCENARIST_DRAIN_TIMEOUT_SECONDS": "12.5",
            "SCENARIST_CONCURRENCY": "32",
            "SCENARIST_KAFKA__BATCH_SIZE": "500",
            "SCENARIST_ALLOWED_HOSTS": '["a.example", "b.example"]',
            "SCENARIST_POSTGRES_DSN": "postgresql://u:pw@db/scenarist",
            "SCENARIST_UNRELATED_KNOB": "ignored",
            "OTHER_HTTP_PORT": "1",
        },
    )
    assert settings.service_name == "executor"
    assert settings.http_port == 9100
    assert settings.mode == "standalone"
    assert settings.drain_timeout_seconds == 12.5
    assert settings.concurrency == 32
    assert settings.kafka == KafkaTuning(batch_size=500, linger_ms=5)
    assert settings.allowed_hosts == ["a.example", "b.example"]
    assert settings.postgres_dsn.get_secret_value() == "postgresql://u:pw@db/scenarist"
    assert "pw@" not in repr(settings)


def test_overrides_win_and_prefix_is_configurable() -> None:
    settings = load_settings(
        ExecutorSettings,
        "MYAPP_",
        environ={"MYAPP_SERVICE_NAME": "x", "MYAPP_KAFKA__LINGER_MS": "1"},
        overrides={"service_name": "executor", "kafka": {"batch_size": 7}},
    )
    assert settings.service_name == "executor"
    assert settings.kafka == KafkaTuning(batch_size=7, linger_ms=1)


def test_invalid_values_name_the_variable_without_echoing_it() -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(
            ExecutorSettings,
            environ={"SCENARIST_HTTP_PORT": "http", "SCENARIST_KAFKA__BATCH_SIZE": "secretvalue"},
        )
    message = str(err.value)
    assert "SCENARIST_HTTP_PORT" in message
    assert "SCENARIST_KAFKA__BATCH_SIZE" in message
    assert "secretvalue" not in message


def test_settings_are_frozen() -> None:
    settings = load_settings(ServiceSettings, environ={})
    with pytest.raises(ValueError):
        settings.http_port = 1  # type: ignore[misc]
