"""Generate the Grafana dashboards and copy them and the alert rules into the Helm chart.

Usage (from the repository root, with the workspace venv)::

    .venv/bin/python scripts/gen_dashboards.py          # write deploy/grafana/*.json + chart copies
    .venv/bin/python scripts/gen_dashboards.py --check  # exit 1 if any of them is stale

The dashboards are data below (title, then rows of panels with their PromQL), rendered into
Grafana's JSON model; writing them by hand would mean hundreds of lines of grid positions. The
chart cannot read files outside its directory, so `helm/scenarist/files/` holds byte-identical
copies of deploy/grafana/*.json and deploy/prometheus/alerts.yaml.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from dashboard_panels import DASHBOARDS, Panel

ROOT = Path(__file__).resolve().parent.parent
GRAFANA = ROOT / "deploy" / "grafana"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yaml"
CHART_FILES = ROOT / "helm" / "scenarist" / "files"

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


def panel_json(panel: Panel, panel_id: int, x: int, y: int) -> dict[str, Any]:
    return {
        "id": panel_id,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": {"h": 8, "w": 12, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
        "targets": [
            {"refId": chr(ord("A") + i), "datasource": DATASOURCE, "expr": e, "legendFormat": le}
            for i, (e, le) in enumerate(panel.exprs)
        ],
    }


def dashboard_json(title: str, uid: str, rows: list[tuple[str, list[Panel]]]) -> dict[str, Any]:
    panels: list[dict[str, Any]] = []
    y = 0
    for row_title, row_panels in rows:
        panels.append(
            {
                "id": len(panels) + 1,
                "type": "row",
                "title": row_title,
                "collapsed": False,
                "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
                "panels": [],
            }
        )
        y += 1
        for i, panel in enumerate(row_panels):
            panels.append(panel_json(panel, len(panels) + 1, 12 * (i % 2), y + 8 * (i // 2)))
        y += 8 * ((len(row_panels) + 1) // 2)
    return {
        "uid": uid,
        "title": title,
        "tags": ["scenarist"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "label": "Data source",
                    "type": "datasource",
                    "query": "prometheus",
                    "current": {},
                    "hide": 0,
                }
            ]
        },
        "annotations": {"list": []},
        "panels": panels,
    }


def rendered() -> dict[Path, str]:
    """Every generated file and its content."""
    out: dict[Path, str] = {}
    for title, uid, rows in DASHBOARDS:
        text = json.dumps(dashboard_json(title, uid, rows), indent=2) + "\n"
        name = uid.removeprefix("scenarist-") + ".json"
        out[GRAFANA / name] = text
        out[CHART_FILES / "grafana" / name] = text
    out[CHART_FILES / "prometheus" / "alerts.yaml"] = ALERTS.read_text(encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/gen_dashboards.py")
    parser.add_argument("--check", action="store_true", help="exit 1 if a file is stale")
    args = parser.parse_args(argv)
    stale = []
    for path, text in rendered().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(path.relative_to(ROOT))
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if args.check and stale:
        print("stale (run scripts/gen_dashboards.py):", *stale, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
