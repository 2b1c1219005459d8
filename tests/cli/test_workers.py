"""``urbanos serve --workers N``: several server processes on one port agree on writes, MQTT notifications, tokens,
catalogue search and usage counts; the bus that crosses processes is chosen (or its absence refused) for them."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from tests.conftest import ADMIN_TOKEN, BACKEND, free_port, settings_for, start_server
from tests.sensing_mqtt.mqttc import Client
from tests.sensing_mqtt.test_scaleout import STATION

H = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
REDIS = "redis://127.0.0.1:6379/0"


def _redis() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=2):
            return True
    except OSError:
        return False


def test_the_bus_is_chosen_for_the_workers_or_refused(tmp_path: Path) -> None:
    from urbanos.cli.workers import worker_settings
    from urbanos.errors import ConfigError

    sqlite = settings_for(tmp_path, f"sqlite:///{tmp_path / 'w.db'}")
    assert worker_settings(sqlite, 1) is sqlite  # one process: whatever bus
    with pytest.raises(ConfigError) as err:
        worker_settings(sqlite, 2)
    assert "redis://" in str(err.value) and "PostgreSQL" in str(err.value)
    assert worker_settings(sqlite.replace(bus=REDIS), 2).bus == REDIS
    pg = settings_for(tmp_path, "postgresql://postgres@127.0.0.1:5432/x")
    assert worker_settings(pg, 3).bus == "postgres"
    with pytest.raises(ConfigError):
        worker_settings(pg, 0)


def test_the_command_line_refuses_workers_without_a_shared_bus(tmp_path: Path) -> None:
    from urbanos.cli.main import cli

    env = {k: v for k, v in os.environ.items() if not k.startswith("URBANOS_")}
    r = CliRunner().invoke(cli, ["serve", "--workers", "2", "--data-dir", str(tmp_path), "--port", str(free_port())],
                           env=env)
    assert r.exit_code != 0 and "--workers needs an event bus that crosses processes" in r.output, r.output
    assert "--workers" in CliRunner().invoke(cli, ["serve", "--help"]).output


def _pids(url: str, want: int, tries: int = 400) -> set[int]:
    """The process ids answering /healthz on fresh connections, until ``want`` are seen (bounded)."""
    seen: set[int] = set()
    for _ in range(tries):
        with httpx.Client(timeout=5) as c:  # a new connection each time: the kernel picks a worker
            seen.add(int(c.get(url + "/healthz").json()["pid"]))
        if len(seen) >= want:
            break
    return seen


def _fresh(method: str, url: str, **kw: Any) -> httpx.Response:
    with httpx.Client(timeout=30) as c:
        return c.request(method, url, **kw)


def test_two_workers_agree(tmp_path: Path, db_url: str) -> None:
    env = {"URBANOS_CATALOG_USAGE_FLUSH_SECONDS": "0.3", "URBANOS_PARTICIPATION_POSTS_PER_MINUTE_PER_ADDRESS": "4"}
    if BACKEND != "postgresql":
        if not _redis():
            if os.environ.get("CI"):
                pytest.fail("Redis is not running on 127.0.0.1:6379 in CI")
            pytest.skip("Redis is not running on 127.0.0.1:6379")
        env["URBANOS_BUS"] = REDIS
    mqtt, health = free_port(), free_port()
    server = start_server(tmp_path / "w", db_url, args=["--workers", "2", "--mqtt-port", str(mqtt), "--health-port",
                                                        str(health)], env=env)
    try:
        url = server.url
        pids = _pids(url, 2)
        assert len(pids) == 2, f"only {pids} answered"
        # the health listener runs in the parent and answers for both workers
        alive = _fresh("GET", f"http://127.0.0.1:{health}/healthz").json()
        assert {w["pid"] for w in alive["workers"] if w["alive"]} == pids and alive["pid"] not in pids, alive
        ready = _fresh("GET", f"http://127.0.0.1:{health}/readyz")
        for _ in range(50):
            if ready.status_code == 200 and ready.json()["ready_workers"] == 2:
                break
            time.sleep(0.2)
            ready = _fresh("GET", f"http://127.0.0.1:{health}/readyz")
        assert ready.status_code == 200 and ready.json()["ready_workers"] == 2, ready.text
        assert {w["pid"] for w in ready.json()["workers"]} == pids
        assert _fresh("GET", f"http://127.0.0.1:{health}/metrics").status_code == 404
        # the participation limits are counted where both workers see them (PostgreSQL, or Redis): 4 posts a minute
        # from this address across the two, not 4 each
        codes = [_fresh("POST", url + "/participation/budgets/no-such-budget/verify", json={"code": "x"}).status_code
                 for _ in range(9)]
        assert codes[:4] == [404] * 4 and codes[4:] == [429] * 5, codes
        # writes through either worker; every notification reaches the one MQTT listener (worker 0)
        r = _fresh("POST", url + "/sta/v1.1/Things", json=STATION, headers=H)
        assert r.status_code == 201, r.text
        ds = int(_fresh("GET", r.headers["Location"] + "/Datastreams").json()["value"][0]["@iot.id"])
        with Client(mqtt) as sub:
            assert sub.subscribe(f"v1.1/Datastreams({ds})/Observations", 1) == [1]
            time.sleep(0.5)
            made = []
            for i in range(12):
                r = _fresh("POST", f"{url}/sta/v1.1/Datastreams({ds})/Observations", json={"result": i}, headers=H)
                assert r.status_code == 201, r.text
                made.append(i)
            got = sorted(json.loads(sub.get(timeout=15)[1])["result"] for _ in made)
            assert got == made and sub.none()
        count = [_fresh("GET", f"{url}/sta/v1.1/Datastreams({ds})/Observations?$count=true&$top=0").json()["@iot.count"]
                 for _ in range(8)]
        assert count == [12] * 8
        # a token revoked through one worker fails on every worker at once
        r = _fresh("POST", url + "/admin/tokens", json={"role": "publisher", "name": "short-lived"}, headers=H)
        assert r.status_code in (200, 201), r.text
        token, tid = r.json()["token"], r.json()["id"]
        mine = {"Authorization": f"Bearer {token}"}
        assert all(_fresh("GET", url + "/admin/whoami", headers=mine).status_code == 200 for _ in range(6))
        assert _fresh("DELETE", f"{url}/admin/tokens/{tid}", headers=H).status_code in (200, 204)
        codes = [_fresh("GET", url + "/admin/whoami", headers=mine).status_code for _ in range(12)]
        assert set(codes) == {401}, codes
        # the catalogue: a dataset made through one worker is found by every worker's search
        ok = _fresh("POST", url + "/api/3/action/organization_create", json={"name": "w-org"}, headers=H)
        assert ok.status_code == 200, ok.text
        ok = _fresh("POST", url + "/api/3/action/package_create", json={"name": "w-data", "title": "Workers' data",
                                                                           "owner_org": "w-org"}, headers=H)
        assert ok.status_code == 200, ok.text
        found = [_fresh("GET", url + "/api/3/action/package_search?q=workers").json()["result"]["count"]
                 for _ in range(12)]
        assert found == [1] * 12, found
        # usage: reads counted by both workers add up to the reads made
        for _ in range(10):
            assert _fresh("GET", url + "/api/3/action/package_show?id=w-data").status_code == 200
        counted = 0
        for _ in range(100):
            rows = _fresh("GET", url + "/cockpit/public/usage.json").json()["rows"]
            counted = sum(int(r["count"]) for r in rows if r["dataset"] == "w-data" and r["api"] == "ckan")
            if counted >= 10:
                break
            time.sleep(0.1)
        time.sleep(0.5)
        rows = _fresh("GET", url + "/cockpit/public/usage.json").json()["rows"]
        assert sum(int(r["count"]) for r in rows if r["dataset"] == "w-data" and r["api"] == "ckan") == 10, rows
    finally:
        server.stop()
    assert server.proc.returncode is not None
    with pytest.raises(httpx.ConnectError):  # the parent's listener stopped with it
        httpx.get(f"http://127.0.0.1:{health}/healthz", timeout=2)
    log = server.log.read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]
