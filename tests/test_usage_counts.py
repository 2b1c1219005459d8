"""One usage path: every API publishes an ``events.Usage`` for each read it serves, and the catalogue's
``UsageRecorder`` (subscribed to ``events.USAGE``) is the one counter. For each API, N reads give a count of N in
``catalog_usage`` (read back with ``usage_show``, which writes the pending counts first), attributed to the
dataset and to the registered application, never to an address or a subject.

The real app is served with uvicorn in a thread, with the embedded MQTT broker, so that HTTP and MQTT reads take
the paths clients take. Some APIs count in the background (MQTT notifications are aggregated for a few seconds):
the count is read until it reaches N or a deadline passes, then compared with N.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.sensing_mqtt.mqttc import Client as MqttClient
from tests.sensing_mqtt.served import Served
from urbanos.governance.tokens import create_token

N = 3
DATASET = "street-trees"
APP = "usage-counter-app"
KEY = "urbanos:dataset"
RECORDS = [{"code": f"t{i}", "height": i} for i in range(5)]


class World:
    """A served platform with an open dataset of one organisation, and a registered application's token."""

    def __init__(self, served: Served) -> None:
        self.s = served
        self.admin = served.http
        self.token = str(served.platform.db.write_sync(lambda c: create_token(c, "reader", None, APP)))
        self.app = httpx.Client(base_url=served.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=30)
        self.anonymous = httpx.Client(base_url=served.url, timeout=30)
        self.action("organization_create", name="parks", title="Parks")
        pkg = self.action("package_create", name=DATASET, title="Street trees", owner_org="parks", license_id="CC-BY-4.0",
                          resources=[{"name": "Register", "url": "https://example.org/trees.csv", "format": "CSV"}])
        self.resource = pkg["resources"][0]["id"]

    def action(self, action: str, client: httpx.Client | None = None, /, **body: Any) -> Any:
        r = (client or self.admin).post(f"/api/3/action/{action}", json=body)
        assert r.status_code == 200, (action, r.text)
        return r.json()["result"]

    def usage(self, dataset: str | None = None) -> list[dict[str, Any]]:
        """The usage rows, after usage_show wrote the pending counts."""
        r = self.admin.get("/api/3/action/usage_show", params={"dataset": dataset} if dataset else {})
        assert r.status_code == 200, r.text
        return list(r.json()["result"])

    def counted(self, api: str, kind: str, dataset: str | None = DATASET, want: int = N) -> list[dict[str, Any]]:
        """The rows of ``api`` and ``kind`` for the application's reads (the set-up reads as admin are left out),
        read until their counts reach ``want`` (or 30 seconds pass)."""
        deadline = time.monotonic() + 30
        while True:
            rows = self.usage(dataset)
            mine = [r for r in rows if r["api"] == api and r["kind"] == kind and r["application"] == APP]
            if sum(r["count"] for r in mine) >= want or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        text = json.dumps(rows)
        assert "127.0.0.1" not in text and "testclient" not in text and self.token not in text
        assert "token:" not in text and "admin-token" not in text  # no address or subject, ever
        return mine

    def collection(self) -> str:
        """A DataStore table on the dataset's resource (a feature collection); its name."""
        self.action("datastore_create", resource_id=self.resource, records=RECORDS, primary_key="code")
        shown = self.action("resource_show", id=self.resource)
        assert shown["collection"], shown
        return str(shown["collection"])

    def datastream(self) -> tuple[int, int]:
        """A Thing of the dataset with one Datastream: (thing id, datastream id)."""
        r = self.admin.post("/sta/v1.1/Things", json={
            "name": "Tree sensor", "description": "soil moisture", "properties": {KEY: DATASET},
            "Locations": [{"name": "Tree 17", "description": "a lime tree", "encodingType": "application/geo+json",
                           "location": {"type": "Point", "coordinates": [9.99, 53.55]}}],
            "Datastreams": [{
                "name": "moisture", "description": "soil moisture", "observationType":
                "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
                "unitOfMeasurement": {"name": "percent", "symbol": "%", "definition": "http://qudt.org/vocab/unit/PERCENT"},
                "Sensor": {"name": "probe", "description": "probe", "encodingType": "text/html", "metadata": "x"},
                "ObservedProperty": {"name": "moisture", "definition": "https://example.org/moisture", "description": "m"},
            }]})
        assert r.status_code == 201, r.text
        thing = int(self.admin.get(r.headers["Location"]).json()["@iot.id"])
        stream = self.admin.get(f"/sta/v1.1/Things({thing})/Datastreams").json()["value"][0]["@iot.id"]
        return thing, int(stream)

    def close(self) -> None:
        self.app.close()
        self.anonymous.close()


