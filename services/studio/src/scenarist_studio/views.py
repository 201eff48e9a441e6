"""Protobuf messages as the JSON the web app reads: snake_case keys, ISO times, short enums."""

from __future__ import annotations

from typing import Any

import orjson
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from scenarist.connector.v1 import app_pb2, connection_pb2, field_pb2
from scenarist.log.v1 import log_service_pb2
from scenarist.run.v1 import events_pb2, run_pb2
from scenarist.scenario.v1 import scenario_pb2
from scenarist.trigger.v1 import webhook_pb2

__all__ = [
    "app_view",
    "json_text",
    "module_view",
    "run_view",
    "scenario_view",
    "step_view",
    "summary_view",
    "time_text",
    "webhook_view",
]


def time_text(message: Message, name: str) -> str | None:
    if not message.HasField(name):
        return None
    stamp: Timestamp = getattr(message, name)
    return stamp.ToDatetime().isoformat() + "Z"


def _enum(enum: Any, value: int, prefix: str) -> str:
    return str(enum.Name(value)).removeprefix(prefix).lower()


def json_text(text: str) -> Any:
    """Bundles travel as JSON text; a payload that is not JSON is shown as the text it is."""
    if not text:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def scenario_view(s: scenario_pb2.Scenario, *, document: bool = False) -> dict[str, Any]:
    found: dict[str, Any] = {
        "id": s.id,
        "name": s.name,
        "version": s.version,
        "active": s.active,
        "created_at": time_text(s, "created_at"),
        "updated_at": time_text(s, "updated_at"),
    }
    if document:
        found["document"] = json_text(s.document) if s.document.lstrip().startswith("{") else None
        found["document_text"] = s.document
    return found


def _error(message: Message) -> dict[str, str] | None:
    if not message.HasField("error"):
        return None
    error = message.error  # type: ignore[attr-defined]
    return {"type": error.type, "message": error.message}


def run_view(r: run_pb2.Run) -> dict[str, Any]:
    return {
        "id": r.id,
        "scenario_id": r.scenario_id,
        "scenario_version": r.scenario_version,
        "status": _enum(run_pb2.RunStatus, r.status, "RUN_STATUS_"),
        "operations": r.operations,
        "created_at": time_text(r, "created_at"),
        "started_at": time_text(r, "started_at"),
        "finished_at": time_text(r, "finished_at"),
        "error": _error(r),
        "response": json_text(r.response),
        "trigger_source": _enum(run_pb2.TriggerSource, r.trigger_source, "TRIGGER_SOURCE_"),
    }


def summary_view(s: log_service_pb2.RunLogSummary) -> dict[str, Any]:
    return {
        "id": s.run_id,
        "scenario_id": s.scenario_id,
        "scenario_version": s.scenario_version,
        "status": _enum(run_pb2.RunStatus, s.status, "RUN_STATUS_"),
        "operations": s.operations,
        "started_at": time_text(s, "started_at"),
        "finished_at": time_text(s, "finished_at"),
        "error": _error(s),
    }


def step_view(s: events_pb2.StepLog) -> dict[str, Any]:
    return {
        "module_id": s.module_id,
        "module": s.module,
        "task_id": s.task_id,
        "attempt": s.attempt,
        "cycle": s.cycle,
        "input": json_text(s.input),
        "output": json_text(s.output),
        "error": _error(s),
        "started_at": time_text(s, "started_at"),
        "finished_at": time_text(s, "finished_at"),
    }


def field_view(f: field_pb2.Field) -> dict[str, Any]:
    return {
        "name": f.name,
        "label": f.label or f.name,
        "type": f.type or "any",
        "required": f.required,
        "options": [{"value": json_text(o.value), "label": o.label} for o in f.options],
        "help": f.help,
        "default": json_text(f.default),
        "fields": [field_view(c) for c in f.fields],
        "multiple": f.multiple,
    }


def app_view(a: app_pb2.App) -> dict[str, Any]:
    return {
        "name": a.name,
        "label": a.label or a.name,
        "version": a.version,
        "description": a.description,
        "needs_connection": bool(a.connection_types),
        "connection_types": [
            _enum(connection_pb2.ConnectionType, t, "CONNECTION_TYPE_") for t in a.connection_types
        ],
    }


def module_view(m: app_pb2.Module) -> dict[str, Any]:
    return {
        "app": m.app,
        "name": m.name,
        "id": f"{m.app}:{m.name}",
        "label": m.label or m.name,
        "description": m.description,
        "kind": _enum(app_pb2.ModuleKind, m.kind, "MODULE_KIND_"),
        "inputs": [field_view(f) for f in m.inputs],
        "outputs": [field_view(f) for f in m.outputs],
        "connection_required": m.connection_required,
    }


def webhook_view(w: webhook_pb2.Webhook) -> dict[str, Any]:
    return {
        "id": w.id,
        "scenario_id": w.scenario_id,
        "name": w.name,
        "url_path": w.url_path,
        "url": w.url,
        "auth": _enum(webhook_pb2.WebhookAuth, w.auth, "WEBHOOK_AUTH_"),
        "api_key_header": w.options.api_key_header or "x-api-key",
        "data_structure": json_text(w.options.data_structure) or [],
        "created_at": time_text(w, "created_at"),
        "rotated_at": time_text(w, "rotated_at"),
    }


def secret_view(s: webhook_pb2.WebhookSecret) -> dict[str, str] | None:
    kind = s.WhichOneof("secret")
    if kind == "api_key":
        return {"api_key": s.api_key}
    if kind == "basic":
        return {"username": s.basic.username, "password": s.basic.password}
    if kind == "signing_secret":
        return {"signing_secret": s.signing_secret}
    return None
