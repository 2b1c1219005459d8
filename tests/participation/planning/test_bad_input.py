"""Bad input to the planning API: each a 4xx in problem+json that stores nothing (malformed or oversized bodies,
wrong types, unknown project, contribution or comment, outside the area or the period, unknown category, missing
sign-in, another organisation's steward)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.participation.planning.helpers import (
    ADMIN,
    INSIDE,
    OUTSIDE,
    PREFIX,
    contribute,
    make_project,
    org,
    project_body,
    token,
)


def _count(platform: Any, table: str) -> int:
    return int(platform.db.read_sync(lambda c: c.fetchval(f"SELECT COUNT(*) FROM participation_planning_{table}")))


def _problem(r: Any, status: int, field: str | None = None) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    if field is not None:
        assert field in r.text, r.text


@pytest.fixture
def ready(client: Any) -> dict[str, Any]:
    org(client, "plan-bad")
    h = token(client, "st-bad", "steward", "plan-bad")
    make_project(client, "bad", "plan-bad", h)
    make_project(client, "later", "plan-bad", h, starts_at="2090-01-01", ends_at="2091-01-01")
    resident = token(client, "resident")
    k = contribute(client, "bad", resident)
    return {"steward": h, "resident": resident, "id": k["id"]}


BAD_CONTRIBUTIONS = [
    ({"title": "x", "text": "y", "category": "Traffic", "geometry": OUTSIDE}, "geometry"),
    ({"title": "x", "text": "y", "category": "Nope", "geometry": INSIDE}, "category"),
    ({"title": "x", "text": "y" * 4001, "category": "Traffic", "geometry": INSIDE}, "text"),
    ({"title": "", "text": "y", "category": "Traffic", "geometry": INSIDE}, "title"),
    ({"title": 5, "text": "y", "category": "Traffic", "geometry": INSIDE}, "title"),
    ({"title": "x", "text": "y", "category": "Traffic"}, "geometry"),
    ({"title": "x", "text": "y", "category": "Traffic", "geometry": {"type": "Polygon", "coordinates": []}},
     "geometry"),
    ({"title": "x", "text": "y", "category": "Traffic", "geometry": {"type": "Point", "coordinates": ["a", 1]}},
     "geometry"),
    ({"title": "x", "text": "y", "category": "Traffic", "geometry": {"type": "Point", "coordinates": [500, 1]}},
     "geometry"),
    ({"title": "x", "text": "y", "category": "Traffic", "geometry": {"type": "LineString",
                                                                      "coordinates": [[9.99, 53.55]]}}, "geometry"),
]


def test_bad_contributions_store_nothing(client: Any, platform: Any, ready: dict[str, Any]) -> None:
    h = ready["resident"]
    before = _count(platform, "contributions")
    for body, field in BAD_CONTRIBUTIONS:
        _problem(client.post(f"{PREFIX}/bad/contributions", json=body, headers=h), 400, field)
    url = f"{PREFIX}/bad/contributions"
    _problem(client.post(url, content=b"{not json", headers={**h, "Content-Type": "application/json"}), 400)
    _problem(client.post(url, json=[1, 2], headers=h), 400)
    _problem(client.post(url, content=b"{" + b" " * 70_000 + b"}", headers={**h, "Content-Type":
                                                                            "application/json"}), 413)
    _problem(client.post(url, json=BAD_CONTRIBUTIONS[0][0] | {"geometry": INSIDE}), 401)
    _problem(client.post(f"{PREFIX}/nowhere/contributions", json={}, headers=h), 404)
    r = client.post(f"{PREFIX}/later/contributions", json={"title": "x", "text": "y", "category": "Traffic",
                                                           "geometry": INSIDE}, headers=h)
    _problem(r, 409)
    assert r.json()["code"] == "outside_period"
    assert _count(platform, "contributions") == before


def test_bad_comments_ratings_and_moderation_change_nothing(client: Any, platform: Any, ready: dict[str, Any]) -> None:
    h, cid = ready["resident"], ready["id"]
    org(client, "plan-other")
    other = token(client, "st-other", "steward", "plan-other")
    base = f"{PREFIX}/bad/contributions/{cid}"
    for body in ({"text": ""}, {"text": 5}, {"text": "y" * 4001}, {"text": "ok", "parent": 999},
                 {"text": "ok", "parent": "1"}):
        _problem(client.post(f"{base}/comments", json=body, headers=h), 400)
    _problem(client.post(f"{base}/comments", json={"text": "ok"}), 401)
    _problem(client.post(f"{PREFIX}/bad/contributions/999/comments", json={"text": "ok"}, headers=h), 404)
    _problem(client.post(f"{PREFIX}/bad/contributions/abc/comments", json={"text": "ok"}, headers=h), 404)
    for value in (2, 0, True, "1", None):
        _problem(client.put(f"{base}/rating", json={"value": value}, headers=h), 400)
    _problem(client.put(f"{base}/rating", json={"value": 1}), 401)
    _problem(client.put(f"{PREFIX}/bad/contributions/999/rating", json={"value": 1}, headers=h), 404)
    _problem(client.post(f"{base}/moderation", json={"reason": "x"}, headers=other), 403)
    _problem(client.post(f"{base}/moderation", json={"reason": "x"}, headers=h), 403)
    _problem(client.post(f"{base}/moderation", json={"hidden": "yes", "reason": "x"}, headers=ready["steward"]), 400)
    _problem(client.post(f"{base}/moderation", json={"comment": 999, "reason": "x"}, headers=ready["steward"]), 404)
    _problem(client.post(f"{PREFIX}/bad/contributions/999/moderation", json={"reason": "x"}, headers=ADMIN), 404)
    assert _count(platform, "comments") == 0 and _count(platform, "ratings") == 0
    assert client.get(base).status_code == 200


def test_bad_projects_store_nothing(client: Any, platform: Any, ready: dict[str, Any]) -> None:
    h = ready["steward"]
    before = _count(platform, "projects")
    for change, field in (({"area": OUTSIDE}, "area"), ({"area": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1],
                                                                                                      [0, 1], [1, 0],
                                                                                                      [0, 0]]]}},
                                                                                    "area"),
                          ({"categories": []}, "categories"), ({"categories": ["a", "a"]}, "categories"),
                          ({"starts_at": "tomorrow"}, "starts_at"), ({"ends_at": "2000-01-01"}, "ends_at"),
                          ({"name": "Bad Name"}, "name"), ({"location_required": "no"}, "location_required"),
                          ({"owner_org": "nowhere"}, "owner_org")):
        _problem(client.post(PREFIX, json=project_body("new", "plan-bad") | change, headers=ADMIN), 400, field)
    _problem(client.patch(f"{PREFIX}/bad", json={"title": 7}, headers=h), 400, "title")
    _problem(client.patch(f"{PREFIX}/bad", json={}, headers=h), 400)
    _problem(client.patch(f"{PREFIX}/nowhere", json={"title": "x"}, headers=h), 404)
    assert _count(platform, "projects") == before
    assert client.get(f"{PREFIX}/bad").json()["title"] == "Bad"
