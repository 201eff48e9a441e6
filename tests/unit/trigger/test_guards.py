"""IP allow lists (CIDR, IPv6, mapped IPv4, trusted proxies) and the token bucket."""

from __future__ import annotations

import pytest
from scenarist_trigger.guards import (
    RateLimiter,
    allowed,
    client_address,
    parse_address,
    parse_networks,
    retry_after_header,
)

NETS = parse_networks(["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"])


@pytest.mark.parametrize(
    ("address", "ok"),
    [
        ("203.0.113.9", True),
        ("203.0.114.1", False),
        ("2001:db8::1", True),
        ("2001:db9::1", False),
        ("::ffff:203.0.113.5", True),
        ("198.51.100.7", True),
        ("198.51.100.8", False),
        ("not an ip", False),
        (None, False),
    ],
)
def test_allow_list(address: str | None, ok: bool) -> None:
    assert allowed(parse_address(address), NETS) is ok


def test_empty_allow_list_allows_everyone() -> None:
    assert allowed(None, ())


def test_invalid_cidr_is_named() -> None:
    with pytest.raises(ValueError, match=r"10\.0\.0\.0/33"):
        parse_networks(["10.0.0.0/8", "10.0.0.0/33"])


def test_forwarded_for_needs_a_trusted_peer() -> None:
    proxies = parse_networks(["10.0.0.0/8"])
    forged = "203.0.113.9"
    assert str(client_address("192.0.2.1", forged, proxies)) == "192.0.2.1"
    assert str(client_address("192.0.2.1", forged, ())) == "192.0.2.1"
    assert str(client_address("10.1.1.1", forged, proxies)) == forged
    # The client prepends a forged hop: the right-most untrusted one is the caller.
    chain = "203.0.113.9, 192.0.2.50, 10.2.2.2"
    assert str(client_address("10.1.1.1", chain, proxies)) == "192.0.2.50"
    assert str(client_address("10.1.1.1", "garbage", proxies)) == "10.1.1.1"


def test_token_bucket_refills_and_reports_wait() -> None:
    now = [100.0]
    limiter = RateLimiter(clock=lambda: now[0])
    assert [limiter.acquire("w", 2) for _ in range(2)] == [0.0, 0.0]
    wait = limiter.acquire("w", 2)
    assert 29 < wait <= 30 and retry_after_header(wait) == "30"
    assert limiter.acquire("other", 2) == 0.0
    now[0] += 30
    assert limiter.acquire("w", 2) == 0.0


def test_bucket_memory_is_bounded() -> None:
    limiter = RateLimiter(max_keys=3)
    for n in range(10):
        limiter.acquire(str(n), 1)
    assert len(limiter._buckets) == 3
