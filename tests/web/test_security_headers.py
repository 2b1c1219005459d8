"""Every page the app serves carries the headers a browser needs (Content-Security-Policy without inline script,
X-Frame-Options, X-Content-Type-Options, Referrer-Policy), every other response the ones that apply to it, and no
page holds what the policy would refuse (inline script, event handler attributes, style elements or attributes) or
data that ends its script elements."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from shapely.geometry import Point

HOSTILE = "</script><script>window.__pwned=1</script>"
ENDING = ["</script>", "</SCRIPT >", "<!--<script>", "\u2028\u2029", "<img src=x onerror=alert(1)>"]


class _Scan(HTMLParser):
    """What a strict Content-Security-Policy would refuse in a page, and the text of its JSON data blocks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.refused: list[str] = []
        self.data_blocks: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.refused.append(f"<{tag} {name}=...>")
            if name == "style":
                self.refused.append(f"<{tag} style=...>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.refused.append(f"<{tag} {name}={value}>")
        if tag == "style":
            self.refused.append("<style>")
        if tag == "script":
            if (a.get("type") or "") == "application/json":
                self._in = "json"
            elif not a.get("src"):
                self._in = "inline"
                self.refused.append("inline <script>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "json":
            self.data_blocks.append(data)


def scan(html: str) -> _Scan:
    s = _Scan()
    s.feed(html)
    return s


@pytest.fixture
def site(client: Any, admin_headers: dict[str, str]) -> Any:
    from urbanos.features import store

    for action, body in (("organization_create", {"name": "parks", "title": "Parks Department"}),
                         ("package_create", {"name": "street-trees", "title": "Street trees", "owner_org": "parks",
                                             "license_id": "CC-BY-4.0",
                                             "spatial": {"type": "Point", "coordinates": [10.0, 53.55]},
                                             "resources": [{"name": "Trees", "url": "http://example.org/t.csv",
                                                            "format": "CSV"}]})):
        r = client.post(f"/api/3/action/{action}", json=body, headers=admin_headers)
        assert r.status_code == 200, r.text
    platform = client.app.state.platform
    platform.db.write_sync(lambda c: store.replace_collection(
        c, "hostile", [{"name": "name", "type": "string"}, {"name": "n", "type": "integer"}],
        [({"name": text, "n": i}, Point(10 + i / 100, 53.55)) for i, text in enumerate([HOSTILE, *ENDING])],
        geometry_type="Point", title="Hostile </script> collection"))
    return client


HTML_PAGES = [
    "/", "/datasets", "/datasets?q=trees", "/datasets/street-trees", "/organizations/parks", "/inventory", "/signin",
    "/datasets/no-such-dataset", "/organizations/nobody", "/datasets?page=0", "/datasets/street-trees/imports/1",
    "/ogcapi/?f=html", "/ogcapi/collections?f=html", "/ogcapi/collections/hostile?f=html",
    "/ogcapi/collections/hostile/items?f=html", "/ogcapi/collections/hostile/items/1?f=html",
    "/ogcapi/collections/hostile/queryables?f=html", "/ogcapi/conformance?f=html", "/ogcapi/api?f=html", "/docs",
]
OTHER = ["/healthz", "/metrics", "/openapi.json", "/ogcapi/collections/hostile/items", "/ogcapi/collections/hostile/items/1",
         "/ogcapi/collections/hostile/items?f=csv", "/sta/v1.1", "/api/3/action/package_list", "/catalog.ttl",
         "/static/map.js", "/static/vendor/leaflet/leaflet.css", "/portal/static/dataset.js", "/no/such/page",
         "/ogcapi/collections/nothing/items", "/sta/v1.1/Things(999)"]


def test_every_html_page_has_the_browser_headers_and_nothing_the_policy_refuses(site: Any) -> None:
    for path in HTML_PAGES:
        r = site.get(path)
        assert r.headers["content-type"].startswith("text/html"), (path, r.status_code, r.headers["content-type"])
        csp = r.headers.get("content-security-policy", "")
        directives = {d.split()[0]: d.split()[1:] for d in csp.split("; ") if d}
        assert directives["default-src"] == ["'self'"], path
        assert directives["script-src"] == ["'self'"], path  # no inline script, no eval, no other site
        assert directives["style-src"] == ["'self'"], path
        assert directives["img-src"] == ["'self'", "data:"], path  # no tile server is configured
        assert directives["frame-ancestors"] == ["'none'"] and directives["base-uri"] == ["'self'"], path
        assert directives["form-action"] == ["'self'"] and directives["object-src"] == ["'none'"], path
        assert r.headers["x-frame-options"] == "DENY", path
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin", path
        assert scan(r.text).refused == [], path
    # errors rendered by the platform itself are pages too when they are HTML; the rest are covered below
    assert site.get("/datasets/no-such-dataset").status_code == 404


def test_every_other_response_has_nosniff_and_a_policy_that_allows_nothing(site: Any) -> None:
    for path in OTHER:
        r = site.get(path)
        assert not r.headers["content-type"].startswith("text/html"), path
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["content-security-policy"].startswith("default-src 'none'"), path
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"], path
        assert r.headers["x-frame-options"] == "DENY", path
    # a request the middleware itself refuses gets them as well
    r = site.get("/", headers={"host": "evil.example"})
    assert r.status_code == 400 and r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-security-policy"].startswith("default-src 'none'") and r.headers["x-request-id"]


def test_json_in_pages_never_ends_its_script_element(site: Any) -> None:
    import orjson

    for path, expected in (("/ogcapi/collections/hostile/items?f=html&limit=100", len(ENDING) + 1),
                           ("/ogcapi/collections/hostile/items/1?f=html", 1)):
        html = site.get(path).text
        page = scan(html)
        assert page.refused == []
        assert len(page.data_blocks) == 1, path
        block = page.data_blocks[0]
        for raw in ("<", ">", "&", "\u2028", "\u2029"):
            assert raw not in block, (path, raw)
        data = orjson.loads(block)  # the same JSON, escapes and all
        feats = data.get("features", [data])
        assert len(feats) == expected
        assert {f["properties"]["name"] for f in feats} <= {HOSTILE, *ENDING}
        assert HOSTILE in {f["properties"]["name"] for f in feats}
        assert html.lower().count("</script") == html.lower().count("<script"), path
    portal = scan(site.get("/datasets/street-trees").text)
    assert portal.refused == [] and portal.data_blocks  # the map's geometry and the sensors, each a JSON data block
    for block in portal.data_blocks:
        orjson.loads(block)
        assert "<" not in block and ">" not in block, block


def test_tile_servers_are_allowed_only_when_configured(make_settings: Any) -> None:
    from starlette.testclient import TestClient

    from urbanos.web.app import create_app

    app = create_app(make_settings(map_tile_url="https://{s}.tile.example.org/{z}/{x}/{y}.png",
                                   portal_tile_url="https://tiles.city.example:8443/{z}/{x}/{y}.png"))
    with TestClient(app) as c:
        csp = c.get("/").headers["content-security-policy"]
        img = next(d for d in csp.split("; ") if d.startswith("img-src")).split()[1:]
        assert img == ["'self'", "data:", "https://*.tile.example.org", "https://tiles.city.example:8443"]
        assert "script-src 'self';" in csp
    app.state.platform.close()


def test_stored_links_of_active_schemes_become_inert() -> None:
    from urbanos.core.escaping import safe_href

    for bad in ("javascript:alert(1)", " JavaScript:alert(1)", "java\tscript:alert(1)", "javascript\n:x",
                "\x01javascript:x", "data:text/html,<script>alert(1)</script>", "vbscript:x", "JAVASCRIPT:x"):
        assert safe_href(bad) == "#", bad
    # character references are not decoded: autoescaping writes & as &amp;, so these stay relative links
    for good in ("https://example.org/a.csv", "http://x.example/y?z=1:2", "/datasets/a", "mailto:a@example.org",
                 "ftp://example.org/f", "relative/path", "?q=1", "#top", "javascript&colon;x", "jav&#x09;ascript:x"):
        assert safe_href(good) == good, good


def test_the_template_filters(platform: Any) -> None:
    env = platform.services["jinja"]
    template = env.from_string('<script type="application/json">{{ v | tojson_script }}|{{ t | json_text_script }}</script>'
                               '<a href="{{ u | safe_href }}">x</a>')
    html = template.render(v={"x": "</script>"}, t='{"y":"<b>"}', u="javascript:alert(1)")
    assert html == ('<script type="application/json">{"x":"\\u003c/script\\u003e"}|{"y":"\\u003cb\\u003e"}</script>'
                    '<a href="#">x</a>')
