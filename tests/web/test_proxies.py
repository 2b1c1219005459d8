"""X-Forwarded-Proto, -For and -Host are believed only from ``trusted_proxies``; the portal's sign-in cookie is
Secure when the request came over https (as a trusted proxy says) or base_url is https, and always HttpOnly and
SameSite."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from tests.conftest import ADMIN_TOKEN
from urbanos.errors import ConfigError

FORWARDED = {"x-forwarded-proto": "https", "x-forwarded-host": "data.city.example", "x-forwarded-for": "198.51.100.7"}


@pytest.fixture
def serve(make_settings: Callable[..., Any]) -> Iterator[Callable[..., TestClient]]:
    apps: list[Any] = []
    clients: list[TestClient] = []

    def make(peer: str = "testclient", **overrides: Any) -> TestClient:
        from urbanos.web.app import create_app

        app = create_app(make_settings(**overrides))
        apps.append(app)
        client = TestClient(app, raise_server_exceptions=False, client=(peer, 50000), follow_redirects=False)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.__exit__(None, None, None)
    for a in apps:
        a.state.platform.close()


def _session_cookie(get: Callable[..., Any], post: Callable[..., Any], headers: dict[str, str]) -> str:
    """Sign in to the portal with the admin token; the Set-Cookie header of the session cookie."""
    page = get("/signin", headers=headers)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf, page.text[:300]
    r = post("/signin", data={"csrf": csrf.group(1), "token": ADMIN_TOKEN, "next": "/"},
             headers={**headers, "cookie": f"urbanos_portal_csrf={csrf.group(1)}"})
    assert r.status_code == 303, r.text
    return next(v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith("urbanos_portal_token="))


def _flags(cookie: str) -> set[str]:
    return {part.strip().lower() for part in cookie.split(";")[1:]}


def test_forwarded_headers_from_a_trusted_proxy_are_applied(serve: Callable[..., TestClient]) -> None:
    c = serve("10.0.0.5", trusted_proxies="10.0.0.0/8", allowed_hosts="data.city.example")
    r = c.get("/sta/v1.1", headers=FORWARDED)
    assert r.status_code == 200, r.text
    assert r.json()["value"][0]["url"].startswith("https://data.city.example/sta/v1.1/")
    cookie = _session_cookie(c.get, c.post, FORWARDED)
    assert {"secure", "httponly", "samesite=strict", "path=/"} <= _flags(cookie)
    # the forwarded host is checked like any Host
    assert c.get("/sta/v1.1", headers={**FORWARDED, "x-forwarded-host": "evil.example"}).status_code == 400


def test_forwarded_headers_from_anyone_else_are_ignored(serve: Callable[..., TestClient]) -> None:
    c = serve("192.0.2.7", trusted_proxies="10.0.0.0/8")
    r = c.get("/sta/v1.1", headers=FORWARDED)
    assert r.status_code == 200 and r.json()["value"][0]["url"].startswith("http://testserver/sta/v1.1/")
    cookie = _session_cookie(c.get, c.post, FORWARDED)
    assert "secure" not in _flags(cookie) and {"httponly", "samesite=strict"} <= _flags(cookie)
    # nobody is trusted by default
    d = serve("127.0.0.1")
    assert d.get("/sta/v1.1", headers=FORWARDED).json()["value"][0]["url"].startswith("http://testserver/")


def test_an_https_base_url_makes_the_cookie_secure_over_plain_http(serve: Callable[..., TestClient]) -> None:
    c = serve(base_url="https://data.city.example")
    cookie = _session_cookie(c.get, c.post, {})
    assert {"secure", "httponly", "samesite=strict"} <= _flags(cookie)
    csrf = next(v for k, v in c.get("/signin", headers={"cookie": ""}).headers.multi_items()
                if k == "set-cookie" and v.startswith("urbanos_portal_csrf="))
    assert {"secure", "httponly"} <= _flags(csrf)


def test_the_client_address_is_the_nearest_one_not_a_proxy() -> None:
    from urbanos.web.security import ProxyPolicy

    policy = ProxyPolicy(["10.0.0.0/8", "2001:db8::/32", "192.0.2.1"])

    def apply(peer: str, headers: dict[str, str], kind: str = "http") -> dict[str, Any]:
        scope: dict[str, Any] = {"type": kind, "scheme": "ws" if kind == "websocket" else "http", "client": (peer, 1),
                                 "headers": [(b"host", b"internal:8000")] + [(k.encode(), v.encode()) for k, v in headers.items()]}
        policy.apply(scope)
        return scope

    s = apply("10.0.0.5", {"x-forwarded-for": "203.0.113.9, 198.51.100.7, 10.1.1.1", "x-forwarded-proto": "https"})
    assert s["client"] == ("198.51.100.7", 0) and s["scheme"] == "https"  # the forged first hop is not believed
    s = apply("192.0.2.1", {"x-forwarded-for": "10.2.2.2, 10.3.3.3"})
    assert s["client"] == ("10.2.2.2", 0)  # only proxies: the first one
    s = apply("::ffff:10.0.0.9", {"x-forwarded-host": "a.example, data.city.example"})
    assert dict(s["headers"])[b"host"] == b"data.city.example"
    s = apply("2001:db8::1", {"x-forwarded-proto": "https"}, "websocket")
    assert s["scheme"] == "wss"
    s = apply("203.0.113.9", {"x-forwarded-for": "1.2.3.4", "x-forwarded-proto": "https", "x-forwarded-host": "x"})
    assert s["client"] == ("203.0.113.9", 1) and s["scheme"] == "http" and dict(s["headers"])[b"host"] == b"internal:8000"
    s = apply("10.0.0.5", {"x-forwarded-proto": "gopher"})
    assert s["scheme"] == "http"
    with pytest.raises(ConfigError, match="trusted_proxies"):
        ProxyPolicy(["10.0.0.0/33"])


def test_a_live_server_believes_forwarded_headers_only_from_trusted_proxies(db_url: str,
                                                                             server_factory: Callable[..., Any]) -> None:
    plain = server_factory(db_url)
    r = httpx.get(plain.url + "/sta/v1.1", headers={"X-Forwarded-Proto": "https"}, timeout=30)
    assert r.json()["value"][0]["url"].startswith(plain.url)  # a local peer is not a proxy unless configured
    with httpx.Client(base_url=plain.url, timeout=30, follow_redirects=False) as h:
        assert "secure" not in _flags(_session_cookie(h.get, h.post, {"X-Forwarded-Proto": "https"}))
    proxied = server_factory(db_url, env={"URBANOS_TRUSTED_PROXIES": "127.0.0.1"})
    r = httpx.get(proxied.url + "/sta/v1.1", headers={"X-Forwarded-Proto": "https"}, timeout=30)
    assert r.json()["value"][0]["url"].startswith(proxied.url.replace("http://", "https://"))
    with httpx.Client(base_url=proxied.url, timeout=30, follow_redirects=False) as h:
        assert "secure" in _flags(_session_cookie(h.get, h.post, {"X-Forwarded-Proto": "https"}))
