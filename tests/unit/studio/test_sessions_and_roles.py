from __future__ import annotations

from conftest import PASSWORD, World
from scenarist_storage.models import Role
from scenarist_studio.settings import StudioOptions


async def test_sign_in_sets_strict_httponly_cookie_and_csrf(world: World) -> None:
    await world.add_user("ada@example.com", Role.EDITOR)
    answer = await world.client.post(
        "/api/session", json={"email": "ADA@example.com", "password": PASSWORD}
    )
    assert answer.status_code == 200
    cookies = answer.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("scenarist_session="))
    csrf = next(c for c in cookies if c.startswith("scenarist_csrf="))
    assert "HttpOnly" in session and "SameSite=strict" in session and "Path=/" in session
    assert "HttpOnly" not in csrf and "SameSite=strict" in csrf
    me = (await world.client.get("/api/session")).json()
    assert me["user"]["email"] == "ada@example.com" and me["role"] == "editor"
    assert me["csrf"] == answer.json()["csrf"]


def test_secure_flag_is_on_by_default() -> None:
    assert StudioOptions().cookie_secure


async def test_wrong_password_and_unknown_user_look_the_same(world: World) -> None:
    await world.add_user("ada@example.com", Role.EDITOR)
    wrong = await world.client.post(
        "/api/session", json={"email": "ada@example.com", "password": "x"}
    )
    unknown = await world.client.post(
        "/api/session", json={"email": "bob@example.com", "password": "x"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.headers["content-type"] == "application/problem+json"


async def test_requests_without_a_session_are_refused(world: World) -> None:
    assert (await world.client.get("/api/tokens")).status_code == 401
    assert (await world.client.get("/api/scenarios")).status_code == 401


async def test_unsafe_methods_need_csrf_matching_cookie_and_session(world: World) -> None:
    await world.add_user("ada@example.com", Role.EDITOR)
    csrf = await world.sign_in("ada@example.com")
    body = {"name": "ci"}
    assert (await world.client.post("/api/tokens", json=body)).status_code == 403
    wrong = await world.client.post("/api/tokens", json=body, headers={"x-csrf-token": "nope"})
    assert wrong.status_code == 403
    world.client.cookies.set("scenarist_csrf", "forged")
    forged = await world.client.post("/api/tokens", json=body, headers={"x-csrf-token": "forged"})
    assert forged.status_code == 403
    world.client.cookies.set("scenarist_csrf", csrf)
    ok = await world.client.post("/api/tokens", json=body, headers={"x-csrf-token": csrf})
    assert ok.status_code == 201, ok.text


async def test_sign_out_ends_the_session(world: World) -> None:
    await world.add_user("ada@example.com", Role.VIEWER)
    csrf = await world.sign_in("ada@example.com")
    out = await world.client.delete("/api/session", headers={"x-csrf-token": csrf})
    assert out.status_code == 204
    assert (await world.client.get("/api/session")).status_code == 401


async def test_viewer_cannot_change_anything(world: World) -> None:
    await world.add_user("vic@example.com", Role.VIEWER)
    csrf = await world.sign_in("vic@example.com")
    headers = {"x-csrf-token": csrf}
    document = {"document": {"name": "x", "flow": [{"id": 1, "module": "scenarist:Manual"}]}}
    client = world.client
    refused = [
        await client.post("/api/scenarios", json=document, headers=headers),
        await client.put("/api/scenarios/abc", json=document, headers=headers),
        await client.delete("/api/scenarios/abc", headers=headers),
        await client.post("/api/scenarios/abc/activate", headers=headers),
        await client.post("/api/scenarios/abc/runs", json={}, headers=headers),
        await client.post("/api/scenarios/abc/webhooks", json={"name": "w"}, headers=headers),
        await client.post("/api/scenarios/abc/restore", json={"version": 1}, headers=headers),
        await client.get("/api/users"),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)


async def test_editor_cannot_manage_users(world: World) -> None:
    await world.add_user("ed@example.com", Role.EDITOR)
    csrf = await world.sign_in("ed@example.com")
    answer = await world.client.post(
        "/api/users",
        json={"email": "x@example.com", "role": "owner"},
        headers={"x-csrf-token": csrf},
    )
    assert answer.status_code == 403


async def test_script_tokens_act_with_at_most_their_role_without_csrf(world: World) -> None:
    await world.add_user("ed@example.com", Role.EDITOR)
    csrf = await world.sign_in("ed@example.com")
    answer = await world.client.post(
        "/api/tokens", json={"name": "ci", "role": "owner"}, headers={"x-csrf-token": csrf}
    )
    created = answer.json()
    assert created["token"]["role"] == "editor"  # never above the user's own role
    world.client.cookies.clear()
    bearer = {"authorization": f"Bearer {created['secret']}"}
    assert (await world.client.get("/api/session", headers=bearer)).json()["role"] == "editor"
    new = await world.client.post("/api/tokens", json={"name": "x"}, headers=bearer)
    assert new.status_code == 201
    assert (await world.client.get("/api/users", headers=bearer)).status_code == 403
    token_id = created["token"]["id"]
    revoked = await world.client.delete(f"/api/tokens/{token_id}", headers=bearer)
    assert revoked.status_code == 200
    assert (await world.client.get("/api/session", headers=bearer)).status_code == 401


async def test_bodies_must_be_json(world: World) -> None:
    answer = await world.client.post(
        "/api/session",
        content=b"email=a&password=b",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 415


async def test_security_headers_on_api_responses(world: World) -> None:
    answer = await world.client.get("/api/openapi.json")
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    assert answer.headers["cache-control"] == "no-store"
