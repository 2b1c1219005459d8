"""Hostile content stays inert in headless Chromium: feature properties and a dataset's title and description that
would run script if a page put them into its markup or its scripts unescaped. The pages run no inline script, and
the browser reports no Content-Security-Policy violation on them."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest

from tests.browser.conftest import ADMIN, SHOTS

SCRIPT = "</script><script>window.__pwned=1</script>"
IMG = '"><img src=x onerror=window.__pwned=2>'
TITLE = "Hostile </script><script>window.__pwned=3</script> data"
COMMENT = "<!--<script>window.__pwned=5//"

# collected in every page before its own scripts run
WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber);
});
"""


def _features() -> bytes:
    feats = []
    for i, (name, note) in enumerate(((SCRIPT, IMG), (IMG, COMMENT), (COMMENT, SCRIPT))):
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [10.0 + i / 100, 53.55]},
                      "properties": {"name": name, "note": note, "n": i}})
    return orjson.dumps({"type": "FeatureCollection", "features": feats})


@pytest.fixture
def hostile(db_url: str, server_factory: Callable[..., Any]) -> Any:
    server = server_factory(db_url)
    u = server.url
    for action, body in (("organization_create", {"name": "parks", "title": "Parks Department"}),
                         ("package_create", {"name": "hostile", "title": TITLE, "owner_org": "parks",
                                             "notes": IMG, "license_id": "CC-BY-4.0"})):
        r = httpx.post(f"{u}/api/3/action/{action}", json=body, headers=ADMIN, timeout=30)
        assert r.status_code == 200, r.text
    r = httpx.post(f"{u}/api/3/action/resource_create", headers=ADMIN, timeout=30,
                   data={"package_id": "hostile", "name": "Points", "format": "GeoJSON"},
                   files={"upload": ("points.geojson", _features(), "application/geo+json")})
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 60
    collection = None
    while collection is None:
        assert time.monotonic() < deadline, "the upload was not imported"
        res = httpx.get(f"{u}/api/3/action/package_show?id=hostile", headers=ADMIN, timeout=30).json()["result"]
        collection = next((x["collection"] for x in res["resources"] if x.get("collection")), None)
        time.sleep(0.2)
    server.collection = collection
    items = httpx.get(f"{u}/ogcapi/collections/{collection}/items", timeout=30).json()
    assert {f["properties"]["name"] for f in items["features"]} == {SCRIPT, IMG, COMMENT}  # stored as sent
    server.fid = next(f["id"] for f in items["features"] if f["properties"]["name"] == SCRIPT)
    return server


def _page(browser: Any) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.add_init_script(WATCH)
    page = context.new_page()
    page.set_default_timeout(60000)
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text))
    page.on("dialog", lambda d: (console.append("dialog " + d.message), d.dismiss()))
    return context, page, console


def _inert(page: Any, console: list[str]) -> None:
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate("window.__csp") == []
    assert [m for m in console if "Content Security Policy" in m or m.startswith("dialog")] == []


def test_hostile_features_stay_text_on_the_ogc_api_pages(hostile: Any, chromium: Any) -> None:
    SHOTS.mkdir(exist_ok=True)
    context, page, console = _page(chromium)
    base = f"{hostile.url}/ogcapi/collections/{hostile.collection}"

    page.goto(base + "/items?f=html")
    assert page.evaluate("typeof window.__pwned") == "undefined"  # no script of the data ran
    page.wait_for_selector("#map[data-features='3']")
    for text in (SCRIPT, IMG, COMMENT):  # each is the name of one feature and the note of another, shown as text
        assert page.locator("table tbody td", has_text=text).count() == 2
    assert page.locator("img[src=x]").count() == 0
    page.locator("#map path.leaflet-interactive").first.click()  # the popup writes the properties as markup
    page.wait_for_selector(".leaflet-popup-content table")
    popup = page.locator(".leaflet-popup-content").inner_text()
    assert any(p in popup for p in (SCRIPT, IMG, COMMENT)) and page.locator(".leaflet-popup img").count() == 0
    page.screenshot(path=str(SHOTS / "xss-items.png"), full_page=True)
    _inert(page, console)

    page.goto(f"{base}/items/{hostile.fid}?f=html")
    assert page.evaluate("typeof window.__pwned") == "undefined"
    page.wait_for_selector("#map[data-features='1']")
    assert page.locator("td", has_text=SCRIPT).count() == 1
    page.locator("#map path.leaflet-interactive").first.click()
    page.wait_for_selector(".leaflet-popup-content table")
    assert SCRIPT in page.locator(".leaflet-popup-content").inner_text()
    page.screenshot(path=str(SHOTS / "xss-item.png"), full_page=True)
    _inert(page, console)

    page.goto(base + "?f=html")
    page.wait_for_selector("#map[data-features='3']")
    _inert(page, console)
    context.close()


def test_hostile_dataset_stays_text_in_the_portal_preview(hostile: Any, chromium: Any) -> None:
    SHOTS.mkdir(exist_ok=True)
    context, page, console = _page(chromium)
    page.goto(hostile.url + "/datasets/hostile")
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.get_by_role("heading", level=1).inner_text() == TITLE
    page.wait_for_selector("#first-rows table")
    page.wait_for_function("document.querySelectorAll('#map path.leaflet-interactive').length === 3")
    cells = page.locator("#first-rows td").all_inner_texts()
    assert SCRIPT in cells and IMG in cells and COMMENT in cells
    page.screenshot(path=str(SHOTS / "xss-portal-dataset.png"), full_page=True)
    _inert(page, console)

    page.goto(hostile.url + "/datasets?q=hostile")
    assert page.locator("#results h3", has_text="Hostile").inner_text() == TITLE
    _inert(page, console)
    context.close()


def test_hostile_features_are_not_markup_in_the_page_source(hostile: Any) -> None:
    base = f"{hostile.url}/ogcapi/collections/{hostile.collection}"
    for url in (base + "/items?f=html", f"{base}/items/{hostile.fid}?f=html", hostile.url + "/datasets/hostile"):
        html = httpx.get(url, timeout=30).text
        assert html.count("</script>") == html.count("<script"), url  # every script element ends where it should
        assert "window.__pwned=1</script>" not in html and "<img src=x" not in html and "<!--<script>" not in html
