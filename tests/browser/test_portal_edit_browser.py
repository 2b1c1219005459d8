"""Publishers create a dataset and edit its metadata in the portal (headless Chromium at 1,400 px); a publisher of
another organisation cannot; the organisation and theme pages and a wide feature table fit the window; axe-core finds
no violation on the form and the list pages. Screenshots go to screenshots/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import ADMIN, SHOTS, axe_violations

WIDE = 1400
COLUMNS = ["station_identifier", "station_description", "installation_date", "operating_status", "first_direction",
           "second_direction", "maintenance_contractor", "last_inspection_note", "lat", "lon", "count_total"]
ROW = ["S-001", "Corner of the long avenue and the market square, north side", "2019-09-25", "active", "north", "south",
       "Street furniture maintenance contractor", "Relocated from the bridge to the square on 2/10/2019", "53.55", "10.0", "12"]


@pytest.fixture
def portal(db_url: str, server_factory: Callable[..., Any]) -> Any:
    server = server_factory(db_url)
    u = server.url
    server.tokens = {}
    for org in ("parks", "police"):
        r = httpx.post(f"{u}/api/3/action/organization_create", json={"name": org, "title": f"{org.title()} Department"},
                       headers=ADMIN, timeout=30)
        assert r.status_code == 200, r.text
        r = httpx.post(f"{u}/admin/tokens", json={"role": "publisher", "org": org, "name": f"{org} publisher"},
                       headers=ADMIN, timeout=30)
        assert r.status_code == 201, r.text
        server.tokens[org] = r.json()["token"]
    return server


def sign_in(page: Any, url: str, token: str) -> None:
    page.goto(url + "/signin")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(url + "/")


def fits(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"))


def test_publisher_creates_and_edits_a_dataset(portal: Any, chromium: Any, tmp_path: Path) -> None:
    SHOTS.mkdir(exist_ok=True)
    context = chromium.new_context(viewport={"width": WIDE, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60000)
    sign_in(page, portal.url, portal.tokens["parks"])

    # create: a bad keyword comes back next to its field, with what was entered
    page.get_by_role("link", name="New dataset").click()
    page.wait_for_url("**/datasets/new")
    page.get_by_label("URL name").fill("street-trees")
    page.get_by_label("Title", exact=True).fill("Street trees")
    page.get_by_label("Description", exact=True).fill("Every tree in the streets of the city.")
    page.get_by_label("Licence", exact=True).select_option("CC-BY-4.0")
    page.get_by_label("Keywords", exact=True).fill("trees, x")
    page.get_by_label("Environment", exact=True).check()
    page.get_by_label("Update frequency", exact=True).select_option("ANNUAL")
    page.get_by_role("button", name="Create dataset").click()
    error = page.locator("#err-tags")
    error.wait_for()
    assert 'Tag "x"' in error.inner_text()
    tags = page.get_by_label("Keywords", exact=True)
    assert tags.input_value() == "trees, x" and tags.get_attribute("aria-invalid") == "true"
    assert "err-tags" in (tags.get_attribute("aria-describedby") or "").split()
    assert page.get_by_label("Title", exact=True).input_value() == "Street trees"
    assert page.get_by_label("Environment", exact=True).is_checked()
    assert page.evaluate("document.activeElement.id") == "form-errors"  # the summary is read first
    assert fits(page)
    page.screenshot(path=str(SHOTS / "portal-edit-errors.png"), full_page=True)

    # with the keyboard: correct the field and submit with Enter
    tags.focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("trees, shade")
    page.keyboard.press("Enter")
    page.wait_for_url(portal.url + "/datasets/street-trees")
    assert page.get_by_role("heading", name="Street trees", exact=True).is_visible()

    # edit the title and the keywords
    page.get_by_role("link", name="Edit metadata").click()
    page.wait_for_url("**/datasets/street-trees/edit")
    assert page.get_by_label("Keywords", exact=True).input_value() == "shade, trees"
    page.screenshot(path=str(SHOTS / "portal-edit-form.png"), full_page=True)
    page.get_by_label("Title", exact=True).fill("Street trees of the city")
    page.get_by_label("Keywords", exact=True).fill("trees, shade, urban-forest")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(portal.url + "/datasets/street-trees")
    assert page.get_by_role("heading", name="Street trees of the city").is_visible()
    assert page.get_by_role("link", name="urban-forest").is_visible()

    # a wide table of features scrolls within its box, not the page
    csv = tmp_path / "stations.csv"
    csv.write_text(",".join(COLUMNS) + "\n" + ",".join(f'"{v}"' for v in ROW) + "\n")
    page.get_by_label("File").set_input_files(str(csv))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_selector("#import-rows")
    collection = page.locator('a[href^="/ogcapi/collections/"]').first.get_attribute("href")
    page.goto(f"{portal.url}{collection}/items?f=html")
    box = page.locator(".table-scroll")
    assert fits(page) and box.evaluate("e => e.scrollWidth > e.clientWidth")
    page.screenshot(path=str(SHOTS / "features-wide-table.png"), full_page=False)

    # the list pages, in the navigation
    page.goto(portal.url + "/datasets")
    page.get_by_role("link", name="Organisations").click()
    assert page.locator("#org-count-parks").inner_text() == "1 dataset" and fits(page)
    page.screenshot(path=str(SHOTS / "portal-organizations.png"), full_page=True)
    page.get_by_role("link", name="Themes", exact=True).click()
    assert page.locator("#theme-count-ENVI").inner_text() == "1 dataset" and fits(page)
    page.screenshot(path=str(SHOTS / "portal-themes.png"), full_page=True)
    context.close()

    # a publisher of another organisation cannot edit it
    other = chromium.new_context(viewport={"width": WIDE, "height": 1000})
    page = other.new_page()
    sign_in(page, portal.url, portal.tokens["police"])
    page.goto(portal.url + "/datasets/street-trees")
    assert page.get_by_role("link", name="Edit metadata").count() == 0
    refused = page.goto(portal.url + "/datasets/street-trees/edit")
    assert refused is not None and refused.status == 403
    assert "publisher role for its organisation" in page.locator("[role=alert]").inner_text()
    other.close()
    pkg = httpx.get(f"{portal.url}/api/3/action/package_show?id=street-trees", timeout=30).json()["result"]
    assert pkg["title"] == "Street trees of the city"
    assert sorted(t["name"] for t in pkg["tags"]) == ["shade", "trees", "urban-forest"]


def test_the_form_and_the_list_pages_pass_axe(portal: Any, chromium: Any) -> None:
    r = httpx.post(f"{portal.url}/api/3/action/package_create", headers=ADMIN, timeout=30, json={
        "name": "street-trees", "title": "Street trees", "owner_org": "parks", "theme": ["ENVI"], "tags": ["trees"]})
    assert r.status_code == 200, r.text
    context = chromium.new_context(viewport={"width": WIDE, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60000)
    sign_in(page, portal.url, portal.tokens["parks"])
    page.goto(portal.url + "/datasets/new")
    page.get_by_label("URL name").fill("Bad Name")
    page.get_by_label("Access level").select_option("internal")
    page.get_by_role("button", name="Create dataset").click()
    page.locator("#err-name").wait_for()
    found: dict[str, Any] = {}
    for path in ("", "/datasets/street-trees/edit", "/organizations", "/themes", "/themes/ENVI", "/datasets/new?lang=de"):
        if path:  # "": the form as it came back with errors
            page.goto(portal.url + path)
        found[path] = axe_violations(page)
    context.close()
    assert all(not v for v in found.values()), found
