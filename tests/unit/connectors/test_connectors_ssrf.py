"""The SSRF corpus (anchors C.3 item 5): every case refused with a clear error, no real DNS."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from scenarist_connector_sdk import BlockedTargetError, NetPolicy, SafeHttpClient, errors
from scenarist_connector_sdk.net import AddressGuard, blocked_reason, parse_ip_literal
from scenarist_connector_sdk.testing import static_resolver

RESOLVER = static_resolver(
    {
        "localhost.": ["127.0.0.1"],
        "metadata.google.internal": ["169.254.169.254"],
        "intranet.example.com": ["10.1.2.3"],
        "rebind.example.com": ["93.184.216.34", "192.168.1.1"],
        "v6private.example.com": ["fd00::1"],
        "public.example.com": ["93.184.216.34"],
        "xn--bcher-kva.example": ["127.0.0.1"],
    }
)

CORPUS = [
    ("http://127.0.0.1/", "loopback"),
    ("http://127.0.0.2:8080/x", "loopback"),
    ("http://localhost/", "loopback"),
    ("http://localhost./", "loopback"),
    ("http://foo.localhost/", "loopback"),
    ("http://0/", "unspecified"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://[::]/", "unspecified"),
    ("http://2130706433/", "loopback"),
    ("http://0x7f000001/", "loopback"),
    ("http://0177.0.0.1/", "loopback"),
    ("http://127.1/", "loopback"),
    ("http://0x7f.1/", "loopback"),
    ("http://[::1]/", "loopback"),
    ("http://[::ffff:127.0.0.1]/", "IPv4-mapped"),
    ("http://[::ffff:169.254.169.254]/latest/meta-data/", "metadata"),
    ("http://[::ffff:a9fe:a9fe]/", "metadata"),
    ("http://169.254.169.254/latest/meta-data/", "metadata"),
    ("http://metadata.google.internal/computeMetadata/v1/", "metadata"),
    ("http://169.254.1.1/", "link-local"),
    ("http://[fe80::1]/", "link-local"),
    ("http://10.0.0.1/", "private"),
    ("http://172.16.0.1/", "private"),
    ("http://172.31.255.255/", "private"),
    ("http://192.168.0.1/", "private"),
    ("http://100.64.0.1/", "carrier-grade NAT"),
    ("http://[fc00::1]/", "unique-local"),
    ("http://[fd12:3456::1]/", "unique-local"),
    ("http://224.0.0.1/", "multicast"),
    ("http://[ff02::1]/", "multicast"),
    ("http://255.255.255.255/", "broadcast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://[::127.0.0.1]/", "IPv4-compatible"),
    ("http://[64:ff9b::a00:1]/", "NAT64"),
    ("http://[64:ff9b::7f00:1]/", "NAT64"),
    ("http://[2002:c0a8:101::1]/", "6to4"),
    ("http://[2002:a9fe:a9fe::]/", "6to4"),
    ("http://intranet.example.com/", "private"),
    ("http://rebind.example.com/", "private"),
    ("http://v6private.example.com/", "unique-local"),
    ("http://xn--bcher-kva.example/", "loopback"),
    ("http://bücher.example/", "loopback"),
    ("file:///etc/passwd", "only http/https"),
    ("gopher://127.0.0.1:70/", "only http/https"),
    ("ftp://example.com/", "only http/https"),
    ("dict://127.0.0.1:11211/", "only http/https"),
]


@pytest.fixture
async def client() -> AsyncIterator[SafeHttpClient]:
    http = SafeHttpClient(AddressGuard(NetPolicy(), RESOLVER))
    yield http
    await http.aclose()


@pytest.mark.parametrize(("url", "why"), CORPUS)
async def test_every_corpus_case_is_refused(client: SafeHttpClient, url: str, why: str) -> None:
    with pytest.raises(BlockedTargetError) as refused:
        await client.get(url)
    assert why in str(refused.value)
    assert refused.value.error_type.value == "DataError"
    assert not refused.value.retryable


@pytest.mark.parametrize(
    ("spelling", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0", "0.0.0.0"),
        ("10.1", "10.0.0.1"),
        ("0xa9.0376.43518", "169.254.169.254"),
        ("[::ffff:169.254.169.254]", "::ffff:a9fe:a9fe"),
        ("127.0.0.1.", "127.0.0.1"),
    ],
)
def test_every_ipv4_spelling_is_normalised(spelling: str, address: str) -> None:
    assert str(parse_ip_literal(spelling)) == address


@pytest.mark.parametrize("name", ["example.com", "1.2.3.4.5", "256.1.1.1.1", "1..2", "08.1"])
def test_names_are_not_mistaken_for_addresses(name: str) -> None:
    assert parse_ip_literal(name) is None


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]
)
def test_public_addresses_pass(address: str) -> None:
    assert blocked_reason(parse_ip_literal(address)) is None  # type: ignore[arg-type]


async def test_a_public_name_resolves_to_its_checked_address() -> None:
    guard = AddressGuard(NetPolicy(), RESOLVER)
    assert await guard.resolve("public.example.com", 443) == ["93.184.216.34"]


async def test_an_unresolvable_name_is_a_retryable_connection_error() -> None:
    guard = AddressGuard(NetPolicy(), RESOLVER)
    with pytest.raises(errors.ConnectionError):
        await guard.resolve("nowhere.example.com", 80)


async def test_allow_list_opens_exactly_what_it_lists() -> None:
    policy = NetPolicy.parse("127.0.0.1/32, 10.1.0.0/16, intranet.example.com")
    guard = AddressGuard(policy, RESOLVER)
    assert await guard.resolve("127.0.0.1", 80) == ["127.0.0.1"]
    assert await guard.resolve("10.1.9.9", 80) == ["10.1.9.9"]
    assert await guard.resolve("intranet.example.com", 80) == ["10.1.2.3"]
    for host in ("127.0.0.2", "10.2.0.1", "169.254.169.254", "::1", "192.168.1.1"):
        with pytest.raises(BlockedTargetError):
            await guard.resolve(host, 80)
    with pytest.raises(BlockedTargetError):
        await guard.resolve("localhost", 80)  # the name is not listed, only 127.0.0.1/32


async def test_allow_listed_v4_also_covers_its_mapped_spelling() -> None:
    guard = AddressGuard(NetPolicy.parse(["127.0.0.1"]), RESOLVER)
    assert await guard.resolve("::ffff:127.0.0.1", 80) == ["127.0.0.1"]


async def test_redirect_to_an_internal_target_is_refused_before_connecting() -> None:
    sent: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(str(request.url))
        return httpx.Response(302, headers={"Location": "http://[::ffff:169.254.169.254]/"})

    guard = AddressGuard(NetPolicy(), RESOLVER)
    client = SafeHttpClient(guard, transport=httpx.MockTransport(answer))
    with pytest.raises(BlockedTargetError, match="metadata"):
        await client.get("http://public.example.com/start")
    assert sent == ["http://public.example.com/start"]
    await client.aclose()


async def test_each_request_is_logged_on_the_httpx_logger_without_its_query(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = SafeHttpClient(
        AddressGuard(NetPolicy(), RESOLVER),
        transport=httpx.MockTransport(lambda _: httpx.Response(204)),
    )
    with caplog.at_level(logging.INFO, logger="httpx"):
        await client.get("http://public.example.com/items?api_key=s3cret")
    await client.aclose()
    lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert lines == ['HTTP Request: GET http://public.example.com/items "204"']
