"""SensorThings batch requests: JSON format (atomicity groups, $id references) and multipart/mixed (change sets)."""

from __future__ import annotations

import orjson

from tests.sensing.sta_helpers import Sta, datastream, location


def _count(sta: Sta, s: str) -> int:
    return int(sta.ok(f"/{s}?$count=true&$top=0")["@iot.count"])


def test_json_batch_with_group_and_references(sta: Sta) -> None:
    doc = {"requests": [
        {"id": "t", "atomicityGroup": "g1", "method": "post", "url": "Things",
         "body": {"name": "Batch thing", "description": "x", "Locations": [location()]}},
        {"id": "d", "atomicityGroup": "g1", "method": "post", "url": "$t/Datastreams", "body": datastream("Batch ds")},
        {"id": "o", "atomicityGroup": "g1", "method": "post", "url": "Observations",
         "body": {"result": 12, "Datastream": {"@iot.id": "$d"}}},
        {"id": "r", "method": "get", "url": "Things?$expand=Datastreams/Observations"},
    ]}
    r = sta.c.post("/sta/v1.1/$batch", json=doc, headers=sta.h)
    assert r.status_code == 200, r.text
    res = {x["id"]: x for x in r.json()["responses"]}
    assert res["t"]["status"] == 201 and res["d"]["status"] == 201 and res["o"]["status"] == 201
    assert res["t"]["headers"]["location"].endswith("Things(1)")
    got = res["r"]["body"]["value"][0]
    assert got["Datastreams"][0]["Observations"][0]["result"] == 12


def test_json_batch_group_is_atomic(sta: Sta) -> None:
    doc = {"requests": [
        {"id": "1", "atomicityGroup": "g", "method": "post", "url": "Things", "body": {"name": "ok", "description": "x"}},
        {"id": "2", "atomicityGroup": "g", "method": "post", "url": "Things", "body": {"description": "no name"}},
        {"id": "3", "method": "post", "url": "Things", "body": {"name": "alone", "description": "x"}},
        {"id": "4", "method": "get", "url": "Nothing"},
    ]}
    r = sta.c.post("/sta/v1.1/$batch", json=doc, headers=sta.h)
    res = {x["id"]: x for x in r.json()["responses"]}
    assert res["1"]["status"] == 400 and res["2"]["status"] == 400
    assert res["3"]["status"] == 201 and res["4"]["status"] == 404
    assert [t["name"] for t in sta.ok("/Things")["value"]] == ["alone"]
    assert sta.c.post("/sta/v1.1/$batch", json={"requests": "x"}, headers=sta.h).status_code == 400
    anon = sta.c.post("/sta/v1.1/$batch", json={"requests": [doc["requests"][2]]}).json()
    assert anon["responses"][0]["status"] == 401


def _multipart(changeset_ok: bool) -> tuple[str, bytes]:
    thing = orjson.dumps({"name": "MP thing", "description": "x", "Locations": [location()]}).decode()
    ds = orjson.dumps(datastream("MP ds")).decode()
    bad = orjson.dumps({"name": "missing unit"}).decode()
    second = ds if changeset_ok else bad
    body = (
        "--batch_1\r\n"
        "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
        "GET Things?$count=true HTTP/1.1\r\nHost: localhost\r\n\r\n\r\n"
        "--batch_1\r\n"
        "Content-Type: multipart/mixed; boundary=changeset_1\r\n\r\n"
        "--changeset_1\r\n"
        "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\n"
        f"POST Things HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{thing}\r\n"
        "--changeset_1\r\n"
        "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 2\r\n\r\n"
        f"POST $1/Datastreams HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{second}\r\n"
        "--changeset_1--\r\n"
        "--batch_1--\r\n"
    )
    return "multipart/mixed; boundary=batch_1", body.encode()


def test_multipart_batch_with_changeset(sta: Sta) -> None:
    ctype, body = _multipart(True)
    r = sta.c.post("/sta/v1.1/$batch", content=body, headers={**sta.h, "Content-Type": ctype})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("multipart/mixed; boundary=")
    text = r.text
    assert "HTTP/1.1 200 OK" in text and text.count("HTTP/1.1 201 Created") == 2
    assert "Content-ID: 1" in text
    assert _count(sta, "Things") == 1 and _count(sta, "Datastreams") == 1
    ds = sta.ok("/Datastreams")["value"][0]["@iot.id"]
    assert sta.ok(f"/Datastreams({ds})/Thing")["name"] == "MP thing"


def test_multipart_changeset_is_atomic(sta: Sta) -> None:
    ctype, body = _multipart(False)
    r = sta.c.post("/sta/v1.1/$batch", content=body, headers={**sta.h, "Content-Type": ctype})
    assert r.status_code == 200
    assert "HTTP/1.1 400 Bad Request" in r.text
    assert _count(sta, "Things") == 0 and _count(sta, "Locations") == 0
    r = sta.c.post("/sta/v1.1/$batch", content=b"garbage", headers={**sta.h, "Content-Type": "multipart/mixed"})
    assert r.status_code == 400 and r.json()["type"] == "error"
