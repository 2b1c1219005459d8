"""A dataset page with privacy rules in headless Chromium, English and German: the rules in plain language, and
axe-core finds no WCAG 2 A/AA violation. Screenshots go to tests/browser/screenshots/."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from tests.browser.conftest import SHOTS, axe_violations
from tests.conftest import ADMIN_TOKEN

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
RULES = [{"kind": "aggregate", "bucket_minutes": 15, "h3_resolution": 8, "k": 10},
         {"kind": "pseudonymise", "fields": ["mac"], "purpose": "wifi-presence", "period": "month"}]


def test_dataset_page_shows_its_rules(db_url: str, server_factory: Callable[..., Any], chromium: Any) -> None:
    server = server_factory(db_url)
    with httpx.Client(base_url=server.url, headers=ADMIN, timeout=30) as c:
        assert c.post("/api/3/action/organization_create", json={"name": "city", "title": "City"}).status_code == 200
        assert c.post("/api/3/action/package_create", json={
            "name": "wifi-presence", "title": "Wi-Fi presence counts", "owner_org": "city",
            "notes": "Devices seen per access point </script><script>alert(1)</script>"}).status_code == 200
        assert c.put("/privacy/rules/wifi-presence", json={"rules": RULES}).status_code == 200
    SHOTS.mkdir(exist_ok=True)
    page = chromium.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    for lang, title, first in (("en", "Privacy rules", "Only aggregates (sum) per 15 minutes"),
                               ("de", "Datenschutzregeln", "Nur Aggregate (Summe) je 15 Minuten")):
        assert page.goto(f"{server.url}/datasets/wifi-presence?lang={lang}").status == 200
        rules = page.locator("#privacy-rules li")
        assert rules.count() == 2 and rules.first.inner_text().startswith(first)
        assert page.get_by_text(title, exact=True).count() == 1
        page.locator("#privacy-rules").scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / f"privacy-rules-dataset-{lang}.png"), full_page=True)
        assert axe_violations(page) == []
