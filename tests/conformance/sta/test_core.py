"""SensorThings core: service root, entity sets, addressing, navigation, properties, $value, $ref, options."""

from __future__ import annotations

from typing import Any

from tests.sensing.sta_helpers import Sta, datastream, thing


def _seed(sta: Sta, n_obs: int = 12) -> dict[str, Any]:
    t = sta.create("/Things", thing("Counter A"))
    ds = sta.ok(f"/Things({t['@iot.id']})/Datastreams")["value"][0]["@iot.id"]
    for i in range(n_obs):
        sta.observe(ds, i, f"2024-03-{1 + i // 24:02d}T{i % 24:02d}:00:00Z")
    return {"thing": t["@iot.id"], "ds": ds}


def test_root_both_paths_and_conformance(sta: Sta) -> None:
    for path in ("/sta/v1.1", "/sta/v1.1/"):
        r = sta.c.get(path)
        assert r.status_code == 200
        body = r.json()
        names = [v["name"] for v in body["value"]]
        assert names[:3] == ["Things", "Locations", "HistoricalLocations"]
        assert all(v["url"].startswith("http") and v["url"].endswith(v["name"]) for v in body["value"])
        conf = body["serverSettings"]["conformance"]
        assert "http://www.opengis.net/spec/iot_sensing/1.1/req/datamodel" in conf
        assert "http://www.opengis.net/spec/iot_sensing/1.1/req/create-update-delete" in conf
    v10 = sta.c.get("/sta/v1.0/").json()
    assert "serverSettings" not in v10 and len(v10["value"]) == 9
    assert sta.c.get("/sta/v2.0/").status_code == 404


def test_entity_links_are_absolute(sta: Sta) -> None:
    ids = _seed(sta, 1)
    t = sta.ok(f"/Things({ids['thing']})")
    assert t["@iot.id"] == ids["thing"] and isinstance(t["@iot.id"], int)
    assert t["@iot.selfLink"] == f"http://testserver/sta/v1.1/Things({ids['thing']})"
    for nav in ("Locations", "HistoricalLocations", "Datastreams", "MultiDatastreams"):
        assert t[f"{nav}@iot.navigationLink"] == t["@iot.selfLink"] + "/" + nav
    o = sta.ok("/Observations")["value"][0]
    assert o["resultTime"] is None
    assert o["Datastream@iot.navigationLink"].endswith("/Datastream")
    v10 = sta.c.get(f"/sta/v1.0/Things({ids['thing']})").json()
    assert v10["@iot.selfLink"].startswith("http://testserver/sta/v1.0/")


def test_navigation_property_value_ref(sta: Sta) -> None:
    ids = _seed(sta, 3)
    obs = sta.ok(f"/Datastreams({ids['ds']})/Observations")["value"]
    assert len(obs) == 3
    oid = obs[0]["@iot.id"]
    thing_ = sta.ok(f"/Observations({oid})/Datastream/Thing")
    assert thing_["@iot.id"] == ids["thing"]
    assert sta.ok(f"/Things({ids['thing']})/Datastreams({ids['ds']})")["@iot.id"] == ids["ds"]
    assert sta.ok(f"/Things({ids['thing']})/name") == {"name": "Counter A"}
    r = sta.get(f"/Things({ids['thing']})/name/$value")
    assert r.status_code == 200 and r.text == "Counter A"
    refs = sta.ok(f"/Things({ids['thing']})/Locations/$ref")
    assert list(refs["value"][0]) == ["@iot.selfLink"]
    assert sta.ok(f"/Datastreams({ids['ds']})/Thing/$ref")["@iot.selfLink"].endswith(f"Things({ids['thing']})")
    assert sta.ok(f"/Observations({oid})/FeatureOfInterest")["feature"]["type"] == "Point"


def test_select_orderby_top_skip_count(sta: Sta) -> None:
    ids = _seed(sta, 12)
    body = sta.ok(f"/Datastreams({ids['ds']})/Observations?$top=3&$orderby=phenomenonTime desc&$count=true"
                  "&$select=result,phenomenonTime")
    assert body["@iot.count"] == 12
    assert [o["result"] for o in body["value"]] == [11, 10, 9]
    assert set(body["value"][0]) == {"result", "phenomenonTime"}
    body = sta.ok("/Observations?$skip=10&$orderby=result")
    assert [o["result"] for o in body["value"]] == [10, 11]
    body = sta.ok("/Observations?$top=0&$count=true")
    assert body["value"] == [] and body["@iot.count"] == 12
    sta.create("/Things", {"name": "B", "description": "b"})
    sta.create("/Things", {"name": "B", "description": "a"})
    names = [(t["name"], t["description"]) for t in sta.ok("/Things?$orderby=name desc,description asc")["value"]]
    assert names == [("Counter A", "Counter A thing"), ("B", "a"), ("B", "b")]


def test_next_link_pages_without_duplicates(sta: Sta) -> None:
    ids = _seed(sta, 25)
    seen: list[int] = []
    url = f"/sta/v1.1/Datastreams({ids['ds']})/Observations?$top=4&$orderby=phenomenonTime desc"
    pages = 0
    while url:
        r = sta.c.get(url)
        assert r.status_code == 200, r.text
        body = r.json()
        seen += [o["@iot.id"] for o in body["value"]]
        url = body.get("@iot.nextLink", "").replace("http://testserver", "")
        pages += 1
    assert pages == 7 and len(seen) == 25 == len(set(seen))
    assert "$skiptoken=" in sta.ok("/Observations?$top=5")["@iot.nextLink"]


