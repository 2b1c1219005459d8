"""The app factory, the platform endpoints and the error contract (problem+json)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from typing import Any

from starlette.testclient import TestClient

from urbanos.web.app import create_app
from urbanos.web.logs import JSONFormatter

PROBLEM = "application/problem+json"


def test_two_apps_in_one_process_do_not_interfere(make_settings: Any, tmp_path: Any) -> None:
    a = create_app(make_settings(city_name="Alpha", data_dir=str(tmp_path / "a"), db=f"sqlite:///{tmp_path / 'a.db'}"))
    b = create_app(make_settings(city_name="Beta", data_dir=str(tmp_path / "b"), db=f"sqlite:///{tmp_path / 'b.db'}"))
    with TestClient(a) as ca, TestClient(b) as cb:
        h = {"Authorization": "Bearer test-admin-token-0123456789"}
        assert ca.post("/admin/tokens", json={"role": "reader", "name": "only-in-a"}, headers=h).status_code == 201
        assert [t["name"] for t in ca.get("/admin/tokens", headers=h).json()] == ["only-in-a"]
        assert cb.get("/admin/tokens", headers=h).json() == []
        assert "Alpha" in ca.get("/").text and "Beta" in cb.get("/").text
        ca.get("/healthz")
        assert 'route="/healthz"' in ca.get("/metrics").text
        assert 'route="/healthz"' not in cb.get("/metrics").text
    assert a.state.platform is not b.state.platform


def test_healthz(client: Any) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    assert r.headers["x-request-id"]


def test_request_id_is_echoed(client: Any) -> None:
    assert client.get("/healthz", headers={"X-Request-ID": "abc123"}).headers["x-request-id"] == "abc123"


def test_landing_page_links_every_api(client: Any) -> None:
    html = client.get("/").text
    for href in ("/openapi.json", "/docs", "/healthz", "/metrics"):
        assert f'href="{href}"' in html


def test_metrics_are_prometheus_text(client: Any) -> None:
    client.get("/healthz")
    text = client.get("/metrics").text
    assert "urbanos_http_requests_total" in text
    assert "urbanos_http_request_duration_seconds_bucket" in text
    assert "urbanos_db_pool" in text


def test_openapi_and_docs(client: Any) -> None:
    doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.") and "/healthz" in doc["paths"]
    assert client.get("/docs").status_code == 200


def test_unknown_path_is_problem_json(client: Any) -> None:
    r = client.get("/no/such/thing")
    assert r.status_code == 404 and r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["status"] == 404 and body["code"] == "not_found" and body["title"] == "Not Found"


def test_method_not_allowed_is_problem_json(client: Any) -> None:
    r = client.delete("/healthz")
    assert r.status_code == 405 and r.headers["content-type"] == PROBLEM


# -- bad input on a platform endpoint that takes a body -------------------------------------------

def _count_tokens(platform: Any) -> int:
    return int(platform.db.read_sync(lambda c: c.fetchval("SELECT count(*) FROM api_tokens")))


def test_malformed_json_is_400(client: Any, admin_headers: dict[str, str], platform: Any) -> None:
    r = client.post("/admin/tokens", content=b'{"role": ', headers={**admin_headers, "Content-Type": "application/json"})
    assert r.status_code == 400 and r.headers["content-type"] == PROBLEM
    assert "not valid JSON" in r.json()["detail"]
    assert _count_tokens(platform) == 0


def test_wrong_type_is_400_with_field_messages(client: Any, admin_headers: dict[str, str], platform: Any) -> None:
    r = client.post("/admin/tokens", json={"role": 5, "org": ""}, headers=admin_headers)
    assert r.status_code == 400 and r.headers["content-type"] == PROBLEM
    assert set(r.json()["errors"]) == {"role", "org"}
    assert client.post("/admin/tokens", json=["role"], headers=admin_headers).status_code == 400
    assert _count_tokens(platform) == 0


def test_oversized_body_is_413(make_settings: Any) -> None:
    app = create_app(make_settings(max_body_bytes=1000))
    with TestClient(app) as c:
        h = {"Authorization": "Bearer test-admin-token-0123456789"}
        r = c.post("/admin/tokens", content=b'{"role": "reader", "name": "' + b"x" * 2000 + b'"}', headers={**h, "Content-Type": "application/json"})
        assert r.status_code == 413 and r.headers["content-type"] == PROBLEM

        def chunks() -> Any:
            yield b'{"role": "reader", "name": "'
            for _ in range(10):
                yield b"y" * 200
            yield b'"}'

        r2 = c.post("/admin/tokens", content=chunks(), headers={**h, "Content-Type": "application/json"})
        assert r2.status_code == 413 and r2.headers["content-type"] == PROBLEM
        assert _count_tokens(app.state.platform) == 0


def test_missing_auth_is_401_and_wrong_role_403(client: Any, admin_headers: dict[str, str]) -> None:
    r = client.post("/admin/tokens", json={"role": "reader"})
    assert r.status_code == 401 and r.headers["content-type"] == PROBLEM
    assert r.headers["www-authenticate"].startswith("Bearer")
    reader = client.post("/admin/tokens", json={"role": "reader"}, headers=admin_headers).json()["token"]
    r = client.post("/admin/tokens", json={"role": "admin"}, headers={"Authorization": f"Bearer {reader}"})
    assert r.status_code == 403 and r.headers["content-type"] == PROBLEM
    r = client.get("/admin/tokens", headers={"Authorization": "Bearer uos_1_wrong"})
    assert r.status_code == 401 and "invalid_token" in r.headers["www-authenticate"]


def test_unknown_id_is_404(client: Any, admin_headers: dict[str, str]) -> None:
    r = client.delete("/admin/tokens/4242", headers=admin_headers)
    assert r.status_code == 404 and r.headers["content-type"] == PROBLEM
    assert client.delete("/admin/tokens/notanumber", headers=admin_headers).status_code == 400


def test_token_lifecycle_over_http(client: Any, admin_headers: dict[str, str]) -> None:
    created = client.post("/admin/tokens", json={"role": "publisher", "org": "mobility", "name": "bikes"}, headers=admin_headers)
    assert created.status_code == 201
    tok = created.json()["token"]
    me = client.get("/admin/whoami", headers={"Authorization": f"Bearer {tok}"}).json()
    assert me["roles"] == ["publisher:mobility"]
    assert "token" not in json.dumps(client.get("/admin/tokens", headers=admin_headers).json()).replace('"token:', "")
    assert client.delete(f"/admin/tokens/{created.json()['id']}", headers=admin_headers).status_code == 204
    assert client.get("/admin/whoami", headers={"Authorization": f"Bearer {tok}"}).status_code == 401


def test_gzip(client: Any) -> None:
    r = client.get("/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert r.headers.get("content-encoding") == "gzip"


def test_cors(make_settings: Any) -> None:
    app = create_app(make_settings(cors_origins="https://dash.city.example"))
    with TestClient(app) as c:
        # (/healthz is answered before CORS: probes are no browsers)
        r = c.get("/metrics", headers={"Origin": "https://dash.city.example"})
        assert r.headers["access-control-allow-origin"] == "https://dash.city.example"
        assert "access-control-allow-origin" not in c.get("/metrics", headers={"Origin": "https://evil.example"}).headers


def test_request_timeout_is_503_problem(make_settings: Any) -> None:
    app = create_app(make_settings(request_timeout=0.2))

    @app.get("/slow-test-route")
    async def slow() -> dict[str, str]:
        await asyncio.sleep(2)
        return {"late": "yes"}

    with TestClient(app) as c:
        r = c.get("/slow-test-route")
        assert r.status_code == 503 and r.headers["content-type"] == PROBLEM and r.headers["retry-after"]


def test_unexpected_errors_are_500_problem_without_internals(make_settings: Any) -> None:
    app = create_app(make_settings())

    @app.get("/boom-test-route")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/boom-test-route")
        assert r.status_code == 500 and r.headers["content-type"] == PROBLEM
        assert "secret internals" not in r.text


def test_logs_are_json_with_request_id_and_never_tokens(make_settings: Any) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONFormatter())
    logger = logging.getLogger("urbanos")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        app = create_app(make_settings(access_log=True))
        secret = "uos_12_SuperSecretValue"

        @app.get("/log-test-route")
        async def noisy() -> dict[str, str]:
            logging.getLogger("urbanos.test").warning("token was %s and Bearer %s", secret, secret)
            return {}

        with TestClient(app) as c:
            c.get("/log-test-route", headers={"Authorization": f"Bearer {secret}", "X-Request-ID": "rid-1"})
            c.get("/healthz", headers={"Authorization": f"Bearer {secret}"})
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    assert lines and all("ts" in x and "level" in x for x in lines)
    assert any(x.get("request_id") == "rid-1" for x in lines)
    assert "SuperSecretValue" not in stream.getvalue()


def test_nothing_is_built_at_import() -> None:
    import subprocess
    import sys

    code = (
        "import sys, urbanos.web.app, urbanos.cli.main, urbanos.plugins;"
        "import urbanos.storage.sqlite, urbanos.storage.postgres;"
        "assert not hasattr(urbanos.web.app, 'app');"
        "assert not [m for m in sys.modules if m.startswith('urbanos.') and m.endswith('.component')]"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_overload_is_shed_with_503_and_retry_after(make_settings: Any) -> None:
    import threading

    app = create_app(make_settings(max_concurrent_requests=1))
    release = threading.Event()
    entered = threading.Event()

    @app.get("/hold-test-route")
    async def hold() -> dict[str, str]:
        entered.set()
        while not release.is_set():
            await asyncio.sleep(0.01)
        return {}

    with TestClient(app) as c:
        t = threading.Thread(target=lambda: c.get("/hold-test-route"))
        t.start()
        try:
            assert entered.wait(30), "the holding request never started"
            r = c.get("/openapi.json")
            assert r.status_code == 503 and r.headers["retry-after"] == "1"
            assert r.headers["content-type"] == PROBLEM
            assert c.get("/healthz").status_code == 200  # health stays reachable
        finally:
            release.set()
            t.join()
