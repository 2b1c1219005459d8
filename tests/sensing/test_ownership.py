"""Every SensorThings write checks the organisation that owns each row it touches and each row it links to
(urbanos.sensing.ownership).

Organisation ``orga`` owns the open dataset ``a-open`` and the confidential dataset ``secret``; ``orgb`` owns
``b-open``. Callers: a publisher of orga (``pa``), a publisher of orgb (``pb``), a global publisher (``pg``), a reader
of orga and an anonymous caller. Each write path is tried by every caller: the refused ones leave every sensing table
exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest

from tests.conftest import api_token
from tests.sensing.sta_helpers import OBS_COUNT, datastream, location
from urbanos.sensing.model import ENTITIES
from urbanos.sensing.write import Writer

V = "/sta/v1.1"
KEY = "urbanos:dataset"
TABLES = ("sta_things", "sta_locations", "sta_thing_locations", "sta_historical_locations", "sta_hist_locations",
          "sta_sensors", "sta_observed_properties", "sta_datastreams", "sta_multi_datastreams", "sta_mds_properties",
          "sta_features", "sta_observations")
Headers = dict[str, str]


def _bearer(token: str) -> Headers:
    return {"Authorization": f"Bearer {token}"}


def sensor(name: str = "Counter") -> dict[str, Any]:
    return {"name": name, "description": "a counter", "encodingType": "text/html", "metadata": "https://example.org/s"}


def observed_property(name: str = "Pedestrians") -> dict[str, Any]:
    return {"name": name, "definition": "https://example.org/p", "description": "people"}


def ds_body(name: str = "Count", **links: Any) -> dict[str, Any]:
    body = {"name": name, "description": "d", "observationType": OBS_COUNT,
            "unitOfMeasurement": {"name": "count", "symbol": "1", "definition": "https://example.org/u"}}
    body.update(links)
    return body


class World:
    """The organisations, datasets, callers and a few rows of each organisation, built through the HTTP APIs."""

    def __init__(self, client: Any, admin: Headers, platform: Any) -> None:
        self.c = client
        self.admin = admin
        self.platform = platform
        for org in ("orga", "orgb"):
            self.ckan("organization_create", {"name": org, "title": org})
        self.ckan("package_create", {"name": "a-open", "owner_org": "orga", "access_level": "open"})
        self.ckan("package_create", {"name": "b-open", "owner_org": "orgb", "access_level": "open"})
        self.ckan("package_create", {"name": "secret", "owner_org": "orga", "access_level": "confidential",
                                     "grounds": ["security"]})
        self.pa = _bearer(api_token(client, "pa", "publisher", "orga"))
        self.pb = _bearer(api_token(client, "pb", "publisher", "orgb"))
        self.pg = _bearer(api_token(client, "pg", "publisher"))
        self.reader = _bearer(api_token(client, "ra", "reader", "orga"))
        self.anon: Headers = {}
        # orgb's own station (open, no dataset: owned by orgb through its creator)
        self.b = self.station("B", self.pb)
        # orga's confidential station: Observation, FeatureOfInterest, HistoricalLocation
        self.s = self.station("S", self.admin, dataset="secret")

    # -- plumbing ------------------------------------------------------------------------------
    def ckan(self, action: str, body: dict[str, Any]) -> Any:
        r = self.c.post(f"/api/3/action/{action}", json=body, headers=self.admin)
        assert r.status_code == 200 and r.json()["success"], r.text
        return r.json()["result"]

    def req(self, method: str, path: str, headers: Headers, body: Any = None, ctype: str = "application/json") -> Any:
        kw: dict[str, Any] = {"headers": {**headers, "Content-Type": ctype}}
        if body is not None:
            kw["content"] = orjson.dumps(body)
        return self.c.request(method, V + path, **kw)

    def ok(self, method: str, path: str, headers: Headers, body: Any = None, ctype: str = "application/json") -> Any:
        r = self.req(method, path, headers, body, ctype)
        assert r.status_code in (200, 201, 204), r.text
        return r.json() if r.content else None

    def station(self, name: str, headers: Headers, dataset: str | None = None) -> dict[str, int]:
        """A Thing with a Location and a Datastream (new Sensor and ObservedProperty), one Observation (so a
        generated FeatureOfInterest) and its HistoricalLocation; the ids."""
        props: dict[str, Any] = {"key": "abc"}
        if dataset:
            props[KEY] = dataset
        t = self.ok("POST", "/Things", headers, {"name": f"T-{name}", "description": "d", "properties": props,
                                                 "Locations": [location(f"L-{name}")],
                                                 "Datastreams": [datastream(f"D-{name}")]})
        tid = t["@iot.id"]
        d = self.ok("GET", f"/Things({tid})/Datastreams?$expand=Sensor,ObservedProperty", self.admin)["value"][0]
        o = self.ok("POST", "/Observations", headers, {"result": 1, "Datastream": {"@iot.id": d["@iot.id"]}})
        ids = {
            "thing": tid, "datastream": d["@iot.id"], "sensor": d["Sensor"]["@iot.id"],
            "op": d["ObservedProperty"]["@iot.id"], "observation": o["@iot.id"],
            "location": self.ok("GET", f"/Things({tid})/Locations", self.admin)["value"][0]["@iot.id"],
            "hl": self.ok("GET", f"/Things({tid})/HistoricalLocations", self.admin)["value"][0]["@iot.id"],
            "foi": self.ok("GET", f"/Observations({o['@iot.id']})/FeatureOfInterest", self.admin)["@iot.id"],
        }
        return ids

    def a_station(self, name: str = "A") -> dict[str, int]:
        """A fresh station of orga in its open dataset (created by orga's publisher)."""
        return self.station(name, self.pa, dataset="a-open")

    def dump(self) -> dict[str, list[str]]:
        """Every row of every sensing table, for "nothing changed"."""
        def read(c: Any) -> dict[str, list[str]]:
            out = {}
            for t in TABLES:
                rows = c.rows(f"SELECT * FROM {t}")
                out[t] = sorted(repr(sorted((k, bytes(v) if isinstance(v, memoryview) else v) for k, v in r.items()))
                                for r in rows)
            return out

        return self.platform.db.read_sync(read)  # type: ignore[no-any-return]

    def owner_org(self, table: str, id_: int) -> Any:
        return self.platform.db.read_sync(lambda c: c.fetchval(f"SELECT owner_org FROM {table} WHERE id = ?", (id_,)))

    def refused(self, attempt: Callable[[Headers], Any], other: int = 403, *,
                status_of: Callable[[Any], tuple[int, Any]] | None = None) -> None:
        """``attempt`` by orgb's publisher (answer ``other``), by a reader (403) and anonymously (401) changes
        nothing."""
        before = self.dump()
        for headers, status in ((self.pb, other), (self.reader, 403), (self.anon, 401)):
            r = attempt(headers)
            got, body = status_of(r) if status_of else (r.status_code, r.json())
            assert got == status, (status, body)
            assert set(body) == {"code", "type", "message"} and body["code"] == status, body
            assert self.dump() == before


@pytest.fixture
def w(client: Any, admin_headers: Headers, platform: Any) -> World:
    return World(client, admin_headers, platform)


def _msg(r: Any) -> str:
    return str(r.json()["message"])


# -- the reproductions ------------------------------------------------------------------------------

def test_moving_a_hidden_observation_into_ones_own_datastream_answers_like_a_missing_id(w: World) -> None:
    hidden = w.s["observation"]
    mine = w.b["datastream"]
    before = w.dump()
    missing = w.req("POST", f"/Datastreams({mine})/Observations", w.pb, {"@iot.id": 999999})
    r = w.req("POST", f"/Datastreams({mine})/Observations", w.pb, {"@iot.id": hidden})
    assert (r.status_code, _msg(r)) == (missing.status_code, _msg(missing).replace("999999", str(hidden)))
    assert r.status_code in (400, 404)
    r = w.req("POST", f"/Datastreams({mine})/Observations/$ref", w.pb, {"@iot.id": hidden})
    assert r.status_code in (400, 404) and "does not exist" in _msg(r)
    assert w.dump() == before
    assert hidden not in {o["@iot.id"] for o in w.c.get(f"{V}/Observations").json()["value"]}
    assert w.ok("GET", f"/Observations({hidden})/Datastream", w.admin)["@iot.id"] == w.s["datastream"]


def test_moving_a_visible_observation_of_another_organisation_is_forbidden(w: World) -> None:
    a = w.a_station()
    before = w.dump()
    for path, body in ((f"/Datastreams({w.b['datastream']})/Observations", {"@iot.id": a["observation"]}),
                       (f"/Datastreams({w.b['datastream']})/Observations/$ref", {"@iot.id": a["observation"]})):
        r = w.req("POST", path, w.pb, body)
        assert r.status_code == 403, r.text
        assert "'orga'" in _msg(r) and f"Observation {a['observation']}" in _msg(r)
    r = w.req("PATCH", f"/Observations({a['observation']})", w.pb, {"Datastream": {"@iot.id": w.b["datastream"]}})
    assert r.status_code == 403
    # the other way round: orga's publisher may not move its Observation into orgb's Datastream either
    r = w.req("PATCH", f"/Observations({a['observation']})", w.pa, {"Datastream": {"@iot.id": w.b["datastream"]}})
    assert r.status_code == 403 and "'orgb'" in _msg(r)
    assert w.dump() == before
    # a global publisher may; both Datastreams keep their latest Observation right
    w.ok("PATCH", f"/Observations({a['observation']})", w.pg, {"Datastream": {"@iot.id": w.b["datastream"]}})
    assert w.ok("GET", f"/Observations({a['observation']})/Datastream", w.admin)["@iot.id"] == w.b["datastream"]


def test_historical_locations_of_other_organisations_cannot_be_moved(w: World) -> None:
    a = w.a_station()
    mine = w.b["thing"]
    before = w.dump()
    missing = w.req("POST", f"/Things({mine})/HistoricalLocations", w.pb, {"@iot.id": 999999})
    r = w.req("POST", f"/Things({mine})/HistoricalLocations", w.pb, {"@iot.id": w.s["hl"]})
    assert (r.status_code, _msg(r)) == (missing.status_code, _msg(missing).replace("999999", str(w.s["hl"])))
    r = w.req("POST", f"/Things({mine})/HistoricalLocations", w.pb, {"@iot.id": a["hl"]})
    assert r.status_code == 403 and "'orga'" in _msg(r)
    r = w.req("PATCH", f"/Things({mine})", w.pb, {"HistoricalLocations": [{"@iot.id": a["hl"]}]})
    assert r.status_code == 403
    r = w.req("PATCH", f"/HistoricalLocations({a['hl']})", w.pb, {"Thing": {"@iot.id": mine}})
    assert r.status_code == 403
    assert w.dump() == before


def test_hidden_rows_answer_like_missing_ones_on_every_write(w: World) -> None:
    s, mine = w.s, w.b
    before = w.dump()
    cases = [
        ("PATCH", "/Things({})", {"name": "x"}, s["thing"]),
        ("PUT", "/Datastreams({})", ds_body("x"), s["datastream"]),
        ("DELETE", "/Things({})", None, s["thing"]),
        ("DELETE", "/Observations({})", None, s["observation"]),
        ("POST", "/Datastreams({})/Observations", {"result": 5}, s["datastream"]),
        ("POST", "/Observations", {"result": 5, "Datastream": {"@iot.id": "{}"}}, s["datastream"]),
        ("POST", "/Datastreams", ds_body("x", Thing={"@iot.id": "{}"}, Sensor={"@iot.id": mine["sensor"]},
                                          ObservedProperty={"@iot.id": mine["op"]}), s["thing"]),
        ("POST", "/Things", {"name": "x", "description": "d", "Locations": [{"@iot.id": "{}"}]}, s["location"]),
        ("POST", f"/Things({mine['thing']})/Locations/$ref", {"@iot.id": "{}"}, s["location"]),
        ("PATCH", f"/Things({mine['thing']})", {"Datastreams": [{"@iot.id": "{}"}]}, s["datastream"]),
        ("POST", "/Observations", {"result": 5, "Datastream": {"@iot.id": mine["datastream"]},
                                   "FeatureOfInterest": {"@iot.id": "{}"}}, s["foi"]),
    ]

    def fill(v: Any, id_: int) -> Any:
        if isinstance(v, dict):
            return {k: fill(x, id_) for k, x in v.items()}
        if isinstance(v, list):
            return [fill(x, id_) for x in v]
        return id_ if v == "{}" else v

    for method, path, body, hidden in cases:
        answers = []
        for id_ in (hidden, 999999):
            r = w.req(method, path.format(id_), w.pb, fill(body, id_))
            answers.append((r.status_code, _msg(r).replace(str(id_), "#")))
        assert answers[0] == answers[1], (method, path, answers)
        assert answers[0][0] in (400, 404), (method, path, answers)
    assert w.dump() == before


def test_injecting_observations_into_a_confidential_datastream_is_refused_everywhere(w: World) -> None:
    hidden = w.s["datastream"]
    before = w.dump()
    r = w.c.post(f"{V}/CreateObservations", headers=w.pb, json=[
        {"Datastream": {"@iot.id": hidden}, "components": ["result"], "dataArray": [[1], [2]]}])
    missing = w.c.post(f"{V}/CreateObservations", headers=w.pb, json=[
        {"Datastream": {"@iot.id": 999999}, "components": ["result"], "dataArray": [[1], [2]]}])
    assert (r.status_code, _msg(r)) == (missing.status_code, _msg(missing).replace("999999", str(hidden)))
    r = w.c.post(f"{V}/$batch", headers=w.pb, json={"requests": [
        {"id": "1", "method": "post", "url": "Observations", "body": {"result": 1, "Datastream": {"@iot.id": hidden}}},
        {"id": "2", "method": "post", "url": f"Datastreams({hidden})/Observations", "body": {"result": 1}}]})
    assert r.status_code == 200
    assert [x["status"] for x in r.json()["responses"]] == [400, 404]
    assert w.dump() == before


def test_a_navigation_filter_does_not_read_a_hidden_thing(w: World, platform: Any) -> None:
    """Linked through SQL here, so the filter must hold on its own."""
    hidden, mine = w.s["thing"], w.b["datastream"]
    platform.db.write_sync(lambda c: c.execute("UPDATE sta_datastreams SET thing_id = ? WHERE id = ?", (hidden, mine)))
    for headers in (w.pb, w.anon):
        for q in ("startswith(Thing/properties/key,'a')", "Thing/name eq 'T-S'", "Thing/id eq " + str(hidden),
                  "length(Thing/description) gt 0", "Thing/properties/urbanos:dataset eq 'secret'"):
            got = w.ok("GET", f"/Datastreams?$filter={q}", headers)["value"]
            assert got == [], (q, got)
        got = w.ok("GET", "/Observations?$filter=startswith(Datastream/Thing/properties/key,'a')", headers)["value"]
        assert got == []
        # ordering by a hidden value orders as if it were null: the same order as by a property that is null
        by_hidden = w.ok("GET", "/Datastreams?$orderby=Thing/properties/key desc&$select=id", headers)["value"]
        by_null = w.ok("GET", "/Datastreams?$orderby=properties/nothing desc&$select=id", headers)["value"]
        assert by_hidden == by_null
    # a caller that may read the Thing still filters by it
    got = w.ok("GET", "/Datastreams?$filter=startswith(Thing/properties/key,'a')&$select=id", w.admin)["value"]
    assert mine in {d["@iot.id"] for d in got}


# -- every write path × every caller ---------------------------------------------------------------

def _created(r: Any) -> int:
    assert r.status_code == 201, r.text
    return int(r.json()["@iot.id"])


def test_post_entity_set_linking_by_id(w: World) -> None:
    a = w.a_station()

    def attempt(h: Headers) -> Any:
        return w.req("POST", "/Datastreams", h, ds_body("new", Thing={"@iot.id": a["thing"]},
                                                         Sensor={"@iot.id": a["sensor"]},
                                                         ObservedProperty={"@iot.id": a["op"]}))

    w.refused(attempt)
    for h in (w.pa, w.pg):
        did = _created(attempt(h))
        assert w.ok("GET", f"/Datastreams({did})/Thing", w.admin)["@iot.id"] == a["thing"]


def test_post_deep_insert_linking_by_id(w: World) -> None:
    a = w.a_station()

    def attempt(h: Headers) -> Any:
        return w.req("POST", "/Things", h, {"name": "new", "description": "d", "Locations": [{"@iot.id": a["location"]}],
                                           "Datastreams": [ds_body("n", Sensor={"@iot.id": a["sensor"]},
                                                                   ObservedProperty=observed_property())]})

    w.refused(attempt)
    for h in (w.pa, w.pg):
        tid = _created(attempt(h))
        assert w.ok("GET", f"/Things({tid})/Locations", w.admin)["value"][0]["@iot.id"] == a["location"]


def test_post_under_a_navigation_path(w: World) -> None:
    a = w.a_station()

    def new_stream(h: Headers) -> Any:
        return w.req("POST", f"/Things({a['thing']})/Datastreams", h, datastream("under"))

    def new_observation(h: Headers) -> Any:
        return w.req("POST", f"/Datastreams({a['datastream']})/Observations", h, {"result": 7})

    def new_location(h: Headers) -> Any:
        return w.req("POST", f"/Things({a['thing']})/Locations", h, location("moved"))

    for attempt in (new_stream, new_observation, new_location):
        w.refused(attempt)
        for h in (w.pa, w.pg):
            _created(attempt(h))
    # what is created under orga's Thing belongs to orga, whoever creates it
    did = _created(new_stream(w.pg))
    sid = w.ok("GET", f"/Datastreams({did})/Sensor", w.admin)["@iot.id"]
    assert w.owner_org("sta_sensors", sid) == "orga"


def test_ref_post_and_delete(w: World) -> None:
    a = w.a_station()
    extra = w.ok("POST", "/Locations", w.pa, location("extra"))["@iot.id"]

    def link(h: Headers) -> Any:
        return w.req("POST", f"/Things({a['thing']})/Locations/$ref", h, {"@iot.id": extra})

    w.refused(link)
    for h in (w.pa, w.pg):
        r = link(h)
        assert r.status_code in (200, 201, 204), r.text
    assert extra in {x["@iot.id"] for x in w.ok("GET", f"/Things({a['thing']})/Locations", w.admin)["value"]}
    # orgb may not link its own Location to orga's Thing, nor orga's Location to its own Thing
    mine = w.b
    for path, id_ in ((f"/Things({a['thing']})/Locations/$ref", mine["location"]),
                      (f"/Things({mine['thing']})/Locations/$ref", a["location"])):
        r = w.req("POST", path, w.pb, {"@iot.id": id_})
        assert r.status_code == 403, r.text

    def unlink(h: Headers) -> Any:
        return w.req("DELETE", f"/Things({a['thing']})/Locations({extra})/$ref", h)

    w.refused(unlink)
    r = unlink(w.pa)
    assert r.status_code == 200, r.text
    assert extra not in {x["@iot.id"] for x in w.ok("GET", f"/Things({a['thing']})/Locations", w.admin)["value"]}
    assert unlink(w.pg).status_code == 404  # no longer linked
    # a link between rows of two organisations (made by a global publisher) needs both to remove
    w.ok("POST", f"/Things({mine['thing']})/Locations/$ref", w.pg, {"@iot.id": a["location"]})
    for h in (w.pa, w.pb):
        assert w.req("DELETE", f"/Things({mine['thing']})/Locations({a['location']})/$ref", h).status_code == 403
    assert w.req("DELETE", f"/Things({mine['thing']})/Locations({a['location']})/$ref", w.pg).status_code == 200


def test_patch_merge_json_patch_and_put(w: World) -> None:
    a = w.a_station()

    def merge(h: Headers) -> Any:
        return w.req("PATCH", f"/Things({a['thing']})", h, {"name": "renamed"})

    def json_patch(h: Headers) -> Any:
        return w.req("PATCH", f"/Datastreams({a['datastream']})", h, [{"op": "replace", "path": "/name", "value": "x"}],
                     "application/json-patch+json")

    def put(h: Headers) -> Any:
        return w.req("PUT", f"/Sensors({a['sensor']})", h, sensor("replaced"))

    for attempt in (merge, json_patch, put):
        w.refused(attempt)
        for h in (w.pa, w.pg):
            assert attempt(h).status_code == 200
    assert w.ok("GET", f"/Things({a['thing']})", w.admin)["name"] == "renamed"
    assert w.ok("GET", f"/Sensors({a['sensor']})", w.admin)["name"] == "replaced"


def test_update_checks_what_it_newly_links_and_a_new_dataset(w: World) -> None:
    a, mine = w.a_station(), w.b
    before = w.dump()
    for path, body in ((f"/Things({mine['thing']})", {"Locations": [{"@iot.id": a["location"]}]}),
                       (f"/Datastreams({mine['datastream']})", {"Sensor": {"@iot.id": a["sensor"]}}),
                       (f"/Datastreams({mine['datastream']})", {"Thing": {"@iot.id": a["thing"]}}),
                       (f"/Things({mine['thing']})", {"properties": {KEY: "a-open"}}),
                       (f"/Things({a['thing']})", {"properties": {KEY: "b-open"}})):
        r = w.req("PATCH", path, w.pb, body)
        assert r.status_code == 403, (path, body, r.text)
    # a dataset the caller may not even read is answered like one that does not exist
    r = w.req("PATCH", f"/Things({mine['thing']})", w.pb, {"properties": {KEY: "secret"}})
    missing = w.req("PATCH", f"/Things({mine['thing']})", w.pb, {"properties": {KEY: "no-such"}})
    assert (r.status_code, _msg(r).replace("secret", "#")) == (missing.status_code, _msg(missing).replace("no-such", "#"))
    assert w.dump() == before
    # links already there are not new links: sending the whole entity back works
    current = w.ok("GET", f"/Datastreams({mine['datastream']})?$expand=Thing,Sensor,ObservedProperty", w.pb)
    body = {k: v for k, v in current.items() if "@iot" not in k}
    body.update({r: {"@iot.id": current[r]["@iot.id"]} for r in ("Thing", "Sensor", "ObservedProperty")})
    assert w.req("PUT", f"/Datastreams({mine['datastream']})", w.pb, body).status_code == 200
    # moving its Thing into its own organisation's dataset records that organisation
    w.ok("PATCH", f"/Things({mine['thing']})", w.pb, {"properties": {KEY: "b-open"}})
    assert w.owner_org("sta_things", mine["thing"]) == "orgb"


def test_delete_and_its_cascades(w: World) -> None:
    a = w.a_station()

    def attempt(h: Headers) -> Any:
        return w.req("DELETE", f"/Things({a['thing']})", h)

    w.refused(attempt)
    assert attempt(w.pa).status_code == 200
    assert w.req("GET", f"/Datastreams({a['datastream']})", w.admin).status_code == 404
    a2 = w.a_station("A2")
    assert w.req("DELETE", f"/Things({a2['thing']})", w.pg).status_code == 200
    # orgb's Sensor used (through a global publisher) by orga's Datastream: deleting it would take orga's
    # Datastream with it
    mine = w.b
    a3 = w.a_station("A3")
    w.ok("PATCH", f"/Datastreams({a3['datastream']})", w.pg, {"Sensor": {"@iot.id": mine["sensor"]},
                                                              "ObservedProperty": {"@iot.id": mine["op"]}})
    before = w.dump()
    for path in (f"/Sensors({mine['sensor']})", f"/ObservedProperties({mine['op']})"):
        r = w.req("DELETE", path, w.pb)
        assert r.status_code == 403 and "would also delete Datastreams" in _msg(r), r.text
        assert "'orga'" not in _msg(r)
        r = w.req("DELETE", path, w.pa)  # not orga's to delete
        assert r.status_code == 403 and "'orgb'" in _msg(r)
    assert w.dump() == before
    # orga's Observation made with orgb's FeatureOfInterest
    w.ok("POST", "/Observations", w.pg, {"result": 3, "Datastream": {"@iot.id": a3["datastream"]},
                                         "FeatureOfInterest": {"@iot.id": mine["foi"]}})
    before = w.dump()
    r = w.req("DELETE", f"/FeaturesOfInterest({mine['foi']})", w.pb)
    assert r.status_code == 403 and "would also delete Observations" in _msg(r)
    assert w.dump() == before
    # orgb's Location in orga's Thing's history: its delete would remove orga's HistoricalLocation
    w.ok("POST", f"/Things({a3['thing']})/Locations/$ref", w.pg, {"@iot.id": mine["location"]})
    w.ok("PATCH", f"/Things({a3['thing']})", w.pg, {"Locations": [{"@iot.id": mine["location"]}]})
    before = w.dump()
    r = w.req("DELETE", f"/Locations({mine['location']})", w.pb)
    assert r.status_code == 403 and "HistoricalLocations" in _msg(r), r.text
    assert w.dump() == before
    # a global publisher may
    for path in (f"/Sensors({mine['sensor']})", f"/Locations({mine['location']})"):
        assert w.req("DELETE", path, w.pg).status_code == 200
    # orgb's Thing carrying a Datastream of orga's dataset: deleting the Thing would take orga's Datastream
    w.ok("POST", "/Datastreams", w.pg, ds_body("in orga's dataset", Thing={"@iot.id": mine["thing"]}, Sensor=sensor(),
                                               ObservedProperty=observed_property(), properties={KEY: "a-open"}))
    before = w.dump()
    r = w.req("DELETE", f"/Things({mine['thing']})", w.pb)
    assert r.status_code == 403 and "would also delete Datastreams" in _msg(r), r.text
    assert w.dump() == before


def test_deleting_a_location_that_is_another_organisations_thing_s_current_location_is_forbidden(w: World) -> None:
    """orgb's Location placed (by a global publisher) beside orga's own as a current Location of orga's Thing: deleting
    it would change orga's Thing (its current Locations) even though no HistoricalLocation goes with it."""
    a, mine = w.a_station("A5"), w.b
    w.ok("PATCH", f"/Things({a['thing']})", w.pg, {"Locations": [{"@iot.id": a["location"]}, {"@iot.id": mine["location"]}]})
    before = w.dump()
    r = w.req("DELETE", f"/Locations({mine['location']})", w.pb)
    assert r.status_code == 403 and "would also" in _msg(r) and "'orga'" not in _msg(r), r.text
    assert w.dump() == before
    here = w.ok("GET", f"/Things({a['thing']})/Locations", w.admin)["value"]
    assert sorted(x["@iot.id"] for x in here) == sorted([a["location"], mine["location"]])
    assert w.req("DELETE", f"/Locations({mine['location']})", w.pg).status_code == 200  # a global publisher may


def test_create_observations(w: World) -> None:
    a = w.a_station()

    def attempt(h: Headers) -> Any:
        return w.c.post(f"{V}/CreateObservations", headers=h, json=[
            {"Datastream": {"@iot.id": a["datastream"]}, "components": ["phenomenonTime", "result"],
             "dataArray": [["2024-01-01T00:00:00Z", 1], ["2024-01-01T01:00:00Z", 2]]},
            {"Datastream": {"@iot.id": a["datastream"]}, "components": ["result", "FeatureOfInterest/id"],
             "dataArray": [[3, a["foi"]]]}])

    w.refused(attempt)
    for h in (w.pa, w.pg):
        r = attempt(h)
        assert r.status_code == 201 and "error" not in r.json(), r.text
    # into its own Datastream, orgb may not name orga's FeatureOfInterest; a hidden one is a row error
    before = w.dump()
    r = w.c.post(f"{V}/CreateObservations", headers=w.pb, json=[
        {"Datastream": {"@iot.id": w.b["datastream"]}, "components": ["result", "FeatureOfInterest/id"],
         "dataArray": [[1, a["foi"]]]}])
    assert r.status_code == 403, r.text
    assert w.dump() == before
    r = w.c.post(f"{V}/CreateObservations", headers=w.pb, json=[
        {"Datastream": {"@iot.id": w.b["datastream"]}, "components": ["result", "FeatureOfInterest/id"],
         "dataArray": [[1, w.s["foi"]], [2, 999999], [3, w.b["foi"]]]}])
    assert r.status_code == 201 and r.json()[:2] == ["error", "error"] and r.json()[2] != "error"


def _batch_status(r: Any) -> tuple[int, Any]:
    assert r.status_code == 200, r.text
    sub = r.json()["responses"][0]
    return sub["status"], sub["body"]


def test_batch_json(w: World) -> None:
    a = w.a_station()

    def single(h: Headers) -> Any:
        return w.c.post(f"{V}/$batch", headers=h, json={"requests": [
            {"id": "1", "method": "patch", "url": f"Things({a['thing']})", "body": {"name": "batched"}}]})

    def group(h: Headers) -> Any:
        return w.c.post(f"{V}/$batch", headers=h, json={"requests": [
            {"id": "1", "atomicityGroup": "g", "method": "post", "url": "Sensors", "body": sensor("mine")},
            {"id": "2", "atomicityGroup": "g", "method": "post", "url": f"Datastreams({a['datastream']})/Observations",
             "body": {"result": 1}}]})

    w.refused(single, status_of=_batch_status)
    w.refused(group, status_of=_batch_status)
    for h in (w.pa, w.pg):
        assert _batch_status(single(h))[0] == 200
        r = group(h)
        assert [x["status"] for x in r.json()["responses"]] == [201, 201]


def test_owner_recorded_at_create(w: World, platform: Any) -> None:
    mine = w.b
    assert w.owner_org("sta_things", mine["thing"]) == "orgb"
    for table, key in (("sta_locations", "location"), ("sta_sensors", "sensor"), ("sta_observed_properties", "op"),
                       ("sta_datastreams", "datastream"), ("sta_features", "foi")):
        assert w.owner_org(table, mine[key]) == "orgb", table
    # a dataset gives its organisation; a global publisher's rows have none; trusted writers record none
    a = w.a_station()
    assert w.owner_org("sta_things", a["thing"]) == "orga"
    t = w.ok("POST", "/Things", w.pg, {"name": "g", "description": "d"})["@iot.id"]
    assert w.owner_org("sta_things", t) is None
    tid = platform.db.write_sync(lambda c: Writer(c, "v1.1").create(ENTITIES["Thing"], {"name": "imported"}))
    assert w.owner_org("sta_things", tid) is None
    # rows owned by no organisation: only a role without organisation changes them
    for h, status in ((w.pa, 403), (w.pb, 403), (w.pg, 200)):
        assert w.req("PATCH", f"/Things({tid})", h, {"description": "x"}).status_code == status


# -- conformance gaps -------------------------------------------------------------------------------

def test_a_path_through_unrelated_entities_is_not_found(w: World) -> None:
    a, b = w.a_station(), w.b
    for path in (f"/Things({a['thing']})/Datastreams({b['datastream']})/Observations",
                 f"/Things({a['thing']})/Datastreams({b['datastream']})/Sensor",
                 f"/Things({a['thing']})/Datastreams({b['datastream']})/name",
                 f"/Things({a['thing']})/Datastreams({b['datastream']})"):
        assert w.req("GET", path, w.admin).status_code == 404, path
    assert w.req("GET", f"/Things({b['thing']})/Datastreams({b['datastream']})/Observations", w.admin).status_code == 200
    before = w.dump()
    r = w.req("POST", f"/Things({a['thing']})/Datastreams({b['datastream']})/Observations", w.admin, {"result": 1})
    assert r.status_code == 404
    r = w.req("DELETE", f"/Things({a['thing']})/Locations({b['location']})/$ref", w.admin)
    assert r.status_code == 404
    assert w.dump() == before


def test_posting_under_a_datastream_a_body_that_names_another_is_bad_request(w: World) -> None:
    a, b = w.a_station(), w.b
    before = w.dump()
    r = w.req("POST", f"/Datastreams({a['datastream']})/Observations", w.admin,
              {"result": 1, "Datastream": {"@iot.id": b["datastream"]}})
    assert r.status_code == 400 and "another Datastream" in _msg(r), r.text
    r = w.req("POST", f"/Things({a['thing']})/Datastreams", w.admin, datastream("x", Thing={"@iot.id": b["thing"]}))
    assert r.status_code == 400
    assert w.dump() == before
    r = w.req("POST", f"/Datastreams({a['datastream']})/Observations", w.admin,
              {"result": 1, "Datastream": {"@iot.id": a["datastream"]}})
    assert r.status_code == 201


def test_ids_read_from_paths_and_bodies_are_ascii(w: World) -> None:
    a = w.a_station()
    assert w.req("GET", f"/Things({'١'})", w.admin).status_code == 400
    r = w.req("POST", "/Observations", w.admin, {"result": 1, "Datastream": {"@iot.id": f"{a['datastream']}\u0660"}})
    assert r.status_code == 400


@pytest.mark.empty_db  # migrates step by step from an empty database
def test_rows_from_before_the_migration_belong_to_no_organisation(make_settings: Callable[..., Any]) -> None:
    from urbanos.governance.migrations import MIGRATIONS as GOVERNANCE
    from urbanos.sensing.schema import MIGRATIONS as SENSING
    from urbanos.storage import open_database
    from urbanos.storage.migrations import upgrade

    db = open_database(make_settings())
    db.open()
    try:
        upgrade(db, [*GOVERNANCE, SENSING[0]])
        old = db.write_sync(lambda c: c.insert("sta_sensors", {"name": "old", "encoding_type": "text/html", "metadata": "x"}))
        upgrade(db, [*GOVERNANCE, *SENSING])
        assert db.read_sync(lambda c: c.rows("SELECT id, name, owner_org FROM sta_sensors")) == [
            {"id": old, "name": "old", "owner_org": None}]
    finally:
        db.close()


def test_the_owner_feeds_its_confidential_datastream_without_a_grant_to_read_it(w: World) -> None:
    # orga's publisher holds no grant on "secret" (confidential: read by grant only), yet it may change what
    # orga owns: it ingests into, corrects and deletes from its organisation's confidential Datastream
    s = w.s
    assert w.req("GET", f"/Datastreams({s['datastream']})", w.pa).status_code == 404
    made = w.ok("POST", f"/Datastreams({s['datastream']})/Observations", w.pa, {"result": 7})
    linked = w.ok("POST", "/Observations", w.pa, {"result": 8, "Datastream": {"@iot.id": s["datastream"]}})
    w.ok("POST", "/CreateObservations", w.pa, [{"Datastream": {"@iot.id": s["datastream"]},
                                                "components": ["result"], "dataArray": [[9]]}])
    w.ok("PATCH", f"/Observations({made['@iot.id']})", w.pa, {"result": 70})
    w.ok("PATCH", f"/Datastreams({s['datastream']})", w.pa, [{"op": "replace", "path": "/description", "value": "x"}],
         "application/json-patch+json")
    w.ok("DELETE", f"/Observations({linked['@iot.id']})", w.pa)
    got = w.ok("GET", f"/Observations({made['@iot.id']})", w.admin)
    assert got["result"] == 70
    assert w.ok("GET", f"/Datastreams({s['datastream']})", w.admin)["description"] == "x"
    # another organisation still cannot tell that the Datastream exists
    assert w.req("POST", f"/Datastreams({s['datastream']})/Observations", w.pb, {"result": 1}).status_code == 404