@pytest.fixture
def world(serve: Callable[..., Served]) -> Any:
    w = World(serve())
    try:
        yield w
    finally:
        w.close()


def _total(rows: list[dict[str, Any]]) -> int:
    """The reads these rows count (all of the registered application: see :meth:`World.counted`)."""
    return sum(int(r["count"]) for r in rows)


# -- the catalogue's own APIs --------------------------------------------------------------------------------
def test_ckan_package_show(world: World) -> None:
    for _ in range(N):
        world.action("package_show", world.app, id=DATASET)
    rows = world.counted("ckan", "api_read")
    assert _total(rows) == N and all(r["resource"] == "" for r in rows)


def test_ckan_resource_show(world: World) -> None:
    for _ in range(N):
        world.action("resource_show", world.app, id=world.resource)
    rows = world.counted("ckan", "api_read")
    assert _total(rows) == N and all(r["resource"] == world.resource for r in rows)


def test_ckan_package_search(world: World) -> None:
    for _ in range(N):
        world.action("package_search", world.app, q="trees")
    rows = world.counted("ckan", "search", dataset=None)
    assert _total(rows) == N and all(r["dataset"] == "" for r in rows)


def test_download_of_an_upload(world: World) -> None:
    r = world.admin.post("/api/3/action/resource_create", data={"package_id": DATASET, "name": "Notes"},
                         files={"upload": ("notes.txt", b"planted in spring\n", "text/plain")})
    assert r.status_code == 200, r.text
    res = r.json()["result"]
    path = res["url"][res["url"].index("/dataset/"):]
    for _ in range(N):
        got = world.app.get(path)
        assert got.status_code == 200 and got.content == b"planted in spring\n"
    rows = [r for r in world.counted("download", "download") if r["resource"] == res["id"]]
    assert _total(rows) == N


def test_dcat_dataset_views(world: World) -> None:
    for i in range(N):
        fmt = ("ttl", "jsonld", "rdf")[i % 3]
        assert world.app.get(f"/dataset/{DATASET}.{fmt}").status_code == 200
    rows = world.counted("dcat", "view")
    assert _total(rows) == N


def test_portal_dataset_views(world: World) -> None:
    for _ in range(N):
        assert world.app.get(f"/datasets/{DATASET}").status_code == 200
    rows = world.counted("portal", "view")
    assert _total(rows) == N


# -- the APIs of the features capability ---------------------------------------------------------------------
def test_ogcapi_features_items(world: World) -> None:
    collection = world.collection()
    for _ in range(N):
        r = world.app.get(f"/ogcapi/collections/{collection}/items")
        assert r.status_code == 200, r.text
    rows = world.counted("ogcapi-features", "api_read")
    assert _total(rows) == N


def test_collection_downloads(world: World) -> None:
    collection = world.collection()
    for _ in range(N):
        r = world.app.get(f"/download/{collection}.csv")
        assert r.status_code == 200, r.text
    rows = world.counted("download", "download")
    assert _total(rows) == N


def test_datastore_search(world: World) -> None:
    world.collection()
    for _ in range(N):
        found = world.action("datastore_search", world.app, resource_id=world.resource)
        assert len(found["records"]) == len(RECORDS)
    rows = world.counted("datastore", "api_read")
    assert _total(rows) == N


# -- the APIs of the sensing capability ----------------------------------------------------------------------
def test_sensorthings_reads(world: World) -> None:
    thing, _stream = world.datastream()
    for _ in range(N):
        r = world.app.get(f"/sta/v1.1/Things({thing})")
        assert r.status_code == 200, r.text
    rows = world.counted("sta", "api_read")
    assert _total(rows) == N


def test_mqtt_notifications(world: World) -> None:
    _thing, stream = world.datastream()
    with MqttClient(world.s.mqtt_port, token=world.token) as sub:
        assert sub.subscribe(f"v1.1/Datastreams({stream})/Observations") == [0]
        for i in range(N):
            r = world.admin.post(f"/sta/v1.1/Datastreams({stream})/Observations",
                                 json={"result": 40 + i, "phenomenonTime": f"2024-05-01T1{i}:00:00Z"})
            assert r.status_code == 201, r.text
        for _ in range(N):
            sub.get()
        rows = world.counted("mqtt", "api_read")
    assert _total(rows) == N
