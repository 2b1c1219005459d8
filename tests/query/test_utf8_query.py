"""A query string that is not UTF-8 once percent-decoded (``%FF``) is refused with a 400 in each standard's
format, instead of reaching a parser with U+FFFD in place of the bad bytes."""

from __future__ import annotations

from typing import Any

import pytest

from urbanos.query.querystring import undecodable_parameter


def test_undecodable_parameter() -> None:
    assert undecodable_parameter(b"") is None
    assert undecodable_parameter(b"a=1&b=%C3%A9&c=+x+") is None
    assert undecodable_parameter(b"q=caf\xc3\xa9") is None  # raw UTF-8 is UTF-8
    assert undecodable_parameter(b"a=1&%24filter=name%20eq%20%27%FF%27") == "$filter"
    assert undecodable_parameter(b"q=\xff") == "q"
    assert undecodable_parameter(b"%FF=1") == "\ufffd"
    assert undecodable_parameter(b"q=%C3") == "q"  # a cut sequence
    assert undecodable_parameter(b"q=%ED%A0%80") == "q"  # an encoded surrogate is not UTF-8


def test_sta_filter(client: Any) -> None:
    r = client.get("/sta/v1.1/Things?$filter=name%20eq%20%27%FF%27")
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["code"] == 400 and "not valid UTF-8" in body["message"] and "$filter" in body["message"]


def test_ogc_filter(client: Any) -> None:
    r = client.get("/ogcapi/collections/places/items?filter=name%3D%27%FF%27")
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["code"] == "InvalidParameterValue"
    assert "not valid UTF-8" in body["description"]


def test_ckan_q_and_form(client: Any) -> None:
    r = client.get("/api/3/action/package_search?q=%FF")
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["success"] is False and body["error"]["__type"] == "Bad Request"
    assert "not valid UTF-8" in body["error"]["message"]
    r = client.post("/api/3/action/package_search", content=b"q=%FF",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400, r.text
    assert "form field 'q'" in r.json()["error"]["message"]
    ok = client.post("/api/3/action/package_search", content=b"q=caf%C3%A9",
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert ok.status_code == 200, ok.text


@pytest.mark.parametrize("path", ["/admin/whoami", "/openapi.json"])
def test_platform_endpoints(client: Any, path: str) -> None:
    r = client.get(f"{path}?x=%FF")
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "invalid_encoding"


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_answer_whatever_the_query(client: Any, path: str) -> None:
    """Liveness and readiness answer before any request parsing (they take no parameters): a probe with a stray,
    badly encoded query string still learns the truth."""
    r = client.get(f"{path}?x=%FF")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_valid_utf8_passes(client: Any) -> None:
    r = client.get("/sta/v1.1/Things?$filter=name%20eq%20%27caf%C3%A9%27")
    assert r.status_code == 200, r.text
