"""The portal in headless Chromium (Playwright) against a live server; screenshots go to screenshots/."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.browser.conftest import ADMIN, SHOTS


def _post(url: str, action: str, body: dict[str, Any]) -> None:
    r = httpx.post(f"{url}/api/3/action/{action}", json=body, headers=ADMIN, timeout=30)
    assert r.status_code == 200, r.text


@pytest.fixture
def portal(db_url: str, server_factory: Callable[..., Any]) -> Any:
    server = server_factory(db_url)
    u = server.url
    _post(u, "organization_create", {"name": "parks", "title": "Parks Department"})
    _post(u, "organization_create", {"name": "police", "title": "Police"})
    _post(u, "package_create", {
        "name": "street-trees", "title": "Street trees", "notes": "Every street tree with species and year.",
        "owner_org": "parks", "license_id": "CC-BY-4.0", "tags": ["trees", "environment"], "frequency": "MONTHLY",
        "theme": ["ENVI", "environment"], "steward": "Tree steward", "maintainer": "Parks data team",
        "maintainer_email": "parks@example.org", "spatial_text": "Hamburg-Mitte",
        "spatial": {"type": "Polygon", "coordinates": [[[9.9, 53.5], [10.1, 53.5], [10.1, 53.6], [9.9, 53.6],
                                                        [9.9, 53.5]]]},
        "resources": []})
    r = httpx.post(f"{u}/api/3/action/resource_create", headers=ADMIN, timeout=30,
                   data={"package_id": "street-trees", "name": "Trees CSV", "format": "CSV"},
                   files={"upload": ("trees.csv", b"id,species,year\n1,Tilia cordata,1990\n2,Quercus robur,2004\n",
                                     "text/csv")})
    assert r.status_code == 200, r.text
    for i in range(3):
        _post(u, "package_create", {"name": f"bike-counts-{i}", "title": f"Bike counts {i}", "owner_org": "parks",
                                    "notes": "Hourly bike counts.", "tags": ["mobility"], "license_id": "CC-BY-4.0",
                                    "resources": [{"name": "JSON", "url": "http://example.org/b.json",
                                                   "format": "JSON"}]})
    _post(u, "package_create", {"name": "witness-register", "title": "Witness register", "owner_org": "police",
                                "access_level": "confidential", "grounds": ["inspire-13-1-b", "gdpr-personal-data"],
                                "legal_basis": "Transparency Act section 3", "review_date": "2027-01-01"})
    return server


def test_portal_in_chromium(portal: Any, chromium: Any) -> None:
    SHOTS.mkdir(exist_ok=True)
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.goto(portal.url + "/")
    page.screenshot(path=str(SHOTS / "home.png"), full_page=True)
    assert page.get_by_role("search").is_visible()
    assert "Witness register" not in page.content()

    # keyboard: skip link first, then search by typing and Enter
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Skip to content"
    page.get_by_label("Search the catalogue").fill("bike")
    page.keyboard.press("Enter")
    page.wait_for_url("**/datasets?q=bike*")
    page.wait_for_selector("text=3 datasets found")
    page.screenshot(path=str(SHOTS / "search.png"), full_page=True)
    assert page.locator(".facets li", has_text="Parks Department").locator(".count").inner_text() == "3"

    # on the search page htmx swaps results and facets together, and the address follows
    page.get_by_label("Search the catalogue").fill("trees")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=1 dataset found")
    page.wait_for_url("**/datasets?q=trees*")
    assert page.locator(".facets li", has_text="Parks Department").locator(".count").inner_text() == "1"
    page.screenshot(path=str(SHOTS / "search_htmx.png"), full_page=True)

    # facet: format JSON narrows and is marked current
    page.goto(portal.url + "/datasets?res_format=CSV")
    assert page.locator("text=1 dataset found").count() == 1
    active = page.locator('.facets a[aria-current="true"]')
    assert active.count() == 1

    page.goto(portal.url + "/datasets/street-trees")
    page.wait_for_selector("#map .leaflet-interactive")  # the spatial coverage is drawn
    page.wait_for_selector("#first-rows table, #preview-table table")  # the collection's rows (the file's while importing)
    assert page.locator("#first-rows td, #preview-table td", has_text="Quercus robur").count() == 1
    page.screenshot(path=str(SHOTS / "dataset.png"), full_page=True)
    assert page.get_by_role("heading", name="Metadata quality").is_visible()
    assert page.locator("text=Tree steward").is_visible()

    page.goto(portal.url + "/organizations/parks")
    assert page.locator("text=4 datasets found").is_visible()
    page.screenshot(path=str(SHOTS / "organisation.png"), full_page=True)

    page.goto(portal.url + "/inventory?lang=de")
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.locator("text=Witness register").is_visible()
    assert page.locator("text=Transparency Act section 3").is_visible()
    page.screenshot(path=str(SHOTS / "inventory_de.png"), full_page=True)

    # every form control has a label; images and map have text alternatives
    unlabeled = page.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]), select')]
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).length""")
    assert unlabeled == 0
    _confidential_page(portal, chromium)


