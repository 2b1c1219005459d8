"""The algorithm register: create, read, replace, patch, delete; validation errors that name the field; who may write;
versions and audit entries; the CSV export's formula cells; hostile text stays inert."""

from __future__ import annotations

import csv
import io
from typing import Any

from tests.privacy.conftest import ADMIN_H, entries

BASE: dict[str, Any] = {
    "owner_org": "org-a", "datasets": ["org-a-private"], "name": "Signal control", "description_short": "Green times",
    "organization": "City A", "department": "Mobility", "contact_email": "signals@example.org", "area": "City A",
    "domain": "traffic and transportation", "status": "operational", "decision_making_process": "Every cycle",
    "goal": "Less waiting", "impact": "Waiting times", "risks": "Detector faults", "risk_category": "limited",
    "proportionality": "Counts only", "lawful_basis": "Public task", "training_data": "None",
    "source_data": "Detector counts", "connected_data_sources": "Signal plans", "algorithm_type": "rule-based",
    "description": "Extends green phases", "monitoring": "Daily reports", "type": "prescriptive",
    "human_intervention": "Operators", "objection_procedure": "Write to the city", "lang": "en",
    "revision_date": "2027-01-01", "keywords": ["traffic"],
}


def _create(client: Any, headers: dict[str, str] | None = None, **changes: Any) -> Any:
    return client.post("/algorithms", json={**BASE, **changes}, headers=ADMIN_H if headers is None else headers)


def test_crud_versions_and_audit(client: Any, orgs: dict[str, Any]) -> None:
    r = _create(client, orgs["h"]["publisher-a"])
    assert r.status_code == 201, r.text
    a = r.json()
    assert a["standard_version"] == "0.3.1" and a["uuid"] and a["publication_date"] and a["version"] == 1
    assert a["datasets"] == ["org-a-private"] and r.headers["location"].endswith(f"/algorithms/{a['id']}")
    url = f"/algorithms/{a['id']}"
    assert client.get(url + ".json").json()["name"] == "Signal control"
    assert client.get(url, headers={"Accept": "application/json"}).json()["id"] == a["id"]
    # anonymous readers do not see the internal dataset the entry links to
    assert client.get(url + ".json").json()["datasets"] == []
    assert client.get(url + ".json", headers=orgs["h"]["reader-a"]).json()["datasets"] == ["org-a-private"]
    r = client.patch(url, json={"status": "retired", "remark": "Replaced"}, headers=orgs["h"]["publisher-a"])
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "retired" and r.json()["version"] == 2 and r.json()["uuid"] == a["uuid"]
    r = client.patch(url, json={"remark": None}, headers=orgs["h"]["publisher-a"])
    assert "remark" not in r.json()
    r = client.put(url, json={**a, "goal": "Fewer stops"}, headers=orgs["h"]["publisher-a"])
    assert r.status_code == 200 and r.json()["goal"] == "Fewer stops" and r.json()["status"] == "operational"
    versions = client.get(url + "/versions").json()["versions"]
    assert [v["version"] for v in versions] == [4, 3, 2, 1]
    assert versions[0]["change"] == "replaced" and "goal" in versions[0]["changed"]
    assert versions[2]["changed"] == ["remark", "status"] and versions[2]["actor"] == orgs["subject"]["publisher-a"]
    listed = client.get("/algorithms.json").json()["algorithms"]
    assert [x["id"] for x in listed] == [a["id"]]
    assert client.delete(url, headers=orgs["h"]["publisher-a"]).status_code == 204
    assert client.get(url + ".json").status_code == 404
    actions = [e["action"] for e in entries(client, action=None) if e["object_kind"] == "algorithm"]
    assert actions == ["algorithm.deleted", "algorithm.changed", "algorithm.changed", "algorithm.changed",
                       "algorithm.created"]
    assert client.get("/algorithms/x").status_code == 404
    assert client.get("/algorithms/0.json").status_code == 404


BAD = [
    ({"name": None}, "name", "required"),
    ({"contact_email": "not an address"}, "contact_email", "e-mail"),
    ({"status": "dreaming"}, "status", "one of"),
    ({"domain": 7}, "domain", "text"),
    ({"website": "javascript:alert(1)"}, "website", "URL"),
    ({"revision_date": "2027-02-30"}, "revision_date", "date"),
    ({"lang": "English!"}, "lang", "language"),
    ({"uuid": "123"}, "uuid", "UUID"),
    ({"keywords": "traffic"}, "keywords", "list"),
    ({"standard_version": "0.2"}, "standard_version", "0.3.1"),
    ({"favourite_colour": "blue"}, "favourite_colour", "not a field"),
    ({"datasets": ["no-such-dataset"]}, "datasets", "no dataset"),
    ({"datasets": ["org-b-private"]}, "datasets", "no dataset"),
    ({"owner_org": "org-z"}, "owner_org", "no organisation"),
    ({"name": "x" * 301}, "name", "at most"),
    ({"description": "x" * 20001}, "description", "at most"),
    ({"datasets": "org-a-private"}, "datasets", "list"),
]


