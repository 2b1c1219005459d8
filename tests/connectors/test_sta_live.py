"""The ``sta`` mirror in live mode, end to end: a second ``urbanos serve`` (the remote) with its embedded broker on a
port of its own; the local mirror's run starts a live link that writes each Observation the remote announces, without
a scheduled run, once (a redelivered message writes nothing); a broker that goes away and comes back is reconnected
to and the gap closed by a pull run. A broker at a forbidden address is refused with the reason in the run log; the
token given for the broker is never shown; removing the connector stops its link."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, api_token, free_port, fresh_db_url, settings_for
from tests.connectors.conftest import SETTINGS
from tests.connectors.helpers import ADMIN, add, bearer, dataset, run, sta, token
from tests.local_http import ScriptedResolver
from urbanos.connectors import store
from urbanos.connectors.scheduler import unlinked_live
from urbanos.core.time import format_stored

pytestmark = pytest.mark.live
H = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


class Remote:
    """A remote ``urbanos serve`` on fixed ports, which the test stops and starts again (same database)."""

    def __init__(self, folder: Path, db: str) -> None:
        self.folder, self.db = folder, db
        self.port, self.mqtt_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.root = f"{self.url}/sta/v1.1"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, *, broker: bool = True) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("URBANOS_")}
        env.update({"URBANOS_ADMIN_TOKEN": ADMIN_TOKEN, "URBANOS_LOG_LEVEL": "warning", "URBANOS_ACCESS_LOG": "false",
                    "URBANOS_PG_POOL_MIN": "1", "URBANOS_PG_POOL_MAX": "4"})
        cmd = [sys.executable, "-m", "urbanos.cli.main", "serve", "--port", str(self.port), "--data-dir",
               str(self.folder), "--db", self.db, "--mqtt-port", str(self.mqtt_port if broker else 0)]
        log = open(self.folder.parent / f"remote-{self.port}.log", "ab")  # noqa: SIM115 - the process's lifetime
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, (self.folder.parent / f"remote-{self.port}.log").read_text()[-3000:]
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the remote did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def observe(self, ds: int, values: list[Any], start: int = 0) -> None:
        rows = [[f"2025-02-01T{(start + i) // 3600:02d}:{(start + i) // 60 % 60:02d}:{(start + i) % 60:02d}Z", v]
                for i, v in enumerate(values)]
        r = httpx.post(f"{self.root}/CreateObservations", headers=H, timeout=30, json=[
            {"Datastream": {"@iot.id": ds}, "components": ["phenomenonTime", "result"], "dataArray": rows}])
        assert r.status_code == 201, r.text

    def count(self, ds: int) -> int:
        got = httpx.get(f"{self.root}/Datastreams({ds})/Observations", params={"$count": "true", "$top": 0},
                        timeout=30).json()
        return int(got["@iot.count"])


@pytest.fixture(scope="module")
def capp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The connector tests' app, with a short lease: a live link renews it every half second."""
    from urbanos.web.app import create_app

    folder = tmp_path_factory.mktemp("connectors-live")
    with fresh_db_url(folder) as url:
        application = create_app(settings_for(folder, url, **{**SETTINGS, "connectors_lease_seconds": 1.5}))
        yield application
        application.state.platform.close()


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Remote]:
    folder = tmp_path_factory.mktemp("live-remote")
    with fresh_db_url(folder) as url:
        server = Remote(folder / "srv", url)
        server.start()
        try:
            yield server
        finally:
            server.stop()


def make_stream(remote: Remote, name: str) -> int:
    thing = {"name": name, "description": "remote", "Locations": [
        {"name": f"{name} place", "description": "here", "encodingType": "application/geo+json",
         "location": {"type": "Point", "coordinates": [9.99, 53.55]}}],
        "Datastreams": [{"name": f"{name} air", "description": "d", "observationType":
                         "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
                         "unitOfMeasurement": {"name": "degree", "symbol": "°C", "definition": "x"},
                         "Sensor": {"name": "s", "description": "s", "encodingType": "text/plain", "metadata": "m"},
                         "ObservedProperty": {"name": "p", "definition": "urn:p", "description": "p"}}]}
    r = httpx.post(f"{remote.root}/Things", json=thing, headers=H, timeout=30)
    assert r.status_code == 201, r.text
    got = httpx.get(f"{r.headers['location']}/Datastreams", headers=H, timeout=30).json()["value"]
    return int(got[0]["@iot.id"])


