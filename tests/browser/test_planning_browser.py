"""A contribution on a planning project's map in headless Chromium, on the demo city (`urbanos demo`: Jungfernstieg
2030 with 40 contributions): a signed-in resident clicks on the map (which fills the coordinates), writes and sends
her contribution with a rubric and finds it listed, then draws a line (chosen with the keyboard, clicked on the map,
its last point removed); the heat map layer by Stadtteil loads; the rubric filter narrows the list; the project's
steward sees a hidden contribution with its reason and shows it again; the project list and pages pass axe-core in
English and German and are screenshotted."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
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
        page.select_option("#c-rubric", "Trees")
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
        assert "Green spaces › Trees" in first.inner_text()
        # a line: chosen with the keyboard, drawn by clicks on the map, its last point removed and set again
        page.focus("#shape-line")
        page.keyboard.press("Space")
        assert page.is_hidden("#lat") and page.is_visible("#line")
        page.fill("#c-title", "Cycle route along the Alster")
        page.select_option("#c-category", "Traffic")
        page.select_option("#c-rubric", "Cycling")
        page.fill("#c-text", "Mark a route for bikes.")
        for dx, dy in ((-60, 40), (60, -40), (200, 200)):
            page.locator("#planning-map").click(position={"x": box["width"] / 2 + dx, "y": box["height"] / 2 + dy})
        page.wait_for_selector("#planning-map[data-vertices='3']")
        page.click("#line-undo")
        page.wait_for_selector("#planning-map[data-vertices='2']")
        assert len(page.input_value("#line").splitlines()) == 2
        _shot(page, tmp_path, "planning-line.png")
        assert axe_violations(page) == []
        page.click("#contribute-form button[type=submit]")
        page.wait_for_selector("#planning-thanks")
        page.wait_for_selector("#planning-map[data-loaded='42']")
        page.select_option("#f-category", "Traffic")
        page.select_option("#f-rubric", "Cycling")
        page.click("#category-filter button")
        page.wait_for_load_state("networkidle")
        listed = page.inner_text("#contribution-list")
        assert "Water playground" not in listed and "Cycle route along the Alster" in listed
    finally:
        ctx.close()
    # the project's steward sees a hidden contribution, with the reason, and shows it again
    steward = api_token(demo_server.url, "lgv-steward", "steward", "hamburg-lgv")
    st = {"Authorization": f"Bearer {steward}"}
    items = httpx.get(f"{demo_server.url}/participation/projects/{NAME}/contributions", timeout=30).json()
    hide = next(k for k in items["contributions"] if k["title"].startswith("Water playground"))
    r = httpx.post(f"{demo_server.url}/participation/projects/{NAME}/contributions/{hide['id']}/moderation",
                   json={"reason": "Duplicate of another idea"}, headers=st, timeout=30)
    assert r.status_code == 200, r.text
    sc = chromium.new_context(viewport={"width": 1100, "height": 1000}, locale="de-DE", extra_http_headers=st)
    page = sc.new_page()
    page.set_default_timeout(60000)
    try:
        assert page.goto(f"{demo_server.url}/participation/projects/{NAME}?lang=de").status == 200
        page.wait_for_selector("#planning-map[data-loaded='41']")
        assert "Grund: Duplicate of another idea" in page.inner_text("#hidden-list")
        page.locator("#hidden-items").scroll_into_view_if_needed()
        _shot(page, tmp_path, "planning-hidden-de.png")
        assert axe_violations(page) == []
        page.click("#hidden-list button")
        page.wait_for_selector("#planning-shown")
        assert page.locator("#hidden-list").count() == 0 and "Water playground" in page.inner_text("#contribution-list")
    finally:
        sc.close()
    de = chromium.new_context(viewport={"width": 1100, "height": 1000}, locale="de-DE")
    page = de.new_page()
    page.set_default_timeout(60000)
    try:
        assert page.goto(f"{demo_server.url}/participation/projects/{NAME}?lang=de").status == 200
        page.wait_for_selector("#planning-map[data-loaded='42']")
        assert page.locator("#sign-in-hint").count() == 1 and "Water playground" in page.content()
        assert "von Teilnehmende" in page.inner_text("#contribution-list")
        _shot(page, tmp_path, "planning-project-de.png")
        assert axe_violations(page) == []
    finally:
        de.close()
    assert errors == []
