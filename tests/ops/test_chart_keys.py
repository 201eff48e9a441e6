"""The chart gives each service the keys and targets it needs in distributed mode.

Renders helm/scenarist with the helm that scripts/helm_test.sh installs (`make test` runs
`make helm-test` first); skipped when no helm is there (`scripts/helm_test.sh --install`).
Keys must come from Secrets (secretKeyRef), never as literals, and the gateway's internal
port (ExecuteModule, docs/adr/0005-connector-execution.md) must admit executors and the
trigger only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel
from scenarist_connector_gateway.settings import GatewaySettings
from scenarist_connector_sdk.net import NetPolicy
from scenarist_executor.service import ExecutorSettings
from scenarist_log.service import LogSettings
from scenarist_orchestrator.service import OrchestratorSettings
from scenarist_studio.settings import StudioSettings
from scenarist_trigger.settings import TriggerSettings

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "helm" / "scenarist"
RELEASE = "scenarist"
STUDIO_ON = ("--set", "services.studio.enabled=true")

SETTINGS: dict[str, type[BaseModel]] = {
    "orchestrator": OrchestratorSettings,
    "executor": ExecutorSettings,
    "trigger": TriggerSettings,
    "log": LogSettings,
    "connector_gateway": GatewaySettings,
    "studio": StudioSettings,
}
# Read outside the settings classes: the topics hook job's CLI (scenarist_bus.topics).
NOT_SETTINGS = {"SCENARIST_KAFKA_REPLICATION"}

# env name -> (values.yaml `secrets` block, its entry naming the Secret key, optional in Secret)
KEYS: dict[str, dict[str, tuple[str, str, bool]]] = {
    "executor": {"SCENARIST_INTERNAL_SECRET": ("internal", "key", False)},
    "trigger": {
        "SCENARIST_INTERNAL_SECRET": ("internal", "key", False),
        "SCENARIST_WEBHOOK_SECRET_KEY": ("webhookKey", "key", False),
    },
    "connector_gateway": {
        "SCENARIST_INTERNAL_SECRET": ("internal", "key", False),
        "SCENARIST_SECRETS_KEY": ("connectionKeys", "key", False),
        "SCENARIST_SECRETS_KEY_ID": ("connectionKeys", "keyIdKey", True),
        "SCENARIST_SECRETS_PREVIOUS_KEYS": ("connectionKeys", "previousKeysKey", True),
    },
    "studio": {"SCENARIST_STUDIO__SECRET_KEY": ("studioKey", "key", False)},
    "orchestrator": {},
    "log": {},
}
ALL_KEY_NAMES = {name for names in KEYS.values() for name in names}


def _helm() -> str | None:
    if found := os.environ.get("HELM"):
        return found
    cache_root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    cache_dir = Path(os.environ.get("SCENARIST_CACHE_DIR") or Path(cache_root) / "scenarist")
    installed = cache_dir / "bin" / "helm"
    return str(installed) if installed.is_file() else shutil.which("helm")


@cache
def render(*args: str) -> tuple[dict[str, Any], ...]:
    helm = _helm()
    if helm is None:
        pytest.skip("no helm: run scripts/helm_test.sh --install")
    command = [helm, "template", RELEASE, str(CHART), "--namespace", RELEASE, *args]
    out = subprocess.run(command, check=True, capture_output=True, text=True, timeout=60).stdout
    return tuple(doc for doc in yaml.safe_load_all(out) if doc)


def component(name: str) -> str:
    return name.replace("_", "-")


def find(docs: tuple[dict[str, Any], ...], kind: str, name: str) -> dict[str, Any]:
    full = f"{RELEASE}-{component(name)}"
    matches = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == full]
    assert len(matches) == 1, f"{kind} {full}: {len(matches)} found"
    return matches[0]


def config(docs: tuple[dict[str, Any], ...], name: str) -> dict[str, str]:
    data: dict[str, str] = find(docs, "ConfigMap", name)["data"]
    return data


def container(docs: tuple[dict[str, Any], ...], name: str) -> dict[str, Any]:
    deployment = find(docs, "Deployment", name)
    containers: list[dict[str, Any]] = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def env_of(docs: tuple[dict[str, Any], ...], name: str) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in container(docs, name)["env"]}


@pytest.fixture(scope="module")
def secrets_values() -> dict[str, Any]:
    values: dict[str, Any] = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
    block: dict[str, Any] = values["secrets"]
    return block


@pytest.mark.parametrize("service", list(KEYS))
def test_keys_come_from_existing_secrets(service: str, secrets_values: dict[str, Any]) -> None:
    env = env_of(render(*STUDIO_ON), service)
    assert {n for n in env if n in ALL_KEY_NAMES} == set(KEYS[service])
    for name, (block, key_field, optional) in KEYS[service].items():
        entry = env[name]
        assert "value" not in entry, f"{service}: {name} is a literal"
        ref = entry["valueFrom"]["secretKeyRef"]
        assert ref["name"] == secrets_values[block]["existingSecret"]
        assert ref["key"] == secrets_values[block][key_field]
        assert ref.get("optional", False) is optional, f"{service}: {name}"


def test_no_key_is_written_into_the_manifests() -> None:
    for args in ((), STUDIO_ON, ("-f", str(CHART / "ci" / "ha-values.yaml"))):
        docs = render(*args)
        assert not [d for d in docs if d["kind"] == "Secret"]
        for doc in docs:
            if doc["kind"] == "ConfigMap":
                assert not ALL_KEY_NAMES & set(doc.get("data") or {}), doc["metadata"]["name"]
            if doc["kind"] == "Deployment":
                for entry in doc["spec"]["template"]["spec"]["containers"][0]["env"]:
                    if entry["name"] in ALL_KEY_NAMES:
                        assert set(entry) == {"name", "valueFrom"}, entry
                        assert set(entry["valueFrom"]) == {"secretKeyRef"}, entry


def test_a_key_in_plain_env_values_is_refused() -> None:
    helm = _helm()
    if helm is None:
        pytest.skip("no helm: run scripts/helm_test.sh --install")
    command = [helm, "template", RELEASE, str(CHART), "--set"]
    command.append("services.connector_gateway.env.SCENARIST_SECRETS_KEY=bm90LWEta2V5")
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0
    assert "SCENARIST_SECRETS_KEY is a key" in result.stderr


def test_the_gateway_serves_its_internal_port_on_its_service() -> None:
    docs = render()
    assert config(docs, "connector_gateway")["SCENARIST_GATEWAY_INTERNAL_PORT"] == "50055"
    ports = {p["name"]: p for p in container(docs, "connector_gateway")["ports"]}
    assert ports["internal"]["containerPort"] == 50055
    service_ports = {
        p["name"]: p for p in find(docs, "Service", "connector_gateway")["spec"]["ports"]
    }
    assert service_ports["internal"]["port"] == 50055
    assert service_ports["internal"]["targetPort"] == "internal"
    for other in ("orchestrator", "executor", "trigger", "log"):
        assert "internal" not in {p["name"] for p in find(docs, "Service", other)["spec"]["ports"]}


@pytest.mark.parametrize("caller", ["executor", "trigger"])
def test_callers_target_every_gateway_pod_through_the_headless_service(caller: str) -> None:
    # gRPC's dns resolver gets one address per ready gateway pod and the client calls them
    # round robin; a ClusterIP would pin each caller's one connection to one pod.
    docs = render("--set", "global.clusterDomain=example.internal")
    target = config(docs, caller)["SCENARIST_GATEWAY_TARGET"]
    headless = f"{RELEASE}-connector-gateway-internal"
    assert target == f"dns:///{headless}.{RELEASE}.svc.example.internal:50055"
    assert "SCENARIST_GATEWAY_TARGET" not in config(docs, "log")
    service = find(docs, "Service", "connector_gateway-internal")
    assert service["spec"]["clusterIP"] == "None"
    assert (
        service["spec"]["selector"]
        == find(docs, "Service", "connector_gateway")["spec"]["selector"]
    )
    assert [(p["name"], p["port"]) for p in service["spec"]["ports"]] == [("internal", 50055)]


def test_only_executors_and_the_trigger_reach_the_internal_port() -> None:
    policy = find(render(*STUDIO_ON), "NetworkPolicy", "connector_gateway")
    rules = policy["spec"]["ingress"]
    # A rule without ports admits every port, the internal one included.
    assert all(rule.get("ports") for rule in rules)
    internal = [r for r in rules if any(p["port"] in ("internal", 50055) for p in r["ports"])]
    assert len(internal) == 1
    assert [p["port"] for p in internal[0]["ports"]] == ["internal"]
    peers = internal[0]["from"]
    assert all(set(peer) == {"podSelector"} for peer in peers)  # this namespace only
    labels = [peer["podSelector"]["matchLabels"] for peer in peers]
    assert sorted(label["app.kubernetes.io/component"] for label in labels) == [
        "executor",
        "trigger",
    ]
    assert all(label["app.kubernetes.io/instance"] == RELEASE for label in labels)


def test_other_policies_never_open_the_internal_port() -> None:
    docs = render(*STUDIO_ON, "--set", "services.connector_gateway.public=true")
    for doc in (d for d in docs if d["kind"] == "NetworkPolicy"):
        for rule in doc["spec"]["ingress"]:
            ports = [p["port"] for p in rule["ports"]]
            if "internal" in ports:
                assert doc["metadata"]["name"] == f"{RELEASE}-connector-gateway"
                assert all(set(peer) == {"podSelector"} for peer in rule["from"])


@pytest.mark.parametrize("service", ["executor", "trigger", "log", "connector_gateway", "studio"])
def test_token_checks_go_to_the_orchestrator(service: str) -> None:
    data = config(render(*STUDIO_ON), service)
    assert data["SCENARIST_ORCHESTRATOR_TARGET"] == f"{RELEASE}-orchestrator:50051"


def test_studio_targets_each_service_api() -> None:
    data = config(render(*STUDIO_ON), "studio")
    for target in ("orchestrator", "log", "trigger", "connector_gateway"):
        key = f"SCENARIST_STUDIO__TARGETS__{target.upper()}"
        assert data[key] == f"{RELEASE}-{component(target)}:50051"


def test_public_url_follows_the_trigger_ingress_host() -> None:
    assert config(render(), "trigger")["SCENARIST_PUBLIC_URL"] == "https://hooks.example.com"
    moved = render("--set", "services.trigger.ingress.host=in.example.org")
    assert config(moved, "trigger")["SCENARIST_PUBLIC_URL"] == "https://in.example.org"
    chosen = render("--set", "services.trigger.publicUrl=https://hooks.example.net/base")
    assert config(chosen, "trigger")["SCENARIST_PUBLIC_URL"] == "https://hooks.example.net/base"
    no_ingress = render("--set", "services.trigger.ingress.enabled=false")
    assert "SCENARIST_PUBLIC_URL" not in config(no_ingress, "trigger")


def test_connector_allow_list_is_empty_unless_set() -> None:
    assert config(render(), "connector_gateway")["SCENARIST_CONNECTOR_ALLOW"] == ""
    allow = ["10.20.0.0/16", "erp.internal"]
    docs = render("--set-json", f"services.connector_gateway.connectorAllow={json.dumps(allow)}")
    rendered = config(docs, "connector_gateway")["SCENARIST_CONNECTOR_ALLOW"]
    policy = NetPolicy.parse(GatewaySettings(connector_allow=rendered).connector_allow)
    assert policy.allows_host("erp.internal")
    assert [str(net) for net in policy.allow_networks] == ["10.20.0.0/16"]


def _is_setting(model: type[BaseModel], env_name: str) -> bool:
    path = env_name.removeprefix("SCENARIST_").lower().split("__")
    for depth, part in enumerate(path):
        field = model.model_fields.get(part)
        if field is None:
            return False
        if depth < len(path) - 1:
            nested = field.annotation
            if not (isinstance(nested, type) and issubclass(nested, BaseModel)):
                return False
            model = nested
    return True


@pytest.mark.parametrize("service", list(SETTINGS))
def test_every_variable_is_a_setting_the_service_reads(service: str) -> None:
    docs = render(*STUDIO_ON)
    names = set(config(docs, service)) | set(env_of(docs, service))
    scenarist = {n for n in names if n.startswith("SCENARIST_")} - NOT_SETTINGS
    unknown = {n for n in scenarist if not _is_setting(SETTINGS[service], n)}
    assert not unknown, f"{service} does not read {sorted(unknown)}"
