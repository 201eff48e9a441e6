"""Make blueprint import: a Make scenario export becomes a native scenario document.

The native document was shaped after the blueprint, so this is a thin mapping: settings come
from `metadata.scenario` (through the settings aliases), every key we do not model stays in
`metadata` so nothing is silently lost, and `null` placeholders Make writes (a router's
`"mapper": null`) are dropped. Anything still unknown is left in place for validation to report
with its path, rather than guessed at here.
"""

from __future__ import annotations

from typing import Any

from scenarist_engine.model.scenario import ScenarioSettings

# Keys of metadata.scenario that ScenarioSettings models; the rest stay in metadata.scenario.
_SETTINGS_KEYS: frozenset[str] = frozenset(
    {
        key
        for name, info in ScenarioSettings.model_fields.items()
        for key in (name, info.alias)
        if key is not None
    }
)

# Module keys whose Make value may be null where we expect an object.
_NULLABLE_KEYS = frozenset(
    {"parameters", "mapper", "flags", "metadata", "filter", "retry", "onerror", "routes", "label"}
)


def looks_like_make_blueprint(data: Any) -> bool:
    """True for a Make export: no native `settings`, and Make's metadata or a `subflows` form."""
    if not isinstance(data, dict) or "settings" in data:
        return False
    if "subflows" in data and "flow" not in data:
        return True
    metadata = data.get("metadata")
    return isinstance(metadata, dict) and ("scenario" in metadata or "instant" in metadata)


def from_make_blueprint(data: dict[str, Any]) -> dict[str, Any]:
    """The native document for a Make blueprint export (the input is not modified)."""
    document: dict[str, Any] = {
        key: value
        for key, value in data.items()
        if key not in {"flow", "subflows", "metadata", "name"}
    }
    document["name"] = data.get("name") or "Imported Make scenario"
    document["flow"] = _flow(_top_flow(data))
    metadata = data.get("metadata")
    if isinstance(metadata, dict):
        settings, rest = _split_metadata(metadata)
        document["settings"] = settings
        if rest:
            document["metadata"] = rest
    elif metadata is not None:
        document["metadata"] = metadata
    return document


def _top_flow(data: dict[str, Any]) -> Any:
    # A copy-pasted "module export" wraps the flow as {"subflows": [{"flow": [...]}]}.
    if "flow" in data:
        return data["flow"]
    subflows = data.get("subflows")
    if isinstance(subflows, list) and subflows and isinstance(subflows[0], dict):
        return subflows[0].get("flow", [])
    return []


def _split_metadata(metadata: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    rest = {key: value for key, value in metadata.items() if key != "scenario"}
    scenario = metadata.get("scenario")
    if not isinstance(scenario, dict):
        if scenario is not None:
            rest["scenario"] = scenario
        return {}, rest
    settings = {key: value for key, value in scenario.items() if key in _SETTINGS_KEYS}
    unknown = {key: value for key, value in scenario.items() if key not in _SETTINGS_KEYS}
    if unknown:
        rest["scenario"] = unknown
    return settings, rest


def _flow(flow: Any) -> Any:
    if not isinstance(flow, list):
        return flow
    return [_module(module) for module in flow]


def _module(module: Any) -> Any:
    if not isinstance(module, dict):
        return module
    out = {
        key: value for key, value in module.items() if not (value is None and key in _NULLABLE_KEYS)
    }
    if "onerror" in out:
        out["onerror"] = _flow(out["onerror"])
    if isinstance(out.get("routes"), list):
        out["routes"] = [_route(route) for route in out["routes"]]
    label = _designer_name(out.get("metadata"))
    if label is not None and "label" not in out:
        out["label"] = label
    return out


def _route(route: Any) -> Any:
    if not isinstance(route, dict):
        return route
    out = {key: value for key, value in route.items() if value is not None}
    if "flow" in out:
        out["flow"] = _flow(out["flow"])
    return out


def _designer_name(metadata: Any) -> str | None:
    if not isinstance(metadata, dict):
        return None
    designer = metadata.get("designer")
    if isinstance(designer, dict) and isinstance(designer.get("name"), str):
        name: str = designer["name"]
        return name
    return None
