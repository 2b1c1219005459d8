"""Live MQTT sessions follow revokes and membership changes: the broker verifies the credentials of its
sessions again when the credentials version moves, so a revoked token's session is disconnected and a
session whose organisation membership was removed stops hearing that organisation's internal data, within
about ``Gate.RECHECK_SECONDS`` (paho-mqtt clients against the real app)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import ckanapi
import httpx

from tests.conftest import ADMIN_TOKEN, api_token
from tests.sensing_mqtt.harness import Stage
from tests.sensing_mqtt.mqttc import Client

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


class Watched(Client):
    """A paho client that records when the server closes its connection (and does not reconnect)."""

    def __init__(self, port: int, **kw: Any) -> None:
        self.dropped = threading.Event()
        super().__init__(port, **kw)
        self.c.reconnect_delay_set(60, 120)  # a refused or revoked client stays away for the test's length

        def gone(*_a: Any) -> None:
            self.dropped.set()

        self.c.on_disconnect = gone


def _within(seconds: float, check: Callable[[], bool]) -> float:
    """Seconds until ``check()`` holds; fails after ``seconds``."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < seconds, "not within the deadline"
        time.sleep(0.05)
    return time.monotonic() - start


def _token(url: str, name: str, role: str = "reader", org: str | None = None) -> tuple[str, int]:
    r = httpx.post(f"{url}/admin/tokens", json={"role": role, "org": org, "name": name}, headers=ADMIN, timeout=30)
    assert r.status_code == 201, r.text
    return str(r.json()["token"]), int(r.json()["id"])


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("URBANOS_")}
    return subprocess.run([sys.executable, "-m", "urbanos.cli.main", *args], capture_output=True, text=True, env=env,
                          timeout=60)


def _revoked_session_ends(s: Any, revoke: Callable[[int], None]) -> None:
    internal = s.dataset("closed-counters", "internal", org="mobility")
    _thing, ds = s.station(dataset_id=internal)
    token, tid = _token(s.url, "counter app", org="mobility")
    topic = f"v1.1/Datastreams({ds})/Observations"
    with Watched(s.mqtt_port, token=token, client_id="revoked-app") as reader, \
            Client(s.mqtt_port, token=ADMIN_TOKEN) as admin:
        assert reader.rc == 0
        assert reader.subscribe(topic, 1) == [1]
        assert admin.subscribe(topic) == [0]
        s.post(f"Datastreams({ds})/Observations", {"result": 1})
        assert json.loads(reader.get()[1])["result"] == 1
        assert json.loads(admin.get()[1])["result"] == 1
        revoke(tid)
        _within(10, reader.dropped.is_set)
        assert "revoked-app" not in s.platform.services["mqtt"].broker.sessions
        assert "revoked-app" not in s.platform.services["mqtt"].broker.parked
        s.post(f"Datastreams({ds})/Observations", {"result": 2})
        assert json.loads(admin.get()[1])["result"] == 2  # the admin-token session is untouched
        assert reader.none(1.0)
    metrics = s.http.get("/metrics").text
    assert 'urbanos_mqtt_events_total{event="disconnected",reason="credentials_revoked"} 1.0' in metrics
    # connecting again with the revoked token is refused
    again = Client(s.mqtt_port, token=token)
    try:
        assert again.rc != 0
    finally:
        again.c.loop_stop()
        again.c.disconnect()


def test_a_token_revoked_over_http_ends_its_session(serve):
    s = serve()

    def revoke(tid: int) -> None:
        assert s.http.delete(f"/admin/tokens/{tid}").status_code == 204

    _revoked_session_ends(s, revoke)


def test_a_token_revoked_on_the_command_line_ends_its_session(serve, db_url, tmp_path):
    s = serve()

    def revoke(tid: int) -> None:
        done = _cli("token", "revoke", str(tid), "--db", db_url, "--data-dir", str(tmp_path / "cli"))
        assert done.returncode == 0, done.stderr

    _revoked_session_ends(s, revoke)


def _member_of_mobility(s: Any, user: str) -> tuple[Any, Any]:
    """An organisation "mobility" with an internal dataset, a Datastream in it, and ``user`` as its member:
    the admin's CKAN client and the Datastream's id."""
    admin = ckanapi.RemoteCKAN(s.url, apikey=ADMIN_TOKEN)
    admin.action.organization_create(name="mobility", title="Mobility")
    internal = s.dataset("closed-counters", "internal", org="mobility")
    _thing, closed = s.station(dataset_id=internal)
    admin.action.member_create(id="mobility", object=user, object_type="user", capacity="member")
    return admin, closed


