"""What the platform middleware enforces on every request and response: the Host a request may name, the
proxies whose X-Forwarded-* headers are believed, and the headers a browser needs to keep pages inert.

* :class:`HostPolicy` (setting ``allowed_hosts``): links are built from the request's Host header when
  ``base_url`` is empty, so a forged Host would poison them (and any cache in front); such a request is a 400.
* :class:`ProxyPolicy` (setting ``trusted_proxies``): X-Forwarded-Proto, X-Forwarded-For and X-Forwarded-Host
  are applied to the request only when the connection comes from one of these addresses or networks. uvicorn's
  own handling of these headers is off (``urbanos serve`` starts it with ``proxy_headers=False``), so this is
  the one place that decides.
* :func:`page_policy` and :func:`response_headers`: a Content-Security-Policy without inline script on every
  HTML page (pages load their scripts from ``/static`` and ``/portal/static`` and pass data in JSON data
  blocks or ``data-`` attributes), a policy that allows nothing on every other response, and
  ``X-Content-Type-Options``, ``X-Frame-Options`` and ``Referrer-Policy`` everywhere.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from urbanos.errors import ConfigError

# -- Host ----------------------------------------------------------------------------------------------------

_HOST_RE = re.compile(
    r"^(?P<name>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_](?:[A-Za-z0-9\-_.]*[A-Za-z0-9_])?\.?)(?::(?P<port>[0-9]{1,5}))?$"
)


def split_host(value: str) -> tuple[str, str] | None:
    """(host name in lower case without a final dot, port or "") of a Host header value, or None if malformed."""
    m = _HOST_RE.match(value)
    if m is None:
        return None
    name = m.group("name").lower()
    if name.endswith(".") and not name.startswith("["):
        name = name[:-1]
    return name, m.group("port") or ""


class HostPolicy:
    """Which Host header values a request may carry."""

    def __init__(self, allowed: Iterable[str], base_url: str = "") -> None:
        names = [str(a).strip().lower() for a in allowed if str(a).strip()]
        if base_url:
            host = urlsplit(base_url).hostname
            if host:
                names.append(f"[{host}]" if ":" in host else host)
        self.any = "*" in names
        self.exact = {n.rstrip(".") for n in names if not n.startswith("*.")}
        self.suffixes = tuple(n[1:].rstrip(".") for n in names if n.startswith("*.") and len(n) > 2)

    def allows(self, name: str) -> bool:
        return self.any or name in self.exact or any(name.endswith(s) for s in self.suffixes)

    def problem(self, value: str | None) -> str | None:
        """Why a request with this Host header is refused, or None when it is served."""
        if value is None:  # HTTP/1.0 without Host: links come from the server's own address
            return None
        parts = split_host(value)
        if parts is None:
            return (f"The Host header {value[:100]!r} is not a valid host name. Send the server's name, or set base_url "
                    "and allowed_hosts (URBANOS_ALLOWED_HOSTS).")
        if not self.allows(parts[0]):
            return (f"The host {parts[0][:100]!r} is not served here: it is not in the setting allowed_hosts "
                    "(URBANOS_ALLOWED_HOSTS). Fix: add it to allowed_hosts, or set base_url to the public address.")
        return None


# -- proxies -------------------------------------------------------------------------------------------------

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ProxyPolicy:
    """Believe X-Forwarded-* only from the given proxies."""

    def __init__(self, trusted: Iterable[str]) -> None:
        self.networks: list[Network] = []
        for item in trusted:
            text = str(item).strip()
            if not text:
                continue
            try:
                self.networks.append(ipaddress.ip_network(text.strip("[]"), strict=False))
            except ValueError:
                raise ConfigError(
                    f"setting trusted_proxies: {text!r} is not an IP address or network. "
                    "Fix: list addresses or CIDR networks, e.g. 10.0.0.5,172.16.0.0/12."
                ) from None

    def trusts(self, address: str | None) -> bool:
        if not address or not self.networks:
            return False
        try:
            ip = ipaddress.ip_address(address.strip("[]"))
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in n for n in self.networks)

    def apply(self, scope: MutableMapping[str, Any]) -> None:
        """Rewrite scheme, client and Host of ``scope`` from the forwarded headers when its peer is trusted."""
        client = scope.get("client")
        peer = client[0] if client else None
        if not self.trusts(peer if isinstance(peer, str) else None):
            return
        headers: list[tuple[bytes, bytes]] = list(scope.get("headers") or [])
        found: dict[bytes, str] = {}
        for k, v in headers:
            if k in (b"x-forwarded-proto", b"x-forwarded-for", b"x-forwarded-host"):
                found[k] = (found[k] + "," if k in found else "") + v.decode("latin-1")
        proto = _last(found.get(b"x-forwarded-proto")).lower()
        if proto in ("http", "https"):
            if scope.get("type") == "websocket":
                scope["scheme"] = "wss" if proto == "https" else "ws"
            else:
                scope["scheme"] = proto
        hops = [h.strip() for h in (found.get(b"x-forwarded-for") or "").split(",") if h.strip()]
        if hops:
            # the nearest address that is not a trusted proxy is the client (the ones before it may be forged)
            chosen = hops[0]
            for hop in reversed(hops):
                if not self.trusts(hop):
                    chosen = hop
                    break
            scope["client"] = (chosen, 0)
        host = _last(found.get(b"x-forwarded-host"))
        if host:
            scope["headers"] = [(k, v) for k, v in headers if k != b"host"] + [(b"host", host.encode("latin-1"))]


def _last(value: str | None) -> str:
    if not value:
        return ""
    return value.split(",")[-1].strip()


# -- response headers ----------------------------------------------------------------------------------------

def tile_source(template: str) -> str | None:
    """The CSP source of a map tile URL template (``{s}`` in the first label of the host becomes ``*``), or None
    when the tiles come from this site."""
    if not template:
        return None
    parts = urlsplit(template)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    host = parts.netloc.rsplit("@", 1)[-1]
    labels = host.split(".")
    if "{" in labels[0] and "}" in labels[0]:
        labels[0] = "*"
    if any("{" in label or "}" in label for label in labels):
        return f"{parts.scheme}:"
    return f"{parts.scheme}://{'.'.join(labels)}"


def page_policy(tile_templates: Iterable[str] = ()) -> str:
    """The Content-Security-Policy of HTML pages: scripts, styles, fetches, fonts from this site only (no inline
    script, style element or style attribute); images from this site, ``data:`` URLs (Swagger UI's icons) and the
    configured tile servers; no plugins, no framing, forms and ``<base>`` to this site only."""
    tiles = sorted({s for s in (tile_source(t) for t in tile_templates) if s})
    directives = [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src " + " ".join(["'self'", "data:", *tiles]),
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


OTHER_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

_ALWAYS = ((b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
           (b"referrer-policy", b"strict-origin-when-cross-origin"))


def response_headers(headers: list[tuple[bytes, bytes]], html_policy: bytes) -> list[tuple[bytes, bytes]]:
    """``headers`` of a response with the security headers it lacks: the page policy on HTML, the policy that
    allows nothing on anything else (JSON, CSV, files), and the ones every response gets. A header the route set
    itself (say, a page's own policy) is kept."""
    present = {k.lower() for k, _ in headers}
    out = list(headers)
    if b"content-security-policy" not in present:
        ctype = next((v for k, v in headers if k.lower() == b"content-type"), b"")
        out.append((b"content-security-policy", html_policy if ctype.lower().startswith(b"text/html") else OTHER_POLICY.encode()))
    out.extend((k, v) for k, v in _ALWAYS if k not in present)
    return out


__all__ = ["HostPolicy", "ProxyPolicy", "split_host", "tile_source", "page_policy", "response_headers", "OTHER_POLICY"]
