"""The usage cockpit (``/cockpit``, ``/cockpit/public``, their CSV and the open-data files): the counts it shows
equal the reads a test made, per API and dataset; only datasets the viewer may read appear; hostile titles and
application names stay inert; a bad period is a 400 with the reason."""

from __future__ import annotations

import csv
import io
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import api_token
from urbanos.settings import Settings

APP = "usage-cockpit-app"
DATASET = "street-trees"
RECORDS = [{"code": f"t{i}", "height": i} for i in range(4)]
# the reads the test makes, per API (the names the APIs count under)
READS = {"sta": 2, "ogcapi-features": 3, "datastore": 4, "ckan": 5, "dcat": 2, "download": 3, "portal": 2}
# a portal page of a dataset with a feature collection also shows its preview, read as an OGC API Features items
# request (and counted so): each portal page is one OGC API Features read more
COUNTED = {**READS, "ogcapi-features": READS["ogcapi-features"] + READS["portal"]}


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(catalog_usage_flush_seconds=0.1)


def action(client: Any, name: str, headers: dict[str, str], /, **body: Any) -> Any:
    r = client.post(f"/api/3/action/{name}", json=body, headers=headers)
    assert r.status_code == 200, (name, r.text)
    return r.json()["result"]


def dataset(client: Any, admin: dict[str, str], name: str, org: str, title: str = "Street trees",
            access: str = "open") -> dict[str, Any]:
    extra = {} if access == "open" else {"grounds": ["third-party-rights"], "legal_basis": "Contract 12/2025"}
    return action(client, "package_create", admin, name=name, title=title, owner_org=org, license_id="CC-BY-4.0",
                  access_level=access, **extra,
                  resources=[{"name": "Register", "url": "https://example.org/trees.csv", "format": "CSV"}])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def thing_of(client: Any, admin: dict[str, str], name: str) -> int:
    r = client.post("/sta/v1.1/Things", headers=admin, json={
        "name": "Tree sensor", "description": "soil moisture", "properties": {"urbanos:dataset": name},
        "Datastreams": [{
            "name": "moisture", "description": "soil moisture",
            "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
            "unitOfMeasurement": {"name": "percent", "symbol": "%", "definition": "http://qudt.org/vocab/unit/PERCENT"},
            "Sensor": {"name": "probe", "description": "probe", "encodingType": "text/html", "metadata": "x"},
            "ObservedProperty": {"name": "moisture", "definition": "https://example.org/moisture", "description": "m"},
        }]})
    assert r.status_code == 201, r.text
    return int(client.get(r.headers["Location"], headers=admin).json()["@iot.id"])


def cockpit(client: Any, headers: dict[str, str], path: str = "/cockpit") -> dict[str, Any]:
    r = client.get(path, params={"f": "json", "days": "7"}, headers=headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def csv_rows(client: Any, headers: dict[str, str], path: str = "/cockpit/usage.csv") -> list[dict[str, str]]:
    r = client.get(path, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(r.text)))


