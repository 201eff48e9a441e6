"""Each web app's modules inside real scenarios: orchestrator -> executor -> connector gateway ->
the app's fake on loopback, with connections created through ConnectionService (the fake's base
URL a parameter, its key a secret), outputs read back from the run log (LogService.GetRunLog).

One stack serves the whole module; the last test greps every log record (DEBUG, from before the
stack started), every gRPC response and every run log of the module for every secret used.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from app_scenarios import (
    FIXTURES,
    AppStack,
    aggregated,
    aggregator,
    app_module,
    module_stack,
    scenario,
)
from fakes import airtable, github, google_sheets, notion, openai, openapi_server, slack, stripe
from fakes import telegram as telegram_fake
from scenarist.run.v1 import run_pb2
from scenarist_connector_sdk.testing import FakeRequest, FakeResponse
from scenarist_connectors.stripe import sign

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

SUCCESS = run_pb2.RunStatus.RUN_STATUS_SUCCESS
SHEETS_CLIENT_SECRET = "gcs-Client-Secret-5521"
GITHUB_WRONG_TOKEN = "ghp_Revoked-Token-0413"
PETSTORE_CLIENT_SECRET = "pet-Client-Secret-8830"
PETSTORE_ACCESS_TOKEN = "pet-Access-Token-2291"
SECRETS = [
    slack.TOKEN,
    github.TOKEN,
    GITHUB_WRONG_TOKEN,
    stripe.API_KEY,
    stripe.WEBHOOK_SECRET,
    SHEETS_CLIENT_SECRET,
    google_sheets.ACCESS_TOKEN,
    airtable.TOKEN,
    notion.TOKEN,
    telegram_fake.TOKEN,
    openai.API_KEY,
    openapi_server.API_KEY,
    PETSTORE_CLIENT_SECRET,
    PETSTORE_ACCESS_TOKEN,
]
# An incoming webhook's URL is its credential, but a module input (secret-flagged), not a
# connection secret: it is in the scenario document the user wrote.
WEBHOOK_SECRET_PATH = slack.WEBHOOK_PATH.rsplit("/", 1)[1]
PETSTORE = FIXTURES / "openapi" / "petstore-v3.json"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(database_dsn: str, redis_url: str) -> AsyncIterator[AppStack]:
    specs = str(PETSTORE.parent)
    async with module_stack(database_dsn, redis_url, SCENARIST_OPENAPI_SPECS=specs) as hosted:
        yield hosted


async def test_slack_search_feeds_messages_and_an_aggregator(stack: AppStack) -> None:
    with slack.server() as fake:
        hook = fake.url + slack.WEBHOOK_PATH  # the URL is the credential
        conn = await stack.connection(
            "slack", "bearer", {"token": slack.TOKEN}, base_url=f"{fake.url}/api"
        )
        document = scenario(
            "slack digest",
            app_module(2, "slack:ListChannels", conn, limit=4),  # an implicit iterator
            app_module(3, "slack:CreateMessage", conn, channel="{{2.id}}", text="hi {{1.who}}"),
            aggregator(4, 2, channel="{{3.channel}}", text="{{3.message.text}}"),
            app_module(5, "slack:PostViaWebhook", webhookUrl=hook, text="digest for {{1.who}}"),
        )
        run = await stack.run(document, {"who": "ada"})

        assert run.status == SUCCESS, run.error
        sent = aggregated(await stack.bundles(run.id, 4))
        assert sent == [{"channel": f"C00{n}", "text": "hi ada"} for n in (1, 2, 3, 4)]
        assert await stack.bundles(run.id, 5) == [{"ok": True}]
        assert len(fake.state["posted"]) == 5  # four messages and the webhook post
        pages = [r for r in fake.requests if r.path == "/api/conversations.list"]
        assert len(pages) == 2  # 2 channels a page: the cursor was followed, then the limit hit


async def test_github_search_create_and_watch(stack: AppStack) -> None:
    with github.server() as fake:
        conn = await stack.connection(
            "github", "bearer", {"token": github.TOKEN}, base_url=fake.url
        )
        document = scenario(
            "triage",
            app_module(2, "github:SearchIssues", conn, q="repo:o/r is:open"),
            app_module(
                3,
                "github:CreateIssue",
                conn,
                owner="o",
                repo="r",
                title="Follow-up of #{{2.number}}",
                labels=["triage"],
            ),
            aggregator(4, 2, searched="{{2.number}}", created="{{3.number}}"),
            app_module(5, "github:WatchIssues", conn, owner="o", repo="r", start="all"),
        )
        run = await stack.run(document, {})

        assert run.status == SUCCESS, run.error
        pairs = aggregated(await stack.bundles(run.id, 4))
        assert pairs == [{"searched": 1, "created": 4}, {"searched": 3, "created": 5}]
        [watched] = await stack.bundles(run.id, 5)
        titles = [issue["title"] for issue in watched["bundles"]]
        assert titles == ["Issue 1", "Issue 3", "Follow-up of #1", "Follow-up of #3"]
        assert watched["cursor"]


async def test_a_401_is_an_auth_error_an_error_handler_route_resumes(stack: AppStack) -> None:
    with github.server() as fake:
        revoked = await stack.connection(
            "github", "bearer", {"token": GITHUB_WRONG_TOKEN}, base_url=fake.url
        )
        create = app_module(2, "github:CreateIssue", revoked, owner="o", repo="r", title="x")
        create["onerror"] = [
            app_module(3, "util:ComposeTransformer", value="{{2.error.type}}"),
            {"id": 4, "module": "builtin:Resume", "mapper": {"number": 0, "title": "{{3.value}}"}},
        ]
        document = scenario(
            "handled", create, app_module(5, "util:ComposeTransformer", value="got {{2.title}}")
        )
        run = await stack.run(document, {})

        assert run.status == SUCCESS, run.error
        [failed] = await stack.steps(run.id, 2)
        assert failed.error.type == "AuthError" and "Bad credentials" in failed.error.message
        assert await stack.bundles(run.id, 5) == [{"value": "got AuthError"}]
        assert [r.headers["authorization"] for r in fake.requests] == [
            f"Bearer {GITHUB_WRONG_TOKEN}"
        ]


async def test_stripe_429_with_retry_after_is_retried_then_charges_aggregate(
    stack: AppStack,
) -> None:
    with stripe.server() as fake:
        listing = fake.routes[("GET", "/v1/charges")]
        busy = {"error": {"type": "rate_limit_error", "message": "Too many requests"}}
        answers = iter([FakeResponse.of_json(busy, 429, {"Retry-After": "1"})])

        def once_limited(request: FakeRequest) -> FakeResponse:
            return next(answers, None) or listing(request)

        fake.route("GET", "/v1/charges", once_limited)
        secrets = {"token": stripe.API_KEY, "webhook_secret": stripe.WEBHOOK_SECRET}
        conn = await stack.connection("stripe", "bearer", secrets, base_url=fake.url)
        charges = app_module(2, "stripe:ListCharges", conn, customer="{{1.customer}}")
        charges["retry"] = {"max_attempts": 3, "initial_interval_seconds": 0, "jitter": 0}
        document = scenario(
            "charges", charges, aggregator(3, 2, id="{{2.id}}", amount="{{2.amount}}")
        )
        run = await stack.run(document, {"customer": "cus_2"})

        assert run.status == SUCCESS, run.error
        limited, succeeded = await stack.steps(run.id, 2, count=2)
        assert limited.error.type == "RateLimitError" and limited.attempt == 1
        assert succeeded.attempt == 2 and not succeeded.error.type
        assert aggregated(await stack.bundles(run.id, 3)) == [
            {"id": "ch_2", "amount": 200},
            {"id": "ch_4", "amount": 400},
        ]

    event = {"id": "evt_1", "object": "event", "type": "charge.succeeded", "data": {"object": {}}}
    body = json.dumps(event)
    signature = sign(body.encode(), stripe.WEBHOOK_SECRET, int(time.time()))
    watch = app_module(2, "stripe:WatchEvents", conn, body="{{1.body}}", headers="{{1.headers}}")
    run = await stack.run(
        scenario("events", watch), {"body": body, "headers": {"Stripe-Signature": signature}}
    )
    assert run.status == SUCCESS, run.error
    [received] = await stack.bundles(run.id, 2)
    assert received["id"] == "evt_1" and received["type"] == "charge.succeeded"


def _token_endpoint(request: FakeRequest) -> FakeResponse:
    expected = base64.b64encode(f"sheets-client:{SHEETS_CLIENT_SECRET}".encode()).decode()
    if request.headers.get("authorization") != f"Basic {expected}":
        return FakeResponse.of_json({"error": "invalid_client"}, 401)
    return FakeResponse.of_json(
        {"access_token": google_sheets.ACCESS_TOKEN, "token_type": "Bearer", "expires_in": 3600}
    )


async def test_google_sheets_add_search_watch_with_client_credentials(stack: AppStack) -> None:
    rows: list[list[Any]] = [["Name", "Age"], ["Ada", "36"], ["Alan", "41"]]
    with google_sheets.server(rows) as fake:
        fake.route("POST", "/token", _token_endpoint)
        secrets = {"client_id": "sheets-client", "client_secret": SHEETS_CLIENT_SECRET}
        conn = await stack.connection(
            "google-sheets",
            "oauth2",
            secrets,
            grant_type="client_credentials",
            token_url=f"{fake.url}/token",
            base_url=f"{fake.url}/v4",
        )
        sheet = {"spreadsheetId": google_sheets.SPREADSHEET, "sheetName": "Sheet1"}
        document = scenario(
            "sheets",
            app_module(
                2, "google-sheets:AddRow", conn, values=["{{1.name}}", "{{1.age}}"], **sheet
            ),
            app_module(
                3,
                "google-sheets:SearchRows",
                conn,
                column="Age",
                operator="greater",
                value="40",
                **sheet,
            ),
            aggregator(4, 3, name="{{3.row.Name}}", row="{{3.rowNumber}}"),
            app_module(5, "google-sheets:WatchRows", conn, start="all", **sheet),
        )
        run = await stack.run(document, {"name": "Grace", "age": "85"})

        assert run.status == SUCCESS, run.error
        [added] = await stack.bundles(run.id, 2)
        assert added["rowNumber"] == 4
        assert aggregated(await stack.bundles(run.id, 4)) == [
            {"name": "Alan", "row": 3},
            {"name": "Grace", "row": 4},
        ]
        [watched] = await stack.bundles(run.id, 5)
        assert [b["row"]["Name"] for b in watched["bundles"]] == ["Ada", "Alan", "Grace"]
        assert sum(r.path == "/token" for r in fake.requests) == 1  # the token is cached


async def test_airtable_records_become_notion_pages(stack: AppStack) -> None:
    with airtable.server() as records, notion.server() as pages:
        base = await stack.connection(
            "airtable", "bearer", {"token": airtable.TOKEN}, base_url=f"{records.url}/v0"
        )
        workspace = await stack.connection(
            "notion", "bearer", {"token": notion.TOKEN}, base_url=f"{pages.url}/v1"
        )
        title = {"title": [{"text": {"content": "{{2.fields.Name}}"}}]}
        document = scenario(
            "sync",
            app_module(
                2, "airtable:ListRecords", base, baseId=airtable.BASE, table="Tasks", limit=3
            ),
            app_module(
                3,
                "notion:CreatePage",
                workspace,
                databaseId=notion.DATABASE,
                properties={"Name": title},
            ),
            aggregator(4, 2, page="{{3.id}}"),
            app_module(
                5,
                "airtable:CreateRecord",
                base,
                baseId=airtable.BASE,
                table="Tasks",
                fields={"Name": "synced"},
            ),
            app_module(6, "notion:QueryDatabase", workspace, databaseId=notion.DATABASE),
            aggregator(7, 6, id="{{6.id}}"),
        )
        run = await stack.run(document, {})

        assert run.status == SUCCESS, run.error
        created = aggregated(await stack.bundles(run.id, 4))
        assert created == [{"page": f"page-{n}"} for n in (6, 7, 8)]
        [record] = await stack.bundles(run.id, 5)
        assert record["fields"] == {"Name": "synced"}
        queried = aggregated(await stack.bundles(run.id, 7))
        assert [q["id"] for q in queried] == [f"page-{n}" for n in range(1, 9)]


async def test_telegram_openai_reply_and_watch_updates(stack: AppStack) -> None:
    with telegram_fake.server() as bot_api, openai.server() as llm:
        bot = await stack.connection(
            "telegram", "api_key", {"api_key": telegram_fake.TOKEN}, base_url=bot_api.url
        )
        model = await stack.connection(
            "openai", "bearer", {"token": openai.API_KEY}, base_url=f"{llm.url}/v1"
        )
        telegram_fake.add_update(bot_api, 100, "what is 2+2?")
        document = scenario(
            "bot",
            app_module(2, "telegram:WatchUpdates", bot, start="all"),
            app_module(3, "builtin:BasicFeeder", array="{{2.bundles}}"),
            app_module(
                4,
                "openai:CreateChatCompletion",
                model,
                model="gpt-test",
                messages=[{"role": "user", "content": "{{3.message.text}}"}],
            ),
            app_module(
                5,
                "telegram:SendMessage",
                bot,
                chat_id="{{3.message.chat.id}}",
                text="{{4.message.content}}",
            ),
        )
        run = await stack.run(document, {})

        assert run.status == SUCCESS, run.error
        [watched] = await stack.bundles(run.id, 2)
        assert watched["cursor"] == "101"
        [answer] = await stack.bundles(run.id, 4)
        assert answer["message"]["content"] == "echo: what is 2+2? (t=1)"
        [sent] = await stack.bundles(run.id, 5)
        assert sent["text"] == "echo: what is 2+2? (t=1)"


async def test_the_imported_petstore_connector_runs_in_a_scenario(stack: AppStack) -> None:
    document_text = json.loads(PETSTORE.read_text())
    with openapi_server.server(document_text) as fake:
        base = f"{fake.url}/api/v3"
        keyed = await stack.connection(
            "petstore-v3", "api_key", {"api_key": openapi_server.API_KEY}, base_url=base
        )
        oauth = {
            "client_id": "petstore-client",
            "client_secret": PETSTORE_CLIENT_SECRET,
            "access_token": PETSTORE_ACCESS_TOKEN,
        }
        authorized = await stack.connection(
            "petstore-v3", "oauth2", oauth, base_url=base, grant_type="authorization_code"
        )
        document = scenario(
            "pets",
            # findPetsByStatus takes OAuth2 only, getPetById an API key as well.
            app_module(2, "petstore-v3:findPetsByStatus", authorized, status="{{1.status}}"),
            app_module(3, "petstore-v3:getPetById", keyed, petId="{{2.id}}"),
            aggregator(4, 2, id="{{3.id}}", name="{{3.name}}"),
        )
        run = await stack.run(document, {"status": "sold"})

        assert run.status == SUCCESS, run.error
        assert aggregated(await stack.bundles(run.id, 4)) == [
            {"id": 1, "name": "doggie"},
            {"id": 2, "name": "doggie"},
        ]
        by_id = [r for r in fake.requests if r.path[len("/api/v3/pet/") :].isdigit()]
        assert {r.headers.get("api_key") for r in by_id} == {openapi_server.API_KEY}
        [search] = [r for r in fake.requests if r.path == "/api/v3/pet/findByStatus"]
        assert search.headers["authorization"] == f"Bearer {PETSTORE_ACCESS_TOKEN}"


async def test_no_secret_in_any_log_line_api_response_or_run_log(stack: AppStack) -> None:
    assert any("services started" in line for line in stack.logs.lines)
    assert any("HTTP Request" in line for line in stack.logs.lines)  # DEBUG/INFO of httpx too
    assert len(stack.run_logs) >= 8 and stack.responses.seen
    leaks = stack.leaks(SECRETS)
    assert not leaks, "\n\n".join(leaks)
    assert not any(WEBHOOK_SECRET_PATH in line for line in stack.logs.lines)


async def test_secret_flagged_inputs_stay_out_of_the_run_log(stack: AppStack) -> None:
    assert not any(WEBHOOK_SECRET_PATH in text for text in stack.run_logs.values())
