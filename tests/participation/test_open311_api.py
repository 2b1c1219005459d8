"""Open311 GeoReport v2 through HTTP, JSON and XML: discovery, services and definitions, posting and reading
requests with the spec's filters and extensions, batch tokens, and the spec's error lists for bad input (nothing
stored). Contact details are stored but never published."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree as ET  # nosec B405 - parsing our own answers in tests

import pytest

from tests.participation.o311 import EMAIL, report, setup_city

FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture
def city(client: Any) -> dict[str, str]:
    return setup_city(client)


def _count(client: Any) -> int:
    return len(client.get("/open311/v2/requests.json", params={"page_size": "1000"}).json())


def test_discovery_in_json_and_xml(client: Any) -> None:
    r = client.get("/open311/v2/discovery.json")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    ep = r.json()["endpoints"][0]
    assert ep["specification"] == "http://wiki.open311.org/GeoReport_v2" and ep["url"].endswith("/open311/v2")
    x = ET.fromstring(client.get("/open311/v2/discovery.xml").content)  # nosec B314
    assert x.tag == "discovery" and x.find("endpoints/endpoint/formats/format") is not None


def test_services_and_definitions(client: Any, city: dict[str, str]) -> None:
    services = client.get("/open311/v2/services.json").json()
    assert [s["service_code"] for s in services] == ["bulky", "pothole"]
    pothole = services[1]
    assert pothole["metadata"] is True and pothole["type"] == "realtime" and pothole["organization"] == "roads"
    assert services[0]["metadata"] is False and services[0]["type"] == "batch"
    x = ET.fromstring(client.get("/open311/v2/services.xml").content)  # nosec B314
    assert x.tag == "services" and [e.findtext("service_code") for e in x.findall("service")] == ["bulky", "pothole"]
    d = client.get("/open311/v2/services/pothole.json").json()
    assert d["service_code"] == "pothole"
    assert [a["datatype"] for a in d["attributes"]] == ["singlevaluelist", "number", "datetime", "string", "text",
                                                        "multivaluelist"]
    assert d["attributes"][0]["values"] == [{"key": "small", "name": "Small"}, {"key": "large", "name": "Large"}]
    x = ET.fromstring(client.get("/open311/v2/services/pothole.xml").content)  # nosec B314
    assert x.tag == "service_definition"
    assert x.find("attributes/attribute/values/value/key").text == "small"  # type: ignore[union-attr]
    r = client.get("/open311/v2/services/nope.xml")
    assert r.status_code == 404
    assert ET.fromstring(r.content).find("error/code").text == "404"  # type: ignore[union-attr]  # nosec B314


def test_post_and_read_a_request_in_json_and_xml(client: Any, city: dict[str, str]) -> None:
    r = report(client, city["citizen"], **{"attribute[depth]": "12.5", "attribute[kinds][]": None,
                                           "attribute[seen]": "2026-01-02T03:04:05+01:00"})
    assert r.status_code == 200, r.text
    [created] = r.json()
    rid = created["service_request_id"]
    assert set(created) == {"service_request_id", "service_notice"}
    one = client.get(f"/open311/v2/requests/{rid}.json").json()[0]
    assert one["status"] == "open" and one["service_code"] == "pothole" and one["service_name"] == "Pothole"
    assert one["lat"] == 53.55 and one["long"] == 9.99 and one["requested_datetime"].endswith("Z")
    ext = client.get(f"/open311/v2/requests/{rid}.json", params={"extensions": "true"}).json()[0]
    assert ext["extended_attributes"]["attributes"] == {"size": "small", "depth": 12.5, "seen": "2026-01-02T02:04:05Z"}
    x = ET.fromstring(client.get(f"/open311/v2/requests/{rid}.xml").content)  # nosec B314
    assert x.tag == "service_requests" and x.find("request/service_request_id").text == rid  # type: ignore[union-attr]
    r = report(client, city["citizen"], fmt="xml")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/xml")
    assert ET.fromstring(r.content).find("request/service_request_id") is not None  # nosec B314
    multi = client.post("/open311/v2/requests.json", headers=FORM, content=urlencode([
        ("api_key", city["citizen"]), ("service_code", "pothole"), ("address_string", "Jungfernstieg 1"),
        ("attribute[size]", "large"), ("attribute[kinds][]", "a"), ("attribute[kinds][]", "b"),
        ("jurisdiction_id", "")]))
    assert multi.status_code == 200, multi.text
    mid = multi.json()[0]["service_request_id"]
    got = client.get(f"/open311/v2/requests/{mid}.json", params={"extensions": "true"}).json()[0]
    assert got["extended_attributes"]["attributes"]["kinds"] == ["a", "b"] and got["address"] == "Jungfernstieg 1"


def test_batch_services_answer_a_token(client: Any, city: dict[str, str]) -> None:
    r = report(client, city["citizen"], service_code="bulky", **{"attribute[size]": None})
    assert r.status_code == 200, r.text
    token = r.json()[0]["token"]
    [t] = client.get(f"/open311/v2/tokens/{token}.json").json()
    assert t["token"] == token and client.get(f"/open311/v2/requests/{t['service_request_id']}.json").status_code == 200
    x = ET.fromstring(client.get(f"/open311/v2/tokens/{token}.xml").content)  # nosec B314
    assert x.find("request/token").text == token  # type: ignore[union-attr]
    assert client.get("/open311/v2/tokens/unknown.json").status_code == 404


def test_get_filters_and_extensions(client: Any, city: dict[str, str]) -> None:
    ids = [report(client, city["citizen"]).json()[0]["service_request_id"] for _ in range(3)]
    bulky = report(client, city["citizen"], service_code="bulky", **{"attribute[size]": None})
    assert bulky.status_code == 200
    q = client.get("/open311/v2/requests.json", params={"service_code": "pothole"}).json()
    assert [r["service_request_id"] for r in q] == ids[::-1]  # newest first
    both = client.get("/open311/v2/requests.json", params={"service_request_id": f"{ids[0]},{ids[2]}",
                                                          "service_code": "bulky"}).json()
    assert sorted(r["service_request_id"] for r in both) == sorted([ids[0], ids[2]])  # the id list overrides
    assert len(client.get("/open311/v2/requests.json", params={"status": "closed"}).json()) == 0
    assert len(client.get("/open311/v2/requests.json", params={"status": "open,closed"}).json()) == 4
    page = client.get("/open311/v2/requests.json", params={"page_size": "2", "page": "2"}).json()
    assert len(page) == 2
    old = client.get("/open311/v2/requests.json", params={"start_date": "2020-01-01T00:00:00Z",
                                                          "end_date": "2020-02-01T00:00:00+01:00"}).json()
    assert old == []
    later = client.get("/open311/v2/requests.json", params={"updated_after": "2999-01-01T00:00:00Z"}).json()
    assert later == []
    x = ET.fromstring(client.get("/open311/v2/requests.xml", params={"extensions": "true"}).content)  # nosec B314
    assert len(x.findall("request")) == 4 and x.find("request/extended_attributes/detailed_status") is not None


BAD = [
    ({"api_key": None}, 401, "api_key"),
    ({"api_key": "not-a-token"}, 401, ""),
    ({"service_code": "nope"}, 404, "no such service"),
    ({"service_code": None}, 400, "service_code"),
    ({"lat": "north", "long": "9.99"}, 400, "lat"),
    ({"lat": "95", "long": "9.99"}, 400, "lat"),
    ({"lat": None, "long": None}, 400, "location"),
    ({"description": "x" * 4001}, 400, "4000"),
    ({"attribute[size]": "huge"}, 400, "size"),
    ({"attribute[size]": None}, 400, "required"),
    ({"attribute[depth]": "deep"}, 400, "number"),
    ({"attribute[seen]": "yesterday"}, 400, "date-time"),
    ({"attribute[kinds][]": "c"}, 400, "kinds"),
    ({"attribute[unknown]": "1"}, 400, "no such attribute"),
    ({"attribute[size][]": "small"}, 400, "one value"),
    ({"attribute": "x"}, 400, "attribute"),
    ({"email": "not-an-address"}, 400, "email"),
    ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
]


def test_bad_input_is_an_error_list_and_stores_nothing(client: Any, city: dict[str, str]) -> None:
    for (fields, status, needle), fmt in ((case, fmt) for case in BAD for fmt in ("json", "xml")):
        r = report(client, city["citizen"], fmt=fmt, **fields)
        assert r.status_code == status, r.text
        if fmt == "json":
            errors = r.json()
            assert isinstance(errors, list) and {"code", "description"} <= set(errors[0])
            assert errors[0]["code"] == status and needle.lower() in " ".join(e["description"] for e in errors).lower()
        else:
            x = ET.fromstring(r.content)  # nosec B314
            assert x.tag == "errors" and x.find("error/code").text == str(status)  # type: ignore[union-attr]
    assert _count(client) == 0


def test_malformed_bodies(client: Any, city: dict[str, str]) -> None:
    bad = [(b"api_key=x&description=%FF%FE", "application/x-www-form-urlencoded", 400),
           (b'{"service_code": "pothole"}', "application/json", 415),
           (b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nbroken", "multipart/form-data", 400),
           (b"a=" + b"x" * 300_000, "application/x-www-form-urlencoded", 413)]
    for body, ctype, status in bad:
        r = client.post("/open311/v2/requests.json", content=body, headers={"content-type": ctype})
        assert r.status_code == status, (ctype, r.text)
        assert r.json()[0]["code"] == status
    assert client.get("/open311/v2/requests/abc.json").status_code == 404
    assert client.get("/open311/v2/requests/999999.xml").status_code == 404
    assert client.get("/open311/v2/requests.json", params={"start_date": "2024-01-01"}).status_code == 400
    r = client.get("/open311/v2/requests.json", params={"start_date": "2024-01-01T00:00:00Z",
                                                        "end_date": "2024-06-01T00:00:00Z"})
    assert r.status_code == 400 and "90 days" in r.json()[0]["description"]
    assert client.get("/open311/v2/requests.json", params={"page_size": "0"}).status_code == 400
    assert client.get("/open311/v2/requests.json", params={"status": "pending"}).status_code == 400
    assert client.get("/open311/v2/requests.yaml").status_code == 400
    assert _count(client) == 0


def test_contact_details_are_never_published(client: Any, city: dict[str, str], platform: Any) -> None:
    rid = report(client, city["citizen"]).json()[0]["service_request_id"]
    assert platform.db.read_sync(lambda c: c.fetchval(
        "SELECT email FROM participation_contacts WHERE request_id = ?", (int(rid),))) == EMAIL
    outputs = [client.get(p).text for p in (
        f"/open311/v2/requests/{rid}.json?extensions=true", f"/open311/v2/requests/{rid}.xml?extensions=true",
        "/open311/v2/requests.json?extensions=true", "/open311/v2/requests.xml?extensions=true",
        f"/participation/requests/{rid}", "/open311/v2/services.json")]
    for text in outputs:
        for secret in (EMAIL, "Planted", "1234567", "dev-77", "acct-88"):
            assert secret not in text


def test_jurisdiction_is_checked_only_when_configured(make_settings: Any) -> None:
    from starlette.testclient import TestClient

    from urbanos.web.app import create_app

    with TestClient(create_app(make_settings(participation_jurisdiction_id="hamburg.de"))) as c:
        assert c.get("/open311/v2/services.json", params={"jurisdiction_id": "hamburg.de"}).status_code == 200
        assert c.get("/open311/v2/services.json", params={"jurisdiction_id": ""}).status_code == 200
        assert c.get("/open311/v2/services.json", params={"jurisdiction_id": "berlin.de"}).status_code == 404