def test_counts_equal_the_reads_per_api(client: Any, admin_headers: dict[str, str]) -> None:
    action(client, "organization_create", admin_headers, name="parks", title="Parks")
    res = dataset(client, admin_headers, DATASET, "parks")["resources"][0]["id"]
    action(client, "datastore_create", admin_headers, resource_id=res, records=RECORDS, primary_key="code")
    collection = action(client, "resource_show", admin_headers, id=res)["collection"]
    thing = thing_of(client, admin_headers, DATASET)
    app = bearer(api_token(client, APP))
    time.sleep(0.3)  # the setup's own reads (resource_show, the Thing's read) reach the counts through the bus first
    before = {a["api"]: a["count"] for a in cockpit(client, admin_headers)["apis"]}

    reads: list[tuple[str, Callable[[], Any]]] = [
        ("sta", lambda: client.get(f"/sta/v1.1/Things({thing})", headers=app)),
        ("ogcapi-features", lambda: client.get(f"/ogcapi/collections/{collection}/items", headers=app)),
        ("datastore", lambda: client.post("/api/3/action/datastore_search", json={"resource_id": res}, headers=app)),
        ("ckan", lambda: client.post("/api/3/action/package_show", json={"id": DATASET}, headers=app)),
        ("dcat", lambda: client.get(f"/dataset/{DATASET}.ttl", headers=app)),
        ("download", lambda: client.get(f"/download/{collection}.csv", headers=app)),
        ("portal", lambda: client.get(f"/datasets/{DATASET}", headers=app)),
    ]
    for api, read in reads:
        for _ in range(READS[api]):
            r = read()
            assert r.status_code == 200, (api, r.status_code, r.text[:300])
    time.sleep(0.3)  # the flush interval is 0.1 s (the cockpit also writes the pending counts before it reads)

    figures = cockpit(client, admin_headers)
    after = {a["api"]: a["count"] for a in figures["apis"]}
    assert {api: after.get(api, 0) - before.get(api, 0) for api in READS} == COUNTED
    mine = [r for r in csv_rows(client, admin_headers) if r["application"] == APP]
    per_api: Counter[str] = Counter()
    for r in mine:
        assert r["dataset"] == DATASET, r
        per_api[r["api"]] += int(r["count"])
    assert dict(per_api) == COUNTED
    trees = next(d for d in figures["datasets"] if d["dataset"] == DATASET)
    assert {a["application"]: a["count"] for a in trees["applications"]}[APP] == sum(COUNTED.values())
    assert sum(sum(v) for v in figures["trend"]["series"].values()) == figures["total"]
    # the public summary counts the same open dataset, without application names
    public = cockpit(client, {}, "/cockpit/public")
    assert next(d for d in public["datasets"] if d["dataset"] == DATASET)["count"] == trees["count"]
    assert APP not in str(public) and all("applications" not in d for d in public["datasets"])
    open_csv = csv_rows(client, {}, "/cockpit/public/usage.csv")
    assert open_csv and "application" not in open_csv[0]
    assert sum(int(r["count"]) for r in open_csv if r["dataset"] == DATASET) == trees["count"]
    rows = client.get("/cockpit/public/usage.json").json()["rows"]
    assert sum(r["count"] for r in rows if r["dataset"] == DATASET) == trees["count"]


def test_who_sees_what(client: Any, admin_headers: dict[str, str]) -> None:
    for org in ("org-a", "org-b"):
        action(client, "organization_create", admin_headers, name=org, title=org.upper())
    dataset(client, admin_headers, "a-internal", "org-a", title="A internal", access="internal")
    dataset(client, admin_headers, "b-internal", "org-b", title="B internal", access="internal")
    dataset(client, admin_headers, "b-open", "org-b", title="B open")
    for name in ("a-internal", "b-internal", "b-open"):
        action(client, "package_show", admin_headers, id=name)
    steward_a = bearer(api_token(client, "steward-a", role="steward", org="org-a"))
    reader = bearer(api_token(client, "reader-a", role="reader", org="org-a"))

    r = client.get("/cockpit")
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
    assert client.get("/cockpit/usage.csv").status_code == 401
    assert client.get("/cockpit", headers=reader).status_code == 403
    assert client.get("/cockpit/public").status_code == 200

    seen = {d["dataset"] for d in cockpit(client, steward_a)["datasets"]}
    assert {"a-internal", "b-open"} <= seen and "b-internal" not in seen
    assert not any(r["dataset"] == "b-internal" for r in csv_rows(client, steward_a))
    assert {"a-internal", "b-internal", "b-open"} <= {d["dataset"] for d in cockpit(client, admin_headers)["datasets"]}
    public = {d["dataset"] for d in cockpit(client, {}, "/cockpit/public")["datasets"]}
    assert "b-open" in public and not public & {"a-internal", "b-internal"}
    assert not any(r["dataset"].endswith("internal") for r in csv_rows(client, {}, "/cockpit/public/usage.csv"))


