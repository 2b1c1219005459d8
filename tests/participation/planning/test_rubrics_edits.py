"""Rubrics (sub-categories of a project's categories), the stewards' view of what moderation hid (API and page,
with the reasons and a button to show it again) and authors editing their own contributions; the refusals of each
(another person, another organisation's steward, after the period, bad bodies) change nothing."""

from __future__ import annotations

import csv
import io
import re
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

HTML = {"Accept": "text/html"}
RUBRICS = {"Traffic": ["Cycling", "Parking"], "Green spaces": ["Trees"]}


def _problem(r: Any, status: int, field: str | None = None) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    if field is not None:
        assert r.json().get("field") == field or field in r.text, r.text


def _rows(platform: Any) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in platform.db.read_sync(lambda c: c.fetchall(
        "SELECT id, title, body, category, rubric, geometry, hidden, edited_at FROM participation_planning_contributions"
        " ORDER BY id"))]


@pytest.fixture
def city(client: Any) -> dict[str, Any]:
    org(client, "plan-rub")
    org(client, "plan-else")
    w = {"steward": token(client, "st-rub", "steward", "plan-rub"),
         "other_steward": token(client, "st-else", "steward", "plan-else"),
         "other_publisher": token(client, "pub-else", "publisher", "plan-else"),
         "anna": token(client, "anna-rub"), "ben": token(client, "ben-rub")}
    make_project(client, "rub", "plan-rub", w["steward"], rubrics=RUBRICS)
    return w


def test_rubrics_declared_checked_and_filtered(client: Any, platform: Any, city: dict[str, Any]) -> None:
    p = client.get(f"{PREFIX}/rub").json()
    assert p["rubrics"] == RUBRICS
    a = contribute(client, "rub", city["anna"], category="Traffic", rubric="Cycling", title="Lane")
    contribute(client, "rub", city["anna"], category="Traffic", rubric="Parking", title="Garage")
    contribute(client, "rub", city["ben"], category="Green spaces", title="Oaks </script>")
    assert a["rubric"] == "Cycling"
    before = _rows(platform)
    url = f"{PREFIX}/rub/contributions"
    base = {"title": "x", "text": "y", "geometry": INSIDE}
    for bad in ({"category": "Traffic", "rubric": "Trees"}, {"category": "Traffic", "rubric": "Nope"},
                {"category": "Traffic", "rubric": 5}, {"category": "Green spaces", "rubric": ["Trees"]}):
        r = client.post(url, json={**base, **bad}, headers=city["ben"])
        _problem(r, 400, "rubric")
        assert r.json()["code"] == "unknown_rubric"
    assert _rows(platform) == before
    # filters: list, API, GeoJSON, CSV and the page
    assert [k["id"] for k in client.get(url, params={"rubric": "Cycling"}).json()["contributions"]] == [a["id"]]
    assert client.get(url, params={"rubric": "Trees"}).json()["count"] == 0
    fc = client.get(f"{PREFIX}/rub/contributions.geojson", params={"rubric": "Parking"}).json()
    assert [f["properties"]["rubric"] for f in fc["features"]] == ["Parking"]
    rows = list(csv.DictReader(io.StringIO(client.get(f"{PREFIX}/rub/contributions.csv").text)))
    assert sorted(r["rubric"] for r in rows) == ["", "Cycling", "Parking"]
    page = client.get(f"{PREFIX}/rub", params={"rubric": "Parking", "lang": "de"}, headers=HTML).text
    assert "Garage" in page and "Lane" not in page and 'id="f-rubric"' in page and "Rubrik" in page
    assert '<span class="planning-rubric">Parking</span>' in page and "<script>alert" not in page
    # declaring rubrics: only of the project's categories; changing the categories drops the rubrics of the gone
    for rubrics in ({"Nope": ["x"]}, {"Traffic": ["a", "a"]}, {"Traffic": "Cycling"}, ["Traffic"],
                    {"Traffic": [""]}, {"Traffic": ["x" * 101]}):
        _problem(client.post(PREFIX, json=project_body("r2", "plan-rub", rubrics=rubrics), headers=ADMIN), 400,
                 "rubrics")
        _problem(client.patch(f"{PREFIX}/rub", json={"rubrics": rubrics}, headers=city["steward"]), 400, "rubrics")
    for hdr, status in ((city["other_steward"], 403), (city["anna"], 403), ({}, 401)):
        _problem(client.patch(f"{PREFIX}/rub", json={"rubrics": {}}, headers=hdr), status)
    assert client.get(f"{PREFIX}/rub").json()["rubrics"] == RUBRICS
    r = client.patch(f"{PREFIX}/rub", json={"categories": ["Traffic", "Other"]}, headers=city["steward"])
    assert r.status_code == 200 and r.json()["rubrics"] == {"Traffic": ["Cycling", "Parking"]}, r.text


