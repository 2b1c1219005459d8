"""The leak matrix: every read path × access level × rule kind × role, with zero raw rows where a rule forbids them.

Raw rows are recognised by markers only they carry: each Observation's ``parameters.mac`` (``SECRET-MAC-…``) and
each feature's ``name`` (``Place 01`` …, ``East of 180``). A path answers a caller below the rule's role either an
error (in its standard's format) or an answer without any marker; the owner's steward and the admin get the raw
rows (so the markers are there to be found). k-threshold releases are checked for k-anonymity on the released
table (every released cell's count is at least k)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.privacy.conftest import ckan
from tests.sensing.sta_helpers import thing
from urbanos.errors import UrbanosError
from urbanos.ports import SensingPort

MARKERS = ("SECRET-MAC", "Place 0", "Place 1", "East of 180")
KINDS: dict[str, list[dict[str, Any]]] = {
    "redact": [{"kind": "redact", "fields": ["mac", "name"]}],
    "pseudonymise": [{"kind": "pseudonymise", "fields": ["mac", "name"], "purpose": "leak-test", "period": "day"}],
    "k-threshold": [{"kind": "k-threshold", "k": 1000}],
    "aggregate": [{"kind": "aggregate", "bucket_minutes": 15, "h3_resolution": 7}],
    "dp": [{"kind": "dp", "epsilon": 1.0, "budget": 100.0, "period": "day", "bounds": [0, 100]}],
}
LEVELS = ("open", "registered", "internal")
BELOW = ("anonymous", "reader", "reader-a", "publisher-a", "steward-b")
RAW = ("steward-a", "admin")


@pytest.fixture
def settings(make_settings: Any) -> Any:
    return make_settings(datastore_sql_enabled=True)


def _paths(stream: int, obs: int) -> dict[str, tuple[str, str, Any]]:
    return {
        "sta entity set": ("GET", "/sta/v1.1/Observations", None),
        "sta navigation": ("GET", f"/sta/v1.1/Datastreams({stream})/Observations", None),
        "sta one": ("GET", f"/sta/v1.1/Observations({obs})", None),
        "sta $expand": ("GET", f"/sta/v1.1/Datastreams({stream})?$expand=Observations", None),
        "sta things $expand": ("GET", "/sta/v1.1/Things?$expand=Datastreams/Observations", None),
        "sta dataArray": ("GET", "/sta/v1.1/Observations?$resultFormat=dataArray", None),
        "sta CSV": ("GET", "/sta/v1.1/Observations?$resultFormat=CSV", None),
        "sta property": ("GET", f"/sta/v1.1/Observations({obs})/parameters", None),
        "sta $value": ("GET", f"/sta/v1.1/Observations({obs})/parameters/$value", None),
        "ogc items": ("GET", "/ogcapi/collections/leak-points/items", None),
        "ogc item": ("GET", "/ogcapi/collections/leak-points/items/1", None),
        "datastore search": ("POST", "/api/3/action/datastore_search", {"resource_id": "leak-points"}),
        "datastore sql": ("POST", "/api/3/action/datastore_search_sql", {"sql": 'SELECT * FROM "leak-points"'}),
        "download csv": ("GET", "/download/leak-points.csv", None),
        "download geojson": ("GET", "/download/leak-points.geojson", None),
        "portal page": ("GET", "/datasets/leak", None),
        "portal preview": ("GET", "/datasets/leak/preview/leak-points.geojson", None),
        "dcat": ("GET", "/dataset/leak.ttl", None),
    }


def _world(client: Any, orgs: dict[str, Any], platform: Any, sta: Any, fx: Any, level: str) -> tuple[int, int]:
    ckan(client, "package_create", {"name": "leak", "title": "Leak test", "owner_org": "org-a", "access_level": level,
                                     "grounds": ["gdpr-personal-data"]} if level != "open" else
         {"name": "leak", "title": "Leak test", "owner_org": "org-a", "access_level": level})
    ds = int(platform.db.read_sync(lambda c: c.fetchval("SELECT id FROM datasets WHERE name = 'leak'")))
    tid = sta.create("/Things", {**thing("Presence"), "dataset_id": ds})["@iot.id"]
    stream = sta.ok(f"/Things({tid})/Datastreams", sta.h)["value"][0]["@iot.id"]
    obs = [sta.observe(stream, 7 + i, f"2024-03-01T10:0{i}:00Z", parameters={"mac": f"SECRET-MAC-{i}"})["@iot.id"]
           for i in range(3)]
    fx.add_points(platform, "leak-points", ds)
    return stream, obs[0]


def _mqtt(platform: Any, identity: Any, obs: int) -> str:
    """What an MQTT subscriber of ``identity`` would receive (the notifier renders through these; an error means
    nothing is delivered)."""
    port = platform.require(SensingPort)
    out = []
    for call in (lambda: port.entities_json("v1.1", "Observations", [obs], identity, "http://t"),
                 lambda: port.entity_json("v1.1", "Observations", obs, identity, "http://t")):
        try:
            out.append(repr(asyncio.run(call())))
        except UrbanosError:
            out.append("")
    return " ".join(out)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("kind", list(KINDS))
def test_no_raw_rows_where_a_rule_forbids_them(client: Any, orgs: dict[str, Any], platform: Any, sta: Any, fx: Any,
                                               kind: str, level: str) -> None:
    stream, obs = _world(client, orgs, platform, sta, fx, level)
    r = client.put("/privacy/rules/leak", json={"rules": KINDS[kind]}, headers=orgs["h"]["steward-a"])
    assert r.status_code == 200, r.text
    paths = _paths(stream, obs)
    leaks, served = [], 0
    for role in BELOW:
        h = orgs["h"][role]
        for name, (method, url, body) in paths.items():
            resp = client.get(url, headers=h) if method == "GET" else client.post(url, json=body, headers=h)
            assert resp.status_code < 500, (role, name, resp.status_code, resp.text[:300])
            if resp.status_code >= 400:
                continue
            served += 1
            found = [m for m in MARKERS if m in resp.text]
            if found:
                leaks.append((role, name, found))
            if kind in ("aggregate", "dp") and name.startswith("sta"):
                assert "/Observations(" not in resp.text, (role, name)  # a raw Observation's self link
        ident = platform.gate.authenticate_sync(h.get("Authorization", " ").split(" ")[1] or None)
        if any(m in _mqtt(platform, ident, obs) for m in MARKERS):
            leaks.append((role, "mqtt", ["marker"]))
    assert not leaks, leaks
    assert served, "no path served anything at all: the check would prove nothing"
    for role in RAW:  # the owner's stewards and the admin see the raw rows
        h = orgs["h"][role]
        assert "SECRET-MAC" in client.get(f"/sta/v1.1/Datastreams({stream})/Observations", headers=h).text
        assert "Place 0" in client.get("/ogcapi/collections/leak-points/items", headers=h).text


def test_k_threshold_release_is_k_anonymous(client: Any, orgs: dict[str, Any], platform: Any, sta: Any,
                                            fx: Any) -> None:
    """Every released cell (time bucket × area) counts at least k people: as a table of one row per counted person
    with the cell as quasi-identifier, each equivalence class has at least k rows (k-anonymity)."""
    stream, _ = _world(client, orgs, platform, sta, fx, "open")
    for minute, v in ((20, 4), (21, 3), (40, 12), (50, 1)):
        sta.observe(stream, v, f"2024-03-01T10:{minute}:00Z")
    rule = {"kind": "aggregate", "bucket_minutes": 15, "h3_resolution": 7, "k": 10}
    assert client.put("/privacy/rules/leak", json={"rules": [rule]}, headers=orgs["h"]["steward-a"]).status_code == 200
    r = client.get("/sta/v1.1/Observations", headers=orgs["h"]["reader-a"])
    cells = r.json()["value"]
    table = [(c["phenomenonTime"], c["parameters"]["urbanos:area"]) for c in cells for _ in range(int(c["result"]))]
    classes: dict[Any, int] = {}
    for qi in table:
        classes[qi] = classes.get(qi, 0) + 1
    assert classes and min(classes.values()) >= 10
    assert int(r.headers["privacy-suppressed"]) == 2  # kept: 10:00 (7+8+9), 10:30 (12); withheld: 10:15 (4+3), 10:45 (1)
