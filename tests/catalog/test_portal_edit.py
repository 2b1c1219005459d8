"""The portal's metadata form over HTTP: publishers create a dataset and edit its metadata through the same service
calls as the Action API (same validation, same rights), signed in with the portal's cookie and with its CSRF check;
errors appear next to their fields with the entered values kept."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from tests.conftest import ADMIN_TOKEN, api_token

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
NEW = {"owner_org": "parks", "name": "street-trees", "title": "Street trees", "notes": "Every tree in the streets.",
       "license_id": "CC-BY-4.0", "tags": "trees, parks", "theme": ["ENVI", "environment"], "frequency": "ANNUAL",
       "spatial_text": "Demo City", "temporal_start": "2020-01-01", "temporal_end": "2024-12-31", "access_level": "open"}
EXTRA = [{"key": "source", "value": "survey"}]


@pytest.fixture
def site(client: Any) -> Any:
    for org in ("parks", "police"):
        r = client.post("/api/3/action/organization_create", json={"name": org, "title": org.title()}, headers=ADMIN)
        assert r.status_code == 200, r.text
    return client


def csrf_of(client: Any, path: str = "/signin") -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert m
    return m.group(1)


def sign_in(client: Any, role: str, org: str | None) -> str:
    token = api_token(client, f"{org} {role}", role, org)
    r = client.post("/signin", data={"csrf": csrf_of(client), "token": token, "next": "/"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return token


def package(client: Any, name: str) -> dict[str, Any]:
    r = client.get(f"/api/3/action/package_show?id={name}", headers=ADMIN)
    assert r.status_code == 200, r.text
    return dict(r.json()["result"])


def create(client: Any, **changes: Any) -> Any:
    return client.post("/datasets/new", data={"csrf": csrf_of(client, "/datasets/new"), **NEW, **changes},
                       follow_redirects=False)


def test_a_publisher_creates_a_dataset_and_edits_its_metadata(site: Any) -> None:
    sign_in(site, "publisher", "parks")
    form = site.get("/datasets/new")
    assert form.status_code == 200 and form.headers["cache-control"] == "private, no-store"
    assert '<label for="f-title">' in form.text and 'name="csrf"' in form.text
    assert '<option value="parks" selected>Parks</option>' in form.text and 'value="police"' not in form.text
    assert 'value="CC-BY-4.0"' in form.text and 'value="TRAN"' in form.text and 'value="inspire-13-1-f"' in form.text

    r = create(site)
    assert r.status_code == 303 and r.headers["location"] == "/datasets/street-trees", r.text
    r = site.post("/api/3/action/package_patch", json={"id": "street-trees", "extras": EXTRA}, headers=ADMIN)
    assert r.status_code == 200, r.text
    pkg = package(site, "street-trees")
    assert (pkg["title"], pkg["organization"]["name"], pkg["license_id"], pkg["frequency"]) == ("Street trees", "parks", "CC-BY-4.0", "ANNUAL")
    assert pkg["owner_org"] == pkg["organization"]["id"]  # the organisation's UUID, as CKAN answers it
    assert sorted(t["name"] for t in pkg["tags"]) == ["parks", "trees"] and pkg["theme"] == ["ENVI", "environment"]
    assert (pkg["temporal_start"], pkg["temporal_end"], pkg["spatial_text"]) == ("2020-01-01", "2024-12-31", "Demo City")

    page = site.get("/datasets/street-trees")
    assert 'href="/datasets/street-trees/edit"' in page.text
    edit = site.get("/datasets/street-trees/edit")
    assert edit.status_code == 200 and 'value="Street trees"' in edit.text and 'value="parks, trees"' in edit.text
    values = {"csrf": csrf_of(site, "/datasets/street-trees/edit"), "title": "Street trees 2025", "notes": pkg["notes"],
              "license_id": "CC0-1.0", "tags": "trees, shade, urban-forest", "theme": ["ENVI"], "frequency": "MONTHLY",
              "access_level": "registered", "grounds": ["third-party-rights"], "legal_basis": "Contract 12/2025"}
    r = site.post("/datasets/street-trees/edit", data=values, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/datasets/street-trees", r.text
    pkg = package(site, "street-trees")
    assert (pkg["title"], pkg["license_id"], pkg["access_level"], pkg["grounds"]) == \
        ("Street trees 2025", "CC0-1.0", "registered", ["third-party-rights"])
    assert sorted(t["name"] for t in pkg["tags"]) == ["shade", "trees", "urban-forest"] and pkg["theme"] == ["ENVI"]
    assert pkg["temporal_start"] == "" and pkg["legal_basis"] == "Contract 12/2025"  # a cleared field is cleared
    assert {"key": "source", "value": "survey"} in pkg["extras"]  # an extra the form does not show is kept


def test_validation_errors_are_next_to_their_fields_and_the_values_are_kept(site: Any) -> None:
    sign_in(site, "publisher", "parks")
    r = create(site, name="Bad Name", tags="trees, x", temporal_start="soon", access_level="internal", theme=["ENVI", "NOPE"])
    assert r.status_code == 400, r.text
    page = html.unescape(r.text)
    for field in ("name", "tags", "temporal_start", "grounds", "theme"):
        assert f'id="err-{field}"' in page, field
        assert f'href="#f-{field}"' in page  # the summary links to the field
    assert re.search(r'<input id="f-tags"[^>]*value="trees, x"[^>]*aria-describedby="hint-tags err-tags" aria-invalid="true"', page)
    assert 'Tag "x" length is less than minimum 2' in page and "need grounds for non-disclosure" in page
    assert 'value="soon"' in page and 'value="Bad Name"' in page and 'value="ENVI" checked' in page
    assert site.get("/api/3/action/package_show?id=street-trees", headers=ADMIN).status_code == 404  # nothing made

    assert create(site).status_code == 303
    before = package(site, "street-trees")
    r = site.post("/datasets/street-trees/edit", data={"csrf": csrf_of(site), "title": "Changed", "tags": "a",
                                                        "access_level": "open"}, follow_redirects=False)
    assert r.status_code == 400 and 'id="err-tags"' in r.text and 'value="Changed"' in r.text
    assert package(site, "street-trees")["title"] == before["title"]  # nothing changed


def test_a_publisher_of_another_organisation_gets_the_refusal_page_and_nothing_changes(site: Any) -> None:
    sign_in(site, "publisher", "parks")
    assert create(site).status_code == 303
    site.cookies.clear()
    sign_in(site, "publisher", "police")
    before = package(site, "street-trees")
    assert site.get("/datasets/street-trees").text.count("/datasets/street-trees/edit") == 0
    page = site.get("/datasets/street-trees/edit")
    assert page.status_code == 403 and "publisher role for its organisation" in page.text
    r = site.post("/datasets/street-trees/edit", data={"csrf": csrf_of(site), "title": "Taken over", "access_level": "open"},
                  follow_redirects=False)
    assert r.status_code == 403 and "publisher role for its organisation" in r.text
    # creating for the other organisation is refused too
    r = create(site, name="police-trees")
    assert r.status_code == 403 and "publisher role for organisation 'parks'" in html.unescape(r.text)
    assert package(site, "street-trees") == before
    assert site.get("/api/3/action/package_show?id=police-trees", headers=ADMIN).status_code == 404


def test_readers_the_signed_out_and_forged_forms_change_nothing(site: Any) -> None:
    assert site.get("/datasets/new", follow_redirects=False).headers["location"] == "/signin?next=/datasets/new"
    r = site.post("/datasets/new", data={"csrf": csrf_of(site), **NEW}, follow_redirects=False)
    assert r.status_code == 401
    sign_in(site, "reader", "parks")
    assert site.get("/datasets/new").status_code == 403
    site.cookies.clear()
    sign_in(site, "publisher", "parks")
    r = site.post("/datasets/new", data={"csrf": "forged", **NEW}, follow_redirects=False)
    assert r.status_code == 403 and "CSRF" in r.text
    assert site.get("/api/3/action/package_show?id=street-trees", headers=ADMIN).status_code == 404
    assert create(site).status_code == 303
    r = site.post("/datasets/street-trees/edit", data={"title": "No token", "access_level": "open"}, follow_redirects=False)
    assert r.status_code == 403 and package(site, "street-trees")["title"] == "Street trees"


def test_a_dataset_the_caller_may_not_see_is_not_found(site: Any) -> None:
    r = site.post("/api/3/action/package_create", headers=ADMIN, json={
        "name": "cases", "owner_org": "police", "access_level": "confidential", "grounds": ["gdpr-personal-data"]})
    assert r.status_code == 200, r.text
    sign_in(site, "publisher", "parks")
    assert site.get("/datasets/cases/edit").status_code == 404
    r = site.post("/datasets/cases/edit", data={"csrf": csrf_of(site), "title": "x", "access_level": "open"})
    assert r.status_code == 404 and package(site, "cases")["access_level"] == "confidential"


def test_the_form_speaks_german(site: Any) -> None:
    sign_in(site, "publisher", "parks")
    page = site.get("/datasets/new?lang=de")
    assert page.headers["content-language"] == "de"
    for text in ("Datensatz anlegen", "Schlagwörter", "Zugangsstufe", "Gründe für die Nichtveröffentlichung", "Verkehr"):
        assert text in page.text
    r = site.post("/datasets/new?lang=de", data={"csrf": csrf_of(site), **NEW, "tags": "x"}, follow_redirects=False)
    assert r.status_code == 400 and "Der Datensatz wurde nicht gespeichert" in html.unescape(r.text)
    ok = site.post("/datasets/new?lang=de", data={"csrf": csrf_of(site), **NEW}, follow_redirects=False)
    assert ok.headers["location"] == "/datasets/street-trees?lang=de"
