"""Connectors (a spec plus handlers) and the registry the gateway lists and runs them from."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, TypeVar

from scenarist_connector_sdk.context import ActionContext
from scenarist_connector_sdk.errors import ConfigurationError, NotFoundError
from scenarist_connector_sdk.spec import AppSpec, FieldSpec, ModuleKind, ModuleSpec

__all__ = ["ENTRY_POINT_GROUP", "Bundle", "Connector", "Handler", "Module", "Registry"]

ENTRY_POINT_GROUP = "scenarist.connectors"

Bundle = dict[str, Any]
# Actions return their bundles; searches may instead yield them one by one.
Handler = Callable[[ActionContext, dict[str, Any]], Awaitable[list[Bundle]] | AsyncIterator[Bundle]]
H = TypeVar("H", bound=Handler)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Module:
    """One module: its spec and the function that runs it."""

    spec: ModuleSpec
    run: Handler


@dataclass
class Connector:
    """An app: its spec and its modules, registered with the decorators below."""

    spec: AppSpec
    modules: dict[str, Module] = field(default_factory=dict)

    def module(self, spec: ModuleSpec) -> Callable[[H], H]:
        def register(handler: H) -> H:
            if spec.name in self.modules:
                raise ValueError(f"{self.spec.name}:{spec.name} is defined twice")
            self.modules[spec.name] = Module(spec, handler)
            return handler

        return register

    def action(self, name: str, **spec: Any) -> Callable[[H], H]:
        return self.module(ModuleSpec(name, ModuleKind.ACTION, **_tuples(spec)))

    def search(self, name: str, **spec: Any) -> Callable[[H], H]:
        return self.module(ModuleSpec(name, ModuleKind.SEARCH, **_tuples(spec)))

    def trigger(self, name: str, **spec: Any) -> Callable[[H], H]:
        return self.module(ModuleSpec(name, ModuleKind.TRIGGER, **_tuples(spec)))

    def get(self, name: str) -> Module:
        try:
            return self.modules[name]
        except KeyError:
            raise NotFoundError(f"app {self.spec.name!r} has no module {name!r}") from None

    def describe_modules(self) -> list[dict[str, Any]]:
        return [self.modules[name].spec.to_dict(self.spec.name) for name in sorted(self.modules)]


def _tuples(spec: dict[str, Any]) -> dict[str, Any]:
    # Let connector authors write lists; specs are frozen and hold tuples.
    return {key: tuple(value) if isinstance(value, list) else value for key, value in spec.items()}


def _version_key(version: str) -> tuple[tuple[int, str], ...]:
    return tuple((int(p), "") if p.isdigit() else (-1, p) for p in version.split("."))


class Registry:
    """Installed connectors, by app name and version."""

    def __init__(self, connectors: list[Connector] | None = None) -> None:
        self._apps: dict[str, dict[str, Connector]] = {}
        # Every app call resolves its latest version: worked out once per registration.
        self._latest: dict[str, str] = {}
        self.failures: dict[str, str] = {}
        for connector in connectors or []:
            self.register(connector)

    @classmethod
    def from_entry_points(cls, group: str = ENTRY_POINT_GROUP) -> Registry:
        """Every connector installed under the entry-point group; broken ones are reported."""
        registry = cls()
        for point in entry_points(group=group):
            try:
                registry._register_loaded(point.load())
            except Exception as exc:  # a broken plugin must not take the catalogue down
                logger.warning("connector %s failed to load: %s", point.name, exc)
                registry.failures[point.name] = str(exc)
        return registry

    def _register_loaded(self, loaded: Any) -> None:
        if callable(loaded) and not isinstance(loaded, Connector):
            loaded = loaded()
        for connector in loaded if isinstance(loaded, list | tuple) else [loaded]:
            if not isinstance(connector, Connector):
                raise TypeError(f"expected a Connector, got {type(connector).__name__}")
            self.register(connector)

    def register(self, connector: Connector) -> None:
        versions = self._apps.setdefault(connector.spec.name, {})
        if connector.spec.version in versions:
            raise ValueError(f"{connector.spec.name} {connector.spec.version} is registered twice")
        versions[connector.spec.version] = connector
        self._latest[connector.spec.name] = max(versions, key=_version_key)

    def connector(self, app: str, version: str | None = None) -> Connector:
        """The app at ``version``, or its latest version."""
        versions = self._apps.get(app)
        if not versions:
            raise NotFoundError(f"unknown app {app!r}")
        if version is None:
            return versions[self._latest[app]]
        if version not in versions:
            raise NotFoundError(f"app {app!r} has no version {version!r}")
        return versions[version]

    def module(self, app_module: str, version: str | None = None) -> tuple[Connector, Module]:
        """Resolve ``"app:Module"`` as written in scenario documents."""
        app, sep, name = app_module.partition(":")
        if not sep or not app or not name:
            raise ConfigurationError(f"module reference {app_module!r} is not 'app:Module'")
        connector = self.connector(app, version)
        return connector, connector.get(name)

    def list_apps(self) -> list[dict[str, Any]]:
        apps = []
        for name in sorted(self._apps):
            described = self.connector(name).spec.to_dict()
            described["versions"] = sorted(self._apps[name], key=_version_key)
            apps.append(described)
        return apps

    def list_modules(self, app: str, version: str | None = None) -> list[dict[str, Any]]:
        return self.connector(app, version).describe_modules()


def connection_fields(connector: Connector, kind: str) -> tuple[FieldSpec, ...]:
    """The fields a connection of ``kind`` has for this app (for the gateway's forms)."""
    spec = connector.spec.connection_type(kind)
    if spec is None:
        raise ConfigurationError(f"app {connector.spec.name!r} takes no {kind!r} connection")
    return spec.fields
