"""Every page a citizen or a publisher opens passes axe-core's WCAG 2 A/AA checks in Chromium, in English and
German: the portal (home, search, dataset pages, organisations, themes, the inventory, sign-in), the landing page
and the OGC API Features HTML pages, on the demo city (`urbanos demo`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.conftest import axe_violations
from tests.conftest import PAGES_ON_SQLITE

pytestmark = PAGES_ON_SQLITE

PAGES = (
    "/", "/datasets", "/datasets?q=bench", "/datasets/hamburg-bezirke", "/datasets/melbourne-pedestrian-counts",
    "/datasets/pedestrian-sensors", "/organizations", "/themes", "/inventory", "/signin",
    "/ogcapi/?f=html", "/ogcapi/collections?f=html", "/ogcapi/collections/pedestrian-sensors?f=html",
    "/ogcapi/collections/pedestrian-sensors/items?f=html", "/transparency",
)


@pytest.fixture
def demo_server(db_url: str, server_factory: Callable[..., Any]) -> Any:
    return server_factory(db_url, command="demo", args=["--mqtt-port", "0"])


def test_pages_pass_wcag_aa(demo_server: Any, chromium: Any) -> None:
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60000)
    found: dict[str, list[str]] = {}
    for path in PAGES:
        for lang in ("en", "de"):
            url = f"{demo_server.url}{path}{'&' if '?' in path else '?'}lang={lang}"
            response = page.goto(url)
            assert response is not None and response.status == 200, (url, response and response.status)
            page.wait_for_load_state("networkidle")
            violations = axe_violations(page)
            if violations:
                found[f"{path} ({lang})"] = violations
    context.close()
    assert not found, "\n".join(f"{p}:\n  " + "\n  ".join(v) for p, v in found.items())


def test_the_check_finds_what_it_looks_for(chromium: Any) -> None:
    """axe-core runs and reports: an image without text and a field without a label are violations."""
    page = chromium.new_page()
    page.set_content('<html lang="en"><head><title>t</title></head><body><main><h1>t</h1>'
                     '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><input type="text"></main></body></html>')
    found = " ".join(axe_violations(page))
    assert "image-alt" in found and "label" in found, found
    page.close()
