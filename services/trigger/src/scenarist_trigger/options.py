"""A webhook's options, typed, from the JSON the store keeps (and to/from the gRPC message)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from scenarist.trigger.v1 import webhook_pb2

from scenarist_trigger.guards import Network, parse_networks
from scenarist_trigger.structure import FieldSpec, StructureError, parse_structure

DEFAULT_API_KEY_HEADERS = ("x-make-apikey", "x-api-key")
MAX_ALLOW_LIST = 200
MAX_BODY_CAP = 64 * 1024 * 1024


class OptionsError(ValueError):
    """Invalid options, with one message per problem (field path: reason)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {r}" for f, r in problems))
        self.problems = problems


@dataclass(frozen=True)
class WebhookOptions:
    pass_headers: bool = False
    pass_method: bool = False
    json_passthrough: bool = False
    data_structure: list[Any] = field(default_factory=list)
    ip_allow_list: list[str] = field(default_factory=list)
    max_body_bytes: int = 0  # 0: the server default
    rate_per_minute: int = 0  # 0: the server default
    api_key_header: str = ""  # "": x-make-apikey or x-api-key

    @property
    def specs(self) -> tuple[FieldSpec, ...]:
        return parse_structure(self.data_structure)

    @property
    def networks(self) -> tuple[Network, ...]:
        return parse_networks(self.ip_allow_list)

    @property
    def api_key_headers(self) -> tuple[str, ...]:
        return (self.api_key_header.lower(),) if self.api_key_header else DEFAULT_API_KEY_HEADERS

    def to_json(self) -> dict[str, Any]:
        return {
            "pass_headers": self.pass_headers,
            "pass_method": self.pass_method,
            "json_passthrough": self.json_passthrough,
            "data_structure": self.data_structure,
            "ip_allow_list": self.ip_allow_list,
            "max_body_bytes": self.max_body_bytes,
            "rate_per_minute": self.rate_per_minute,
            "api_key_header": self.api_key_header,
        }

    def to_proto(self) -> webhook_pb2.WebhookOptions:
        return webhook_pb2.WebhookOptions(
            pass_headers=self.pass_headers,
            pass_method=self.pass_method,
            json_passthrough=self.json_passthrough,
            data_structure=json.dumps(self.data_structure) if self.data_structure else "",
            ip_allow_list=self.ip_allow_list,
            max_body_bytes=self.max_body_bytes,
            rate_per_minute=self.rate_per_minute,
            api_key_header=self.api_key_header,
        )


def from_json(raw: dict[str, Any]) -> WebhookOptions:
    """Stored options (validated when they were saved, so trusted here)."""
    return WebhookOptions(
        pass_headers=bool(raw.get("pass_headers", False)),
        pass_method=bool(raw.get("pass_method", False)),
        json_passthrough=bool(raw.get("json_passthrough", False)),
        data_structure=list(raw.get("data_structure") or []),
        ip_allow_list=[str(c) for c in raw.get("ip_allow_list") or []],
        max_body_bytes=int(raw.get("max_body_bytes") or 0),
        rate_per_minute=int(raw.get("rate_per_minute") or 0),
        api_key_header=str(raw.get("api_key_header") or ""),
    )


def from_proto(message: webhook_pb2.WebhookOptions, prefix: str = "options") -> WebhookOptions:
    """Validated options; OptionsError lists every problem."""
    problems: list[tuple[str, str]] = []
    structure: list[Any] = []
    if message.data_structure:
        try:
            structure = json.loads(message.data_structure)
            parse_structure(structure)
        except (ValueError, StructureError) as exc:
            problems.append((f"{prefix}.data_structure", str(exc)))
    allow = [c.strip() for c in message.ip_allow_list]
    if len(allow) > MAX_ALLOW_LIST:
        problems.append((f"{prefix}.ip_allow_list", f"at most {MAX_ALLOW_LIST} entries"))
    try:
        parse_networks(allow)
    except ValueError as exc:
        problems.append((f"{prefix}.ip_allow_list", str(exc)))
    if not 0 <= message.max_body_bytes <= MAX_BODY_CAP:
        problems.append((f"{prefix}.max_body_bytes", f"must be within 0..{MAX_BODY_CAP}"))
    if message.rate_per_minute < 0:
        problems.append((f"{prefix}.rate_per_minute", "must not be negative"))
    header = message.api_key_header.strip()
    if header and not all(c.isalnum() or c in "-_" for c in header):
        problems.append((f"{prefix}.api_key_header", "must be an HTTP header name"))
    if problems:
        raise OptionsError(problems)
    return WebhookOptions(
        pass_headers=message.pass_headers,
        pass_method=message.pass_method,
        json_passthrough=message.json_passthrough,
        data_structure=structure if isinstance(structure, list) else [],
        ip_allow_list=allow,
        max_body_bytes=int(message.max_body_bytes),
        rate_per_minute=int(message.rate_per_minute),
        api_key_header=header,
    )
