from __future__ import annotations

from scenarist_cli.config import Api
from scenarist_cli.standalone import route_every_api_to


def test_standalone_drops_the_routes_a_distributed_run_left() -> None:
    values = {api.value: f"127.0.0.1:{50051 + n}" for n, api in enumerate(Api)}
    values["SCENARIST_TOKEN"] = "kept"
    route_every_api_to(values, "127.0.0.1:40000")
    assert values == {"SCENARIST_SERVER": "127.0.0.1:40000", "SCENARIST_TOKEN": "kept"}
