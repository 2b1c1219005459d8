"""Sign in and add data through the portal in headless Chromium; screenshots go to screenshots/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import ADMIN, SHOTS

CSV = "name,lat,lon,count\nA,53.55,10.0,1\nB,53.56,10.01,2\nC,not-a-number,10.02,3\nD,53.57,10.03,4\n"


@pytest.fixture
def portal(db_url: str, server_factory: Callable[..., Any]) -> Any:
    server = server_factory(db_url)
    u = server.url
    for action, body in (("organization_create", {"name": "parks", "title": "Parks Department"}),
                         ("package_create", {"name": "bike-counts", "title": "Bike counts", "owner_org": "parks",
                                             "notes": "Hourly bike counts at the counting stations.",
                                             "license_id": "CC-BY-4.0"})):
        r = httpx.post(f"{u}/api/3/action/{action}", json=body, headers=ADMIN, timeout=30)
        assert r.status_code == 200, r.text
    r = httpx.post(f"{u}/admin/tokens", json={"role": "publisher", "org": "parks", "name": "parks publisher"},
                   headers=ADMIN, timeout=30)
    assert r.status_code == 201, r.text
    server.token = r.json()["token"]
    return server


def test_sign_in_upload_and_report(portal: Any, chromium: Any, tmp_path: Path) -> None:
    SHOTS.mkdir(exist_ok=True)
    context = chromium.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60000)
    page.goto(portal.url + "/datasets/bike-counts")
    assert page.get_by_role("heading", name="Add data").count() == 0
    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("API token").fill(portal.token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/datasets/bike-counts")
    assert page.get_by_text("Signed in as parks publisher").is_visible()
    cookie = next(c for c in context.cookies() if c["name"] == "urbanos_portal_token")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie").find("urbanos_portal_token") == -1

    # a wrong file type is a message on the page
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    page.get_by_label("File").set_input_files(str(bad))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_selector("#upload-message", timeout=60000)
    assert "cannot be imported" in page.locator("#upload-message").inner_text()

    # a CSV with one bad row: uploaded with progress, imported, and reported
    good = tmp_path / "counts.csv"
    good.write_text(CSV)
    page.get_by_label("File").set_input_files(str(good))
    page.get_by_label("Title (optional)").fill("Counts March")
    page.get_by_role("button", name="Upload").click()
    try:
        page.wait_for_selector("#import-rows", timeout=60000)
    except Exception:
        page.screenshot(path=str(SHOTS / "portal-upload-failed.png"), full_page=True)
        raise AssertionError(page.locator("#add-data").inner_html()) from None
    assert page.locator("#import-rows").inner_text() == "3"
    assert page.locator("#import-bad-rows").inner_text() == "1"
    assert "row" in page.locator(".import-errors").inner_text().lower()
    assert "Counts March" in page.content()
    page.screenshot(path=str(SHOTS / "portal-upload.png"), full_page=True)

    # German
    page.goto(portal.url + "/datasets/bike-counts?lang=de")
    assert page.get_by_role("heading", name="Daten hinzufügen").is_visible()
    page.wait_for_function("document.querySelectorAll('#map path.leaflet-interactive').length === 3")  # the CSV's points
    page.screenshot(path=str(SHOTS / "portal-upload-de.png"), full_page=False)

    # sign out
    page.get_by_role("button", name="Abmelden").click()
    page.wait_for_url(portal.url + "/")
    assert not any(c["name"] == "urbanos_portal_token" for c in context.cookies())
    page.goto(portal.url + "/datasets/bike-counts")
    assert page.get_by_role("heading", name="Add data").count() == 0
    context.close()