def test_validation_names_the_field(client: Any, orgs: dict[str, Any]) -> None:
    made = _create(client).json()
    for change, field, words in BAD:
        headers = orgs["h"]["publisher-a"] if field != "owner_org" else ADMIN_H
        for r in (_create(client, headers, **change),
                  client.patch(f"/algorithms/{made['id']}", json=change, headers=headers),
                  client.put(f"/algorithms/{made['id']}", json={**BASE, **change}, headers=headers)):
            assert r.status_code == 400, (change, r.text)
            body = r.json()
            assert field in body["detail"] and words in " ".join(body["errors"][field]), (change, body)
    listed = client.get("/algorithms.json", headers=ADMIN_H).json()["algorithms"]
    assert len(listed) == 1 and listed[0]["version"] == 1


def test_malformed_bodies(client: Any, orgs: dict[str, Any]) -> None:
    h = {**orgs["h"]["publisher-a"], "Content-Type": "application/json"}
    for body in (b"{", b"[]", b'"text"', b"", b'{"name": "a\\u0000b"}'):
        assert client.post("/algorithms", content=body, headers=h).status_code == 400, body
    huge = b'{"name": "' + b"x" * (11 * 1024 * 1024) + b'"}'
    assert client.post("/algorithms", content=huge, headers=h).status_code == 413
    assert client.get("/algorithms.json").json()["algorithms"] == []


WHO = ("anonymous", "reader", "publisher-a", "publisher-b", "admin")


def test_authorization_matrix(client: Any, orgs: dict[str, Any]) -> None:
    for who in WHO:
        _matrix_row(client, orgs, who)


def _matrix_row(client: Any, orgs: dict[str, Any], who: str) -> None:
    expect = {"anonymous": 401, "reader": 403, "publisher-a": None, "publisher-b": 403, "admin": None}[who]
    h = orgs["h"][who]
    r = _create(client, h)
    assert r.status_code == (expect or 201), r.text
    made = _create(client).json()
    url = f"/algorithms/{made['id']}"
    for method, body in (("PATCH", {"goal": "changed"}), ("PUT", {**BASE, "goal": "changed"}), ("DELETE", None)):
        r = client.request(method, url, json=body, headers=h)
        assert r.status_code == (expect or (204 if method == "DELETE" else 200)), (method, r.text)
    if expect:
        assert client.get(url + ".json").json()["goal"] == BASE["goal"]
    # moving an entry to another organisation needs the role there too
    other = _create(client).json()
    r = client.patch(f"/algorithms/{other['id']}", json={"owner_org": "org-b"}, headers=orgs["h"]["publisher-a"])
    assert r.status_code == 403


def test_csv_neutralises_formulas_and_html_is_inert(client: Any, orgs: dict[str, Any]) -> None:
    evil = "</script><script>alert(1)</script>"
    r = _create(client, name="=HYPERLINK(\"http://evil\")", description_short=evil, remark="@SUM(1)",
                department="+A1", goal="-2+3", keywords=["=cmd"])
    assert r.status_code == 201, r.text
    rows = list(csv.DictReader(io.StringIO(client.get("/algorithms.csv").text)))
    assert rows[0]["name"].startswith("'=") and rows[0]["remark"] == "'@SUM(1)" and rows[0]["department"] == "'+A1"
    assert rows[0]["goal"] == "'-2+3" and rows[0]["keywords"] == "'=cmd"
    for page in ("/algorithms", f"/algorithms/{r.json()['id']}"):
        for lang in ("en", "de"):
            html = client.get(page, params={"lang": lang}, headers={"Accept": "text/html"}).text
            assert "<script>alert(1)" not in html and "&lt;/script&gt;" in html
    assert "Algorithmenregister" in client.get("/algorithms?lang=de", headers={"Accept": "text/html"}).text


def test_transparency_port_lists_algorithms_of_a_dataset(client: Any, platform: Any, orgs: dict[str, Any]) -> None:
    import asyncio

    from urbanos.ports import TransparencyPort

    made = _create(client).json()
    port = platform.require(TransparencyPort)
    got = asyncio.run(port.algorithms_for_dataset("org-a-private"))
    assert got == [(made["id"], "Signal control", f"/algorithms/{made['id']}")]
    assert asyncio.run(port.algorithms_for_dataset("open-data")) == []