def _confidential_page(portal: Any, chromium: Any) -> None:
    """An admin token opens the confidential dataset (grounds, no download); anonymous callers get 404."""
    ctx = chromium.new_context(extra_http_headers=ADMIN, viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    page.goto(portal.url + "/datasets/witness-register")
    assert page.locator("text=No download: this dataset is not open.").is_visible()
    assert page.locator("text=Personal data").first.is_visible()
    page.screenshot(path=str(SHOTS / "confidential_admin.png"), full_page=True)
    anon = chromium.new_page()
    resp = anon.goto(portal.url + "/datasets/witness-register")
    assert resp is not None and resp.status == 404
    ctx.close()


TREE_PITS = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "id": 1, "properties": {"species": "Tilia cordata", "planted": 1990},
     "geometry": {"type": "Point", "coordinates": [9.99, 53.55]}},
    {"type": "Feature", "id": 2, "properties": {"species": "Quercus robur", "planted": 2004},
     "geometry": {"type": "Point", "coordinates": [10.01, 53.56]}},
]}


def test_collection_preview_table_and_frequency_words(portal: Any, chromium: Any) -> None:
    """A distribution imported into a collection previews as a map and a table of its first features;
    EU frequency codes read as words in each language."""
    import json
    import time

    u = portal.url
    _post(u, "package_create", {"name": "tree-pits", "title": "Tree pits", "owner_org": "parks",
                                "license_id": "CC-BY-4.0", "frequency": "IRREG", "notes": "Tree pits."})
    r = httpx.post(f"{u}/api/3/action/resource_create", headers=ADMIN, timeout=30,
                   data={"package_id": "tree-pits", "name": "Tree pits", "format": "GEOJSON"},
                   files={"upload": ("tree-pits.geojson", json.dumps(TREE_PITS).encode(), "application/geo+json")})
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 60  # the upload is imported into a collection in the background
    while not any(res.get("collection") for res in httpx.get(
            f"{u}/api/3/action/package_show", params={"id": "tree-pits"}).json()["result"]["resources"]):
        assert time.monotonic() < deadline, "the upload was not imported"
        time.sleep(0.2)
    SHOTS.mkdir(exist_ok=True)
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.goto(u + "/datasets/tree-pits")
    page.wait_for_selector("#first-rows table")
    assert page.locator("#first-rows th", has_text="species").count() == 1
    assert page.locator("#first-rows td", has_text="Quercus robur").count() == 1
    page.wait_for_function("document.querySelectorAll('#map path.leaflet-interactive').length >= 2")
    assert page.locator("dd", has_text="Irregular").count() == 1
    page.screenshot(path=str(SHOTS / "collection_preview.png"), full_page=True)
    page.goto(u + "/datasets/street-trees?lang=de")
    assert page.locator("dd", has_text="Monatlich").count() == 1
    page.goto(u + "/datasets")
    assert page.locator(".facets li", has_text="Monthly").count() == 1
    assert page.locator(".facets li", has_text="Irregular").count() == 1