def local_count(client: Any, ds_name: str, dataset_name: str) -> int:
    d = sta(client, f"Datastreams?$filter=name eq '{ds_name}' and properties/urbanos:dataset eq '{dataset_name}'")
    assert len(d["value"]) == 1, d
    return int(sta(client, f"Datastreams({d['value'][0]['@iot.id']})/Observations?$count=true&$top=0")["@iot.count"])


def wait_for(check: Callable[[], Any], seconds: float = 15.0, what: str = "") -> Any:
    deadline = time.monotonic() + seconds
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds}s: {what}")
        time.sleep(0.05)


def show(client: Any, name: str) -> dict[str, Any]:
    r = client.get(f"/connectors/{name}", headers=ADMIN)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_live_mirror_follows_the_remote_and_closes_gaps(cclient: Any, cplatform: Any, remote: Remote) -> None:
    ds = make_stream(remote, "Pier")
    remote.observe(ds, list(range(5)))
    dataset(cplatform, "live-pier")
    token = api_token(remote.url, "mirror", "reader")
    r = add(cclient, ADMIN, name="pier-live", type="sta", url=remote.root, dataset="live-pier",
            mapping={"things": "name eq 'Pier'", "live": True, "mqtt": f"mqtt://127.0.0.1:{remote.mqtt_port}",
                     "mqtt_username": "mirror", "mqtt_password": token})
    assert r.status_code == 201, r.text
    assert r.json()["mapping"]["mqtt_password"] == "********" and token not in r.text
    first = run(cclient, "pier-live")
    assert first["status"] == "ok" and first["created"] == 5 + 5, first
    live = wait_for(lambda: show(cclient, "pier-live")["live"]["connected"] and show(cclient, "pier-live")["live"],
                    what="the live link connects")
    assert live["state"] == "connected" and live["subscriptions"] == 1, live
    runs = wait_for(lambda: (got := show(cclient, "pier-live")["runs"]) and len(got) == 2
                    and got[0]["status"] != "running" and got, what="the gap-closing run after connecting")
    assert runs[0]["trigger"] == "live" and runs[0]["status"] == "ok", runs

    # Observations posted on the remote appear within seconds, without a run
    for i in range(4):
        remote.observe(ds, [100 + 10 * i + j for j in range(10)], start=100 + 10 * i)
    remote.observe(ds, [200], start=99)  # one older than the mark, arriving live: the mark skips it, as a pull would
    wait_for(lambda: local_count(cclient, "Pier air", "live-pier") == 45, what="the live Observations")
    assert len(show(cclient, "pier-live")["runs"]) == 2  # no run wrote them
    assert local_count(cclient, "Pier air", "live-pier") == remote.count(ds) - 1

    # a redelivered message writes nothing
    link = cplatform.services["connectors"].runner.live.links[show_id(cplatform, "pier-live")]
    last = httpx.get(f"{remote.root}/Datastreams({ds})/Observations", params={"$top": 1, "$orderby":
                                                                               "phenomenonTime desc"}, timeout=30)
    payload = last.content.split(b'"value":[', 1)[1].rsplit(b"]", 1)[0]
    skipped = wait_for(lambda: show(cclient, "pier-live")["live"]["skipped"], what="the older one skipped")
    assert skipped == 1
    link.loop.call_soon_threadsafe(link._arrive, f"v1.1/Datastreams({ds})/Observations", payload)
    wait_for(lambda: show(cclient, "pier-live")["live"]["skipped"] == skipped + 1, what="the redelivery skipped")
    assert local_count(cclient, "Pier air", "live-pier") == 45

    # the broker goes away (the remote restarts without it); Observations meanwhile; it comes back: the gap is closed
    remote.stop()
    wait_for(lambda: not show(cclient, "pier-live")["live"]["connected"], what="the link notices")
    remote.start(broker=False)
    remote.observe(ds, [300, 301, 302], start=500)
    time.sleep(1.0)
    assert local_count(cclient, "Pier air", "live-pier") == 45
    remote.stop()
    remote.start()
    wait_for(lambda: local_count(cclient, "Pier air", "live-pier") == 48, seconds=30, what="the gap closed")
    live = wait_for(lambda: show(cclient, "pier-live")["live"]["connected"] and show(cclient, "pier-live")["live"],
                    what="connected again")
    assert live["reconnects"] >= 1, live
    remote.observe(ds, [400], start=600)
    wait_for(lambda: local_count(cclient, "Pier air", "live-pier") == 49, what="live again after the reconnect")
    assert local_count(cclient, "Pier air", "live-pier") == remote.count(ds) - 1

    # a PATCH that sends the hidden password back keeps it; removing the connector stops the link
    r = cclient.patch("/connectors/pier-live", headers=ADMIN, json={"mapping": {
        **show(cclient, "pier-live")["mapping"]}})
    assert r.status_code == 200, r.text
    stored = cplatform.db.read_sync(lambda c: c.fetchval("SELECT mapping FROM connector_configs WHERE name = ?",
                                                         ("pier-live",)))
    assert token in stored
    runner = cplatform.services["connectors"].runner
    assert not runner.live.holding(link.conn.id)  # the change stopped it; a run starts it again
    before = len(show(cclient, "pier-live")["runs"])
    assert run(cclient, "pier-live")["status"] == "ok"
    wait_for(lambda: runner.live.holding(link.conn.id), what="live again after the run")
    wait_for(lambda: len(got := show(cclient, "pier-live")["runs"]) == before + 2 and got[0]["status"] != "running",
             what="the gap-closing run")
    assert cclient.delete("/connectors/pier-live", headers=ADMIN).status_code == 204
    assert not runner.live.holding(link.conn.id)
    assert cplatform.db.read_sync(lambda c: c.fetchval("SELECT COUNT(*) FROM connector_live")) == 0