def test_hostile_titles_and_names_stay_inert(client: Any, admin_headers: dict[str, str]) -> None:
    action(client, "organization_create", admin_headers, name="parks", title="Parks")
    dataset(client, admin_headers, "hostile", "parks", title="</script><script>alert(1)</script>")
    evil = bearer(api_token(client, "=HYPERLINK(\"http://evil.example\")"))
    action(client, "package_show", evil, id="hostile")
    page = client.get("/cockpit", headers=admin_headers)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "<script>alert(1)" not in page.text and "&lt;/script&gt;&lt;script&gt;alert(1)" in page.text
    data_block = page.text.split('id="usage-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in data_block
    text = client.get("/cockpit/usage.csv", headers=admin_headers).text
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
    public = client.get("/cockpit/public", params={"lang": "de"})
    assert public.status_code == 200 and "Nutzung offener Daten" in public.text
    assert "<script>alert(1)" not in public.text and "HYPERLINK" not in public.text


@pytest.mark.parametrize("query, reason", [
    ({"days": "5"}, "days must be one of 7, 30, 90"),
    ({"days": "x"}, "days must be one of"),
    ({"since": "2024-13-01"}, "since must be a date"),
    ({"until": "yesterday"}, "until must be a date"),
    ({"since": "2024-05-02", "until": "2024-05-01"}, "is after until"),
    ({"since": "2020-01-01", "until": "2024-01-01"}, "longer than 366 days"),
    ({"days": "7", "since": "2024-05-01"}, "not both"),
])
def test_bad_periods_are_400_with_the_reason(client: Any, admin_headers: dict[str, str], query: dict[str, str],
                                             reason: str) -> None:
    for path, headers in (("/cockpit", admin_headers), ("/cockpit/usage.csv", admin_headers),
                          ("/cockpit/public", {}), ("/cockpit/public/usage.json", {})):
        r = client.get(path, params=query, headers=headers)
        assert r.status_code == 400, (path, r.text)
        assert reason in r.json()["detail"]


def test_a_chosen_period(client: Any, admin_headers: dict[str, str]) -> None:
    r = client.get("/cockpit", params={"f": "json", "since": "2024-05-01", "until": "2024-05-03"}, headers=admin_headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["trend"]["days"] == ["2024-05-01", "2024-05-02", "2024-05-03"] and body["total"] == 0
    assert isinstance(body["late"], list)


def test_late_datasets_are_listed_for_those_who_may_read_them(client: Any, platform: Any,
                                                              admin_headers: dict[str, str]) -> None:
    action(client, "organization_create", admin_headers, name="parks", title="Parks")
    for name, access in (("late-open", "open"), ("late-internal", "internal")):
        extra = {} if access == "open" else {"grounds": ["third-party-rights"], "legal_basis": "Contract 12/2025"}
        action(client, "package_create", admin_headers, name=name, title=name, owner_org="parks", frequency="DAILY",
               license_id="CC-BY-4.0", access_level=access, **extra)
    platform.db.write_sync(lambda c: c.execute(
        "UPDATE datasets SET modified_at = '2020-01-01T00:00:00.000000Z' WHERE name IN ('late-open', 'late-internal')"))
    late = {d["name"]: d for d in cockpit(client, admin_headers)["late"]}
    assert set(late) == {"late-open", "late-internal"} and late["late-open"]["frequency"] == "DAILY"
    assert late["late-open"]["age_days"] > late["late-open"]["max_age_days"]
    assert {d["name"] for d in cockpit(client, {}, "/cockpit/public")["late"]} == {"late-open"}
    page = client.get("/cockpit/public", params={"lang": "de"})
    assert "Verspätete Datensätze" in page.text and "late-open" in page.text and "late-internal" not in page.text
