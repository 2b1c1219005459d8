"""The demo's dashboards in headless Chromium: each one drawn (maps, charts, live status), screenshotted and checked
with axe-core; an Observation POSTed to a bin's Datastream reaches the page within a second (MQTT over WebSockets)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import ADMIN, axe_violations
from tests.conftest import LiveServer, fresh_db_url, start_server

SLUGS = ("pedestrians", "parking", "bins", "air-quality")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One `urbanos demo` server (Melbourne's sensors, the simulated parking, bins and air quality) for the module."""
    folder = tmp_path_factory.mktemp("dashboards-demo")
    with fresh_db_url(folder) as url:
        server = start_server(folder / "data", url, command="demo", timeout=240)
        try:
            yield server
        finally:
            server.stop()


def open_page(chromium: Any, url: str, lang: str = "en-GB") -> tuple[Any, Any]:
    context = chromium.new_context(viewport={"width": 1280, "height": 1000}, locale=lang)
    page = context.new_page()
    page.set_default_timeout(30000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.errors = errors
    assert page.goto(url).status == 200
    page.wait_for_selector("body[data-live='on']", state="attached")
    return context, page


@pytest.mark.parametrize("slug", SLUGS)
def test_each_demo_dashboard_is_drawn_live_and_accessible(demo: LiveServer, chromium: Any, tmp_path: Path,
                                                          slug: str) -> None:
    context, page = open_page(chromium, f"{demo.url}/dashboards/{slug}")
    try:
        maps = page.locator(".dash-map")
        for i in range(maps.count()):
            assert maps.nth(i).locator("path.leaflet-interactive").count() > 0  # the markers
        charts = page.locator(".dash-chart")
        for i in range(charts.count()):
            assert charts.nth(i).locator("canvas").count() == 1  # uPlot drew it
        assert page.locator("table tbody tr").count() > 0  # the values, as tables
        shot = tmp_path / f"dashboard-{slug}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10000
        assert axe_violations(page) == []
        assert page.errors == []  # no script error, nothing the Content-Security-Policy refused
    finally:
        context.close()


def test_the_german_page_is_accessible_too(demo: LiveServer, chromium: Any, tmp_path: Path) -> None:
    context, page = open_page(chromium, f"{demo.url}/dashboards/air-quality?lang=de", "de-DE")
    try:
        assert page.locator("html").get_attribute("lang") == "de"
        assert "Grenzwert" in page.content()
        page.screenshot(path=str(tmp_path / "dashboard-air-quality-de.png"), full_page=True)
        assert axe_violations(page) == []
    finally:
        context.close()


def test_a_posted_observation_changes_the_page_within_a_second(demo: LiveServer, chromium: Any, tmp_path: Path) -> None:
    context, page = open_page(chromium, f"{demo.url}/dashboards/bins")
    try:
        ds = int(page.locator("#p1-table tr[data-ds]").first.get_attribute("data-ds"))
        page.evaluate("() => { window.__seen = []; document.addEventListener('dashboard:update', "
                      "e => window.__seen.push(e.detail)); }")
        r = httpx.post(f"{demo.url}/sta/v1.1/Datastreams({ds})/Observations", json={"result": 97.25},
                       headers=ADMIN, timeout=30)
        posted = time.time() * 1000
        assert r.status_code == 201, r.text
        seen = None
        while time.time() * 1000 - posted < 1000 and seen is None:
            got = page.evaluate("() => window.__seen")
            seen = next((e for e in got if e["ds"] == ds and e["value"] == 97.25), None)
            if seen is None:
                page.wait_for_timeout(20)
        assert seen is not None, "the Observation did not reach the page within a second"
        assert seen["at"] - posted < 1000
        cell = page.locator(f"#p1-table tr[data-ds='{ds}'] td[data-v]")
        assert cell.text_content() == "97.3"  # the table (in its closed <details>) follows too
        page.screenshot(path=str(tmp_path / "dashboard-bins-after.png"), full_page=True)
    finally:
        context.close()