def show_id(platform: Any, name: str) -> int:
    return int(platform.db.read_sync(lambda c: c.fetchval("SELECT id FROM connector_configs WHERE name = ?", (name,))))


def test_the_brokers_address_follows_the_outbound_rules(cclient: Any, cplatform: Any,
                                                                   remote: Remote) -> None:
    make_stream(remote, "Dock")
    dataset(cplatform, "live-dock")
    r = add(cclient, ADMIN, name="dock-live", type="sta", url=remote.root, dataset="live-dock",
            mapping={"things": "name eq 'Dock'", "live": True, "mqtt": "mqtt://10.1.2.3:1884"})
    assert r.status_code == 201, r.text
    assert run(cclient, "dock-live")["status"] == "ok"
    refused = wait_for(lambda: [x for x in show(cclient, "dock-live")["runs"] if x["trigger"] == "live"],
                       what="the refusal logged")
    assert refused[0]["status"] == "failed" and "not a public address" in refused[0]["errors"][0], refused
    view = show(cclient, "dock-live")
    assert view["live"]["state"] == "refused" and not view["running"], view
    assert not cplatform.services["connectors"].runner.live.holding(show_id(cplatform, "dock-live"))
    # the next run does not try again with the same configuration
    assert run(cclient, "dock-live")["status"] == "ok"
    assert len([x for x in show(cclient, "dock-live")["runs"] if x["trigger"] == "live"]) == 1
    # a broker by name: resolved once through the policy, and the connection made to the address it checked (the
    # name itself resolves nowhere)
    dataset(cplatform, "live-dock-named")
    r = add(cclient, ADMIN, name="dock-named", type="sta", url=remote.root, dataset="live-dock-named",
            mapping={"things": "name eq 'Dock'", "live": True, "mqtt": f"mqtt://broker.invalid:{remote.mqtt_port}"})
    assert r.status_code == 201, r.text
    runner = cplatform.services["connectors"].runner
    resolver = ScriptedResolver({"broker.invalid": [["127.0.0.1"]]})
    runner.policies["dock-named"] = cplatform.gate.outbound.with_resolver(resolver)
    try:
        assert run(cclient, "dock-named")["status"] == "ok"
        wait_for(lambda: show(cclient, "dock-named")["live"]["connected"], what="connected through the checked address")
        assert "broker.invalid" in resolver.calls
        wait_for(lambda: len(got := show(cclient, "dock-named")["runs"]) == 2 and got[0]["status"] != "running",
                 what="the gap-closing run")
    finally:
        del runner.policies["dock-named"]
    assert cclient.delete("/connectors/dock-named", headers=ADMIN).status_code == 204


