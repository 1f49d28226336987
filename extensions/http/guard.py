"""SSRF protection: resolve a URL's host once, classify every address, and ask RBAC before reaching a non-public one.

The address checked is the address connected to (`client.py` pins it), so a name that resolves to a
public address for the check and to 127.0.0.1 for the connection (DNS rebinding) has nothing to exploit.

RBAC resource of a non-public target: `network/<category>/<address>/<port>`, action `execute`, asked of
the run's principal through `ctx.authorize`. Categories: `loopback`, `private` (RFC 1918, carrier-grade NAT
100.64.0.0/10, IPv6 unique local), `link-local` (169.254.0.0/16 with cloud metadata services, fe80::/10),
`unspecified` (0.0.0.0, ::), `multicast`, and `reserved` (documentation, benchmarking, broadcast and
every other address that is not globally routable). A policy rule `network/loopback/*` allows every
loopback port; `network/private/10.0.0.5/443` one service.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from apps.runners.sdk import Authorizer, PermanentError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

SCHEMES = {"http": 80, "https": 443}
_PRIVATE = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                                     "100.64.0.0/10", "fc00::/7"))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class NetworkRefused(PermanentError):
    """The target is not public and no policy lets the run's principal reach it, or the URL cannot be used at all."""

    code = "network_refused"


@dataclass(frozen=True)
class Target:
    """Where a request goes: the URL as asked, and the checked addresses the connection may use, in order."""

    url: httpx.URL
    host: str
    port: int
    addresses: tuple[IPAddress, ...]


def network_resource(category: str, address: IPAddress, port: int) -> str:
    return f"network/{category}/{address.compressed}/{port}"


def address_category(address: IPAddress) -> str | None:
    """The category of a non-public address, or None for a globally routable one.

    IPv6 forms that carry an IPv4 address (mapped, 6to4, Teredo, NAT64) are judged by the address they
    carry: `::ffff:127.0.0.1` is loopback however it is written.
    """
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        inner = address_category(embedded)
        if inner is not None:
            return inner
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if any(address in network for network in _PRIVATE):
        return "private"
    if not address.is_global or address.is_reserved:
        return "reserved"
    return None


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def system_resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host` (once; the caller connects to one of these)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise NetworkRefused(f"cannot resolve {host}: {exc.strerror}") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def target_check(url: httpx.URL, *, authorize: Authorizer, resolve: Resolver = system_resolve) -> Target:
    """Resolve `url`'s host once and return the addresses to connect to, or raise NetworkRefused.

    Every resolved address must be allowed, not just the first: a name that answers with a public and a
    private address is refused unless the private one is allowed too.
    """
    if url.scheme not in SCHEMES:
        raise NetworkRefused(f"scheme '{url.scheme}' is not allowed (use http or https)")
    host = url.host
    if not host:
        raise NetworkRefused("the URL has no host")
    port = url.port or SCHEMES[url.scheme]
    addresses = [_parse(text) for text in ([host] if _is_literal(host) else resolve(host, port))]
    if not addresses:
        raise NetworkRefused(f"{host} resolved to no address")
    for address in addresses:
        _check(address, port, authorize=authorize, host=host)
    return Target(url=url, host=host, port=port, addresses=tuple(addresses))


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _parse(text: str) -> IPAddress:
    address = ipaddress.ip_address(text)
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
        raise NetworkRefused(f"scoped IPv6 address {text} is not allowed")
    return address


def _check(address: IPAddress, port: int, *, authorize: Authorizer, host: str) -> None:
    category = address_category(address)
    if category is None:
        return
    resource = network_resource(category, address, port)
    if not authorize("execute", resource):
        raise NetworkRefused(f"{host} is {category} ({address.compressed}); refused without a policy allowing "
                             f"execute on {resource}")
