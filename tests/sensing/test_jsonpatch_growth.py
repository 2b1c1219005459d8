"""A JSON-Patch of thirty ``copy`` operations, each doubling the entity, is a 400 that changes nothing (without
the bound it makes the entity 2^30 times larger inside the write transaction)."""

from __future__ import annotations

from typing import Any

from tests.sensing.sta_helpers import Sta, thing


def test_doubling_patch_is_refused(client: Any, admin_headers: dict[str, str]) -> None:
    sta = Sta(client, admin_headers)
    tid = sta.create("/Things", thing("Doubled"))["@iot.id"]
    before = sta.ok(f"/Things({tid})")
    ops = [{"op": "copy", "from": "/properties", "path": f"/properties/c{i}"} for i in range(30)]
    r = sta.patch(f"/Things({tid})", ops, "application/json-patch+json")
    assert r.status_code == 400, r.text[:300]
    assert "bytes larger" in r.json()["message"]
    assert sta.ok(f"/Things({tid})") == before
    ok = sta.patch(f"/Things({tid})", [{"op": "replace", "path": "/name", "value": "Renamed"}], "application/json-patch+json")
    assert ok.status_code == 200, ok.text
