"""Service settings from environment variables, into plain pydantic models.

``SCENARIST_HTTP_PORT=9000`` sets ``http_port``; nested models use a double underscore:
``SCENARIST_KAFKA__BATCH_SIZE=500`` sets ``kafka.batch_size``. Values that look like JSON arrays
or objects are decoded, so list and dict fields can be set too. A service subclasses
:class:`ServiceSettings` with its own fields and calls ``load_settings(MySettings)``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

__all__ = ["ServiceSettings", "SettingsError", "load_settings"]

M = TypeVar("M", bound=BaseModel)

DEFAULT_PREFIX = "SCENARIST_"


class SettingsError(ValueError):
    """The environment does not describe a valid configuration; names the variables at fault."""


class ServiceSettings(BaseModel):
    """Fields every Scenarist service has."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    service_name: str = "scenarist"
    version: str = "0.1.0"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    mode: Literal["standalone", "distributed"] = "distributed"
    # Loopback by default so a laptop run exposes nothing; the Helm chart sets 0.0.0.0 so the
    # kubelet can reach the probes.
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)
    grpc_host: str = "127.0.0.1"
    grpc_port: int = Field(default=50051, ge=0, le=65535)
    kafka_bootstrap: str = "127.0.0.1:9092"
    # Secrets so that logging the settings object never prints the embedded passwords.
    postgres_dsn: SecretStr = SecretStr("postgresql://scenarist@127.0.0.1:5432/scenarist")
    redis_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")
    # Where services outside the orchestrator check API tokens in distributed mode.
    orchestrator_target: str = "127.0.0.1:50051"
    drain_timeout_seconds: float = Field(default=30.0, gt=0)
    readiness_timeout_seconds: float = Field(default=2.0, gt=0)


def _decode(raw: str) -> Any:
    stripped = raw.strip()
    if stripped[:1] in {"[", "{"}:
        try:
            return json.loads(stripped)
        except json.JSONDecodeError:
            return raw  # let pydantic report it against the field
    return raw


def _nest(environ: Mapping[str, str], prefix: str) -> dict[str, Any]:
    data: dict[str, Any] = {}
    upper_prefix = prefix.upper()
    for key, raw in environ.items():
        if not key.upper().startswith(upper_prefix):
            continue
        path = [part.lower() for part in key[len(prefix) :].split("__")]
        if not all(path):
            continue  # `SCENARIST_` alone or `A____B`: not ours to interpret
        node = data
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                break  # both `X=1` and `X__Y=2` set: the scalar wins, pydantic reports it
            node = child
        else:
            node[path[-1]] = _decode(raw)
    return data


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_settings(
    model_cls: type[M],
    prefix: str = DEFAULT_PREFIX,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> M:
    """Build `model_cls` from environment variables named ``<prefix><FIELD>[__<SUBFIELD>...]``.

    `overrides` (e.g. ``{"service_name": "executor"}`` in standalone mode) win over the
    environment. Raises :class:`SettingsError` naming the offending variables.
    """
    source = os.environ if environ is None else environ
    data = _nest(source, prefix)
    if overrides:
        data = _merge(data, overrides)
    try:
        return model_cls.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{prefix}{'__'.join(str(p).upper() for p in err['loc'])}: {err['msg']}"
            for err in exc.errors()
        ]
        raise SettingsError("invalid settings: " + "; ".join(problems)) from exc
