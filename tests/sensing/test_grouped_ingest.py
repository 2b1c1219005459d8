"""Single-Observation POSTs that arrive together share a transaction on PostgreSQL (group commit), and every one
of them is still checked on its own: a publisher of another organisation posting into the same groups as the
owner's publishers is refused each time and stores nothing, while every acknowledged Observation is stored. On
SQLite the same traffic gives the same answers."""

from __future__ import annotations

import threading
from typing import Any

import httpx

from tests.conftest import ADMIN_TOKEN, api_token
from tests.sensing.sta_helpers import V, thing

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _ckan(url: str, action: str, body: dict[str, Any]) -> None:
    r = httpx.post(f"{url}/api/3/action/{action}", json=body, headers=ADMIN, timeout=30)
    assert r.status_code == 200, r.text


def test_a_foreign_publisher_in_the_same_groups_is_refused_every_time(db_url: str, server_factory: Any) -> None:
    srv = server_factory(db_url, env={"URBANOS_PG_GROUP_CONCURRENCY": "1"})
    url = srv.url
    for org in ("orga", "orgb"):
        _ckan(url, "organization_create", {"name": org, "title": org})
    _ckan(url, "package_create", {"name": "a-counts", "owner_org": "orga", "access_level": "open"})
    body = thing("Counter A")
    body["properties"] = {"urbanos:dataset": "a-counts"}
    r = httpx.post(f"{url}{V}/Things", json=body, headers=ADMIN, timeout=30)
    assert r.status_code == 201, r.text
    ds = httpx.get(f"{url}{V}/Things({r.json()['@iot.id']})/Datastreams", timeout=30).json()["value"][0]["@iot.id"]
    owner = {"Authorization": f"Bearer {api_token(url, 'pa', 'publisher', 'orga')}"}
    other = {"Authorization": f"Bearer {api_token(url, 'pb', 'publisher', 'orgb')}"}
    answers: dict[str, list[int]] = {"owner": [], "other": []}
    lock = threading.Lock()

    def client(who: str, k: int) -> None:
        headers = owner if who == "owner" else other
        got = []
        with httpx.Client(headers=headers, timeout=60) as http:
            for i in range(15):
                result = i if who == "owner" else -1 - i  # the other's results are negative: easy to look for
                if i % 2:
                    r = http.post(f"{url}{V}/Datastreams({ds})/Observations", json={"result": result})
                else:
                    r = http.post(f"{url}{V}/Observations", json={"result": result, "Datastream": {"@iot.id": ds}})
                got.append(r.status_code)
        with lock:
            answers[who] += got

    threads = [threading.Thread(target=client, args=(who, k)) for k in range(4) for who in ("owner", "other")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers["owner"] == [201] * 60
    assert sorted(set(answers["other"])) == [403]
    stored = httpx.get(f"{url}{V}/Datastreams({ds})/Observations?$top=1000&$select=result", headers=ADMIN,
                       timeout=30).json()["value"]
    assert len(stored) == 60 and min(o["result"] for o in stored) >= 0
    if "postgresql" in db_url:  # the POSTs did share transactions
        metrics = httpx.get(f"{url}/metrics", headers=ADMIN, timeout=30).text
        figures = {line.split('figure="')[1].split('"')[0]: float(line.rsplit(" ", 1)[1])
                   for line in metrics.splitlines() if line.startswith("urbanos_db_pool{")}
        assert figures["grouped_writes_total"] >= 120 > figures["write_groups_total"]
