"""Alert deliveries against real receivers: a signed webhook (local HTTP server), retries with back-off, a hanging
webhook that never slows ingest, the outbound policy, e-mail through aiosmtpd, and MQTT through the embedded broker
with paho-mqtt."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator
from email import message_from_bytes
from email.policy import default
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import ADMIN_TOKEN, api_token, free_port
from tests.sensing.sta_helpers import thing
from tests.sensing_mqtt.mqttc import Client

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
NOW = "2024-01-01T00:00:00.000000Z"


class Receiver:
    """A local webhook receiver: answers each POST with the next status of ``replies`` (the last one repeats);
    ``hold`` makes it wait before answering (a hanging receiver)."""

    def __init__(self, replies: list[int]) -> None:
        self.replies = list(replies)
        self.posts: list[tuple[dict[str, str], bytes]] = []
        self.arrived = threading.Event()
        self.hold: threading.Event | None = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.posts.append(({k.lower(): v for k, v in self.headers.items()}, body))
                receiver.arrived.set()
                if receiver.hold is not None:
                    receiver.hold.wait(30)
                status = receiver.replies.pop(0) if len(receiver.replies) > 1 else receiver.replies[0]
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        if self.hold is not None:
            self.hold.set()
        self.server.shutdown()
        self.server.server_close()


class App:
    def __init__(self, c: TestClient, platform: Any) -> None:
        self.c, self.platform = c, platform
        self.svc = platform.services["alerts"]

    def stream(self, name: str = "bin", dataset: int | None = None) -> int:
        body = thing(name, dataset_id=dataset) if dataset is not None else thing(name)
        tid = self.c.post("/sta/v1.1/Things", json=body, headers=ADMIN).json()["@iot.id"]
        return int(self.c.get(f"/sta/v1.1/Things({tid})/Datastreams").json()["value"][0]["@iot.id"])

    def rule(self, ds: int, channels: dict[str, Any]) -> dict[str, Any]:
        r = self.c.post("/alerts/rules", headers=ADMIN, json={
            "name": "Bin full", "datastream": ds, "threshold": {"operator": ">=", "fire": 80, "clear": 70},
            "channels": channels})
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]

    def observe(self, ds: int, value: float) -> int:
        return int(self.c.post("/sta/v1.1/Observations", json={"result": value, "Datastream": {"@iot.id": ds}},
                               headers=ADMIN).status_code)

    def settle(self) -> None:
        self.c.portal.call(self.svc.settle)

    def episodes(self) -> list[dict[str, Any]]:
        return self.c.get("/alerts/episodes", headers=ADMIN).json()["episodes"]  # type: ignore[no-any-return]


@pytest.fixture
def make_app(make_settings: Callable[..., Any]) -> Iterator[Callable[..., App]]:
    from urbanos.web.app import create_app

    opened: list[tuple[Any, TestClient]] = []

    def make(**overrides: Any) -> App:
        values = {"alerts_webhook_backoff": 0.05, "alerts_webhook_attempts": 3, "alerts_webhook_timeout": 5.0,
                  **overrides}
        app = create_app(make_settings(**values))
        c = TestClient(app, raise_server_exceptions=False)
        c.__enter__()
        opened.append((app, c))
        return App(c, app.state.platform)

    yield make
    for app, c in opened:
        c.__exit__(None, None, None)
        app.state.platform.close()


@pytest.fixture
def receiver() -> Iterator[Callable[[list[int]], Receiver]]:
    made: list[Receiver] = []

    def make(replies: list[int]) -> Receiver:
        made.append(Receiver(replies))
        return made[-1]

    yield make
    for r in made:
        r.close()


def test_webhook_is_signed_once_per_episode(make_app: Callable[..., App], receiver: Any) -> None:
    hook = receiver([204])
    a = make_app(outbound_allow="127.0.0.1")
    ds = a.stream()
    rule = a.rule(ds, {"webhook": hook.url})
    for v in (85, 90, 75, 79, 60, 65):
        assert a.observe(ds, v) == 201
    a.settle()
    assert len(hook.posts) == 2
    for headers, body in hook.posts:  # what a receiver does: HMAC of the raw body with the secret it was shown
        expected = "sha256=" + hmac.new(rule["secret"].encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["x-urbanos-signature"], expected)
        assert headers["content-type"] == "application/json"
    fired, resolved = (json.loads(b) for _h, b in hook.posts)
    assert (fired["event"], fired["kind"], fired["value"]) == ("fired", "threshold", 85)
    assert (resolved["event"], resolved["value"]) == ("resolved", 60)
    assert fired["episode"]["id"] == resolved["episode"]["id"] and fired["rule"]["id"] == rule["id"]
    deliveries = a.episodes()[0]["deliveries"]
    assert [(d["event"], d["status"], d["attempts"]) for d in deliveries] == [("fired", "delivered", 1),
                                                                             ("resolved", "delivered", 1)]


def test_failing_webhook_is_retried_with_backoff(make_app: Callable[..., App], receiver: Any) -> None:
    flaky, broken = receiver([500, 502, 200]), receiver([500])
    a = make_app(outbound_allow="127.0.0.1")
    ds1, ds2 = a.stream("one"), a.stream("two")
    a.rule(ds1, {"webhook": flaky.url})
    a.rule(ds2, {"webhook": broken.url})
    a.observe(ds1, 99)
    a.observe(ds2, 99)
    a.settle()
    assert len(flaky.posts) == 3 and len(broken.posts) == 3
    assert flaky.posts[0][1] == flaky.posts[2][1]  # the same notification each time
    by_rule = {e["datastream"]: e["deliveries"][0] for e in a.episodes()}
    assert (by_rule[ds1]["status"], by_rule[ds1]["attempts"]) == ("delivered", 3)
    assert (by_rule[ds2]["status"], by_rule[ds2]["attempts"]) == ("failed", 3)
    assert by_rule[ds2]["last_error"] == "the receiver answered HTTP 500"
    eid = [e["id"] for e in a.episodes() if e["datastream"] == ds2][0]
    page = a.c.get(f"/alerts/episodes/{eid}", headers={**ADMIN, "Accept": "text/html"})
    assert "the receiver answered HTTP 500" in page.text and "failed" in page.text


def test_hanging_webhook_never_blocks_ingest(make_app: Callable[..., App], receiver: Any) -> None:
    hook = receiver([200])
    hook.hold = threading.Event()
    a = make_app(outbound_allow="127.0.0.1", alerts_webhook_timeout=30.0)
    ds = a.stream()
    a.rule(ds, {"webhook": hook.url})
    assert a.observe(ds, 95) == 201
    assert hook.arrived.wait(10)  # the webhook is now hanging
    for i in range(20):  # ingest goes on while it hangs
        assert a.observe(ds, 90 + i % 5) == 201
    assert not hook.hold.is_set() and len(hook.posts) == 1
    assert a.c.get(f"/sta/v1.1/Datastreams({ds})/Observations?$count=true&$top=0").json()["@iot.count"] == 21
    hook.hold.set()
    a.settle()
    assert a.episodes()[0]["deliveries"][0]["status"] == "delivered"


def test_outbound_policy_applies_to_webhooks(make_app: Callable[..., App], receiver: Any) -> None:
    hook = receiver([200])
    a = make_app()  # no outbound_allow: loopback addresses are refused
    ds = a.stream()
    a.rule(ds, {"webhook": hook.url})
    a.observe(ds, 99)
    a.settle()
    assert hook.posts == []
    d = a.episodes()[0]["deliveries"][0]
    assert d["status"] == "failed" and d["attempts"] == 1 and "127.0.0.1" in d["last_error"]


def test_email_through_smtp(make_app: Callable[..., App]) -> None:
    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self) -> None:
            self.mail: list[Any] = []

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            self.mail.append(envelope)
            return "250 OK"

    inbox = Inbox()
    port = free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        a = make_app(smtp_host="127.0.0.1", smtp_port=port, smtp_from="alerts@city.example",
                     alerts_webhook_timeout=30.0)  # a busy machine: no attempt given up while the server answers
        ds = a.stream()
        a.rule(ds, {"email": ["ops@city.example", "bins@city.example"]})
        for v in (81, 90, 50):
            a.observe(ds, v)
        a.settle()
    finally:
        smtp.stop()
    assert len(inbox.mail) == 2, a.episodes()
    first = inbox.mail[0]
    assert first.mail_from == "alerts@city.example"
    assert sorted(first.rcpt_tos) == ["bins@city.example", "ops@city.example"]
    msg = message_from_bytes(first.content, policy=default)
    assert msg["Subject"] == "[urbanos] Alert fired / Alarm ausgelöst: Bin full"
    assert "Value: 81" in msg.get_content() and "Wert: 81" in msg.get_content()
    assert message_from_bytes(inbox.mail[1].content, policy=default)["Subject"].startswith("[urbanos] Alert resolved")
    assert [d["status"] for d in a.episodes()[0]["deliveries"]] == ["delivered", "delivered"]


def test_email_without_smtp_server_is_recorded(make_app: Callable[..., App]) -> None:
    a = make_app()
    ds = a.stream()
    a.rule(ds, {"email": ["ops@city.example"]})
    a.observe(ds, 99)
    a.settle()
    d = a.episodes()[0]["deliveries"][0]
    assert d["status"] == "failed" and "smtp_host" in d["last_error"]


def test_mqtt_subscriber_receives_alerts(serve: Callable[..., Any]) -> None:
    s = serve()
    hidden = s.dataset("hidden", "confidential", "org-a")
    _t, ds = s.station()
    _t2, ds_hidden = s.station(hidden)
    rule = s.http.post("/alerts/rules", json={"name": "Busy", "datastream": ds, "threshold": {
        "operator": ">", "fire": 100}, "channels": {"mqtt": True}}).json()
    hidden_rule = s.http.post("/alerts/rules", json={"name": "Hidden", "datastream": ds_hidden, "threshold": {
        "operator": ">", "fire": 100}, "channels": {"mqtt": True}}).json()
    reader = api_token(s.url, "mqtt-reader", "reader", "org-b")
    with Client(s.mqtt_port, token=reader) as sub:
        assert sub.subscribe(f"alerts/{rule['id']}", qos=1) == [1]
        assert sub.subscribe(f"alerts/{hidden_rule['id']}") == [0]
        s.post("Observations", {"result": 150, "Datastream": {"@iot.id": ds}})
        s.post("Observations", {"result": 150, "Datastream": {"@iot.id": ds_hidden}})
        topic, payload, _qos = sub.get()
        assert topic == f"alerts/{rule['id']}"
        msg = json.loads(payload)
        assert (msg["event"], msg["value"], msg["rule"]["name"]) == ("fired", 150, "Busy")
        assert sub.none(1.0)  # the confidential dataset's alert does not reach a reader of another organisation
    with Client(s.mqtt_port) as anonymous:
        assert anonymous.subscribe(f"alerts/{rule['id']}") == [128]
