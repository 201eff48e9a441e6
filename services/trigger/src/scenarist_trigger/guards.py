"""Who may call a webhook and how often: IP allow lists and a per-webhook token bucket.

The caller's address is the socket peer. X-Forwarded-For is believed only when the peer is a
configured trusted proxy, and then read from the right, skipping further trusted proxies, so a
client cannot prepend a forged address.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_networks(cidrs: Sequence[str]) -> tuple[Network, ...]:
    """Raises ValueError naming the first invalid entry."""
    networks = []
    for cidr in cidrs:
        try:
            networks.append(ipaddress.ip_network(cidr.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{cidr!r} is not an IP address or CIDR range") from None
    return tuple(networks)


def parse_address(text: str | None) -> Address | None:
    if not text:
        return None
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # "::ffff:203.0.113.9" is 203.0.113.9 for the allow list
    return address


def allowed(address: Address | None, networks: Sequence[Network]) -> bool:
    if not networks:
        return True
    return address is not None and any(address in network for network in networks)


def client_address(
    peer: str | None, forwarded_for: str | None, trusted: Sequence[Network]
) -> Address | None:
    address = parse_address(peer)
    if address is None or not forwarded_for or not allowed(address, trusted) or not trusted:
        return address
    for hop in reversed(forwarded_for.split(",")[-20:]):
        hop_address = parse_address(hop)
        if hop_address is None:
            return address  # garbage in the chain: stop at the last hop we could vouch for
        if not allowed(hop_address, trusted):
            return hop_address
        address = hop_address
    return address


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets per key (webhook id), in process memory; least recently used buckets are
    dropped beyond `max_keys` (a dropped bucket restarts full, which only ever errs towards
    accepting)."""

    def __init__(
        self, *, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._max_keys = max_keys
        self._clock = clock

    def acquire(self, key: str, per_minute: int) -> float:
        """0 if a request may pass now, else the seconds until one may."""
        now = self._clock()
        rate = per_minute / 60.0
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(float(per_minute), now)
            self._buckets[key] = bucket
            if len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            bucket.tokens = min(float(per_minute), bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / rate


def retry_after_header(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
