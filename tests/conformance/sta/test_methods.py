"""A method a SensorThings path does not allow (DELETE, PATCH or PUT on a collection, a property or a reference
list) answers 405 Method Not Allowed with an Allow header, in the STA error format: a client error, not a 5xx (found
by fuzzing /openapi.json). Nothing changes."""

from __future__ import annotations

import pytest

from tests.sensing.sta_helpers import Sta


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("DELETE", "/Things", "GET, POST"),
    ("PATCH", "/Things", "GET, POST"),
    ("PUT", "/Things", "GET, POST"),
    ("DELETE", "/Things({id})/name", "GET"),
    ("PATCH", "/Things({id})/name", "GET"),
    ("DELETE", "/Things/$ref", "GET"),
])
def test_method_not_allowed_is_405(sta: Sta, method: str, path: str, allow: str) -> None:
    tid = sta.create("/Things", {"name": "kept", "description": "d"})["@iot.id"]
    r = sta.c.request(method, "/sta/v1.1" + path.format(id=tid), headers=sta.h, json={"name": "x"})
    assert r.status_code == 405, r.text
    assert r.headers["allow"] == allow
    assert r.json()["code"] == 405 and r.json()["message"]
    assert [t["name"] for t in sta.ok("/Things")["value"]] == ["kept"]
