"""Dashboards and alert rules query only metrics the code defines; each alert has a runbook.

The names come from every PromQL expression in deploy/grafana/*.json and
deploy/prometheus/alerts.yaml; the reference is a registry holding exactly the platform's
metrics (scenarist_observability.metrics) plus the standard process_*/python_* collectors.
tests/integration/ops/test_metrics_exposed.py checks the same names against a running host.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from ops_queries import (
    ALERTS,
    DASHBOARDS,
    REPO,
    alert_rules,
    dashboard_exprs,
    metric_names,
    queried_names,
    sample_names,
)
from scenarist_observability.metrics import Metrics, new_registry

RUNBOOKS = REPO / "docs" / "runbooks"


@pytest.fixture(scope="module")
def defined() -> set[str]:
    registry = new_registry(process_metrics=True)
    Metrics.create(registry)
    return sample_names(registry)


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ('sum by (status) (rate(scenarist_runs_finished_total{status="error"}[5m]))',
         {"scenarist_runs_finished_total"}),
        ("histogram_quantile(0.95, sum by (le) (rate(x_seconds_bucket[$__rate_interval])))",
         {"x_seconds_bucket"}),
        ("a / clamp_min(sum(b), 1e-9) > 0.1 and on (pod) c offset 30m",
         {"a", "b", "c"}),
        ('max by (partition) (lag{topic="scenarist.tasks.module"})', {"lag"}),
        ("sum(increase(f_total[1d] offset 30m)) == 0 unless g", {"f_total", "g"}),
    ],
)  # fmt: skip
def test_metric_names_are_extracted_from_promql(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def test_there_are_dashboards_and_rules_to_check() -> None:
    names = {p.stem for p in DASHBOARDS}
    assert {"overview", "executors", "connectors", "kafka", "pools", "resources"} <= names
    assert len(alert_rules()) >= 6


def test_every_queried_metric_is_defined(defined: set[str]) -> None:
    unknown = {
        name: sorted(where) for name, where in queried_names().items() if name not in defined
    }
    assert not unknown, f"queried but not defined in metrics.py: {unknown}"


def test_queries_use_only_platform_and_process_metrics() -> None:
    prefixes = ("scenarist_", "process_", "python_")
    assert all(name.startswith(prefixes) for name in queried_names())


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_is_well_formed(path: object) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))  # type: ignore[attr-defined]
    ids = [panel["id"] for panel in document["panels"]]
    assert len(ids) == len(set(ids)), "duplicate panel ids"
    assert document["uid"].startswith("scenarist-")
    assert list(dashboard_exprs(path)), "a dashboard without queries"  # type: ignore[arg-type]
    for panel in document["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}"


def test_dashboard_uids_are_unique() -> None:
    uids = [json.loads(p.read_text(encoding="utf-8"))["uid"] for p in DASHBOARDS]
    assert len(uids) == len(set(uids))


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda r: str(r["alert"]))
def test_every_alert_has_a_runbook(rule: dict[str, object]) -> None:
    annotations = rule["annotations"]
    assert isinstance(annotations, dict)
    runbook = REPO / str(annotations["runbook_url"])
    assert runbook == RUNBOOKS / f"{rule['alert']}.md"
    text = runbook.read_text(encoding="utf-8")
    for heading in ("## Meaning", "## How to look", "## What to do"):
        assert heading in text, f"{runbook.name} lacks {heading!r}"
    assert rule["labels"]["severity"] in {"warning", "critical"}  # type: ignore[index]


def test_chart_copies_are_up_to_date() -> None:
    """helm/scenarist/files/ holds copies of the dashboards and rules; regenerate on change."""
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "gen_dashboards.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    chart_alerts = REPO / "helm" / "scenarist" / "files" / "prometheus" / "alerts.yaml"
    assert chart_alerts.read_bytes() == ALERTS.read_bytes()
