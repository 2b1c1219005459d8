"""Malformed JSON batch requests are a 400 in the SensorThings error format, never a server error (found by fuzzing
/openapi.json), and change nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sensing.sta_helpers import Sta


@pytest.mark.parametrize("request_part", [
    {"method": "get", "url": "Things", "headers": "x"},
    {"method": "get", "url": "Things", "headers": ["a", "b"]},
    {"method": "post", "url": "Things", "headers": 7, "body": {"name": "n", "description": "d"}},
])
def test_malformed_batch_request_is_a_400(sta: Sta, request_part: dict[str, Any]) -> None:
    r = sta.c.post("/sta/v1.1/$batch", json={"requests": [request_part]}, headers=sta.h)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["code"] == 400 and body["message"]
    assert sta.ok("/Things?$count=true&$top=0")["@iot.count"] == 0