def test_stewards_see_what_is_hidden_and_show_it_again(client: Any, city: dict[str, Any]) -> None:
    k = contribute(client, "rub", city["anna"], title="Rude words")
    keep = contribute(client, "rub", city["ben"], title="Kind words")
    c1 = client.post(f"{PREFIX}/rub/contributions/{keep['id']}/comments", json={"text": "Spam link"},
                     headers=city["anna"]).json()["id"]
    mod = f"{PREFIX}/rub/contributions"
    st = city["steward"]
    assert client.post(f"{mod}/{k['id']}/moderation", json={"reason": "Insulting"}, headers=st).status_code == 200
    assert client.post(f"{mod}/{keep['id']}/moderation", json={"comment": c1, "reason": "Advertising"},
                       headers=st).status_code == 200
    got = client.get(f"{PREFIX}/rub/hidden", headers=st).json()
    assert [(x["id"], x["hidden_reason"]) for x in got["contributions"]] == [(k["id"], "Insulting")]
    assert [(x["id"], x["contribution"], x["hidden_reason"]) for x in got["comments"]] == \
        [(c1, keep["id"], "Advertising")]
    one = client.get(f"{mod}/{k['id']}", headers=st).json()
    assert one["hidden"] is True and one["hidden_reason"] == "Insulting"
    thread = client.get(f"{mod}/{keep['id']}", headers=st).json()["thread"]
    assert thread[0]["hidden"] is True and thread[0]["hidden_reason"] == "Advertising"
    # nobody else: not another organisation's steward or publisher, not the author, not anonymous
    for who, status in (("other_steward", 403), ("other_publisher", 403), ("anna", 403)):
        _problem(client.get(f"{PREFIX}/rub/hidden", headers=city[who]), status)
        assert client.get(f"{mod}/{k['id']}", headers=city[who]).status_code == 404
        seen = client.get(f"{mod}/{keep['id']}", headers=city[who]).json()
        assert seen["thread"] == [] and "Advertising" not in str(seen)
        page = client.get(f"{PREFIX}/rub", headers={**HTML, **city[who]}).text
        assert "Rude words" not in page and "Insulting" not in page and 'id="hidden-items"' not in page
    _problem(client.get(f"{PREFIX}/rub/hidden"), 401)
    _problem(client.get(f"{PREFIX}/nowhere/hidden", headers=st), 404)
    # the stewards' page lists them with the reasons; its button shows one again
    page = client.get(f"{PREFIX}/rub", headers={**HTML, **st}).text
    assert 'id="hidden-items"' in page and "Reason: Insulting" in page and "Spam link" in page
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf is not None
    client.cookies.clear()
    cookie = {"Cookie": f"urbanos_planning_csrf={csrf.group(1)}"}
    unhide = f"{PREFIX}/rub/unhide"
    form = {"csrf": csrf.group(1), "contribution": str(k["id"])}
    assert client.post(unhide, data=form, headers=st).status_code == 403  # no CSRF cookie
    for who in ("other_steward", "anna"):
        assert client.post(unhide, data=form, headers={**cookie, **city[who]}).status_code == 403
    assert client.post(unhide, data=form, headers=cookie).status_code == 401
    for bad in ({"contribution": "x"}, {"contribution": ""}, {"comment": "1e3"}):
        assert client.post(unhide, data={**form, **bad}, headers={**cookie, **st}).status_code == 400
    assert client.post(unhide, data={**form, "contribution": "999"}, headers={**cookie, **st}).status_code == 404
    assert client.post(unhide, data={**form, "pad": "x" * 40_000}, headers={**cookie, **st}).status_code == 413
    assert client.post(f"{PREFIX}/nowhere/unhide", data=form, headers={**cookie, **st}).status_code == 404
    assert client.get(f"{PREFIX}/rub/hidden", headers=st).json()["contributions"] != []
    r = client.post(unhide, data=form, headers={**cookie, **st}, follow_redirects=False)
    assert r.status_code == 303 and "shown=1" in r.headers["location"]
    r = client.post(unhide, data={**form, "contribution": str(keep["id"]), "comment": str(c1)},
                    headers={**cookie, **st}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get(f"{PREFIX}/rub/hidden", headers=st).json() == {"contributions": [], "comments": []}
    assert client.get(f"{mod}/{k['id']}").status_code == 200
    assert client.get(f"{mod}/{keep['id']}").json()["comments"] == 1


def test_authors_edit_their_own_contributions(client: Any, platform: Any, city: dict[str, Any]) -> None:
    k = contribute(client, "rub", city["anna"], category="Traffic", rubric="Cycling")
    url = f"{PREFIX}/rub/contributions/{k['id']}"
    line = {"type": "LineString", "coordinates": [[9.990, 53.550], [9.995, 53.555]]}
    r = client.patch(url, json={"title": "Wider lane", "geometry": line}, headers=city["anna"])
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["title"] == "Wider lane" and got["geometry"]["type"] == "LineString" and got["rubric"] == "Cycling"
    assert got["edited_at"] and got["created_at"] == k["created_at"] and got["author"] == k["author"]
    # a new category without a rubric drops the old one (a rubric belongs to its category)
    r = client.patch(url, json={"category": "Green spaces"}, headers=city["anna"])
    assert r.status_code == 200 and r.json()["rubric"] is None, r.text
    assert client.patch(url, json={"rubric": "Trees"}, headers=city["anna"]).json()["rubric"] == "Trees"
    before = _rows(platform)
    # another person, another organisation's steward, the project's own steward: 403; anonymous: 401
    for who in ("ben", "other_steward", "steward"):
        _problem(client.patch(url, json={"title": "Mine now"}, headers=city[who]), 403)
    _problem(client.patch(url, json={"title": "Mine now"}), 401)
    # bad bodies
    for body, field in (({"title": ""}, "title"), ({"title": 5}, "title"), ({"text": "y" * 4001}, "text"),
                        ({"category": "Nope"}, "category"), ({"rubric": "Cycling"}, "rubric"),
                        ({"geometry": OUTSIDE}, "geometry"), ({"geometry": None}, "geometry"),
                        ({"author": "Contributor 9"}, "author"), ({}, "body"), ({"created_at": "x"}, "created_at")):
        _problem(client.patch(url, json=body, headers=city["anna"]), 400, field)
    _problem(client.patch(url, json=[1], headers=city["anna"]), 400)
    _problem(client.patch(url, content=b"{nope", headers={**city["anna"], "Content-Type": "application/json"}), 400)
    _problem(client.patch(url, content=b"{" + b" " * 70_000 + b"}",
                          headers={**city["anna"], "Content-Type": "application/json"}), 413)
    _problem(client.patch(f"{PREFIX}/rub/contributions/999", json={"title": "x"}, headers=city["anna"]), 404)
    _problem(client.patch(f"{PREFIX}/nowhere/contributions/1", json={"title": "x"}, headers=city["anna"]), 404)
    # hidden: not even its author changes it
    st = city["steward"]
    assert client.post(f"{url}/moderation", json={"reason": "x"}, headers=st).status_code == 200
    _problem(client.patch(url, json={"title": "Back"}, headers=city["anna"]), 404)
    assert client.post(f"{url}/moderation", json={"hidden": False}, headers=st).status_code == 200
    # after the period, or closed: 409
    assert client.patch(f"{PREFIX}/rub", json={"ends_at": "2021-01-01T00:00:00Z"}, headers=st).status_code == 200
    r = client.patch(url, json={"title": "Late"}, headers=city["anna"])
    _problem(r, 409)
    assert r.json()["code"] == "outside_period"
    assert client.patch(f"{PREFIX}/rub", json={"ends_at": "2099-01-01T00:00:00Z", "closed": True},
                        headers=st).status_code == 200
    _problem(client.patch(url, json={"title": "Late"}, headers=city["anna"]), 409)
    assert _rows(platform) == before
