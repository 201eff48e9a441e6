from __future__ import annotations

from conftest import World
from scenarist_engine.filters import OPERATOR_TABLE
from scenarist_engine.iml.functions import FUNCTIONS
from scenarist_storage.models import Role
from scenarist_studio.api import ENDPOINTS
from scenarist_studio.routing import routes_for
from starlette.routing import Route


async def test_every_route_is_in_the_openapi_document(world: World) -> None:
    document = (await world.client.get("/api/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    served = {
        (method.lower(), "/api" + route.path)
        for route in routes_for(ENDPOINTS, studio=None)  # type: ignore[arg-type]
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }
    documented = {(method, path) for path, ops in document["paths"].items() for method in ops}
    assert served and served <= documented
    assert ("get", "/api/openapi.json") in documented
    assert documented - served == {("get", "/api/openapi.json")}


async def test_operations_state_their_role_and_body(world: World) -> None:
    document = (await world.client.get("/api/openapi.json")).json()
    create = document["paths"]["/api/scenarios"]["post"]
    assert create["x-required-role"] == "editor"
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "DocumentBody"
    )
    assert document["paths"]["/api/session"]["post"]["security"] == []


async def test_function_list_comes_from_the_engine(world: World) -> None:
    await world.add_user("vic@example.com", Role.VIEWER)
    await world.sign_in("vic@example.com")
    listed = (await world.client.get("/api/iml/functions")).json()["functions"]
    assert {f["name"] for f in listed} == set(FUNCTIONS)
    lower = next(f for f in listed if f["name"] == "lower")
    assert lower["signature"].startswith("lower(")


async def test_every_filter_operator_is_offered(world: World) -> None:
    await world.add_user("vic@example.com", Role.VIEWER)
    await world.sign_in("vic@example.com")
    listed = (await world.client.get("/api/filters/operators")).json()["operators"]
    assert {o["code"] for o in listed} == set(OPERATOR_TABLE)
    assert next(o for o in listed if o["code"] == "exist")["unary"]


async def test_expression_validation_returns_the_parser_message(world: World) -> None:
    await world.add_user("vic@example.com", Role.VIEWER)
    csrf = await world.sign_in("vic@example.com")
    headers = {"x-csrf-token": csrf}
    ok = (
        await world.client.post(
            "/api/iml/validate", json={"template": "Hi {{lower(1.name)}}"}, headers=headers
        )
    ).json()
    assert ok == {"valid": True, "module_ids": [1], "functions": ["lower"]}
    bad = (
        await world.client.post(
            "/api/iml/validate", json={"template": "{{lower(1.name}}"}, headers=headers
        )
    ).json()
    assert bad["valid"] is False and bad["message"] and isinstance(bad["position"], int)
