"""The create fast path (``urbanos/sensing/fast.py``) answers POSTs exactly as the route would: the same sequence of
requests against two fresh apps, one with the fast path and one with it stepped over, gives the same statuses,
bodies, headers and metrics, for successes and for every kind of refusal; the paths with routes of their own go on
to them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import ADMIN_TOKEN, api_token, fresh_db_url, settings_for
from tests.sensing.sta_helpers import thing

H = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
JSON = {**H, "Content-Type": "application/json"}
T = "2024-01-01T00:00:00Z"
KEPT = ("content-type", "location", "www-authenticate", "retry-after", "content-length")


def _exchange(folder: Path, db: str) -> list[tuple[Any, ...]]:
    from urbanos.web.app import create_app

    app = create_app(settings_for(folder, db))
    out: list[tuple[Any, ...]] = []
    try:
        with TestClient(app, raise_server_exceptions=False) as c:
            other = {"Authorization": f"Bearer {api_token(c, 'pub-b', 'publisher', 'org-b')}"}
            assert c.post("/api/3/action/organization_create", json={"name": "org-b", "title": "B"},
                          headers=H).status_code == 200

            def post(path: str, body: Any = None, headers: dict[str, str] | None = None, raw: bytes | None = None) -> Any:
                r = (c.post(path, content=raw, headers=headers if headers is not None else JSON) if raw is not None
                     else c.post(path, json=body, headers=headers if headers is not None else H))
                out.append((path, r.status_code, r.content, {k: r.headers.get(k) for k in KEPT}))
                return r

            t = post("/sta/v1.1/Things", thing("Counter"))
            tid = t.json()["@iot.id"]
            ds = c.get(f"/sta/v1.1/Things({tid})/Datastreams", headers=H).json()["value"][0]["@iot.id"]
            post("/sta/v1.1/Observations", {"result": 1, "phenomenonTime": T, "Datastream": {"@iot.id": ds}})
            post(f"/sta/v1.1/Datastreams({ds})/Observations", {"result": 2, "phenomenonTime": "2024-01-01T00:00:00Z"})
            post(f"/sta/v1.0/Datastreams({ds})/Observations/", {"result": 3, "phenomenonTime": T})
            post("/sta/v1.1/Observations", {"result": 4, "Datastream": {"@iot.id": ds}}, headers=other)  # 403
            post("/sta/v1.1/Observations", {"result": 5, "Datastream": {"@iot.id": ds}}, headers={})  # 401
            post("/sta/v1.1/Observations", {"result": 6, "Datastream": {"@iot.id": 999_999}})  # unknown id
            post("/sta/v1.1/Observations", {"result": 7, "Datastream": {"@iot.id": "one"}})  # wrong type
            post("/sta/v1.1/Observations", raw=b"{bad")  # malformed
            post("/sta/v1.1/Observations", raw=b'{"result": 1}', headers={**H, "Content-Type": "text/plain"})
            post("/sta/v1.1/Observations", raw=b"")  # empty
            post("/sta/v1.1/Observations", raw=b'{"result": "\\u0000"}')  # NUL
            post("/sta/v1.1/Observations", raw=b'{"result": "' + b"x" * 20_000_000 + b'"}')  # oversized
            post("/sta/v9/Observations", {"result": 8})  # no such version
            post("/sta/v1.1/Nothing", {"result": 9})
            post(f"/sta/v1.1/Things({tid})/Locations/$ref", {"@iot.id": 999_999})
            post("/sta/v1.1/CreateObservations", [{"Datastream": {"@iot.id": ds}, "components": ["result"],
                                                   "dataArray": [[10]]}])  # its own route (its time: now)
            post("/sta/v1.1/$batch", {"requests": []})  # its own route
            post("/sta/v1.1/Observations?$select=id", {"result": 11, "phenomenonTime": T, "Datastream": {"@iot.id": ds}})
            stored = c.get(f"/sta/v1.1/Datastreams({ds})/Observations?$orderby=id&$select=result,id",
                           headers=H).json()
            out.append(("stored", stored))
            metrics = c.get("/metrics", headers=H).text
            out.append(("metrics", sorted(line.split(" ")[0] for line in metrics.splitlines()
                                          if line.startswith("urbanos_http_request_duration_seconds_count"))))
    finally:
        app.state.platform.close()
    return out


def test_the_fast_path_answers_as_the_route(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from urbanos.sensing.fast import CreateFastPath

    with fresh_db_url(tmp_path / "fast") as db:
        fast = _exchange(tmp_path / "fast", db)
    monkeypatch.setattr(CreateFastPath, "_target", staticmethod(lambda scope: None))  # every request routed
    with fresh_db_url(tmp_path / "routed") as db:
        routed = _exchange(tmp_path / "routed", db)
    assert [x[:2] for x in fast] == [x[:2] for x in routed]
    for a, b in zip(fast, routed, strict=True):
        assert a == b, a[0]
    statuses = [x[1] for x in fast if len(x) == 4]
    assert statuses[:4] == [201, 201, 201, 201] and 500 not in statuses
