"""The showcase pages in headless Chromium: the list and one showcase, in English and German, pass axe-core (WCAG 2
AA) and are screenshotted; a dataset the visitor may not read is not shown."""

from __future__ import annotations

from typing import Any

import httpx

from tests.browser.conftest import ADMIN, SHOTS, axe_violations
from tests.conftest import LiveServer


def _post(http: httpx.Client, action: str, **body: Any) -> Any:
    r = http.post(f"/api/3/action/{action}", json=body)
    assert r.status_code == 200, r.text
    return r.json()["result"]


def test_the_showcase_pages_are_accessible_in_english_and_german(live_server: LiveServer, chromium: Any) -> None:
    with httpx.Client(base_url=live_server.url, headers=ADMIN, timeout=30) as http:
        _post(http, "organization_create", name="parks", title="Parks")
        _post(http, "package_create", name="street-trees", title="Street trees", owner_org="parks", license_id="CC-BY-4.0")
        _post(http, "package_create", name="tree-inspections", title="Tree inspections", owner_org="parks",
              license_id="CC-BY-4.0", access_level="internal", grounds=["not-yet-processed"],
              legal_basis="Publication after quality control")
        _post(http, "ckanext_showcase_create", name="tree-app", title="Tree app", owner_org="parks",
              url="https://trees.example.org", notes="Find the street trees near you and see how old they are.\n\n"
                                                     "Built by the parks department with the open tree register.")
        _post(http, "ckanext_showcase_create", name="shade-map", title="Shade map", owner_org="parks",
              notes="Where the trees give shade on a hot afternoon.")
        for showcase, ds in (("tree-app", "street-trees"), ("tree-app", "tree-inspections"), ("shade-map", "street-trees")):
            _post(http, "ckanext_showcase_package_association_create", showcase_id=showcase, package_id=ds)
    SHOTS.mkdir(exist_ok=True)
    for lang, locale in (("en", "en-GB"), ("de", "de-DE")):
        context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale=locale)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
        page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
        try:
            for path, name in (("/showcases", "list"), ("/showcases/tree-app", "view")):
                assert page.goto(f"{live_server.url}{path}").status == 200
                assert page.locator("html").get_attribute("lang") == lang
                if name == "list":
                    assert page.locator(".showcase-cards li").count() == 2
                else:
                    assert page.get_by_role("link", name="Street trees").count() == 1
                    assert page.get_by_text("Tree inspections").count() == 0  # internal: not for visitors
                page.screenshot(path=str(SHOTS / f"showcases-{name}-{lang}.png"), full_page=True)
                assert axe_violations(page) == [], (path, lang)
            assert errors == []
        finally:
            context.close()
