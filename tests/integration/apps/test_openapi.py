"""The Swagger Petstore v3 document imported as a connector, run against a server built from it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from fakes import openapi_server
from scenarist_connector_sdk import (
    ConnectorRuntime,
    FieldType,
    HttpLimits,
    ModuleKind,
    NetPolicy,
    Registry,
    RuntimeSettings,
    errors,
)
from scenarist_connector_sdk.testing import FakeHttpServer, FakeRequest, FakeResponse
from scenarist_connectors.openapi import import_openapi, installed_connectors

pytestmark = pytest.mark.integration

SPEC = Path(__file__).resolve().parents[2] / "fixtures" / "openapi" / "petstore-v3.json"
SETTINGS = RuntimeSettings(allow=NetPolicy.parse("127.0.0.1/32"), limits=HttpLimits(timeout=10))


def api_key(base: str, key: str = openapi_server.API_KEY) -> dict[str, Any]:
    return {"type": "api_key", "parameters": {"base_url": base}, "secrets": {"api_key": key}}


def oauth(base: str) -> dict[str, Any]:
    return {
        "type": "oauth2",
        "parameters": {"base_url": base, "grant_type": "authorization_code"},
        "secrets": {"access_token": "petstore-token"},
    }


def test_petstore_spec_to_modules() -> None:
    from_json = import_openapi(SPEC.read_text(), app="petstore")
    from_yaml = import_openapi(yaml.safe_dump(json.loads(SPEC.read_text())), app="petstore")
    assert sorted(from_json.modules) == sorted(from_yaml.modules)
    assert len(from_json.modules) == 19 and from_json.spec.version == "1.0.27"
    by_status = from_json.get("findPetsByStatus").spec
    assert by_status.kind is ModuleKind.SEARCH
    [status] = by_status.inputs
    assert status.type is FieldType.SELECT and status.options[0].value == "available"
    get_pet = from_json.get("getPetById").spec
    assert get_pet.kind is ModuleKind.ACTION
    assert [(f.name, f.type, f.required) for f in get_pet.inputs] == [
        ("petId", FieldType.INTEGER, True)
    ]
    outputs = {f.name: f for f in get_pet.outputs}
    assert outputs["category"].type is FieldType.COLLECTION
    assert [f.name for f in outputs["category"].fields] == ["id", "name"]
    add_pet = {f.name: f for f in from_json.get("addPet").spec.inputs}
    assert add_pet["name"].required and add_pet["photoUrls"].type is FieldType.ARRAY
    kinds = {c.type: c for c in from_json.spec.connection_types}
    assert set(kinds) == {"none", "api_key", "oauth2"}
    key_fields = {f.name: f.default for f in kinds["api_key"].fields}
    assert key_fields["name"] == "api_key" and key_fields["placement"] == "header"


async def test_petstore_actions_against_a_server_built_from_the_spec() -> None:
    document = json.loads(SPEC.read_text())
    registry = Registry([import_openapi(document, app="petstore")])
    runtime = ConnectorRuntime(registry, SETTINGS)
    try:
        with openapi_server.server(document) as fake:
            base = f"{fake.url}/api/v3"
            [pet] = await runtime.execute("petstore:getPetById", {"petId": 7}, api_key(base))
            assert pet["id"] == 7 and pet["name"] == "doggie"
            assert fake.requests[-1].headers["api_key"] == openapi_server.API_KEY
            with pytest.raises(errors.AuthError):
                await runtime.execute("petstore:getPetById", {"petId": 7}, api_key(base, "wrong"))

            new = {
                "name": "Rex",
                "photoUrls": ["https://img/rex.png"],
                "status": "pending",
                "category": {"id": 2, "name": "Dogs"},
            }
            [added] = await runtime.execute("petstore:addPet", new, oauth(base))
            assert added["name"] == "Rex" and added["category"] == {"id": 2, "name": "Dogs"}
            sent = fake.requests[-1]
            assert sent.method == "POST" and sent.json() == new
            assert sent.headers["authorization"] == "Bearer petstore-token"

            pets = await runtime.execute(
                "petstore:findPetsByStatus", {"status": "sold"}, oauth(base)
            )
            assert [(p["id"], p["status"]) for p in pets] == [(1, "sold"), (2, "sold")]
            assert fake.requests[-1].query == {"status": ["sold"]}

            [inventory] = await runtime.execute("petstore:getInventory", {}, api_key(base))
            assert inventory == {}
            [order] = await runtime.execute(
                "petstore:placeOrder",
                {"petId": 7, "quantity": 2, "status": "placed"},
                {"type": "none", "parameters": {"base_url": base}},
            )
            assert order["petId"] == 7 and order["quantity"] == 2
            [login] = await runtime.execute(
                "petstore:loginUser",
                {"username": "ada", "password": "pw"},
                {"type": "none", "parameters": {"base_url": base}},
            )
            assert login == {"value": "logged in user session: ada"}
            with pytest.raises(errors.InvalidInputError):
                await runtime.execute("petstore:getPetById", {"petId": "x"}, api_key(base))
            with pytest.raises(errors.ConfigurationError, match="base_url"):
                await runtime.execute("petstore:logoutUser", {}, None)
    finally:
        await runtime.aclose()


CURSOR_API = {
    "openapi": "3.1.0",
    "info": {"title": "Things", "version": "2.0.0"},
    "servers": [
        {"url": "https://{region}.things.example/v1", "variables": {"region": {"default": "eu"}}}
    ],
    "components": {"securitySchemes": {"token": {"type": "http", "scheme": "bearer"}}},
    "security": [{"token": []}],
    "paths": {
        "/things": {
            "get": {
                "operationId": "listThings",
                "parameters": [{"name": "cursor", "in": "query", "schema": {"type": "string"}}],
                "responses": {
                    "200": {
                        "description": "a page",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "data": {
                                            "type": "array",
                                            "items": {
                                                "type": "object",
                                                "properties": {"id": {"type": ["integer", "null"]}},
                                            },
                                        },
                                        "next_cursor": {"type": ["string", "null"]},
                                    },
                                }
                            }
                        },
                    }
                },
            }
        },
        "/pages": {
            "get": {
                "x-pagination": {
                    "type": "page",
                    "itemsPath": "result.rows",
                    "pageParam": "p",
                    "limitParam": "",
                    "limit": 2,
                },
                "responses": {"200": {"description": "rows"}},
            }
        },
    },
}


async def test_recognised_cursor_and_declared_page_pagination(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    things = [{"id": n} for n in range(1, 6)]

    def list_things(request: FakeRequest) -> FakeResponse:
        start = int(request.query.get("cursor", ["0"])[0])
        more = start + 2 < len(things)
        return FakeResponse.of_json(
            {"data": things[start : start + 2], "next_cursor": str(start + 2) if more else None}
        )

    def pages(request: FakeRequest) -> FakeResponse:
        number = int(request.query["p"][0])
        return FakeResponse.of_json({"result": {"rows": things[(number - 1) * 2 : number * 2]}})

    (tmp_path / "Things API.yaml").write_text(yaml.safe_dump(CURSOR_API))
    monkeypatch.setenv("SCENARIST_OPENAPI_SPECS", str(tmp_path))
    [connector] = installed_connectors()
    assert connector.spec.name == "things-api"
    base_default = {f.name: f.default for f in connector.spec.connection_types[1].fields}[
        "base_url"
    ]
    assert base_default == "https://eu.things.example/v1"
    assert connector.get("get_pages").spec.kind is ModuleKind.SEARCH
    runtime = ConnectorRuntime(Registry([connector]), SETTINGS)
    try:
        with FakeHttpServer() as fake:
            fake.route("GET", "/v1/things", list_things)
            fake.route("GET", "/v1/pages", pages)
            conn = {
                "type": "bearer",
                "parameters": {"base_url": f"{fake.url}/v1"},
                "secrets": {"token": "t"},
            }
            listed = await runtime.execute("things-api:listThings", {}, conn)
            assert [t["id"] for t in listed] == [1, 2, 3, 4, 5]
            assert fake.requests[0].headers["authorization"] == "Bearer t"
            paged = await runtime.execute("things-api:get_pages", {"limit": 3}, conn)
            assert [t["id"] for t in paged] == [1, 2, 3]
    finally:
        await runtime.aclose()
