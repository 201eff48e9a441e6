"""Metric names queried by the dashboards and alert rules, and names the code can expose.

Shared by tests/ops/test_dashboards.py (against the metric definitions) and
tests/integration/ops/test_metrics_exposed.py (against a running host's /metrics).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import yaml
from prometheus_client import CollectorRegistry

REPO = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((REPO / "deploy" / "grafana").glob("*.json"))
ALERTS = REPO / "deploy" / "prometheus" / "alerts.yaml"

# PromQL words that look like metric names: aggregations, set operators and modifiers.
KEYWORDS = frozenset(
    {
        "sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk", "quantile",
        "count_values", "group", "by", "without", "on", "ignoring", "group_left", "group_right",
        "and", "or", "unless", "offset", "bool", "inf", "nan", "atan2",
    }
)  # fmt: skip
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENT = re.compile(r"(?<![\w.$])([a-zA-Z_:][\w:]*)(\s*\()?")

# Sample-name suffixes per metric type, as they appear in the exposition and in queries.
_SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_sum", "_count"),
    "summary": ("", "_sum", "_count"),
    "gauge": ("",),
    "info": ("_info",),
    "unknown": ("",),
}


def metric_names(expr: str) -> set[str]:
    """Metric names in one PromQL expression (functions, keywords and labels stripped)."""
    text = _STRING.sub(" ", expr)
    text = _MATCHERS.sub(" ", text)
    text = _RANGE.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    names = set()
    for match in _IDENT.finditer(text):
        word, call = match.group(1), match.group(2)
        if call or word.lower() in KEYWORDS:
            continue
        names.add(word)
    return names


def dashboard_exprs(path: Path) -> Iterator[str]:
    def walk(panels: list[dict[str, object]]) -> Iterator[str]:
        for panel in panels:
            for target in panel.get("targets", []):  # type: ignore[attr-defined]
                if target.get("expr"):
                    yield target["expr"]
            yield from walk(panel.get("panels", []))  # type: ignore[arg-type]

    yield from walk(json.loads(path.read_text(encoding="utf-8"))["panels"])


def alert_rules() -> list[dict[str, object]]:
    document = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"]]


def queried_names() -> dict[str, set[str]]:
    """Every metric name queried, mapped to where ("overview.json", "alerts.yaml")."""
    found: dict[str, set[str]] = {}
    sources = [(p.name, list(dashboard_exprs(p))) for p in DASHBOARDS]
    sources.append((ALERTS.name, [str(r["expr"]) for r in alert_rules()]))
    for source, exprs in sources:
        for expr in exprs:
            for name in metric_names(expr):
                found.setdefault(name, set()).add(source)
    return found


def sample_names(registry: CollectorRegistry) -> set[str]:
    """Every sample name the registry's metric families can expose, used or not yet."""
    names = set()
    for family in registry.collect():
        for suffix in _SUFFIXES.get(family.type, ("",)):
            names.add(family.name + suffix)
        names.update(sample.name for sample in family.samples)
    return names


def exposed_samples(exposition: str) -> set[str]:
    """Names of the samples in a Prometheus text exposition (families with a value)."""
    return {
        re.split(r"[{\s]", line, maxsplit=1)[0]
        for line in exposition.splitlines()
        if line and not line.startswith("#")
    }


def declared_families(exposition: str) -> dict[str, str]:
    """Family name -> type from the `# TYPE` lines (present even before the first sample)."""
    out = {}
    for line in exposition.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            out[name] = kind
    return out
