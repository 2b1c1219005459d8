"""Residents' ideas over HTTP: proposed by a signed-in resident in the ideas phase (author stored only as an HMAC,
never published), listed publicly, decided by the budget's stewards in the review phase (accepted as a project with
its checked cost and a link back, merged, rejected with a reason); another organisation's steward changes nothing;
bad input is a 4xx in problem+json that stores nothing; the page's form with the portal cookie and CSRF token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import api_token
from tests.participation.budget.helpers import ADMIN, PREFIX, org, steward

AREA = {"type": "Polygon", "coordinates": [[[9.98, 53.57], [10.08, 53.57], [10.08, 53.64], [9.98, 53.64],
                                             [9.98, 53.57]]]}
INSIDE = {"type": "Point", "coordinates": [10.03, 53.60]}
OUTSIDE = {"type": "Point", "coordinates": [9.90, 53.50]}
HTML = {"Accept": "text/html"}


def _budget(client: Any, name: str, org_name: str, h: dict[str, str]) -> dict[str, Any]:
    r = client.post(PREFIX, json={"name": name, "title": name.title(), "owner_org": org_name, "amount": 100_000,
                                  "area": AREA, "districts": ["Barmbek", "Winterhude"]}, headers=h)
    assert r.status_code == 201, r.text
    assert "author_key" not in r.json() and r.json()["districts"] == ["Barmbek", "Winterhude"]
    return dict(r.json())


def _idea(**extra: Any) -> dict[str, Any]:
    return {"title": "Benches", "description": "Benches along the canal.", "cost": 12_000, **extra}


def _table(platform: Any, budget_id: int) -> list[tuple[Any, ...]]:
    return platform.db.read_sync(lambda c: [tuple(r) for r in c.fetchall(
        "SELECT id, title, cost, author_mac, status, reason, project_id FROM participation_budget_ideas"
        " WHERE budget_id = ? ORDER BY id", (budget_id,))])


def _projects(platform: Any, budget_id: int) -> list[tuple[Any, ...]]:
    return platform.db.read_sync(lambda c: [tuple(r) for r in c.fetchall(
        "SELECT id, title, cost, feasible, idea_id FROM participation_budget_projects WHERE budget_id = ? ORDER BY id",
        (budget_id,))])


def test_ideas_from_residents_to_projects(client: Any, platform: Any) -> None:
    org(client, "bezirk-nord")
    org(client, "bezirk-sued")
    h = steward(client, "bezirk-nord")
    other = steward(client, "bezirk-sued")
    publisher = {"Authorization": f"Bearer {api_token(client, 'pub-nord', 'publisher', 'bezirk-nord')}"}
    alice = {"Authorization": f"Bearer {api_token(client, 'alice', 'reader')}"}
    base = {"name": "nord-bad", "title": "Bad", "owner_org": "bezirk-nord", "amount": 5}
    for bad in ({"area": {"type": "Point", "coordinates": [10, 53]}}, {"area": "Hamburg"}, {"districts": "Barmbek"},
                {"districts": [1]}, {"districts": ["x" * 101]}, {"name": "new"}):
        r = client.post(PREFIX, json={**base, **bad}, headers=h)
        assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json"), bad
    b = _budget(client, "nord-ideas", "bezirk-nord", h)
    url = f"{PREFIX}/{b['id']}/ideas"
    r = client.post(url, json=_idea(location=INSIDE, district="Barmbek"), headers=alice)
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["status"] == "proposed" and first["geometry"]["coordinates"] == [10.03, 53.6]
    assert first["district"] == "Barmbek" and "author" not in first and "author_mac" not in first
    second = client.post(url, json=_idea(title="</script><script>alert(1)</script>", cost=5), headers=alice).json()
    third = client.post(url, json=_idea(title="Trees", cost=30_000), headers=publisher).json()
    fourth = client.post(url, json=_idea(title="More trees", cost=31_000), headers=other).json()
    rows = _table(platform, b["id"])
    assert len(rows) == 4 and rows[0][3] == rows[1][3] != rows[2][3]  # one pseudonym per resident
    assert all(len(row[3]) == 64 and "alice" not in row[3] for row in rows)
    listed = client.get(url).json()
    assert listed["count"] == 4 and "mac" not in str(listed) and "alice" not in str(listed)
    assert client.get(f"{url}/{first['id']}").json()["title"] == "Benches"
    page = client.get(url, headers=HTML).text
    assert "<script>alert(1)" not in page and "&lt;/script&gt;" in page
    # refused while proposing: nothing stored
    cases = [
        (_idea(), {}, 401), (_idea(location=OUTSIDE), alice, 400), (_idea(district="Altona"), alice, 400),
        (_idea(description="x" * 4001), alice, 400), (_idea(cost="12000"), alice, 400), (_idea(cost=-1), alice, 400),
        (_idea(cost=True), alice, 400), (_idea(title=""), alice, 400), ({"title": "No description"}, alice, 400),
        (_idea(location={"type": "Point", "coordinates": [500, 1]}), alice, 400),
        (_idea(location={"type": "Polygon", "coordinates": []}), alice, 400), ([1, 2], alice, 400),
    ]
    for body, headers, status in cases:
        r = client.post(url, json=body, headers=headers)
        assert r.status_code == status, (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    assert client.post(url, content=b"{bad", headers={**alice, "Content-Type": "application/json"}).status_code == 400
    assert client.post(url, content=b"{}", headers={**alice, "Content-Type": "text/plain"}).status_code == 415
    big = b'{"title": "x", "description": "' + b"y" * 70_000 + b'", "cost": 1}'
    assert client.post(url, content=big, headers={**alice, "Content-Type": "application/json"}).status_code == 413
    assert client.post(f"{PREFIX}/nowhere/ideas", json=_idea(), headers=alice).status_code == 404
    assert client.get(f"{url}/999999").status_code == 404 and client.get(f"{url}/x1").status_code == 404
    assert len(_table(platform, b["id"])) == 4
    # decisions wait for the review phase
    decide = f"{url}/{first['id']}/decision"
    assert client.post(decide, json={"status": "accepted", "cost": 15_000}, headers=h).status_code == 409
    assert client.patch(f"{PREFIX}/{b['id']}", json={"phase": "review"}, headers=h).status_code == 200
    r = client.post(url, json=_idea(), headers=alice)
    assert r.status_code == 409 and r.json()["code"] == "not_ideas_phase"
    # the attacker path: another organisation's steward, a publisher, nobody
    before = (_table(platform, b["id"]), _projects(platform, b["id"]))
    for hdr, status in ((other, 403), (publisher, 403), (alice, 403), ({}, 401)):
        assert client.post(decide, json={"status": "accepted", "cost": 1}, headers=hdr).status_code == status
        assert client.post(decide, json={"status": "rejected", "reason": "no"}, headers=hdr).status_code == status
    for body in ({"status": "accepted"}, {"status": "accepted", "cost": "1"}, {"status": "rejected"},
                 {"status": "rejected", "reason": ""}, {"status": "merged"}, {"status": "merged", "project": "1"},
                 {"status": "proposed"}, {"status": "merged", "project": 999_999}, [1], {"status": "accepted",
                                                                                         "cost": 1, "title": 5}):
        r = client.post(decide, json=body, headers=h)
        assert r.status_code in (400, 404), (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    assert client.post(f"{url}/999999/decision", json={"status": "rejected", "reason": "x"}, headers=h).status_code \
        == 404
    assert (_table(platform, b["id"]), _projects(platform, b["id"])) == before
    # the stewards decide
    r = client.post(decide, json={"status": "accepted", "cost": 15_000, "title": "Canal benches"}, headers=h)
    assert r.status_code == 200, r.text
    accepted = r.json()
    assert accepted["status"] == "accepted" and accepted["project"]
    project = next(p for p in client.get(f"{PREFIX}/{b['id']}").json()["projects"] if p["id"] == accepted["project"])
    assert project["cost"] == 15_000 and project["idea_id"] == first["id"] and project["title"] == "Canal benches"
    r = client.post(f"{url}/{second['id']}/decision", json={"status": "rejected", "reason": "Not in our remit."},
                    headers=h)
    assert r.status_code == 200 and r.json()["reason"] == "Not in our remit."
    r = client.post(f"{url}/{third['id']}/decision", json={"status": "accepted", "cost": 28_000}, headers=h)
    r = client.post(f"{url}/{fourth['id']}/decision", json={"status": "merged", "project": r.json()["project"],
                                                            "reason": "The same trees."}, headers=h)
    assert r.status_code == 200 and r.json()["status"] == "merged"
    assert client.post(decide, json={"status": "rejected", "reason": "again"}, headers=h).status_code == 409
    statuses = [i["status"] for i in client.get(url).json()["ideas"]]
    assert statuses == ["accepted", "rejected", "accepted", "merged"]
    assert len(_projects(platform, b["id"])) == 2
    page = client.get(f"{url}?lang=de", headers=HTML).text
    assert "Canal benches" in page and "Not in our remit." in page and "Abgelehnt" in page
    # the budget's own project list links the idea; the feasibility review may still drop it, with a reason
    r = client.patch(f"{PREFIX}/{b['id']}/projects/{accepted['project']}",
                     json={"feasible": False, "reason": "The bank is private land."}, headers=h)
    assert r.status_code == 200 and r.json()["review_reason"] == "The bank is private land."


def test_the_idea_form_in_the_page(client: Any, platform: Any) -> None:
    org(client, "bezirk-ost")
    h = steward(client, "bezirk-ost")
    b = _budget(client, "ost-ideas", "bezirk-ost", h)
    token = api_token(client, "resident-ost", "reader")
    page = client.get(f"{PREFIX}/{b['id']}/ideas", headers=HTML)
    assert page.status_code == 200 and 'id="sign-in-hint"' in page.text and 'id="idea-form"' not in page.text
    de = client.get(f"{PREFIX}/{b['id']}/ideas?lang=de", headers={**HTML, "Cookie": f"urbanos_portal_token={token}"})
    assert 'id="idea-form"' in de.text and "Eine Idee vorschlagen" in de.text and "Winterhude" in de.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', de.text)
    assert csrf is not None
    client.cookies.clear()
    signed = {"Cookie": f"urbanos_portal_token={token}; urbanos_budget_csrf={csrf.group(1)}"}
    form = {"csrf": csrf.group(1), "title": "Bike racks", "description": "At the station.", "cost": "8 000",
            "lat": "53,6", "lon": "10.03", "district": "Winterhude"}
    post = f"{PREFIX}/{b['id']}/propose"
    assert client.post(post, data=form, headers={"Cookie": f"urbanos_portal_token={token}"}).status_code == 403
    assert client.post(post, data={**form, "csrf": "forged"}, headers=signed).status_code == 403
    anonymous = client.post(post, data=form, headers={"Cookie": f"urbanos_budget_csrf={csrf.group(1)}"})
    assert anonymous.status_code == 401 and 'id="form-errors"' in anonymous.text
    for change in ({"lat": "53.0"}, {"cost": "a lot"}, {"description": ""}, {"district": "Mars"}, {"lat": "x"}):
        r = client.post(post, data={**form, **change}, headers=signed)
        assert r.status_code == 400 and 'id="form-errors"' in r.text, (change, r.text[:300])
        assert 'value="Bike racks"' in r.text  # what was typed is kept
    assert client.post(post, content=b"\xff", headers={**signed, "Content-Type": "text/plain"}).status_code == 400
    assert _table(platform, b["id"]) == []
    r = client.post(post, data=form, headers=signed, follow_redirects=False)
    assert r.status_code == 303 and "new=" in r.headers["location"]
    stored = client.get(f"{PREFIX}/{b['id']}/ideas").json()["ideas"]
    assert [(i["title"], i["cost"], i["district"]) for i in stored] == [("Bike racks", 8000, "Winterhude")]
    assert stored[0]["geometry"]["coordinates"] == [10.03, 53.6]
    thanks = client.get(r.headers["location"], headers={**HTML, "Cookie": f"urbanos_portal_token={token}"})
    assert 'id="idea-thanks"' in thanks.text and "Bike racks" in thanks.text


@pytest.fixture
def limited(make_settings: Any) -> Iterator[Any]:
    """An app allowing 2 posts a minute per token."""
    from starlette.testclient import TestClient

    from urbanos.web.app import create_app

    settings = make_settings(participation_posts_per_minute=2, participation_posts_per_minute_per_address=50)
    with TestClient(create_app(settings)) as c:
        yield c


def test_idea_posts_are_rate_limited(limited: Any) -> None:
    c = limited
    org(c, "bezirk-west")
    b = _budget(c, "west-ideas", "bezirk-west", steward(c, "bezirk-west"))
    alice = {"Authorization": f"Bearer {api_token(c, 'alice-west', 'reader')}"}
    assert [c.post(f"{PREFIX}/{b['id']}/ideas", json=_idea(), headers=alice).status_code for _ in range(3)] == [
        201, 201, 429]
    r = c.post(f"{PREFIX}/{b['id']}/ideas", json=_idea(), headers=alice)
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert r.headers["content-type"].startswith("application/problem+json")
    assert len(c.get(f"{PREFIX}/{b['id']}/ideas").json()["ideas"]) == 2
    assert c.post(PREFIX, json={}, headers=ADMIN).status_code == 400  # stewards' writes are not counted


def test_ideas_are_listed_a_page_at_a_time(client: Any, platform: Any) -> None:
    """250 ideas: a page of 100 by default, oldest first, `count` the whole, `next`/`prev` links that keep the
    filter, a status filter, the page's own links (en/de), and a bad `limit`, `offset` or `status` is a 400 naming
    the parameter (the listing stopped at 5,000 ideas and its count with it)."""
    org(client, "bezirk-ost")
    h = steward(client, "bezirk-ost")
    b = _budget(client, "ost-ideas", "bezirk-ost", h)
    now = "2026-12-01T00:00:00.000000Z"
    rows = [{"budget_id": b["id"], "title": f"Idea {i}", "description": "x", "cost": i, "author_mac": "0" * 64,
             "status": "rejected" if i % 5 == 0 else "proposed", "reason": "no" if i % 5 == 0 else None,
             "created_at": now, "modified_at": now} for i in range(250)]
    platform.db.write_sync(lambda c: [c.insert("participation_budget_ideas", r) for r in rows])
    url = f"{PREFIX}/{b['id']}/ideas"
    first = client.get(url).json()
    assert first["count"] == 250 and first["limit"] == 100 and first["offset"] == 0 and "prev" not in first
    assert [i["title"] for i in first["ideas"]] == [f"Idea {i}" for i in range(100)]
    assert first["next"].endswith(f"{url}?offset=100")
    last = client.get(first["next"]).json()
    assert [i["title"] for i in last["ideas"]][:1] == ["Idea 100"]
    third = client.get(f"{url}?limit=100&offset=200").json()
    assert len(third["ideas"]) == 50 and "next" not in third and third["prev"].endswith("limit=100&offset=100")
    rejected = client.get(f"{url}?status=rejected&limit=20").json()
    assert rejected["count"] == 50 and {i["status"] for i in rejected["ideas"]} == {"rejected"}
    assert "status=rejected" in rejected["next"] and "limit=20" in rejected["next"]
    for bad in ("limit=0", "limit=1001", "limit=ten", "offset=-1", "offset=1e3", "status=maybe", "limit=%EF%BC%91"):
        r = client.get(f"{url}?{bad}")
        assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json"), bad
        assert r.json()["errors"]["field"] == bad.split("=")[0], r.text
    page = client.get(f"{url}?offset=100&lang=de", headers=HTML)
    assert page.status_code == 200 and "Ideen 101 bis 200 von 250" in page.text
    links = re.findall(r'<a href="([^"]+)" rel="(prev|next)"', page.text)
    assert [rel for _, rel in links] == ["prev", "next"] and all("lang=de" in href for href, _ in links)
    assert client.get(links[1][0].replace("&amp;", "&"), headers=HTML).text.count('<li id="idea-') == 50
