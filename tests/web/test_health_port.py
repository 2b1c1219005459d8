"""The health listener of its own (setting ``health_port``): /healthz and /readyz answered in a thread outside the
event loop from the readiness state the process keeps fresh; a failing or stale state is 503 naming the reason;
everything else 404; the port is freed on shutdown. ``--workers 2`` with it: tests/cli/test_workers.py."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from tests.conftest import free_port
from urbanos.errors import ConfigError
from urbanos.storage import DISK_FULL
from urbanos.web.app import create_app
from urbanos.web.probes import ProbeServer


def _until(check: Callable[[], httpx.Response], want: Callable[[httpx.Response], bool], limit: float = 10.0) -> httpx.Response:
    deadline = time.monotonic() + limit
    while True:
        r = check()
        if want(r) or time.monotonic() > deadline:
            return r
        time.sleep(0.1)


def _raw(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        out = b""
        while chunk := s.recv(4096):
            out += chunk
    return out


def test_the_health_listener_answers_from_the_readiness_state(make_settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    app = create_app(make_settings(health_port=port))
    url = f"http://127.0.0.1:{port}"
    db = app.state.platform.db
    with TestClient(app):
        alive = httpx.get(url + "/healthz", timeout=5)
        assert alive.status_code == 200 and alive.headers["cache-control"] == "no-store"
        assert alive.json()["status"] == "ok" and alive.json()["database"] == db.dialect.name
        ready = _until(lambda: httpx.get(url + "/readyz", timeout=5), lambda r: r.status_code == 200)
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["database"]["status"] == "ok" and ready.json()["checked_seconds_ago"] < 5
        # everything else: 404; other methods 405; HEAD has no body; what is not HTTP 400
        for path in ("/", "/metrics", "/sta/v1.1", "/healthz/x", "/readyz.json"):
            r = httpx.get(url + path, timeout=5)
            assert r.status_code == 404 and r.json()["status"] == "error", path
        r = httpx.post(url + "/readyz", json={}, timeout=5)
        assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD"
        head = httpx.head(url + "/healthz", timeout=5)
        assert head.status_code == 200 and head.content == b""
        assert _raw(port, b"\x16\x03\x01 hello\r\n\r\n").startswith(b"HTTP/1.1 400 ")
        assert _raw(port, b"GET /healthz?probe=1 HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.1 200 ")
        assert _raw(port, b"").startswith(b"HTTP/1.1 400 ")  # closed without a request
        # a storage failure reaches the listener through the next readiness check: 503 naming it, then recovery
        db.condition.failed(DISK_FULL)
        full = _until(lambda: httpx.get(url + "/readyz", timeout=5), lambda r: r.status_code == 503)
        assert full.status_code == 503 and full.json()["checks"]["storage"]["reason"] == DISK_FULL, full.text
        assert httpx.get(url + "/healthz", timeout=5).status_code == 200  # alive: no restart would help
        db.condition.succeeded(wrote=True)
        assert _until(lambda: httpx.get(url + "/readyz", timeout=5), lambda r: r.status_code == 200).status_code == 200
        # a database that does not answer within the check's 1 s timeout: database_down
        monkeypatch.setattr(db, "probe", lambda: time.sleep(1.5) or {})
        down = _until(lambda: httpx.get(url + "/readyz", timeout=5), lambda r: r.status_code == 503)
        assert down.json()["checks"]["database"]["reason"] == "database_down", down.text
        monkeypatch.undo()
        # no fresh check (the task that keeps the state fresh stopped, say a stuck loop): 503, not the old answer
        health = app.state.health
        health.task.cancel()
        health.state.at -= 60
        stale = httpx.get(url + "/readyz", timeout=5)
        assert stale.status_code == 503 and stale.json()["reason"] == "no_fresh_readiness", stale.text
    # stopped with the app: the port is free again (for a server binding as servers do: SO_REUSEADDR, as the
    # connections the listener closed linger in TIME_WAIT)
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(1)
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/healthz", timeout=2)


def test_a_taken_health_port_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        with pytest.raises(ConfigError) as err:
            ProbeServer("127.0.0.1", taken.getsockname()[1], lambda path: (200, b"{}"))
    assert "health_port" in str(err.value) and "Fix:" in str(err.value)


def test_the_main_port_healthz_skips_the_rest_of_the_stack(client: Any) -> None:
    """GET /healthz is answered by the outer middleware from memory: the request id, the security headers and the
    metrics stay; the host rules and the router do not apply."""
    r = client.get("/healthz", headers={"X-Request-ID": "probe-1", "Host": "10.0.0.9"})
    assert r.status_code == 200 and r.headers["x-request-id"] == "probe-1"
    assert r.headers["content-security-policy"].startswith("default-src 'none'")
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["cache-control"] == "no-store"
    assert r.json()["status"] == "ok"
    assert 'route="/healthz"' in client.get("/metrics").text


def test_the_supervisor_answers_for_its_workers() -> None:
    """What the parent of ``--workers N`` answers from its workers' slots: ready while one live worker has a fresh
    successful check; else 503 naming why (a dead worker, no fresh check, a failing check)."""
    import json
    import multiprocessing
    import os

    from urbanos.web.probes import SharedReadiness, WorkersHealth

    ctx = multiprocessing.get_context("spawn")
    slots = [ctx.Array("c", 4096) for _ in range(2)]
    workers: dict[int, tuple[int | None, bool, Any]] = {0: (os.getpid(), True, slots[0]), 1: (4242, False, slots[1])}
    health = WorkersHealth(lambda: workers)
    status, body = health.answer("/healthz")
    assert status == 200 and [w["alive"] for w in json.loads(body)["workers"]] == [True, False]
    status, body = health.answer("/readyz")  # nothing written yet
    assert status == 503 and json.loads(body)["reasons"] == ["no_fresh_readiness", "worker_down"]
    SharedReadiness(slots[0]).record({"status": "error", "checks": {"storage": {"status": "error", "reason": "disk_full",
                                                                                "message": "x" * 5000}}})
    status, body = health.answer("/readyz")  # a long message is cut, the reason kept
    assert status == 503 and "disk_full" in json.loads(body)["reasons"]
    SharedReadiness(slots[0]).record({"status": "ok", "checks": {"database": {"status": "ok"}}})
    status, body = health.answer("/readyz")
    assert status == 200 and json.loads(body)["ready_workers"] == 1
    workers[0] = (os.getpid() + 1, True, slots[0])  # a worker started again: the slot is its predecessor's
    assert health.answer("/readyz")[0] == 503
