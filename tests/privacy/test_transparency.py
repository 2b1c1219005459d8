"""The transparency page: what is collected and why, its rules, retention, algorithms, assessments, deletion records and
contacts, in English and German, printable; only datasets the viewer may read are named; hostile text stays inert; the
contacts' bad input."""

from __future__ import annotations

from typing import Any

from tests.privacy.conftest import ADMIN_H, ckan
from urbanos.privacy import extra
from urbanos.privacy.dpia.model import REQUIRED

HOSTILE = "</script><img src=x onerror=alert(1)>"


def test_the_page_in_both_languages(client: Any, orgs: dict[str, Any]) -> None:
    h = orgs["h"]
    assert client.put("/privacy/contacts/org-a", json={"contact": "privacy@org-a.example", "note": HOSTILE},
                      headers=h["steward-a"]).status_code == 200
    client.put("/privacy/retention/org-a-private", json={"days": 30}, headers=h["steward-a"])
    client.put("/privacy/retention/org-b-private", json={"days": 7}, headers=h["steward-b"])
    client.put("/privacy/person-related", json={"kind": "dataset", "target": "org-a-private", "person_related": True},
               headers=h["steward-a"])
    sections = {k: f"{k}: {HOSTILE}" for k in REQUIRED} | {"purposes": "Count visitors per hour."}
    dpia = client.post("/privacy/dpias", json={"kind": "dataset", "target": "org-a-private", "sections": sections},
                       headers=h["steward-a"]).json()["id"]
    client.post(f"/privacy/dpias/{dpia}/submit", headers=h["steward-a"])
    assert client.post(f"/privacy/dpias/{dpia}/approve", headers=ADMIN_H).status_code == 200  # no DPO set: admins decide

    page = client.get("/transparency", params={"f": "json"}, headers=h["reader-a"]).json()
    (ds,) = page["datasets"]  # org-b's rule is not named to org-a's reader
    assert ds["name"] == "org-a-private" and ds["person_related"] and ds["retention"]["days"] == 30
    assert ds["purposes"] == "Count visitors per hour." and ds["assessment"]["state"] == "approved"
    assert [c["contact"] for c in page["contacts"] if c["organization"] == "org-a"] == ["privacy@org-a.example"]
    assert client.get("/transparency", params={"f": "json"}).json()["datasets"] == []  # anonymous: internal data hidden

    html = client.get("/transparency", headers={**h["reader-a"], "Accept": "text/html"}).text
    assert "Data collected" in html and "30 days" in html and "How to object" in html and "privacy@org-a.example" in html
    assert HOSTILE not in html and "&lt;/script&gt;&lt;img" in html
    assert '<link rel="stylesheet" href="/transparency.css">' in html
    de = client.get("/transparency", params={"lang": "de", "f": "html"}, headers=h["reader-a"]).text
    assert '<html lang="de">' in de and "Erhobene Daten" in de and "30 Tage" in de and "Widerspruch" in de
    css = client.get("/transparency.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css") and "@media print" in css.text


def test_contacts_bad_input(client: Any, orgs: dict[str, Any]) -> None:
    h = orgs["h"]
    js = {**h["steward-a"], "Content-Type": "application/json"}
    for body in (b"{", b"[]", b"", b"{}", b'{"contact": 5}', b'{"contact": ""}', b'{"contact": "a", "phone": "1"}',
                 b'{"contact": "' + b"x" * 600 + b'"}'):
        assert client.put("/privacy/contacts/org-a", content=body, headers=js).status_code == 400, body
    huge = b'{"contact": "' + b"x" * (11 * 1024 * 1024) + b'"}'
    assert client.put("/privacy/contacts/org-a", content=huge, headers=js).status_code == 413
    good = {"contact": "dpo@example.org"}
    assert client.put("/privacy/contacts/no-such-org", json=good, headers=ADMIN_H).status_code == 404
    assert client.put("/privacy/contacts/org-a", json=good, headers=h["steward-b"]).status_code == 403
    assert client.put("/privacy/contacts/org-a", json=good, headers=h["publisher-a"]).status_code == 403
    assert client.put("/privacy/contacts/org-a", json=good).status_code == 401
    assert all(c["contact"] is None for c in client.get("/privacy/contacts").json()["contacts"])


def test_demo_facts_are_idempotent(client: Any, platform: Any) -> None:
    ckan(client, "organization_create", {"name": "demo-mobility", "title": "Demo City – Department of Mobility"})
    ckan(client, "package_create", {"name": "bike-sharing", "title": "Bike-sharing", "owner_org": "demo-mobility"})
    ckan(client, "package_create", {"name": "demo-parking-bays", "title": "Parking", "owner_org": "demo-mobility"})
    extra.demo(platform)
    extra.demo(platform)
    page = client.get("/transparency", params={"f": "json"}).json()
    assert [(d["name"], d["person_related"], d["retention"]["days"], (d["assessment"] or {}).get("state"))
            for d in page["datasets"]] == [("bike-sharing", True, None, "approved"), ("demo-parking-bays", False, 90, None)]
    assert len(page["assessments"]) == 1 and page["assessments"][0]["sections"][0]["key"] == "description"
    assert [c["contact"] for c in page["contacts"]] == ["privacy-mobility@demo-city.example"]
    r = client.post("/api/3/action/package_patch", json={"id": "bike-sharing", "access_level": "open"}, headers=ADMIN_H)
    assert r.status_code == 200  # approved: it may stay open
