"""Retention: periods per dataset, Datastream and collection, declared by the owning organisation's stewards; the purge
proven by moving the clock (Observations, features, envelopes, deletion records, audit); the dry run; bad input."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.privacy.conftest import ADMIN_H, entries
from urbanos.cli.main import cli
from urbanos.privacy.retention import service as retention_service


def _purge(platform: Any, monkeypatch: pytest.MonkeyPatch, when: str) -> list[dict[str, Any]]:
    monkeypatch.setattr(retention_service, "clock", lambda: datetime.fromisoformat(when).replace(tzinfo=UTC))
    return platform.services["privacy_retention"].purge_sync()  # type: ignore[no-any-return]


def _stream(client: Any, stream: int) -> dict[str, Any]:
    r = client.get(f"/sta/v1.1/Datastreams({stream})", headers=ADMIN_H)
    assert r.status_code == 200
    return r.json()  # type: ignore[no-any-return]


def _observations(client: Any, stream: int) -> list[str]:
    r = client.get(f"/sta/v1.1/Datastreams({stream})/Observations", params={"$orderby": "phenomenonTime"}, headers=ADMIN_H)
    return [o["phenomenonTime"] for o in r.json()["value"]]


def _features(client: Any) -> int:
    r = client.get("/ogcapi/collections/a-points/items", params={"limit": 1000, "f": "json"}, headers=ADMIN_H)
    assert r.status_code == 200, r.text
    return len(r.json()["features"])


def test_purge_when_the_clock_moves(client: Any, platform: Any, world: dict[str, Any],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    stream = world["stream"]
    h = world["h"]["steward-a"]
    r = client.put("/privacy/retention/org-a-private", json={
        "days": 30, "datastreams": [{"id": stream, "days": 10}], "note": "Counts are kept for a month."}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["days"] == 30 and r.json()["datastreams"] == [{"id": stream, "days": 10}]
    assert client.get("/privacy/retention/org-a-private", headers=world["h"]["reader-a"]).json()["days"] == 30
    assert _features(client) == 33 and len(_observations(client, stream)) == 3

    assert sum(r["rows"] for r in _purge(platform, monkeypatch, "2024-01-05T00:00:00")) == 0  # nothing old enough yet
    results = _purge(platform, monkeypatch, "2024-01-13T00:00:00")  # the Datastream's 10 days: before 2024-01-03
    assert sum(r["rows"] for r in results) == 2
    assert _observations(client, stream) == ["2024-01-03T00:00:00Z"]
    ds = _stream(client, stream)
    assert ds["phenomenonTime"] == "2024-01-03T00:00:00Z/2024-01-03T00:00:00Z"  # was from 2024-01-01
    results = _purge(platform, monkeypatch, "2024-02-10T00:00:00")  # 30 days: before 2024-01-11
    assert {(r["scope"], r["rows"], r["what"]) for r in results} == {
        ("dataset", 11, "1 Observations, 10 features"), ("datastream", 0, "0 Observations, 0 features")}
    assert _observations(client, stream) == [] and _stream(client, stream).get("phenomenonTime") is None
    assert _features(client) == 23  # ten features before 2024-01-11; those without time stay
    meta = client.get("/ogcapi/collections/a-points", params={"f": "json"}, headers=ADMIN_H).json()
    assert meta["extent"]["temporal"]["interval"][0][0].startswith("2024-01-11")

    records = client.get("/transparency", params={"f": "json"}, headers=h).json()["deletions"]
    assert [(d["scope"], d["row_count"]) for d in records] == [("dataset", 11), ("datastream", 2)]
    assert records[0]["before_time"].startswith("2024-01-11") and records[0]["dataset"] == "org-a-private"
    assert records[1]["before_time"].startswith("2024-01-03") and records[1]["at"].startswith("2024-01-13")
    assert client.get("/transparency", params={"f": "json"}).json()["deletions"] == []  # hidden from strangers
    audit = entries(client, action="retention.purged")
    assert sorted(e["row_count"] for e in audit) == [2, 11]
    assert {e["actor"] for e in audit} == {"system:retention"}
    assert entries(client, action="retention.changed")[0]["actor"] == world["subject"]["steward-a"]


def test_dry_run_deletes_nothing(client: Any, platform: Any, world: dict[str, Any], db_url: str, tmp_path: Path) -> None:
    r = client.put("/privacy/retention/org-a-private", json={"days": 1}, headers=world["h"]["steward-a"])
    assert r.status_code == 200
    out = CliRunner().invoke(cli, ["purge", "--dry-run", "--db", db_url, "--data-dir", str(tmp_path / "cli")])
    assert out.exit_code == 0, out.output
    assert "33 rows would be deleted under 1 rules" in out.output  # 3 Observations and 30 timed features
    assert len(_observations(client, world["stream"])) == 3 and _features(client) == 33
    assert client.get("/transparency", params={"f": "json"}, headers=ADMIN_H).json()["deletions"] == []
    out = CliRunner().invoke(cli, ["purge", "--db", db_url, "--data-dir", str(tmp_path / "cli")])
    assert out.exit_code == 0 and "33 rows deleted" in out.output, out.output
    assert _observations(client, world["stream"]) == [] and _features(client) == 3


def test_bad_input_changes_nothing(client: Any, world: dict[str, Any]) -> None:
    h = world["h"]
    js = {**h["steward-a"], "Content-Type": "application/json"}
    url = "/privacy/retention/org-a-private"
    for body in (b"{", b"[]", b'"x"', b"", b'{"days": "30"}', b'{"days": 0}', b'{"days": 40000}', b'{"days": true}',
                 b'{"weeks": 3}', b'{"datastreams": {}}', b'{"datastreams": [5]}', b'{"datastreams": [{"id": 99999, "days": 3}]}',
                 b'{"datastreams": [{"id": "x", "days": 3}]}', b'{"collections": [{"name": "nope", "days": 3}]}',
                 b'{"collections": [{"name": "a-points", "days": 3, "time_property": 5}]}',
                 b'{"days": 5, "datastreams": [{"id": %d, "days": 6}]}' % world["stream"],
                 b'{"datastreams": [{"id": %d, "days": 6}, {"id": %d, "days": 5}]}' % (world["stream"], world["stream"])):
        r = client.put(url, content=body, headers=js)
        assert r.status_code == 400, (body, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    huge = b'{"note": "' + b"x" * (11 * 1024 * 1024) + b'"}'
    assert client.put(url, content=huge, headers=js).status_code == 413
    assert client.put("/privacy/retention/no-such-dataset", json={"days": 3}, headers=h["steward-a"]).status_code == 404
    assert client.put(url, json={"days": 3}, headers=h["steward-b"]).status_code == 404  # org-b may not see it
    assert client.put("/privacy/retention/open-data", json={"days": 3}, headers=h["steward-b"]).status_code == 403
    assert client.put(url, json={"days": 3}, headers=h["publisher-a"]).status_code == 403  # stewards declare
    assert client.put("/privacy/retention/open-data", json={"days": 3}).status_code == 401
    assert client.delete(url, headers=h["steward-b"]).status_code == 404
    assert client.get(url).status_code == 404 and client.get("/privacy/retention/" + "x" * 5000).status_code == 404
    assert client.get(url, headers=h["admin"]).json() == {"dataset": "org-a-private", "organization": "org-a",
                                                          "days": None, "datastreams": [], "collections": []}
    r = client.put(url, json={"collections": [{"name": "a-points", "days": 3, "time_property": "name"}]}, headers=h["admin"])
    assert r.status_code == 200  # checked when purged: a property that is not a time is refused there
    assert client.delete(url, headers=h["steward-a"]).status_code == 204
    assert client.get(url, headers=h["admin"]).json()["collections"] == []
