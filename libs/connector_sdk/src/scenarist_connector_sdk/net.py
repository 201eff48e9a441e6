"""SSRF guard: resolve, check every address, then connect to exactly the address checked.

A URL a scenario author types can point anywhere, including the gateway's own network, so every
outgoing connection goes through :class:`AddressGuard`:

* only ``http`` and ``https``;
* IP literals in any spelling (``2130706433``, ``0x7f000001``, ``0177.0.0.1``, ``127.1``,
  ``[::ffff:127.0.0.1]``) are normalised with :mod:`ipaddress` and checked without DNS;
* names are resolved once; if ANY address is forbidden the host is refused (so a round-robin
  record can't smuggle one in), and the connection is made to a checked address, never to the
  name again, which defeats DNS rebinding;
* IPv6 forms that embed an IPv4 address (mapped, compatible, NAT64, 6to4) are judged by it.

The check runs inside the HTTP transport's network backend, so it applies to every connection
the client opens, including each redirect hop. An operator allow list (CIDRs and host names)
opens specific targets: local fakes in tests, on-prem systems in production.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from scenarist_connector_sdk import errors
from scenarist_connector_sdk.errors import BlockedTargetError

__all__ = [
    "AddressGuard",
    "IPAddress",
    "NetPolicy",
    "Resolver",
    "blocked_reason",
    "parse_ip_literal",
    "system_resolver",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]

ALLOWED_SCHEMES = frozenset({"http", "https"})

_V4_BLOCKS: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "an unspecified ('this network') address"),
    ("10.0.0.0/8", "a private (RFC 1918) address"),
    ("100.64.0.0/10", "a carrier-grade NAT (RFC 6598) address"),
    ("127.0.0.0/8", "a loopback address"),
    ("169.254.169.254/32", "the cloud metadata address"),
    ("169.254.0.0/16", "a link-local address"),
    ("172.16.0.0/12", "a private (RFC 1918) address"),
    ("192.0.0.0/24", "an IETF protocol assignment"),
    ("192.0.2.0/24", "a documentation address"),
    ("192.88.99.0/24", "a 6to4 relay anycast address"),
    ("192.168.0.0/16", "a private (RFC 1918) address"),
    ("198.18.0.0/15", "a benchmarking address"),
    ("198.51.100.0/24", "a documentation address"),
    ("203.0.113.0/24", "a documentation address"),
    ("224.0.0.0/4", "a multicast address"),
    ("255.255.255.255/32", "the broadcast address"),
    ("240.0.0.0/4", "a reserved address"),
)

_V6_BLOCKS: tuple[tuple[str, str], ...] = (
    ("::/128", "the unspecified address"),
    ("::1/128", "a loopback address"),
    ("64:ff9b:1::/48", "a local-use NAT64 address"),
    ("100::/64", "a discard-only address"),
    ("2001::/23", "an IETF special-purpose address"),
    ("2001:db8::/32", "a documentation address"),
    ("fc00::/7", "a unique-local address"),
    ("fe80::/10", "a link-local address"),
    ("fec0::/10", "a site-local address"),
    ("ff00::/8", "a multicast address"),
)

_V4_NETS = tuple((ipaddress.IPv4Network(net), why) for net, why in _V4_BLOCKS)
_V6_NETS = tuple((ipaddress.IPv6Network(net), why) for net, why in _V6_BLOCKS)
_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_COMPATIBLE = ipaddress.IPv6Network("::/96")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")


def _low_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address:
    return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)


def _blocked_v4(ip: ipaddress.IPv4Address) -> str | None:
    for net, why in _V4_NETS:
        if ip in net:
            return why
    return None if ip.is_global else "not a globally routable address"


def _embedded_v4(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, str] | None:
    if ip in _MAPPED:
        return _low_v4(ip), "IPv4-mapped IPv6"
    if ip in _NAT64:
        return _low_v4(ip), "NAT64"
    if ip.sixtofour is not None:
        return ip.sixtofour, "6to4"
    return None


def _blocked_v6(ip: ipaddress.IPv6Address) -> str | None:
    plain = ipaddress.IPv6Address(int(ip))  # drop a %scope so network membership works
    for net, why in _V6_NETS:
        if plain in net:
            return why
    embedded = _embedded_v4(plain)
    if embedded is not None:
        v4, form = embedded
        inner = _blocked_v4(v4)
        return f"{form} of {v4}, {inner}" if inner else None
    if plain in _COMPATIBLE:
        return f"an IPv4-compatible IPv6 address (deprecated) of {_low_v4(plain)}"
    return None if plain.is_global else "not a globally routable address"


def blocked_reason(ip: IPAddress) -> str | None:
    """Why connecting to ``ip`` is refused, or ``None`` if it is a public address."""
    if isinstance(ip, ipaddress.IPv4Address):
        return _blocked_v4(ip)
    return _blocked_v6(ip)


def _legacy_v4_part(part: str) -> int | None:
    try:
        if part[:2].lower() == "0x":
            return int(part[2:] or "0", 16)
        if len(part) > 1 and part.startswith("0"):
            return int(part[1:], 8)
        return int(part, 10) if part.isdigit() else None
    except ValueError:
        return None


def _legacy_v4(host: str) -> ipaddress.IPv4Address | None:
    """inet_aton's spellings: 1 to 4 parts, each decimal, 0x-hex or 0-octal, last one wide."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(parts):
        return None
    values = [_legacy_v4_part(part) for part in parts]
    if any(value is None for value in values):
        return None
    numbers = [value for value in values if value is not None]
    *head, last = numbers
    if any(value > 0xFF for value in head) or last >= 1 << (8 * (4 - len(head))):
        return None
    total = 0
    for value in head:
        total = total << 8 | value
    return ipaddress.IPv4Address(total << (8 * (4 - len(head))) | last)


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address a host part spells, in any accepted spelling; ``None`` for a name."""
    bare = host.strip("[]").rstrip(".")
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        return _legacy_v4(bare)


def _connect_address(ip: IPAddress) -> str:
    # A mapped address is the IPv4 host it names; connecting over IPv4 avoids dual-stack quirks.
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, via the operating system's resolver."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class NetPolicy:
    """The operator's allow list: networks and host names the guard lets through anyway."""

    allow_networks: tuple[IPNetwork, ...] = ()
    allow_hosts: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def parse(cls, entries: Iterable[str] | str) -> NetPolicy:
        """From settings: CIDRs or addresses (``127.0.0.1/32``) and host names, comma-separated."""
        items = entries.split(",") if isinstance(entries, str) else entries
        networks: list[IPNetwork] = []
        hosts: set[str] = set()
        for raw in (item.strip() for item in items):
            if not raw:
                continue
            try:
                networks.append(ipaddress.ip_network(raw.strip("[]"), strict=False))
            except ValueError:
                hosts.add(raw.lower().rstrip("."))
        return cls(tuple(networks), frozenset(hosts))

    def allows_host(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.allow_hosts

    def allows_address(self, ip: IPAddress) -> bool:
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip.version == net.version and ip in net for net in self.allow_networks)


