"""The demo's dataset pages in headless Chromium (`urbanos demo`): a download button gives CSV bytes, the first rows
are the collection's data, the flagship SensorThings dataset shows its sensors on an offline map and a chart, and
axe-core finds no WCAG 2 A/AA violation on these pages. Screenshots go to tests/browser/screenshots/."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import SHOTS, axe_violations
from tests.conftest import LiveServer, fresh_db_url, start_server


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One `urbanos demo` for the module's tests, which only read it."""
    folder = tmp_path_factory.mktemp("dataset-pages-demo")
    with fresh_db_url(folder) as url:
        server = start_server(folder / "data", url, command="demo", args=["--mqtt-port", "0"], timeout=240)
        try:
            yield server
        finally:
            server.stop()


def test_demo_dataset_pages_give_the_data(demo_server: Any, chromium: Any) -> None:
    SHOTS.mkdir(exist_ok=True)
    context = chromium.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60000)
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((demo_server.url, "data:")) else None)

    assert page.goto(demo_server.url + "/datasets/hamburg-bezirke").status == 200
    button = page.get_by_role("link", name="Download hamburg-bezirke as CSV")
    with page.expect_download() as got:
        button.click()
    body = Path(got.value.path()).read_bytes()
    assert got.value.suggested_filename == "hamburg-bezirke.csv"
    csv.field_size_limit(1 << 26)  # the boroughs' outlines as WKT
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) == 1 + 7, rows[:2]  # a header and the seven boroughs
    assert not body.lstrip().startswith(b"{")
    table = page.locator("#first-rows table")
    assert table.locator("tbody tr").count() == 7
    assert "links" not in table.locator("thead").inner_text()
    page.wait_for_function("document.querySelectorAll('#map path.leaflet-interactive').length >= 7")
    page.screenshot(path=str(SHOTS / "portal-dataset-hamburg-bezirke.png"), full_page=True)

    assert page.goto(demo_server.url + "/datasets/pedestrian-sensors").status == 200
    heads = page.locator("#first-rows thead th").all_inner_texts()
    assert heads[:3] == ["sensor_id", "sensor_description", "sensor_name"]
    assert page.locator("#first-rows tbody tr").count() == 20
    page.screenshot(path=str(SHOTS / "portal-dataset-pedestrian-sensors.png"), full_page=True)

    assert page.goto(demo_server.url + "/datasets/melbourne-pedestrian-counts").status == 200
    assert page.get_by_text("No distributions yet").count() == 0
    assert page.get_by_role("link", name="Open SensorThings API: Datastreams in the API").count() == 1
    page.wait_for_function("document.querySelectorAll('#map path.leaflet-interactive').length >= 2")
    assert page.locator("#chart svg polyline").count() == 1
    assert page.locator("#related a").all_inner_texts() == ["Melbourne: pedestrian counting sensors"]
    page.locator("#h-preview").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "portal-dataset-melbourne-counts.png"), full_page=True)
    assert outside == []  # offline: no tiles, scripts or fonts from elsewhere
    context.close()


def test_demo_dataset_pages_pass_axe(demo_server: Any, chromium: Any) -> None:
    page = chromium.new_page(viewport={"width": 1280, "height": 1000})
    page.set_default_timeout(60000)
    for name in ("hamburg-bezirke", "pedestrian-sensors", "melbourne-pedestrian-counts"):
        assert page.goto(f"{demo_server.url}/datasets/{name}").status == 200
        page.locator("#map path.leaflet-interactive").nth(1).wait_for()  # the map is drawn
        assert axe_violations(page) == [], name
    page.close()
