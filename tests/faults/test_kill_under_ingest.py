"""``kill -9`` of the server under 8-way single-Observation ingest, on both back ends: after a restart on the same
database every acknowledged Observation is there (on PostgreSQL the POSTs were written in shared transactions,
so an answer must never come before its group's commit), nothing is there twice, and the Datastream's envelope and
latest pointer equal a recomputation from what was stored."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import ADMIN_TOKEN, start_server
from tests.sensing.sta_helpers import V, thing

H = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _post_until_gone(url: str, ds: int, k: int, acked: list[int], lock: threading.Lock, stop: threading.Event) -> None:
    mine = []
    with httpx.Client(headers=H, timeout=10) as http:
        i = 0
        while not stop.is_set():
            body = {"result": k * 100_000 + i, "Datastream": {"@iot.id": ds},
                    "phenomenonTime": f"2024-05-01T{(k * 3 + i // 3600) % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z"}
            try:
                r = http.post(f"{url}{V}/Observations", json=body)
            except httpx.HTTPError:
                break  # the server is gone: this POST has no answer, so it counts as not acknowledged
            if r.status_code == 201:
                mine.append(int(r.json()["@iot.id"]))
            i += 1
    with lock:
        acked.extend(mine)


def test_kill_9_under_ingest_loses_nothing_acknowledged(db_url: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    srv = start_server(data, db_url)
    try:
        r = httpx.post(f"{srv.url}{V}/Things", json=thing("Kill"), headers=H, timeout=30)
        assert r.status_code == 201, r.text
        ds = httpx.get(f"{srv.url}{V}/Things({r.json()['@iot.id']})/Datastreams", timeout=30).json()["value"][0]["@iot.id"]
        acked: list[int] = []
        lock, stop = threading.Lock(), threading.Event()
        threads = [threading.Thread(target=_post_until_gone, args=(srv.url, ds, k, acked, lock, stop)) for k in range(8)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # kill once a good number were written (not by the clock alone)
            n = httpx.get(f"{srv.url}{V}/Datastreams({ds})/Observations?$count=true&$top=0", timeout=10).json()["@iot.count"]
            if n >= 150:
                break
            time.sleep(0.05)
        os.kill(srv.proc.pid, signal.SIGKILL)
        srv.proc.wait(timeout=10)
        stop.set()
        for t in threads:
            t.join(timeout=30)
    finally:
        srv.stop()
    assert len(acked) >= 100
    again = start_server(data, db_url)
    try:
        got: list[dict[str, Any]] = []
        url = f"{again.url}{V}/Datastreams({ds})/Observations?$top=1000&$select=id,phenomenonTime&$orderby=id"
        while url:
            page = httpx.get(url, headers=H, timeout=30).json()
            got += page["value"]
            url = page.get("@iot.nextLink", "")
        ids = [o["@iot.id"] for o in got]
        assert len(ids) == len(set(ids))
        assert set(acked) <= set(ids), f"acknowledged but lost: {sorted(set(acked) - set(ids))[:10]}"
        stream = httpx.get(f"{again.url}{V}/Datastreams({ds})", headers=H, timeout=30).json()
        starts = sorted(o["phenomenonTime"] for o in got)
        assert stream["phenomenonTime"] == f"{starts[0]}/{starts[-1]}"
    finally:
        again.stop()
