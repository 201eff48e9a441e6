"""The declarative half of a connector: app, connection types, modules and their typed fields.

Everything here is plain frozen data with a ``to_dict`` that matches the gateway's protobuf
``Field``/``Module``/``App`` shapes, so the catalogue can be listed without running any code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "AppSpec",
    "ConnectionTest",
    "ConnectionTypeSpec",
    "FieldSpec",
    "FieldType",
    "ModuleKind",
    "ModuleSpec",
    "Option",
]

JsonDict = dict[str, Any]


class FieldType(StrEnum):
    """Make's field types; the same strings as ``scenarist.connector.v1.Field.type``."""

    TEXT = "text"
    NUMBER = "number"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    DATE = "date"
    EMAIL = "email"
    URL = "url"
    SELECT = "select"
    ARRAY = "array"
    COLLECTION = "collection"
    # Make calls binary data a "buffer"; BINARY is the friendlier spelling of the same type.
    BINARY = "buffer"
    JSON = "json"
    ANY = "any"


class ModuleKind(StrEnum):
    """The role a module plays in a scenario (``scenarist.connector.v1.ModuleKind``)."""

    ACTION = "action"
    SEARCH = "search"
    TRIGGER = "trigger"
    INSTANT_TRIGGER = "instant_trigger"


@dataclass(frozen=True)
class Option:
    """One choice of a select field."""

    value: Any
    label: str = ""

    def to_dict(self) -> JsonDict:
        return {"value": self.value, "label": self.label or str(self.value)}


@dataclass(frozen=True)
class FieldSpec:
    """One typed input or output field; ``fields`` are a collection's keys or an array's items."""

    name: str
    type: FieldType = FieldType.TEXT
    label: str = ""
    required: bool = False
    options: tuple[Option, ...] = ()
    help: str = ""
    default: Any = None
    fields: tuple[FieldSpec, ...] = ()
    multiple: bool = False
    secret: bool = False

    def to_dict(self) -> JsonDict:
        return {
            "name": self.name,
            "label": self.label or self.name,
            "type": self.type.value,
            "required": self.required,
            "options": [option.to_dict() for option in self.options],
            "help": self.help,
            "default": self.default,
            "fields": [child.to_dict() for child in self.fields],
            "multiple": self.multiple,
            "secret": self.secret,
        }


@dataclass(frozen=True)
class ConnectionTypeSpec:
    """How an app authenticates: ``none``, ``api_key``, ``basic``, ``bearer`` or ``oauth2``.

    Fields marked ``secret`` are encrypted by the gateway and reach connector code only through
    ``ActionContext.secrets``; the others are non-secret parameters.
    """

    type: str
    label: str = ""
    fields: tuple[FieldSpec, ...] = ()

    def to_dict(self) -> JsonDict:
        return {
            "type": self.type,
            "label": self.label or self.type,
            "fields": [f.to_dict() for f in self.fields],
        }


@dataclass(frozen=True)
class ModuleSpec:
    """One operation of an app: ``app:name`` in scenario documents (``http:MakeRequest``)."""

    name: str
    kind: ModuleKind = ModuleKind.ACTION
    label: str = ""
    description: str = ""
    inputs: tuple[FieldSpec, ...] = ()
    outputs: tuple[FieldSpec, ...] = ()
    connection_required: bool = False
    # Searches stop after this many bundles unless the mapper's ``limit`` asks for fewer.
    max_results: int = 100

    def to_dict(self, app: str) -> JsonDict:
        return {
            "app": app,
            "name": self.name,
            "label": self.label or self.name,
            "description": self.description,
            "kind": self.kind.value,
            "inputs": [f.to_dict() for f in self.inputs],
            "outputs": [f.to_dict() for f in self.outputs],
            "connection_required": self.connection_required,
        }


@dataclass(frozen=True)
class ConnectionTest:
    """The app's cheapest authenticated call, run by the gateway's "test connection".

    ``path`` is appended to the connection's ``base_url`` parameter or, without one, to
    ``base_url``. Apps that answer HTTP 200 with an error flag (Slack's ``{"ok": false}``) name
    that flag in ``ok_field``; ``account_field`` names the response field (dotted path) that
    labels the account, e.g. ``login`` for GitHub or ``team`` for Slack.
    """

    path: str
    base_url: str
    method: str = "GET"
    ok_field: str = ""
    account_field: str = ""


@dataclass(frozen=True)
class AppSpec:
    """An app in the catalogue, at one version."""

    name: str
    version: str
    label: str = ""
    description: str = ""
    connection_types: tuple[ConnectionTypeSpec, ...] = ()
    metadata: Mapping[str, str] = field(default_factory=dict)
    connection_test: ConnectionTest | None = None

    def to_dict(self) -> JsonDict:
        return {
            "name": self.name,
            "label": self.label or self.name,
            "version": self.version,
            "description": self.description,
            "connection_types": [c.to_dict() for c in self.connection_types],
        }

    def connection_type(self, name: str) -> ConnectionTypeSpec | None:
        return next((c for c in self.connection_types if c.type == name), None)