def test_a_removed_membership_stops_internal_notifications_but_not_the_session(serve):
    s = serve()
    admin, closed = _member_of_mobility(s, "alice")
    _t2, opened = s.station()
    alice = api_token(s.url, "alice")
    svc = s.platform.services["mqtt"]
    with Watched(s.mqtt_port, token=alice, client_id="alice-app") as sub:
        assert sub.subscribe(f"v1.1/Datastreams({closed})/Observations") == [0]
        assert sub.subscribe(f"v1.1/Datastreams({opened})/Observations") == [0]
        s.post(f"Datastreams({closed})/Observations", {"result": 1})
        assert json.loads(sub.get()[1])["result"] == 1
        before = svc.broker.sessions["alice-app"].identity
        admin.action.member_delete(id="mobility", object="alice", object_type="user")
        _within(10, lambda: svc.broker.sessions["alice-app"].identity != before)
        s.post(f"Datastreams({closed})/Observations", {"result": 2})
        s.post(f"Datastreams({opened})/Observations", {"result": 3})
        topic, payload, _q = sub.get()
        assert topic == f"v1.1/Datastreams({opened})/Observations" and json.loads(payload)["result"] == 3
        assert sub.none(1.0)
        assert not sub.dropped.is_set()
        # membership given back: the same session hears the internal Datastream again
        admin.action.member_create(id="mobility", object="alice", object_type="user", capacity="member")
        _within(10, lambda: svc.broker.sessions["alice-app"].identity == before)
        s.post(f"Datastreams({closed})/Observations", {"result": 4})
        assert json.loads(sub.get()[1])["result"] == 4
        assert not sub.dropped.is_set()


def test_a_kept_session_follows_revokes_and_resumes_with_current_rights(serve):
    s = serve()
    admin, closed = _member_of_mobility(s, "bob")
    bob = api_token(s.url, "bob")
    svc = s.platform.services["mqtt"]
    topic = f"v1.1/Datastreams({closed})/Observations"
    first = Client(s.mqtt_port, token=bob, client_id="bob-app", clean=False)
    assert first.subscribe(topic, 1) == [1]
    first.close()
    _within(10, lambda: "bob-app" in svc.broker.parked)
    # a membership change while away: resumed with the new rights (no internal notification is kept for it)
    admin.action.member_delete(id="mobility", object="bob", object_type="user")
    _within(10, lambda: "bob-app" in svc.broker.parked and not svc.broker.parked["bob-app"][0].identity.orgs())
    s.post(f"Datastreams({closed})/Observations", {"result": 1})
    with Client(s.mqtt_port, token=bob, client_id="bob-app", clean=False) as again:
        assert again.rc == 0 and again.session_present
        assert again.none(1.0)
        assert not svc.broker.sessions["bob-app"].identity.orgs()
    # a revoke while away: the kept session is dropped
    _within(10, lambda: "bob-app" in svc.broker.parked)
    tid = int(bob.split("_")[1])
    assert s.http.delete(f"/admin/tokens/{tid}").status_code == 204
    _within(10, lambda: "bob-app" not in svc.broker.parked)


def test_the_follower_survives_failures_and_stops_promptly(serve, monkeypatch):
    """A failing version read or verification is logged and tried again; stop ends the task at once. (The gate's
    version read and its verification fail once each, injected into the real gate.)"""
    from urbanos.governance import Gate
    from urbanos.governance.tokens import revoke_token

    calls: list[int | None] = []
    state = {"fail_read": True, "fail_auth": False}
    read_version, verify = Gate.credentials_changed_since, Gate.authenticate

    async def changed_since(self: Any, seen: int | None) -> tuple[bool, int | None]:
        calls.append(seen)
        if state["fail_read"]:
            state["fail_read"] = False
            raise RuntimeError("database away")
        return await read_version(self, seen)

    async def flaky(self: Any, token: str | None, *, client: str | None = None) -> Any:
        if state["fail_auth"]:
            state["fail_auth"] = False
            raise RuntimeError("database away")
        return await verify(self, token, client=client)

    monkeypatch.setattr(Gate, "RECHECK_SECONDS", 0.05)
    monkeypatch.setattr(Gate, "credentials_changed_since", changed_since)
    monkeypatch.setattr(Gate, "authenticate", flaky)
    stage = Stage(serve())
    svc = stage.svc
    with Watched(stage.port, token=stage.tokens["reader"], client_id="r") as reader, \
            Watched(stage.port, client_id="a") as anon:
        assert reader.subscribe(stage.closed.observations) == [0]
        _within(10, lambda: len(calls) >= 3)  # the failed read did not end the task
        assert svc.follower is not None and not svc.follower.done()
        # a revoke whose first verification fails: the session is kept and verified on the next round
        state["fail_auth"] = True
        tid = int(stage.tokens["reader"].split("_")[1])
        stage.platform.db.write_sync(lambda c: revoke_token(c, tid))
        _within(10, reader.dropped.is_set)
        assert not state["fail_auth"]  # the failure happened, and the next round ended the session
        assert "r" not in svc.broker.sessions
        assert "a" in svc.broker.sessions and not anon.dropped.is_set()  # anonymous sessions are untouched
    follower = svc.follower
    started = time.monotonic()
    stage.s.stop()
    assert follower is not None and follower.done()
    assert time.monotonic() - started < 5
