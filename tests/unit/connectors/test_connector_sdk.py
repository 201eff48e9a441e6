"""The SDK's pure parts: specs, inputs, registry, errors, pagination, redaction."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from scenarist_connector_sdk import (
    ActionContext,
    AppSpec,
    Connector,
    ConnectorRuntime,
    FieldSpec,
    FieldType,
    HttpResponse,
    InvalidInputError,
    NotFoundError,
    Option,
    Registry,
    errors,
    raise_for_status,
)
from scenarist_connector_sdk.auth import API_KEY
from scenarist_connector_sdk.context import ConnectorLogger, Redactor
from scenarist_connector_sdk.http import parse_link_header, retry_after_seconds
from scenarist_connector_sdk.inputs import prepare_inputs
from scenarist_connector_sdk.pagination import by_cursor, by_offset, by_page, take
from scenarist_engine.errors import ErrorType

SECRET = "s3cr3t-T0ken/with+chars"


def demo_connector(version: str = "1.0.0") -> Connector:
    app = Connector(AppSpec("demo", version, "Demo", connection_types=(API_KEY,)))

    @app.action("Echo", inputs=[FieldSpec("n", FieldType.INTEGER, required=True)])
    async def echo(ctx: ActionContext, inputs: dict[str, object]) -> list[dict[str, object]]:
        ctx.logger.info(
            "echo with %s", ctx.secrets.get("api_key"), token=ctx.secrets.get("api_key")
        )
        return [{"n": inputs["n"], "version": version}]

    @app.search("Count", max_results=5)
    async def count(
        ctx: ActionContext, inputs: dict[str, object]
    ) -> AsyncIterator[dict[str, object]]:
        for i in range(1000):
            yield {"i": i}

    @app.action("Crash")
    async def crash(ctx: ActionContext, inputs: dict[str, object]) -> list[dict[str, object]]:
        raise ValueError(f"boom with {ctx.secrets['api_key']}")

    return app


def test_specs_are_json_shaped_like_the_proto() -> None:
    modules = demo_connector().describe_modules()
    assert [m["name"] for m in modules] == ["Count", "Crash", "Echo"]
    echo = modules[2]
    assert echo["kind"] == "action"
    assert echo["inputs"][0] == {
        "name": "n",
        "label": "n",
        "type": "integer",
        "required": True,
        "options": [],
        "help": "",
        "default": None,
        "fields": [],
        "multiple": False,
        "secret": False,
    }


def test_registry_resolves_latest_version_and_lists_apps() -> None:
    registry = Registry(
        [demo_connector("1.0.0"), demo_connector("1.10.0"), demo_connector("1.2.0")]
    )
    assert registry.connector("demo").spec.version == "1.10.0"
    assert registry.list_apps()[0]["versions"] == ["1.0.0", "1.2.0", "1.10.0"]
    with pytest.raises(NotFoundError):
        registry.module("demo:Nope")
    with pytest.raises(errors.ConfigurationError):
        registry.module("no-colon")


def test_entry_points_discover_the_builtin_http_app() -> None:
    registry = Registry.from_entry_points()
    assert "http" in [app["name"] for app in registry.list_apps()]
    assert "MakeRequest" in [m["name"] for m in registry.list_modules("http")]
    assert registry.failures == {}


def test_inputs_are_checked_all_at_once() -> None:
    fields = [
        FieldSpec("n", FieldType.NUMBER, required=True),
        FieldSpec("flag", FieldType.BOOLEAN, default=False),
        FieldSpec("pick", FieldType.SELECT, options=(Option("a"), Option("b"))),
        FieldSpec("need", required=True),
    ]
    assert prepare_inputs(fields, {"n": "2.5", "need": "x"}) == {
        "n": 2.5,
        "need": "x",
        "flag": False,
    }
    with pytest.raises(InvalidInputError) as failed:
        prepare_inputs(fields, {"n": "x", "pick": "c"})
    assert "'n'" in failed.value.message and "'pick'" in failed.value.message
    assert "'need' is required" in failed.value.message


async def test_runtime_runs_actions_bounds_searches_and_types_errors() -> None:
    runtime = ConnectorRuntime(Registry([demo_connector()]))
    conn = {"type": "api_key", "secrets": {"api_key": SECRET}}
    assert await runtime.execute("demo:Echo", {"n": "3"}, None, {"run_id": "r"}) == [
        {"n": 3, "version": "1.0.0"}
    ]
    assert len(await runtime.execute("demo:Count", {}, None, None)) == 5
    assert len(await runtime.execute("demo:Count", {"limit": 2}, None, None)) == 2
    with pytest.raises(InvalidInputError):
        await runtime.execute("demo:Echo", {}, None, None)
    with pytest.raises(errors.ConnectorError) as crashed:
        await runtime.execute("demo:Crash", {}, conn, None)
    assert SECRET not in str(crashed.value) and crashed.value.error_type is ErrorType.RUNTIME
    await runtime.aclose()


async def test_a_secret_never_reaches_the_log(caplog: pytest.LogCaptureFixture) -> None:
    runtime = ConnectorRuntime(Registry([demo_connector()]))
    conn = {"type": "api_key", "secrets": {"api_key": SECRET}}
    with caplog.at_level(logging.DEBUG):
        await runtime.execute("demo:Echo", {"n": 1}, conn, None)
        with pytest.raises(errors.ConnectorError):
            await runtime.execute("demo:Crash", {}, conn, None)
    await runtime.aclose()
    assert caplog.records, "the connector logged nothing"
    for record in caplog.records:
        assert SECRET not in record.getMessage()
        assert SECRET not in repr(record.__dict__)


def test_redactor_masks_encoded_forms_too() -> None:
    redactor = Redactor([SECRET])
    logger = logging.getLogger("t")
    text = redactor.redact(f"a {SECRET} b s3cr3t-T0ken%2Fwith%2Bchars c")
    assert SECRET not in text and "%2F" not in text
    assert ConnectorLogger(logger, redactor) is not None


def test_errors_map_onto_engine_error_types() -> None:
    limited = errors.RateLimitError("slow down", retry_after=7)
    module_error = limited.to_module_error()
    assert module_error.error_type is ErrorType.RATE_LIMIT and module_error.retry_after == 7
    assert limited.retryable and errors.TimeoutError("t").retryable
    assert not errors.AuthError("a").retryable
    assert errors.InvalidInputError("d").error_type is ErrorType.DATA
    assert errors.NotFoundError("n").error_type is ErrorType.NOT_FOUND


def response(status: int, **headers: str) -> HttpResponse:
    return HttpResponse(status, httpx.Headers(headers), b"", "https://api.example.com/x?key=1")


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, errors.AuthError),
        (403, errors.AuthError),
        (404, errors.NotFoundError),
        (400, errors.InvalidInputError),
        (422, errors.InvalidInputError),
        (500, errors.ConnectionError),
        (503, errors.ConnectionError),
        (429, errors.RateLimitError),
    ],
)
def test_status_codes_map_to_typed_errors(status: int, kind: type[Exception]) -> None:
    with pytest.raises(kind) as raised:
        raise_for_status(response(status))
    assert "key=1" not in str(raised.value)


def test_retry_after_reads_seconds_and_dates() -> None:
    with pytest.raises(errors.RateLimitError) as raised:
        raise_for_status(response(429, **{"Retry-After": "12"}))
    assert raised.value.retry_after == 12
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert retry_after_seconds("Thu, 01 Jan 2026 00:00:30 GMT", now=now) == 30
    assert retry_after_seconds("soon") is None


def test_link_header_parsing() -> None:
    links = parse_link_header(
        '<?page=2>; rel="next", <https://a.example/?page=9>; rel="last"',
        base="https://a.example/items",
    )
    assert links == {"next": "https://a.example/items?page=2", "last": "https://a.example/?page=9"}


async def test_pagination_helpers_stop_and_bound() -> None:
    async def page(n: int) -> list[int]:
        return [n * 10, n * 10 + 1] if n <= 3 else []

    assert await take(by_page(page), 100) == [10, 11, 20, 21, 30, 31]

    async def offset(start: int, limit: int) -> list[int]:
        return list(range(start, min(start + limit, 5)))

    assert await take(by_offset(offset, limit=2), 100) == [0, 1, 2, 3, 4]

    async def forever(cursor: str | None) -> tuple[list[str], str | None]:
        return [cursor or "start"], "same"

    assert await take(by_cursor(forever), 100) == ["start", "same"]
    assert await take(by_page(page), 3) == [10, 11, 20]