class AddressGuard:
    """Decides which addresses a host may be reached at; the only way connectors reach a host."""

    def __init__(self, policy: NetPolicy | None = None, resolver: Resolver | None = None) -> None:
        self.policy = policy or NetPolicy()
        self._resolver = resolver or system_resolver

    def check_url(self, url: str) -> None:
        """Refuse a URL whose scheme is not http(s) or whose host is a forbidden IP literal."""
        parts = urlsplit(url)
        if parts.scheme.lower() not in ALLOWED_SCHEMES:
            raise BlockedTargetError(f"refused {parts.scheme or 'schemeless'} URL: only http/https")
        host = parts.hostname
        if not host:
            raise BlockedTargetError("refused URL without a host")
        literal = parse_ip_literal(host)
        if literal is not None:
            self._check(host, literal)

    async def resolve(self, host: str, port: int) -> list[str]:
        """The checked addresses to connect to for ``host``, in resolver order."""
        literal = parse_ip_literal(host)
        if literal is not None:
            return [_connect_address(self._check(host, literal))]
        name = host.lower().rstrip(".")
        if (name == "localhost" or name.endswith(".localhost")) and not self.policy.allows_host(
            name
        ):
            raise BlockedTargetError(f"refused {host}: a loopback name")
        addresses = await self._lookup(host, port)
        return [_connect_address(self._check(host, ip)) for ip in addresses]

    async def _lookup(self, host: str, port: int) -> list[IPAddress]:
        try:
            raw = await self._resolver(host, port)
        except OSError as exc:
            # Usually transient (resolver down, NXDOMAIN during a rollout): worth a retry.
            raise errors.ConnectionError(f"could not resolve {host}: {exc}") from exc
        addresses = [ip for ip in (parse_ip_literal(a) for a in raw) if ip is not None]
        if not addresses:
            raise errors.ConnectionError(f"could not resolve {host}: no addresses")
        return addresses

    def _check(self, host: str, ip: IPAddress) -> IPAddress:
        if self.policy.allows_host(host) or self.policy.allows_address(ip):
            return ip
        reason = blocked_reason(ip)
        if reason is not None:
            name = f"[{host}]" if ":" in host and not host.startswith("[") else host
            shown = name if host.strip("[]") == str(ip) else f"{name} ({ip})"
            raise BlockedTargetError(f"refused {shown}: {reason}")
        return ip