def test_max_top_is_capped(make_settings: Any, admin_headers: dict[str, str]) -> None:
    from starlette.testclient import TestClient

    from urbanos.web.app import create_app

    with TestClient(create_app(make_settings(sta_max_top=5, sta_default_top=2))) as c:
        s = Sta(c, admin_headers)
        _seed(s, 7)
        assert len(s.ok("/Observations")["value"]) == 2
        body = s.ok("/Observations?$top=100")
        assert len(body["value"]) == 5 and "@iot.nextLink" in body


def test_expand_nested_with_options(sta: Sta) -> None:
    ids = _seed(sta, 5)
    body = sta.ok("/Things?$expand=Datastreams($top=1;$orderby=phenomenonTime desc;"
                  "$expand=Observations($select=result;$orderby=phenomenonTime desc;$top=2)),Locations")
    t = body["value"][0]
    assert t["Locations"][0]["location"]["type"] == "Point"
    ds = t["Datastreams"][0]
    assert ds["@iot.id"] == ids["ds"]
    assert ds["Observations"] == [{"result": 4}, {"result": 3}]
    assert "Observations@iot.nextLink" in ds
    latest = sta.ok("/Datastreams?$expand=Observations($top=1;$orderby=phenomenonTime desc)")
    assert latest["value"][0]["Observations"][0]["result"] == 4
    deep = sta.ok("/Observations?$top=1&$expand=Datastream/Thing")
    assert deep["value"][0]["Datastream"]["Thing"]["@iot.id"] == ids["thing"]
    counted = sta.ok(f"/Things({ids['thing']})?$expand=Datastreams/Observations($count=true;$top=1)")
    assert counted["Datastreams"][0]["Observations@iot.count"] == 5


def _err(r: Any, status: int) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == status and body["type"] == "error" and body["message"]


def test_bad_input_errors(sta: Sta) -> None:
    _seed(sta, 1)
    _err(sta.get("/Things(abc)"), 400)
    _err(sta.get("/Things(999)"), 404)
    _err(sta.get("/Nothing"), 404)
    _err(sta.get("/Things?$count=yes"), 400)
    _err(sta.get("/Things?$top=-1"), 400)
    _err(sta.get("/Things?$orderby=nope"), 400)
    _err(sta.get("/Things?$select=nope"), 400)
    _err(sta.get("/Things?$expand=Nope"), 400)
    _err(sta.get("/Things?$bogus=1"), 501)
    _err(sta.get("/Things(1)/nope"), 404)
    _err(sta.get("/Things?$skiptoken=zzz"), 400)
    _err(sta.get("/Things/Datastreams"), 400)


def test_count_cap_and_estimate(make_settings: Any, admin_headers: dict[str, str]) -> None:
    from starlette.testclient import TestClient

    from urbanos.web.app import create_app

    with TestClient(create_app(make_settings(sta_count_cap=5))) as c:
        s = Sta(c, admin_headers)
        _seed(s, 7)
        assert s.ok("/Observations?$count=true&$top=1")["@iot.count"] == 5
        assert s.ok("/Things?$count=true")["@iot.count"] == 1
    with TestClient(create_app(make_settings(sta_count_cap=5, sta_count_mode="estimate"))) as c:
        s = Sta(c, admin_headers)
        assert s.ok("/Observations?$count=true&$top=1")["@iot.count"] >= 5


def test_expand_next_link_is_key_set(sta: Sta) -> None:
    """The nextLink of an expanded collection pages that collection by key set, with the expand's own options."""
    tid = sta.create("/Things", thing("Pager", Datastreams=[datastream("A"), datastream("B")]))["@iot.id"]
    a, b = (d["@iot.id"] for d in sta.ok(f"/Things({tid})/Datastreams?$orderby=name")["value"])
    for i in range(7):
        sta.observe(a, i, f"2024-06-01T0{i}:00:00Z")
    sta.observe(b, 100, "2024-06-01T00:00:00Z")
    body = sta.ok(f"/Things({tid})?$expand=Datastreams($orderby=name;$top=1;"
                  "$expand=Observations($top=1;$select=result)),"
                  "Datastreams/Observations($filter=result ge 1;$orderby=phenomenonTime desc;$top=2;$select=result)")
    ds = body["Datastreams"][0]
    link = ds["Observations@iot.nextLink"]
    assert "$skiptoken=" in link and "$skip=" not in link
    seen = [o["result"] for o in ds["Observations"]]
    while link:
        page = sta.ok(link.replace("http://testserver/sta/v1.1", ""))
        assert all(set(o) == {"result"} for o in page["value"])
        seen += [o["result"] for o in page["value"]]
        link = page.get("@iot.nextLink")
    assert seen == [6, 5, 4, 3, 2, 1]
    # the next page of the Datastreams carries their own nested $expand
    nxt = body["Datastreams@iot.nextLink"]
    assert "$skiptoken=" in nxt
    page = sta.ok(nxt.replace("http://testserver/sta/v1.1", ""))
    assert [d["@iot.id"] for d in page["value"]] == [b]
    assert page["value"][0]["Observations"] == [{"result": 100}]
