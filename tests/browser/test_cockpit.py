"""The usage cockpit in headless Chromium: after some reads, ``/cockpit`` draws its trend chart with uPlot (under
the Content-Security-Policy: no inline script), keeps the table alternative, passes axe-core and is screenshotted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.browser.conftest import ADMIN, SHOTS, axe_violations
from tests.conftest import LiveServer


def test_the_cockpit_draws_its_chart_and_is_accessible(live_server: LiveServer, chromium: Any, tmp_path: Path) -> None:
    with httpx.Client(base_url=live_server.url, headers=ADMIN, timeout=30) as http:
        r = http.post("/api/3/action/organization_create", json={"name": "parks", "title": "Parks"})
        assert r.status_code == 200, r.text
        r = http.post("/api/3/action/package_create", json={"name": "street-trees", "title": "Street trees",
                                                             "owner_org": "parks", "license_id": "CC-BY-4.0"})
        assert r.status_code == 200, r.text
        for _ in range(3):
            assert http.post("/api/3/action/package_show", json={"id": "street-trees"}).status_code == 200
            assert http.get("/dataset/street-trees.ttl").status_code == 200
    context = chromium.new_context(viewport={"width": 1280, "height": 1000}, locale="en-GB", extra_http_headers=ADMIN)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        assert page.goto(f"{live_server.url}/cockpit?days=7").status == 200
        page.wait_for_selector("#usage-chart canvas")
        assert page.locator("#usage-chart[data-drawn='1']").count() == 1
        assert page.locator("#usage-trend-table tbody tr").count() == 7  # the table alternative: one row a day
        assert page.locator("#usage-datasets tbody tr").count() >= 1
        SHOTS.mkdir(exist_ok=True)
        for shot in (tmp_path / "cockpit.png", SHOTS / "cockpit.png"):
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10000
        assert axe_violations(page) == []
        assert errors == []  # no script error, nothing the Content-Security-Policy refused
    finally:
        context.close()
