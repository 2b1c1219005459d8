"""A steward manages Open311 services in headless Chromium, signed in with the portal's form: the list, a new service
typed with the keyboard, a refused form (its problems listed, the invalid field marked, what was typed kept), the
change and the delete confirmation; axe-core finds no WCAG 2 AA violation on any of them, in English and German.
Screenshots go to tests/browser/screenshots/open311-services-*.png."""

from __future__ import annotations

from typing import Any

import httpx

from tests.browser.conftest import ADMIN, SHOTS, axe_violations
from tests.conftest import LiveServer, api_token
from tests.participation.o311 import POTHOLE


def _check(page: Any, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"open311-services-{name}.png"), full_page=True)
    assert axe_violations(page) == [], name


def test_a_steward_manages_services(live_server: LiveServer, chromium: Any) -> None:
    url = live_server.url
    with httpx.Client(base_url=url, headers=ADMIN, timeout=30) as http:
        assert http.post("/api/3/action/organization_create", json={"name": "roads", "title": "Roads"}).status_code == 200
        assert http.post("/open311/v2/services.json", json=POTHOLE).status_code == 201
    steward = api_token(url, "roads-staff", "steward", "roads")
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(60000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(url + "/signin")
        page.get_by_label("API token").fill(steward)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(url + "/")
        page.goto(url + "/participation/staff")
        page.get_by_role("link", name="Open311 services").click()
        page.wait_for_url("**/participation/services**")
        assert page.locator("#services tbody tr").count() == 1
        _check(page, "list-en")
        page.get_by_role("link", name="New service").click()
        page.wait_for_url("**/participation/services/new**")
        page.get_by_label("Code").focus()
        page.keyboard.type("streetlight")
        page.get_by_label("Name", exact=True).fill("Street light out")
        page.get_by_label("Attributes (JSON list, as in the API)").fill('[{"code": "pole"')
        page.get_by_role("button", name="Create").click()
        page.locator("#form-errors").wait_for()
        assert page.locator("#attributes[aria-invalid='true']").count() == 1
        assert page.get_by_label("Code").input_value() == "streetlight"
        _check(page, "form-error-en")
        page.get_by_label("Attributes (JSON list, as in the API)").fill(
            '[{"code": "pole", "datatype": "string", "description": "The number on the pole"}]')
        page.get_by_label("Sensitive: leave the descriptions out of the open dataset").check()
        page.get_by_role("button", name="Create").click()
        page.wait_for_url("**/participation/services?**done=streetlight")
        assert page.locator("#saved").count() == 1 and page.locator("#services tbody tr").count() == 2
        page.get_by_role("link", name="Change streetlight").click()
        page.get_by_label("Name", exact=True).fill("Street light dark")
        _check(page, "edit-en")
        page.get_by_role("button", name="Save").click()
        page.wait_for_url("**/participation/services?**")
        assert "Street light dark" in page.locator("#services").inner_text()
        for path, name in (("/participation/services?lang=de", "list-de"),
                           ("/participation/services/new?lang=de", "new-de"),
                           ("/participation/services/streetlight/edit?lang=de", "edit-de")):
            page.goto(url + path)
            assert page.locator("html").get_attribute("lang") == "de"
            _check(page, name)
        page.goto(url + "/participation/services/streetlight/delete?lang=de")
        _check(page, "delete-de")
        page.get_by_role("button", name="Löschen").click()
        page.wait_for_url("**/participation/services?lang=de")
        assert "streetlight" not in page.locator("main").inner_text()
        assert [e for e in errors if "status of 400" not in e] == []  # the refused form answers 400 on purpose
    finally:
        context.close()
    with httpx.Client(base_url=url, timeout=30) as http:
        assert [s["service_code"] for s in http.get("/open311/v2/services.json").json()] == ["pothole"]
