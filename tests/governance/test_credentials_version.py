"""Cached identities do not outlive a revoke or a membership change made by another process: each serving
process compares the credentials version about once a second (``Gate.RECHECK_SECONDS``), well inside
``token_cache_seconds`` (60 s by default)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx

from tests.conftest import ADMIN_TOKEN, api_token

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("URBANOS_")}
    return subprocess.run([sys.executable, "-m", "urbanos.cli.main", *args], capture_output=True, text=True, env=env,
                          timeout=60)


def _status_within(seconds: float, wanted: int | set[int], request: Callable[[], httpx.Response]) -> float:
    """Seconds until ``request`` answers ``wanted``; fails after ``seconds``."""
    start = time.monotonic()
    while True:
        r = request()
        if r.status_code in (wanted if isinstance(wanted, set) else {wanted}):
            return time.monotonic() - start
        assert time.monotonic() - start < seconds, (r.status_code, r.text)
        time.sleep(0.1)


def test_a_token_revoked_on_the_command_line_stops_working_in_a_running_server(
        db_url: str, server_factory: Callable[..., Any], tmp_path: Any) -> None:
    server = server_factory(db_url)
    created = _cli("token", "create", "--role", "publisher", "--name", "counter app", "--db", db_url,
                   "--data-dir", str(tmp_path / "cli"))
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip()

    def who() -> httpx.Response:
        return httpx.post(f"{server.url}/api/3/action/organization_create", json={"name": "x"},
                          headers={"Authorization": secret}, timeout=10)

    first = who()  # verified (a publisher may not create organisations) and now cached
    assert first.status_code == 403 and "revoked" not in first.text
    revoked = _cli("token", "revoke", secret.split("_")[1], "--db", db_url, "--data-dir", str(tmp_path / "cli"))
    assert revoked.returncode == 0, revoked.stderr
    gone = _status_within(10, 403, lambda: _revoked_or_200(who()))
    assert "invalid, expired or revoked" in who().text, gone


def _revoked_or_200(r: httpx.Response) -> httpx.Response:
    """The CKAN API answers a refused token with 403 Authorization Error (what ckanapi expects); the
    refusal of the token itself is told apart by its message."""
    return r if "revoked" in r.text else httpx.Response(200)


def test_a_membership_recorded_by_one_server_reaches_another(db_url: str, server_factory: Callable[..., Any]) -> None:
    a, b = server_factory(db_url), server_factory(db_url)
    r = httpx.post(f"{a.url}/api/3/action/organization_create", json={"name": "parks"}, headers=ADMIN, timeout=10)
    assert r.status_code == 200, r.text
    r = httpx.post(f"{a.url}/api/3/action/package_create", headers=ADMIN, timeout=10, json={
        "name": "tree-inspections", "owner_org": "parks", "access_level": "internal", "grounds": ["not-yet-processed"]})
    assert r.status_code == 200, r.text
    alice = {"Authorization": f"Bearer {api_token(a.url, 'alice')}"}

    def show_on_b() -> httpx.Response:
        return httpx.get(f"{b.url}/api/3/action/package_show", params={"id": "tree-inspections"}, headers=alice,
                         timeout=10)

    assert show_on_b().status_code in (403, 404)  # not a member yet; server b caches alice's identity
    r = httpx.post(f"{a.url}/api/3/action/member_create", headers=ADMIN, timeout=10,
                   json={"id": "parks", "object": "alice", "object_type": "user", "capacity": "member"})
    assert r.status_code == 200, r.text
    _status_within(10, 200, show_on_b)
    r = httpx.post(f"{a.url}/api/3/action/member_delete", headers=ADMIN, timeout=10,
                   json={"id": "parks", "object": "alice", "object_type": "user"})
    assert r.status_code == 200, r.text
    _status_within(10, {403, 404}, show_on_b)
