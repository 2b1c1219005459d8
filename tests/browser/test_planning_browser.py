"""A contribution on a planning project's map in headless Chromium, on the demo city (`urbanos demo`: Jungfernstieg
2030 with 40 contributions): a signed-in resident clicks on the map (which fills the coordinates), writes and sends
her contribution and finds it listed; the heat map layer by Stadtteil loads; the project list and page pass axe-core
in English and German and are screenshotted."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import SHOTS, axe_violations
from tests.conftest import api_token

NAME = "jungfernstieg-2030"


@pytest.fixture
def demo_server(db_url: str, server_factory: Callable[..., Any]) -> Any:
    return server_factory(db_url, command="demo", args=["--mqtt-port", "0"])


def _shot(page: Any, tmp_path: Path, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    for shot in (tmp_path / name, SHOTS / name):
        page.screenshot(path=str(shot), full_page=True)


def test_contribute_on_the_map_and_see_it_listed(demo_server: Any, chromium: Any, tmp_path: Path) -> None:
    resident = api_token(demo_server.url, "resident", "reader")
    errors: list[str] = []
    ctx = chromium.new_context(viewport={"width": 1100, "height": 1000}, locale="en-GB",
                               extra_http_headers={"Authorization": f"Bearer {resident}"})
    page = ctx.new_page()
    page.set_default_timeout(60000)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        assert page.goto(f"{demo_server.url}/participation/projects?lang=en",
                         wait_until="networkidle").status == 200
        assert "Jungfernstieg 2030" in page.inner_text("#planning-projects")
        assert axe_violations(page) == []
        page.click("#planning-projects a")
        page.wait_for_selector("#planning-map[data-ready='1'][data-loaded='40']")
        page.check("#heatmap-toggle")
        page.wait_for_selector("#planning-map[data-heat]")
        assert int(page.get_attribute("#planning-map", "data-heat") or 0) >= 2
        page.fill("#c-title", "Water playground </script>")
        page.select_option("#c-category", "Green spaces")
        page.fill("#c-text", "=1+1 a splash area for children by the Alster")
        box = page.locator("#planning-map").bounding_box()
        assert box is not None
        page.locator("#planning-map").click(position={"x": box["width"] / 2, "y": box["height"] / 2})
        assert page.input_value("#lat").startswith("53.5") and page.input_value("#lon").startswith(("9.9", "10.0"))
        _shot(page, tmp_path, "planning-project.png")
        assert axe_violations(page) == []
        page.click("#contribute-form button[type=submit]")
        page.wait_for_selector("#planning-thanks")
        first = page.locator("#contribution-list li").first
        assert "Water playground </script>" in first.inner_text() and "Contributor" in first.inner_text()
        page.wait_for_selector("#planning-map[data-loaded='41']")
        page.select_option("#f-category", "Traffic")
        page.click("#category-filter button")
        page.wait_for_load_state("networkidle")
        assert "Water playground" not in page.inner_text("#contribution-list")
    finally:
        ctx.close()
    de = chromium.new_context(viewport={"width": 1100, "height": 1000}, locale="de-DE")
    page = de.new_page()
    page.set_default_timeout(60000)
    try:
        assert page.goto(f"{demo_server.url}/participation/projects/{NAME}?lang=de").status == 200
        page.wait_for_selector("#planning-map[data-loaded='41']")
        assert page.locator("#sign-in-hint").count() == 1 and "Water playground" in page.content()
        assert "von Teilnehmende" in page.inner_text("#contribution-list")
        _shot(page, tmp_path, "planning-project-de.png")
        assert axe_violations(page) == []
    finally:
        de.close()
    assert errors == []
