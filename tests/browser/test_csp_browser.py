"""Every HTML page in headless Chromium under the Content-Security-Policy the server sends: no violation reported
(neither a ``securitypolicyviolation`` event nor a console message), no script error, and the pages still work: maps
with their tiles, previews, htmx search and import polling, the upload script, Swagger UI at /docs."""

from __future__ import annotations

import struct
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import ADMIN, SHOTS
from tests.conftest import PAGES_ON_SQLITE

pytestmark = PAGES_ON_SQLITE

MAP_TILES = "https://{s}.tiles.test.example/{z}/{x}/{y}.png"
PORTAL_TILES = "https://tiles.portal.test.example/{z}/{x}/{y}.png"
CSV = b"name,lat,lon,count\nA,53.55,10.0,1\nB,53.56,10.01,2\nC,53.57,10.02,3\n"
WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber);
});
"""


def _png() -> bytes:
    """A 1x1 grey PNG, served for every map tile (the tests have no network)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xcc")) + chunk(b"IEND", b""))


@pytest.fixture
def site(db_url: str, server_factory: Callable[..., Any]) -> Any:
    server = server_factory(db_url, env={"URBANOS_MAP_TILE_URL": MAP_TILES, "URBANOS_PORTAL_TILE_URL": PORTAL_TILES})
    u = server.url
    for action, body in (("organization_create", {"name": "parks", "title": "Parks Department"}),
                         ("package_create", {"name": "street-trees", "title": "Street trees", "owner_org": "parks",
                                             "notes": "Every street tree.", "license_id": "CC-BY-4.0",
                                             "spatial": {"type": "Polygon", "coordinates": [[[9.9, 53.5], [10.1, 53.5],
                                                                                             [10.1, 53.6], [9.9, 53.6],
                                                                                             [9.9, 53.5]]]}})):
        r = httpx.post(f"{u}/api/3/action/{action}", json=body, headers=ADMIN, timeout=30)
        assert r.status_code == 200, r.text
    r = httpx.post(f"{u}/api/3/action/resource_create", headers=ADMIN, timeout=30,
                   data={"package_id": "street-trees", "name": "Trees", "format": "CSV"},
                   files={"upload": ("trees.csv", CSV, "text/csv")})
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 60
    while not (res := httpx.get(f"{u}/api/3/action/package_show?id=street-trees", headers=ADMIN,
                                timeout=30).json()["result"]["resources"])[0].get("collection"):
        assert time.monotonic() < deadline, "the upload was not imported"
        time.sleep(0.2)
    server.collection = res[0]["collection"]
    r = httpx.post(f"{u}/admin/tokens", json={"role": "publisher", "org": "parks", "name": "parks publisher"},
                   headers=ADMIN, timeout=30)
    assert r.status_code == 201, r.text
    server.token = r.json()["token"]
    return server


class Watched:
    """A browser context that records policy violations, console messages and script errors."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 1000})
        self.context.add_init_script(WATCH)
        self.tiles: list[str] = []
        png = _png()

        def tile(route: Any) -> None:
            self.tiles.append(route.request.url)
            route.fulfill(body=png, content_type="image/png")

        self.context.route("https://*.tiles.test.example/**", tile)
        self.context.route("https://tiles.portal.test.example/**", tile)
        self.page = self.context.new_page()
        self.page.set_default_timeout(60000)
        self.console: list[str] = []
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def visit(self, url: str, ready: str | None = None, status: int = 200) -> Any:
        response = self.page.goto(url)
        assert response is not None and response.status == status, url
        assert "script-src 'self';" in response.headers["content-security-policy"], url
        if ready:
            self.page.wait_for_selector(ready)
        self.check(url)
        return response

    def check(self, where: str) -> None:
        self.page.wait_for_load_state("networkidle")
        assert self.page.evaluate("window.__csp") == [], where
        assert [m for m in self.console if "Content Security Policy" in m or "Content-Security-Policy" in m] == [], where
        assert self.errors == [], where


def test_every_page_runs_under_the_policy(site: Any, chromium: Any, tmp_path: Path) -> None:
    SHOTS.mkdir(exist_ok=True)
    w = Watched(chromium)
    page, u, coll = w.page, site.url, site.collection

    w.visit(u + "/")
    w.visit(u + "/datasets")
    page.get_by_label("Search the catalogue").fill("trees")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=1 dataset found")  # htmx swapped the results
    w.check("htmx search")
    w.visit(u + "/datasets/street-trees", "#first-rows table, #preview-table table")
    page.wait_for_function("document.querySelectorAll('#map path.leaflet-interactive').length >= 4")  # area + 3 points
    page.wait_for_selector("#map img.leaflet-tile-loaded")
    assert any("tiles.portal.test.example" in t for t in w.tiles)
    page.screenshot(path=str(SHOTS / "csp-dataset.png"), full_page=True)
    w.check("dataset")
    w.visit(u + "/organizations/parks")
    w.visit(u + "/inventory")
    w.visit(u + "/datasets/no-such-dataset", status=404)

    w.visit(u + "/ogcapi/?f=html")
    w.visit(u + "/ogcapi/collections?f=html")
    w.visit(f"{u}/ogcapi/collections/{coll}?f=html", "#map[data-features='3']")
    page.wait_for_selector("#map img.leaflet-tile-loaded")
    assert any(".tiles.test.example" in t for t in w.tiles)
    page.screenshot(path=str(SHOTS / "csp-collection.png"), full_page=True)
    w.visit(f"{u}/ogcapi/collections/{coll}/items?f=html", "#map[data-features='3']")
    page.locator("#map path.leaflet-interactive").first.click()
    page.wait_for_selector(".leaflet-popup-content table")
    w.check("popup")
    w.visit(f"{u}/ogcapi/collections/{coll}/items/1?f=html", "#map[data-features='1']")
    w.visit(f"{u}/ogcapi/collections/{coll}/queryables?f=html")
    w.visit(u + "/ogcapi/conformance?f=html")
    w.visit(u + "/ogcapi/api?f=html")

    w.visit(u + "/docs", ".swagger-ui .information-container")
    page.locator('[data-tag="Operations"]').click()  # tags start closed
    op = page.locator(".opblock", has_text="/healthz").first
    op.locator(".opblock-summary").click()
    op.get_by_role("button", name="Try it out").click()
    op.get_by_role("button", name="Execute").click()
    page.wait_for_selector(".live-responses-table")
    page.screenshot(path=str(SHOTS / "csp-docs.png"))
    w.check("docs")

    # signed in: the upload form (upload.js) and the import state polled by htmx
    w.visit(u + "/signin?next=/datasets/street-trees")
    page.get_by_label("API token").fill(site.token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/datasets/street-trees")
    w.check("signed in")
    more = tmp_path / "more.csv"
    more.write_bytes(CSV)
    page.get_by_label("File").set_input_files(str(more))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_selector("#import-state.done", timeout=60000)
    page.screenshot(path=str(SHOTS / "csp-import.png"), full_page=True)
    w.check("upload and import")
    w.context.close()
