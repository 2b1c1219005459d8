"""CKAN DataStore actions through the Action API: search, SQL, create/upsert/delete, access and usage."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import ADMIN_TOKEN, BACKEND
from tests.features.import_samples import SENSORS, STADTTEILE
from urbanos.features.importers.run import import_file

ADMIN = {"Authorization": ADMIN_TOKEN}  # CKAN clients send the bare token


def _call(client: Any, action: str, headers: dict[str, str] | None = None, **data: Any) -> Any:
    return client.post(f"/api/3/action/{action}", json=data, headers=headers or {})


def _ok(r: Any) -> Any:
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["success"] is True
    return body["result"]


def _sensor_rows() -> list[dict[str, str]]:
    with open(SENSORS, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def sensors(platform: Any) -> Any:
    import_file(platform, str(SENSORS), "sensors", {}, progress=False)
    return platform


def test_search_defaults_match_source(sensors: Any, client: Any) -> None:
    res = _ok(_call(client, "datastore_search", resource_id="sensors"))
    src = _sensor_rows()
    assert res["total"] == len(src) == 77 and res["limit"] == 100 and len(res["records"]) == 77
    assert res["fields"][0] == {"id": "_id", "type": "int"}
    assert {"id": "sensor_id", "type": "int"} in res["fields"] and {"id": "latitude", "type": "numeric"} in res["fields"]
    for rec, row in zip(res["records"], src, strict=True):
        assert str(rec["sensor_id"]) == row["sensor_id"] and rec["sensor_description"] == row["sensor_description"]
        assert rec["latitude"] == float(row["latitude"])
    assert [r["_id"] for r in res["records"]] == list(range(1, 78))


def test_filters_q_sort_fields_paging(sensors: Any, client: Any) -> None:
    src = _sensor_rows()
    res = _ok(_call(client, "datastore_search", resource_id="sensors", filters={"status": "R"}, fields=["sensor_id", "status"],
                    sort="sensor_id desc", limit=3, offset=1))
    removed = sorted((int(r["sensor_id"]) for r in src if r["status"] == "R"), reverse=True)
    assert res["total"] == len(removed) and [r["sensor_id"] for r in res["records"]] == removed[1:4]
    assert res["fields"] == [{"id": "sensor_id", "type": "int"}, {"id": "status", "type": "text"}]
    assert res["_links"]["next"].endswith("offset=4&resource_id=sensors")
    many = _ok(_call(client, "datastore_search", resource_id="sensors", filters={"sensor_id": [1, 2, 3]}))
    assert sorted(r["sensor_id"] for r in many["records"]) == sorted(int(r["sensor_id"]) for r in src if r["sensor_id"] in "123"
                                                                    and len(r["sensor_id"]) == 1)
    q = _ok(_call(client, "datastore_search", resource_id="sensors", q="swanston"))
    assert q["total"] == sum(1 for r in src if "swanston" in " ".join(r.values()).lower())
    qd = _ok(_call(client, "datastore_search", resource_id="sensors", q={"sensor_name": "Swa"}))
    assert qd["total"] == sum(1 for r in src if "swa" in r["sensor_name"].lower())
    distinct = _ok(_call(client, "datastore_search", resource_id="sensors", fields="status", distinct=True, sort="status"))
    assert [r["status"] for r in distinct["records"]] == sorted({r["status"] for r in src}) and distinct["total"] == 2
    lists = _ok(_call(client, "datastore_search", resource_id="sensors", fields="sensor_id", limit=2, records_format="lists",
                      include_total=False))
    assert lists["records"] == [[int(src[0]["sensor_id"])], [int(src[1]["sensor_id"])]] and "total" not in lists
    as_csv = _ok(_call(client, "datastore_search", resource_id="sensors", fields="sensor_id,status", limit=2, records_format="csv"))
    assert list(csv.reader(io.StringIO(as_csv["records"]))) == [[r["sensor_id"], r["status"]] for r in src[:2]]


def test_get_with_query_string(sensors: Any, client: Any) -> None:
    r = client.get('/api/3/action/datastore_search?resource_id=sensors&limit=1&filters={"status":"A"}&sort=sensor_id')
    res = _ok(r)
    assert res["records"][0]["sensor_id"] == min(int(x["sensor_id"]) for x in _sensor_rows() if x["status"] == "A")


@pytest.mark.parametrize("data,field", [
    ({}, "resource_id"), ({"filters": {"nope": 1}}, "filters"), ({"filters": {"sensor_id": "abc"}}, "filters"),
    ({"sort": "nope asc"}, "sort"), ({"fields": ["nope"]}, "fields"), ({"limit": -1}, "limit"), ({"limit": "x"}, "limit"),
    ({"offset": "1.5"}, "offset"), ({"records_format": "xml"}, "records_format"), ({"q": ["x"]}, "q"),
    ({"filters": "[1"}, "filters"), ({"q": {"nope": "x"}}, "q"),
])
def test_bad_search_is_a_validation_error(sensors: Any, client: Any, data: dict[str, Any], field: str) -> None:
    body = {"resource_id": "sensors", **data} if field != "resource_id" else {}
    r = _call(client, "datastore_search", **body)
    assert r.status_code == 409, r.text
    err = r.json()["error"]
    assert err["__type"] == "Validation Error" and field in err


def test_unknown_resource_is_not_found(client: Any) -> None:
    r = _call(client, "datastore_search", resource_id="nope")
    assert r.status_code == 404 and r.json()["error"]["__type"] == "Not Found Error"


def _token(platform: Any, role: str, org: str | None = None, name: str = "") -> dict[str, str]:
    from urbanos.governance.tokens import create_token

    return {"Authorization": platform.db.write_sync(lambda c: create_token(c, role, org, name))}


@pytest.mark.parametrize("level", ["open", "registered", "internal", "confidential"])
def test_access_levels_and_usage(platform: Any, client: Any, level: str) -> None:
    import_file(platform, str(SENSORS), "s", {"access_level": level, "org": "city"}, progress=False)
    events: list[Any] = []
    platform.bus.subscribe(events.append, topic="usage")
    reader, insider = _token(platform, "reader", name="app-r"), _token(platform, "reader", "city")
    codes = tuple(_call(client, "datastore_search", h, resource_id="s", limit=1).status_code
                  for h in ({}, reader, insider, ADMIN))
    assert codes == {"open": (200,) * 4, "registered": (403, 200, 200, 200), "internal": (403, 403, 200, 200),
                     "confidential": (403, 403, 403, 200)}[level]
    denied = _call(client, "datastore_search", resource_id="s")
    if level != "open":
        assert denied.json()["error"]["__type"] == "Authorization Error" and "records" not in denied.text
    ds_events = [e for e in events if e.data.get("api") == "datastore"]
    assert len(ds_events) == codes.count(200) + (1 if level == "open" else 0)
    assert all(e.dataset_id is not None and e.data["collection"] == "s" for e in ds_events)
    if codes[1] == 200:
        assert any(e.data["application"] == "app-r" for e in ds_events)


def _resource(client: Any, name: str = "tbl") -> str:
    _ok(_call(client, "organization_create", ADMIN, name="city"))
    _ok(_call(client, "package_create", ADMIN, name=name, title="Table", owner_org="city"))
    return _ok(_call(client, "resource_create", ADMIN, package_id=name, url="https://example.org/t.csv", name="t"))["id"]


def test_create_upsert_delete(client: Any, platform: Any) -> None:
    rid = _resource(client)
    fields = [{"id": "code", "type": "text"}, {"id": "n", "type": "int"}, {"id": "when", "type": "timestamp"}]
    recs = [{"code": "a", "n": 1, "when": "2024-01-01T00:00:00"}, {"code": "b", "n": 2, "when": "2024-01-02T00:00:00"}]
    assert _call(client, "datastore_create", resource_id=rid, fields=fields, records=recs).status_code == 403
    res = _ok(_call(client, "datastore_create", ADMIN, resource_id=rid, fields=fields, records=recs, primary_key="code"))
    assert res["primary_key"] == ["code"] and [f["id"] for f in res["fields"]] == ["code", "n", "when"]
    shown = _ok(_call(client, "resource_show", id=rid))
    assert shown["datastore_active"] is True
    _ok(_call(client, "datastore_upsert", ADMIN, resource_id=rid, records=[{"code": "b", "n": 20}, {"code": "c", "n": 3}]))
    _ok(_call(client, "datastore_upsert", ADMIN, resource_id=rid, method="insert", records=[{"code": "d", "n": 4}]))
    got = _ok(_call(client, "datastore_search", resource_id=rid, sort="code"))["records"]
    assert [(r["code"], r["n"]) for r in got] == [("a", 1), ("b", 20), ("c", 3), ("d", 4)]
    assert got[1]["when"].startswith("2024-01-02T00:00:00")
    # bad writes change nothing
    for body in ({"records": [{"code": "z", "nope": 1}]}, {"method": "update", "records": [{"code": "zz", "n": 1}]},
                 {"records": [{"code": "a", "n": "not a number"}]}, {"method": "insert", "records": [{"code": "a", "n": 9}]},
                 {"method": "bogus", "records": []}):
        r = _call(client, "datastore_upsert", ADMIN, resource_id=rid, **body)
        assert r.status_code == 409, (body, r.text)
    assert _ok(_call(client, "datastore_search", resource_id=rid))["total"] == 4
    _ok(_call(client, "datastore_delete", ADMIN, resource_id=rid, filters={"code": ["a", "c"]}))
    assert [r["code"] for r in _ok(_call(client, "datastore_search", resource_id=rid))["records"]] == ["b", "d"]
    info = _ok(_call(client, "datastore_info", resource_id=rid))
    assert info["meta"]["count"] == 2
    _ok(_call(client, "datastore_delete", ADMIN, resource_id=rid))
    assert _call(client, "datastore_search", resource_id=rid).status_code == 404
    assert _ok(_call(client, "resource_show", id=rid))["datastore_active"] is False


def test_create_refuses_bad_definitions(client: Any) -> None:
    rid = _resource(client)
    for body in ({"fields": [{"id": "a", "type": "blob"}]}, {"fields": [{"id": "_x", "type": "text"}]},
                 {"fields": [{"id": "a", "type": "int"}], "primary_key": "b"},
                 {"fields": [{"id": "a", "type": "int"}], "primary_key": "a", "records": [{"a": 1}, {"a": 1}]},
                 {"fields": [{"id": "a", "type": "int"}], "records": [{"a": "x"}]}, {"records": "nope"}):
        r = _call(client, "datastore_create", ADMIN, resource_id=rid, **body)
        assert r.status_code == 409, (body, r.text)
    assert _call(client, "datastore_search", resource_id=rid).status_code == 404


# -- datastore_search_sql ----------------------------------------------------------------------------------

@pytest.fixture
def sql_client(make_settings: Callable[..., Any]) -> Any:
    from starlette.testclient import TestClient

    from urbanos.web.app import create_app

    app = create_app(make_settings(datastore_sql_enabled=True, datastore_sql_timeout=0.3, statement_timeout=1.0))
    with TestClient(app, raise_server_exceptions=False) as c:
        import_file(app.state.platform, str(STADTTEILE), "stadtteile", {}, progress=False)
        import_file(app.state.platform, str(SENSORS), "secret", {"access_level": "confidential"}, progress=False)
        yield c


def test_sql_is_off_by_default(sensors: Any, client: Any) -> None:
    r = _call(client, "datastore_search_sql", sql='SELECT * FROM "sensors"')
    assert r.status_code == 403 and "URBANOS_DATASTORE_SQL_ENABLED" in r.text


def test_sql_select(sql_client: Any) -> None:
    res = _ok(_call(sql_client, "datastore_search_sql",
                    sql='SELECT district_name, COUNT(*) AS n FROM "stadtteile" GROUP BY district_name ORDER BY n DESC, district_name'))
    assert sum(r["n"] for r in res["records"]) == 104 and res["fields"] == [{"id": "district_name", "type": "text"},
                                                                          {"id": "n", "type": "int"}]
    one = _ok(_call(sql_client, "datastore_search_sql",
                    sql="WITH t AS (SELECT * FROM \"stadtteile\" WHERE lower(name) LIKE 'alt%') SELECT \"_id\", name FROM t ORDER BY 1"))
    assert all(r["name"].lower().startswith("alt") for r in one["records"]) and one["records"]


@pytest.mark.parametrize("sql,why", [
    ('DELETE FROM "stadtteile"', "Only SELECT"), ('SELECT 1; DROP TABLE "stadtteile"', "one statement"),
    ('SELECT * FROM "stadtteile"; SELECT 1', "one statement"), ("SELECT * FROM sqlite_master", "not found"),
    ('SELECT pg_sleep(10) FROM "stadtteile"', "PG_SLEEP is not allowed"), ("SELECT 1", "at least one"),
    ('SELECT * INTO x FROM "stadtteile"', "not allowed"), ('SELECT * FROM "stadtteile" FOR UPDATE', "not allowed"),
    ('SELECT randomblob(1000000000) FROM "stadtteile"', "not allowed"), ("SELEC nonsense", "Only SELECT"), ("SELECT * FROM (", "syntax error"),
    ('SELECT * FROM public."stadtteile"', "not a DataStore resource"), ("", "Missing value"),
    ('WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT * FROM r, "stadtteile"', "RECURSIVE"),
    ('SELECT nope FROM "stadtteile"', "query failed"),
])
def test_sql_refused(sql_client: Any, sql: str, why: str) -> None:
    r = _call(sql_client, "datastore_search_sql", sql=sql)
    assert r.status_code in (404, 409), r.text
    assert why in r.text


def test_sql_respects_access_and_timeout(sql_client: Any) -> None:
    r = _call(sql_client, "datastore_search_sql", sql='SELECT COUNT(*) FROM "secret"')
    assert r.status_code == 403
    ok = _call(sql_client, "datastore_search_sql", ADMIN, sql='SELECT COUNT(*) AS n FROM "secret"')
    assert _ok(ok)["records"] == [{"n": 77}]
    slow = 'SELECT COUNT(*) FROM "stadtteile" a, "stadtteile" b, "stadtteile" c, "stadtteile" d, "stadtteile" e'
    r = _call(sql_client, "datastore_search_sql", sql=slow)
    assert r.status_code == 409 and "took too long" in r.text, (BACKEND, r.text)
