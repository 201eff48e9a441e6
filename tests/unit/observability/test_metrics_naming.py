from __future__ import annotations

import re

import pytest
from prometheus_client import Counter, Histogram
from scenarist_observability.metrics import (
    FORBIDDEN_LABELS,
    METRICS,
    REGISTRY,
    Metrics,
    label_value,
    module_kind_family,
    new_registry,
    render_latest,
    set_build_info,
)

# Collectors that come with prometheus_client and follow its own (standard) naming.
_STANDARD_PREFIXES = ("process_", "python_")
_NAME = re.compile(r"^scenarist_[a-z][a-z0-9_]*$")
_UNITLESS_HISTOGRAMS = {"scenarist_bus_batch_size"}


def _own_families() -> list:
    return [f for f in REGISTRY.collect() if not f.name.startswith(_STANDARD_PREFIXES)]


def test_every_family_in_the_registry_is_a_scenarist_metric() -> None:
    families = _own_families()
    assert len(families) == len(METRICS.all())
    for family in families:
        assert _NAME.match(family.name), family.name
        assert family.documentation.strip(), f"{family.name} has no help text"


def test_counters_end_in_total_and_histograms_in_base_units() -> None:
    for metric in METRICS.all():
        name = metric._name
        if isinstance(metric, Counter):
            # prometheus_client strips `_total` from the family and adds it to the sample.
            samples = {s.name for f in REGISTRY.collect() if f.name == name for s in f.samples}
            assert metric._type == "counter"
            assert not samples or samples == {f"{name}_total"}, samples
            assert not name.endswith("_total"), "family names are stored without _total"
        elif isinstance(metric, Histogram):
            assert name.endswith("_seconds") or name in _UNITLESS_HISTOGRAMS, name
        else:
            assert not name.endswith(("_total", "_seconds", "_milliseconds")), name


def test_exposed_counter_samples_end_in_total() -> None:
    METRICS.operations.inc()
    text = render_latest().decode()
    assert "scenarist_operations_total " in text
    counters = [
        line.split()[2]
        for line in text.splitlines()
        if line.startswith("# TYPE scenarist_") and line.endswith(" counter")
    ]
    assert len(counters) == sum(isinstance(m, Counter) for m in METRICS.all())
    assert all(name.endswith("_total") for name in counters), counters
    assert "_created" not in text, "created series are disabled"


def test_no_high_cardinality_labels() -> None:
    for metric in METRICS.all():
        labels = set(metric._labelnames)
        assert not labels & FORBIDDEN_LABELS, (metric._name, labels)
        assert not any(label.endswith("_id") for label in labels), (metric._name, labels)


def test_build_info_is_rendered() -> None:
    set_build_info("executor", "1.2.3")
    text = render_latest().decode()
    assert 'scenarist_build_info{service="executor",version="1.2.3"} 1.0' in text


def test_metrics_can_bind_to_an_isolated_registry() -> None:
    registry = new_registry(process_metrics=False)
    metrics = Metrics.create(registry)
    metrics.tasks_executed.labels(module_kind_family="http", outcome="ok").inc(3)
    text = render_latest(registry).decode()
    assert 'scenarist_tasks_executed_total{module_kind_family="http",outcome="ok"} 3.0' in text
    assert "process_cpu" not in text


def test_process_metrics_are_exposed_for_resource_dashboards() -> None:
    assert b"process_cpu_seconds_total" in render_latest()


@pytest.mark.parametrize(
    ("kind", "family"),
    [
        ("http:MakeRequest", "http"),
        ("google-sheets:AddRow", "google-sheets"),
        ("builtin:BasicRouter", "builtin"),
        ("Slack:PostMessage", "slack"),
        ("json", "json"),
        ("", "unknown"),
        (None, "unknown"),
        (":x", "unknown"),
        ("we ird/app:op", "we_ird_app"),
    ],
)
def test_module_kind_family(kind: str | None, family: str) -> None:
    assert module_kind_family(kind) == family


def test_label_value_is_bounded() -> None:
    assert len(label_value("a" * 500)) <= 48
    assert label_value("  ") == "unknown"
    assert label_value(None, default="none") == "none"
