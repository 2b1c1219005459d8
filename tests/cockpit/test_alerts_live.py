"""End to end through a real ``urbanos serve`` process: Observations posted over the SensorThings API raise one
webhook notification per episode (fired, resolved, no data, data again), and the history is served by the API."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from tests.conftest import ADMIN_TOKEN, api_token
from tests.sensing.sta_helpers import thing

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def receiver() -> tuple[ThreadingHTTPServer, list[tuple[dict[str, str], bytes]]]:
    posts: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            posts.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, posts


def wait_for(check: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the expected notifications did not arrive"
        time.sleep(0.05)


def test_alerts_end_to_end(server_factory: Callable[..., Any], db_url: str) -> None:
    hook, posts = receiver()
    try:
        srv = server_factory(db_url, env={"URBANOS_OUTBOUND_ALLOW": "127.0.0.1"})
        http = httpx.Client(base_url=srv.url, timeout=30)
        tid = http.post("/sta/v1.1/Things", json=thing("bin 7"), headers=ADMIN).json()["@iot.id"]
        ds = http.get(f"/sta/v1.1/Things({tid})/Datastreams").json()["value"][0]["@iot.id"]
        publisher = {"Authorization": f"Bearer {api_token(srv.url, 'ops', 'publisher')}"}
        r = http.post("/alerts/rules", headers=publisher, json={
            "name": "Bin 7 full", "datastream": ds, "threshold": {"operator": ">=", "fire": 80, "clear": 70},
            "staleness_minutes": 0.1, "channels": {"webhook": f"http://127.0.0.1:{hook.server_address[1]}/in"}})
        assert r.status_code == 201, r.text
        secret = r.json()["secret"]
        for v in (10, 85, 90, 75, 79, 72, 65):  # one episode: fired at 85, resolved at 65
            assert http.post("/sta/v1.1/Observations", headers=publisher,
                             json={"result": v, "Datastream": {"@iot.id": ds}}).status_code == 201
        wait_for(lambda: len(posts) >= 2)
        wait_for(lambda: len(posts) >= 3)  # then six seconds without data: one "no data"
        time.sleep(1.0)
        assert len(posts) == 3
        assert http.post("/sta/v1.1/Observations", headers=publisher,
                         json={"result": 50, "Datastream": {"@iot.id": ds}}).status_code == 201
        wait_for(lambda: len(posts) >= 4)
        got = [json.loads(body) for _h, body in posts]
        assert [(g["kind"], g["event"], g["value"]) for g in got] == [
            ("threshold", "fired", 85), ("threshold", "resolved", 65), ("nodata", "fired", 65),
            ("nodata", "resolved", 50)]
        for headers, body in posts:
            assert headers["x-urbanos-signature"] == "sha256=" + hmac.new(secret.encode(), body,
                                                                          hashlib.sha256).hexdigest()
        def episodes() -> list[dict[str, Any]]:
            return list(http.get(f"/alerts/episodes?rule={r.json()['id']}", headers=publisher).json()["episodes"])

        assert [(e["kind"], e["state"]) for e in episodes()] == [("nodata", "resolved"), ("threshold", "resolved")]
        # the receiver holds the last POST before the platform has recorded its answer: wait for that record
        wait_for(lambda: all(d["status"] == "delivered" for e in episodes() for d in e["deliveries"]))
        assert http.get("/alerts/episodes").status_code == 401
    finally:
        hook.shutdown()
        hook.server_close()