def test_another_organisation_sees_nothing_and_a_revoked_owner_stops_the_link(cclient: Any, cplatform: Any,
                                                                                remote: Remote) -> None:
    ds = make_stream(remote, "Quay")
    dataset(cplatform, "live-quay", org="harbour", level="internal")
    owner = token(cclient, "publisher", "harbour", "harbour")
    r = add(cclient, bearer(owner), name="quay-live", type="sta", url=remote.root, dataset="live-quay",
            mapping={"things": "name eq 'Quay'", "live": True, "mqtt": f"mqtt://127.0.0.1:{remote.mqtt_port}"})
    assert r.status_code == 201, r.text
    assert run(cclient, "quay-live", bearer(owner))["status"] == "ok"
    wait_for(lambda: show(cclient, "quay-live")["live"]["connected"], what="connected")
    wait_for(lambda: show(cclient, "quay-live")["runs"][0]["status"] != "running", what="the gap-closing run")
    # a steward of another organisation neither sees the connector nor changes or removes it
    outsider = bearer(token(cclient, "steward", "elsewhere", "elsewhere"))
    assert cclient.get("/connectors/quay-live", headers=outsider).status_code == 404
    assert cclient.patch("/connectors/quay-live", headers=outsider, json={"mapping": {
        "live": True, "mqtt": "mqtt://127.0.0.1:9"}}).status_code == 404
    assert cclient.delete("/connectors/quay-live", headers=outsider).status_code == 404
    assert "quay-live" not in str(cclient.get("/connectors", headers=outsider).json())
    assert show(cclient, "quay-live")["live"]["connected"]
    # the schedule: runs in the process holding the link; another process neither runs it nor starts a link
    cplatform.db.write_sync(lambda c: c.execute(
        "UPDATE connector_configs SET next_run_at = '2000-01-01T00:00:00.000000Z' WHERE name = 'quay-live'"))
    now = format_stored(datetime.now(UTC))
    assert [c.name for c in cplatform.db.read_sync(lambda c: store.due(c, now, "another process"))
            if c.name == "quay-live"] == []
    assert [c.name for c in cplatform.db.read_sync(lambda c: unlinked_live(c, now)) if c.name == "quay-live"] == []
    scheduler = cplatform.services["connectors"].scheduler
    assert "quay-live" in cclient.portal.call(scheduler.tick)
    wait_for(lambda: (got := show(cclient, "quay-live")["runs"])[0]["trigger"] == "schedule"
             and got[0]["status"] == "ok", what="the scheduled run")
    assert show(cclient, "quay-live")["live"]["connected"]
    # the lease moves to another process (this one's renewal failed for longer than the lease): the link stops
    link_id = show_id(cplatform, "quay-live")
    runner = cplatform.services["connectors"].runner
    cplatform.db.write_sync(lambda c: c.execute(
        "UPDATE connector_configs SET lease_owner = 'another', lease_until = '2100-01-01T00:00:00.000000Z'"
        " WHERE name = 'quay-live'"))
    wait_for(lambda: not runner.live.holding(link_id), what="the link stops when the lease moved")
    assert show(cclient, "quay-live")["live"]["connected"] is False
    assert run(cclient, "quay-live")["status"] == "skipped"  # the other process runs it now
    cplatform.db.write_sync(lambda c: c.execute(
        "UPDATE connector_configs SET lease_owner = NULL, lease_until = NULL WHERE name = 'quay-live'"))
    assert run(cclient, "quay-live", bearer(owner))["status"] == "ok"
    wait_for(lambda: show(cclient, "quay-live")["live"]["connected"], what="connected again")
    # the owner's token is revoked: the next message is not written, and the link stops with the reason
    assert cclient.delete(f"/admin/tokens/{int(owner.split('_')[1])}", headers=ADMIN).status_code in (200, 204)
    remote.observe(ds, [1], start=3000)
    stopped = wait_for(lambda: (v := show(cclient, "quay-live"))["live"]["state"] == "refused" and v,
                       what="the link stops")
    assert "revoked" in stopped["live"]["last_error"], stopped
    assert stopped["runs"][0]["trigger"] == "live" and stopped["runs"][0]["status"] == "failed", stopped["runs"]
    assert local_count(cclient, "Quay air", "live-quay") == 0
    assert not cplatform.services["connectors"].runner.live.holding(show_id(cplatform, "quay-live"))


@pytest.mark.parametrize("mapping", [{"live": True}, {"live": "yes", "mqtt": "mqtt://h"}, {"mqtt": "http://h/x"},
                                     {"live": True, "mqtt": "mqtt://user:pw@h:1883"}, {"mqtt_password": 5},
                                     {"live": True, "mqtt": "mqtt://h:99999"}])
def test_bad_live_configuration_is_refused(cclient: Any, cplatform: Any, mapping: dict[str, Any]) -> None:
    name = f"live-bad-{sorted(mapping)[-1].replace('_', '-')}-{len(str(mapping))}"
    dataset(cplatform, name)
    r = add(cclient, ADMIN, name=name, type="sta", url="http://127.0.0.1:9/sta/v1.1", dataset=name, mapping=mapping)
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json"), r.text
