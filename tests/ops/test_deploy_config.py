"""The chart values and the compose file agree with what the code expects.

Rendering and schema validation are scripts/helm_test.sh's job (`make helm-test`); these checks
need no tools: values that mirror a constant in code, and environment names the settings read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from scenarist_bus import topics
from scenarist_connector_gateway.settings import GatewaySettings
from scenarist_executor.loop import GROUP as EXECUTOR_GROUP
from scenarist_runtime.gateway import GatewayClientSettings
from scenarist_runtime.settings import ServiceSettings
from scenarist_trigger.settings import DEFAULT_MAX_BODY_BYTES

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "helm" / "scenarist"
COMPOSE = REPO / "deploy" / "compose" / "docker-compose.yml"
SERVICES = ("orchestrator", "executor", "trigger", "log", "connector_gateway", "studio")


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def values() -> Any:
    return load(CHART / "values.yaml")


def test_partition_ceiling_matches_the_task_topic(values: Any) -> None:
    assert values["global"]["kafka"]["taskPartitions"] == topics.PARTITIONS[topics.TASKS_MODULE]


def test_keda_watches_the_executor_group_and_topic(values: Any) -> None:
    keda = values["services"]["executor"]["keda"]
    assert keda["consumerGroup"] == EXECUTOR_GROUP
    assert keda["topic"] == topics.TASKS_MODULE


def test_ingress_body_limit_matches_the_trigger(values: Any) -> None:
    assert values["services"]["trigger"]["maxBodyMB"] * 1024 * 1024 == DEFAULT_MAX_BODY_BYTES
    assert values["services"]["trigger"]["ingress"]["paths"] == ["/hooks"]


def test_every_service_has_a_values_block(values: Any) -> None:
    assert set(values["services"]) == set(SERVICES)


def test_ci_values_files_exist() -> None:
    names = {p.name for p in (CHART / "ci").glob("*-values.yaml")}
    assert {"default-values.yaml", "ha-values.yaml", "minimal-values.yaml"} <= names


def test_chart_ships_the_dashboards_and_rules() -> None:
    assert sorted(p.name for p in (CHART / "files" / "grafana").glob("*.json")) == sorted(
        p.name for p in (REPO / "deploy" / "grafana").glob("*.json")
    )
    assert (CHART / "files" / "prometheus" / "alerts.yaml").is_file()


def _known_env() -> set[str]:
    fields = {
        *ServiceSettings.model_fields,
        *GatewayClientSettings.model_fields,  # executor, trigger
        *GatewaySettings.model_fields,
    }
    base = {f"SCENARIST_{name.upper()}" for name in fields}
    extra = {
        "SCENARIST_PUBLIC_URL",
        "SCENARIST_WEBHOOK_SECRET_KEY",
        "SCENARIST_SECRETS_KEY",
        "SCENARIST_KAFKA_REPLICATION",
    }
    return base | extra


def test_compose_runs_the_jobs_and_two_executors() -> None:
    services = load(COMPOSE)["services"]
    assert services["migrate"]["entrypoint"][-2:] == ["scenarist_storage.migrate", "--all"]
    assert services["topics"]["entrypoint"][-2:] == ["scenarist_bus.topics", "create"]
    assert services["executor"]["deploy"]["replicas"] == 2
    for name in ("kafka", "postgres", "redis"):
        image = services[name]["image"]
        assert ":" in image and not image.endswith(":latest"), image


def test_compose_gateway_callers_reach_every_gateway_with_the_shared_secret() -> None:
    services = load(COMPOSE)["services"]
    gateway = services["connector_gateway"]
    assert gateway["deploy"]["replicas"] == 2
    secret = gateway["environment"]["SCENARIST_INTERNAL_SECRET"]
    port = gateway["environment"]["SCENARIST_GATEWAY_INTERNAL_PORT"]
    for caller in ("executor", "trigger"):
        env = services[caller]["environment"]
        assert env["SCENARIST_INTERNAL_SECRET"] == secret
        # dns:/// resolves every replica's address; the client calls them round robin.
        assert env["SCENARIST_GATEWAY_TARGET"] == f"dns:///connector_gateway:{port}"


def test_compose_env_names_are_settings_the_services_read() -> None:
    services = load(COMPOSE)["services"]
    known = _known_env()
    for name in ("orchestrator", "executor", "trigger", "log", "connector_gateway"):
        env = services[name]["environment"]
        assert env["SCENARIST_MODE"] == "distributed"
        unknown = {k for k in env if k.startswith("SCENARIST_") and k not in known}
        assert not unknown, f"{name}: {unknown}"
    assert "SCENARIST_SECRETS_KEY" in services["connector_gateway"]["environment"]
