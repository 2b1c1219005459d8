"""Which addresses the platform may fetch from: public (globally routable) addresses, and the IPv4 addresses
that IPv6 forms embed. Used by the outbound-fetch policy (:mod:`urbanos.governance.outbound`)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[str]]
"""``resolver(host, port)`` → the addresses ``host`` resolves to, as text (blocking)."""

_SHARED = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598 shared address space (carrier-grade NAT)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052 well-known NAT64 prefix
_V4_COMPAT = ipaddress.ip_network("::/96")  # deprecated IPv4-compatible IPv6 addresses


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses of ``host`` from the system resolver (``socket.getaddrinfo``), in its order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (6to4, Teredo client, NAT64, IPv4-compatible), if any."""
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64 or (ip in _V4_COMPAT and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(ip: IPAddress) -> bool:
    """True for a globally routable unicast address (and for IPv6 forms that embed one)."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return is_public(ip.ipv4_mapped)
        if ip.scope_id or ip.is_site_local:
            return False
        inner = _embedded_v4(ip)
        if inner is not None and not is_public(inner):
            return False
        if ip in _NAT64:  # judged by the IPv4 address it carries (DNS64 answers for IPv4-only hosts)
            return inner is not None
    elif ip in _SHARED:
        return False
    return bool(ip.is_global) and not (ip.is_multicast or ip.is_private or ip.is_loopback or ip.is_link_local
                                       or ip.is_reserved or ip.is_unspecified)


def parse_ip(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def host_key(host: str) -> str:
    return host.strip().rstrip(".").lower()


__all__ = ["IPAddress", "IPNetwork", "Resolver", "system_resolver", "is_public", "parse_ip", "host_key"]
