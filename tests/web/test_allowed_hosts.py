"""Links are built from the Host header when base_url is empty, so a request naming a host that is not in
``allowed_hosts`` is refused (400) before any link is built from it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from urbanos.plugins import settings_registry

DEFAULT_HOSTS = ["127.0.0.1", "localhost", "[::1]"]


@pytest.fixture
def serve(make_settings: Callable[..., Any]) -> Iterator[Callable[..., TestClient]]:
    apps: list[Any] = []
    clients: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        from urbanos.web.app import create_app

        app = create_app(make_settings(**overrides))
        apps.append(app)
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.__exit__(None, None, None)
    for a in apps:
        a.state.platform.close()


def test_the_default_serves_the_local_names_only() -> None:
    from urbanos.web.security import HostPolicy

    assert settings_registry()["allowed_hosts"].default == DEFAULT_HOSTS
    policy = HostPolicy(DEFAULT_HOSTS)
    for ok in ("127.0.0.1", "127.0.0.1:8000", "localhost", "LOCALHOST:80", "localhost.", "[::1]", "[::1]:8000"):
        assert policy.problem(ok) is None, ok
    for bad in ("evil.example", "evil.example:8000", "127.0.0.2", "localhost.evil.example", "[::2]", "testserver"):
        assert "allowed_hosts" in (policy.problem(bad) or ""), bad
    assert policy.problem(None) is None  # HTTP/1.0 without Host: links come from the server's own address


def test_names_wildcards_and_base_url() -> None:
    from urbanos.web.security import HostPolicy, split_host

    policy = HostPolicy(["data.city.example", "*.city.example"], "https://portal.other.example:8443/x")
    for ok in ("data.city.example", "maps.city.example:443", "a.b.city.example", "portal.other.example"):
        assert policy.problem(ok) is None, ok
    for bad in ("city.example", "evilcity.example", "other.example", "data.city.example.evil"):
        assert policy.problem(bad) is not None, bad
    anything = HostPolicy(["*"])
    assert anything.problem("whatever.example:1") is None
    for malformed in ("evil.example/path", "a b", "evil.example:port", "user@evil.example", "", "[::1", "evil.example:123456"):
        assert "not a valid host name" in (anything.problem(malformed) or ""), malformed
    assert split_host("Data.City.Example.:8080") == ("data.city.example", "8080")


def test_a_forged_host_is_refused_before_links_are_built(serve: Callable[..., TestClient]) -> None:
    c = serve(allowed_hosts=DEFAULT_HOSTS)
    r = c.get("/sta/v1.1", headers={"host": "evil.example"})
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == "host_not_allowed" and "allowed_hosts" in body["detail"]
    assert "http://evil.example" not in r.text
    for path in ("/", "/ogcapi/?f=html", "/ogcapi/collections", "/api/3/action/package_list", "/datasets", "/docs",
                 "/no/such/page"):
        assert c.get(path, headers={"host": "evil.example:8000"}).status_code == 400, path
    # the default names are served, and links follow them
    r = c.get("/sta/v1.1", headers={"host": "localhost:8000"})
    assert r.status_code == 200
    assert r.json()["value"][0]["url"].startswith("http://localhost:8000/sta/v1.1/")
    # the operations endpoints answer whatever Host a probe or scraper sends (they build no links)
    assert c.get("/healthz", headers={"host": "10.1.2.3:8000"}).status_code == 200
    assert c.get("/metrics", headers={"host": "10.1.2.3:8000"}).status_code == 200


def test_base_url_host_is_allowed_and_links_use_base_url(serve: Callable[..., TestClient]) -> None:
    c = serve(allowed_hosts=DEFAULT_HOSTS, base_url="https://data.city.example")
    r = c.get("/sta/v1.1", headers={"host": "data.city.example"})
    assert r.status_code == 200 and r.json()["value"][0]["url"].startswith("https://data.city.example/sta/v1.1/")
    assert c.get("/sta/v1.1", headers={"host": "evil.example"}).status_code == 400


def test_star_allows_any_host_for_development(serve: Callable[..., TestClient]) -> None:
    c = serve(allowed_hosts="*")
    r = c.get("/sta/v1.1", headers={"host": "dev.box:9000"})
    assert r.status_code == 200 and r.json()["value"][0]["url"].startswith("http://dev.box:9000/")
    assert c.get("/sta/v1.1", headers={"host": "evil.example/x?"}).status_code == 400  # malformed still refused


def test_websockets_check_the_host_too(serve: Callable[..., TestClient]) -> None:
    from starlette.websockets import WebSocketDisconnect

    c = serve(allowed_hosts=DEFAULT_HOSTS)
    if not any(getattr(r, "path", None) == "/mqtt" for r in c.app.routes):  # type: ignore[attr-defined]
        pytest.skip("no websocket endpoint is mounted")
    with c.websocket_connect("/mqtt", headers={"host": "localhost"}, subprotocols=["mqtt"]) as ws:
        assert ws.accepted_subprotocol == "mqtt"
    with pytest.raises(WebSocketDisconnect), c.websocket_connect("/mqtt", headers={"host": "evil.example"},
                                                                  subprotocols=["mqtt"]):
        pass


def test_a_live_server_refuses_a_forged_host(live_server: Any) -> None:
    r = httpx.get(live_server.url + "/sta/v1.1", headers={"Host": "evil.example"}, timeout=30)
    assert r.status_code == 400 and "allowed_hosts" in r.text and "evil.example/sta" not in r.text
    ok = httpx.get(live_server.url + "/sta/v1.1", timeout=30)
    assert ok.status_code == 200 and ok.json()["value"][0]["url"].startswith(live_server.url)


def test_listening_beyond_this_machine_with_local_names_only_is_warned(serve: Callable[..., TestClient],
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="urbanos"):
        serve(host="0.0.0.0", allowed_hosts=DEFAULT_HOSTS)
    assert any("allowed_hosts" in r.getMessage() and "0.0.0.0" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level("WARNING", logger="urbanos"):
        serve(host="0.0.0.0", allowed_hosts=DEFAULT_HOSTS, base_url="https://data.city.example")
        serve(host="127.0.0.1", allowed_hosts=DEFAULT_HOSTS)
    assert not any("allowed_hosts" in r.getMessage() for r in caplog.records)
