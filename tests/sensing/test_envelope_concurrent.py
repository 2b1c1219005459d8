"""Datastream envelopes (phenomenonTime, resultTime) and latest pointers after concurrent ingest equal a full
recomputation from the Observations stored, on both back ends: eight threads over two server processes on one
database, with deletes (which recompute) in between; every acknowledged
Observation is stored."""

from __future__ import annotations

import random
import threading
from typing import Any

import httpx

from tests.conftest import ADMIN_TOKEN
from tests.sensing.sta_helpers import V, thing

H = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _stream(url: str, name: str) -> int:
    r = httpx.post(f"{url}{V}/Things", json=thing(name), headers=H, timeout=30)
    assert r.status_code == 201, r.text
    tid = r.json()["@iot.id"]
    return int(httpx.get(f"{url}{V}/Things({tid})/Datastreams", headers=H, timeout=30).json()["value"][0]["@iot.id"])


def _interval(v: Any) -> tuple[str, str] | None:
    if v is None:
        return None
    a, _, b = v.partition("/")
    return a, b or a


def test_envelopes_after_concurrent_ingest(db_url: str, server_factory: Any) -> None:
    servers = [server_factory(db_url), server_factory(db_url)]
    streams = [_stream(servers[0].url, f"Env {i}") for i in range(3)]
    acked: list[int] = []
    deleted: list[int] = []
    lock = threading.Lock()

    def client(k: int) -> None:
        rnd = random.Random(k)
        url = servers[k % 2].url
        mine: list[int] = []
        with httpx.Client(headers=H, timeout=30) as http:
            for i in range(12):
                minute = rnd.randrange(40)  # repeats: equal starts, the smallest id is the latest
                start = f"2024-03-01T10:{minute:02d}:00Z"
                body: dict[str, Any] = {"result": i, "Datastream": {"@iot.id": rnd.choice(streams)}}
                body["phenomenonTime"] = start if rnd.random() < 0.7 else f"{start}/2024-03-01T11:{minute:02d}:00Z"
                if rnd.random() < 0.8:
                    body["resultTime"] = f"2024-03-02T0{rnd.randrange(10)}:00:00Z"
                r = http.post(f"{url}{V}/Observations", json=body)
                assert r.status_code == 201, r.text
                mine.append(r.json()["@iot.id"])
                if i % 6 == 5:  # a delete recomputes its Datastream's envelope inside a shared commit
                    victim = mine.pop(rnd.randrange(len(mine)))
                    assert http.delete(f"{url}{V}/Observations({victim})").status_code == 200
                    with lock:
                        deleted.append(victim)
        with lock:
            acked.extend(mine)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(acked) == 8 * 10
    url = servers[1].url
    stored: list[int] = []
    for ds in streams:
        obs = httpx.get(f"{url}{V}/Datastreams({ds})/Observations?$top=1000",
                        headers=H, timeout=30).json()["value"]
        stored.extend(o["@iot.id"] for o in obs)
        got = httpx.get(f"{url}{V}/Datastreams({ds})?$expand=Observations($top=1;$orderby=phenomenonTime desc)",
                        headers=H, timeout=30).json()
        spans = [_interval(o["phenomenonTime"]) for o in obs]
        assert _interval(got["phenomenonTime"]) == (min(s[0] for s in spans if s), max(s[1] for s in spans if s))
        rts = [o["resultTime"] for o in obs if o.get("resultTime")]
        if rts:
            assert _interval(got["resultTime"]) == (min(rts), max(rts))
        latest_start = max(s[0] for s in spans if s)
        want = min(o["@iot.id"] for o, s in zip(obs, spans, strict=True) if s and s[0] == latest_start)
        assert [o["@iot.id"] for o in got["Observations"]] == [want]
    assert sorted(stored) == sorted(acked)
    assert not set(deleted) & set(stored)
