"""Generates the repetitive benchmark documents (40-step chains) for Scenarist and n8n.

`python -m bench.documents` rewrites bench/scenarios/w3-*.yaml and bench/peers/n8n-w3-*.json;
the generated files are committed so a reader sees exactly what was measured.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
STEPS = 40


def chain_inline(steps: int) -> dict[str, Any]:
    """Light modules the state machine runs itself (`util:SetVariable2`), each adding one."""
    flow: list[dict[str, Any]] = [{"id": 1, "module": "gateway:CustomWebHook"}]
    for n in range(steps):
        flow.append(
            {
                "id": n + 2,
                "module": "util:SetVariable2",
                "mapper": {"name": "step", "value": f"{{{{{n + 1}.step + 1}}}}"},
            }
        )
    flow.append(_respond(steps + 2, {"step": f"{{{{{steps + 1}.step}}}}"}))
    return {"name": f"bench w3 {steps} inline steps", "flow": flow}


def chain_tasks(steps: int) -> dict[str, Any]:
    """Light modules that each become a module task through the executors (`util:FunctionSleep`
    with a zero duration): the per-step dispatch overhead Windmill, Hatchet, Temporal and
    Kestra publish."""
    flow: list[dict[str, Any]] = [{"id": 1, "module": "gateway:CustomWebHook"}]
    for n in range(steps):
        flow.append({"id": n + 2, "module": "util:FunctionSleep", "mapper": {"duration": "0"}})
    flow.append(_respond(steps + 2, {"step": f"{{{{{steps}}}}}"}))
    return {"name": f"bench w3 {steps} task steps", "flow": flow}


def _respond(module_id: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": module_id,
        "module": "gateway:WebhookRespond",
        "mapper": {"status": "200", "body": body},
    }


def _n8n_node(name: str, index: int, node: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"0b6a4b5e-3{index:03d}-4d6f-9a51-5b2a0a000000",
        "name": name,
        "position": [index * 200, 0],
        **node,
    }


def n8n_chain(steps: int, path: str) -> list[dict[str, Any]]:
    """Webhook -> `steps` Edit Fields nodes (step = previous + 1) -> Respond to Webhook."""
    nodes = [
        _n8n_node(
            "Webhook",
            0,
            {
                "type": "n8n-nodes-base.webhook",
                "typeVersion": 2,
                "webhookId": f"0b6a4b5e-0000-4d6f-9a51-5b2a0a{steps:06d}",
                "parameters": {
                    "httpMethod": "POST",
                    "path": path,
                    "responseMode": "responseNode",
                    "options": {},
                },
            },
        )
    ]
    previous = "Webhook"
    connections: dict[str, Any] = {}
    for n in range(steps):
        name = f"Step {n + 1}"
        source = "$json.body.step" if n == 0 else "$json.step"
        nodes.append(
            _n8n_node(
                name,
                n + 1,
                {
                    "type": "n8n-nodes-base.set",
                    "typeVersion": 3.4,
                    "parameters": {
                        "mode": "manual",
                        "includeOtherFields": False,
                        "assignments": {
                            "assignments": [
                                {
                                    "id": "s1",
                                    "name": "step",
                                    "type": "number",
                                    "value": f"={{{{ Number({source}) + 1 }}}}",
                                }
                            ]
                        },
                        "options": {},
                    },
                },
            )
        )
        connections[previous] = {"main": [[{"node": name, "type": "main", "index": 0}]]}
        previous = name
    nodes.append(
        _n8n_node(
            "Respond",
            steps + 1,
            {
                "type": "n8n-nodes-base.respondToWebhook",
                "typeVersion": 1.1,
                "parameters": {"respondWith": "firstIncomingItem", "options": {}},
            },
        )
    )
    connections[previous] = {"main": [[{"node": "Respond", "type": "main", "index": 0}]]}
    return [
        {
            "id": f"PeerBenchSteps{steps:02d}",
            "name": f"{steps} sequential light nodes",
            "active": True,
            "nodes": nodes,
            "connections": connections,
            "settings": {"executionOrder": "v1"},
            "pinData": {},
        }
    ]


def write_all() -> list[Path]:
    written = []
    documents = {
        HERE / "scenarios" / "w3-steps40-inline.yaml": chain_inline(STEPS),
        HERE / "scenarios" / "w3-steps40-tasks.yaml": chain_tasks(STEPS),
        HERE / "scenarios" / "w3-steps0.yaml": chain_inline(0) | {"name": "bench w3 0 steps"},
    }
    for path, document in documents.items():
        header = "# Generated by `python -m bench.documents`; workload 3 of the bench issue.\n"
        path.write_text(header + yaml.safe_dump(document, sort_keys=False, width=100))
        written.append(path)
    for steps, path_name in ((STEPS, "steps40"), (0, "steps0")):
        path = HERE / "peers" / f"n8n-w3-{path_name}.json"
        path.write_text(json.dumps(n8n_chain(steps, path_name), indent=1) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_all():
        print(written_path)
    sys.exit(0)
