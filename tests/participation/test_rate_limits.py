"""Rate limits on what residents send, beyond Open311's API (tested in test_open311_staff/forms): planning
contributions, comments and ratings, budget ballots and letter codes, per token (or voter key) and per client
address; 429 with Retry-After as problem+json for the JSON APIs, a readable page for the forms; nothing stored."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.participation.budget import helpers as budget
from tests.participation.o311 import setup_city
from tests.participation.planning.helpers import INSIDE, PREFIX, contribute, make_project, org, token

HTML = {"Accept": "text/html"}


@pytest.fixture
def limited(make_settings: Any) -> Iterator[Any]:
    """An app allowing 3 posts a minute per token and 5 per client address."""
    from starlette.testclient import TestClient

    from urbanos.web.app import create_app

    settings = make_settings(participation_posts_per_minute=3, participation_posts_per_minute_per_address=5)
    with TestClient(create_app(settings)) as c:
        yield c


def _count(c: Any, table: str) -> int:
    platform = c.app.state.platform
    return int(platform.db.read_sync(lambda conn: conn.fetchval(f"SELECT COUNT(*) FROM {table}")))  # nosec B608


def _is_429(r: Any) -> None:
    assert r.status_code == 429, r.text
    assert int(r.headers["retry-after"]) >= 1
    assert r.headers["content-type"].startswith("application/problem+json") and r.json()["status"] == 429


def test_planning_posts_are_limited_per_token_and_per_address(limited: Any) -> None:
    c = limited
    org(c, "plan-org")
    make_project(c, "limits", "plan-org", token(c, "st", "steward", "plan-org"))
    alice, bob = token(c, "alice"), token(c, "bob")
    first = contribute(c, "limits", alice)
    base = f"{PREFIX}/limits/contributions"
    assert c.post(f"{base}/{first['id']}/comments", json={"text": "Yes"}, headers=alice).status_code == 201
    assert c.put(f"{base}/{first['id']}/rating", json={"value": 1}, headers=alice).status_code == 200
    before = (_count(c, "participation_planning_contributions"), _count(c, "participation_planning_comments"))
    body = {"title": "More", "text": "Again", "category": "Traffic", "geometry": INSIDE}
    _is_429(c.post(base, json=body, headers=alice))  # alice's fourth post in a minute
    _is_429(c.post(f"{base}/{first['id']}/comments", json={"text": "Again"}, headers=alice))
    for _ in range(2):  # another token has a budget of its own; refused posts were not counted
        assert c.post(base, json=body, headers=bob).status_code == 201
    _is_429(c.post(base, json=body, headers=bob))  # ... but the address has sent 5
    after = (_count(c, "participation_planning_contributions"), _count(c, "participation_planning_comments"))
    assert after == (before[0] + 2, before[1])


def test_the_contribute_form_answers_a_readable_page(limited: Any) -> None:
    c = limited
    org(c, "plan-form")
    make_project(c, "formlimits", "plan-form", token(c, "st", "steward", "plan-form"))
    resident = token(c, "resident")
    for _ in range(3):
        contribute(c, "formlimits", resident)
    page = c.get(f"{PREFIX}/formlimits?lang=de", headers={**HTML, **resident})
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    c.cookies.clear()
    form = {"title": "Bench", "text": "Here", "category": "Traffic", "lat": "53.553", "lon": "9.993",
            "csrf": csrf.group(1)}
    before = _count(c, "participation_planning_contributions")
    r = c.post(f"{PREFIX}/formlimits/contribute?lang=de", data=form,
               headers={**resident, "Cookie": f"urbanos_planning_csrf={csrf.group(1)}"})
    assert r.status_code == 429 and r.headers["retry-after"] and r.headers["content-type"].startswith("text/html")
    assert 'id="too-many"' in r.text and "Bitte warten Sie" in r.text and 'lang="de"' in r.text
    assert _count(c, "participation_planning_contributions") == before


def test_ballots_and_codes_are_limited(limited: Any) -> None:
    c = limited
    budget.org(c, "bezirk")
    h = budget.steward(c, "bezirk")
    b, ids = budget.budget_in_vote(c, "limits", "bezirk", h)
    letters = budget.codes(c, b["id"], h, 6)
    key = budget.voter_key(c, b["id"], letters[0])
    url = f"{budget.PREFIX}/{b['id']}/ballot"
    for choice in ([ids[0]], [ids[1]], [ids[2]]):
        assert c.put(url, json={"projects": choice}, headers={"X-Voter-Key": key}).status_code == 200
    _is_429(c.put(url, json={"projects": [ids[3]]}, headers={"X-Voter-Key": key}))
    # letter codes are counted per address (one verify and three ballots so far): the fifth post passes, no more
    assert c.post(f"{budget.PREFIX}/{b['id']}/verify", json={"code": letters[1]}).status_code == 201
    _is_429(c.post(f"{budget.PREFIX}/{b['id']}/verify", json={"code": letters[2]}))
    platform = c.app.state.platform
    stored = platform.db.read_sync(lambda conn: conn.fetchval(
        "SELECT COUNT(*) FROM participation_budget_codes WHERE used = 0"))
    assert stored == 4  # the refused code stays unused
    r = c.post(url, data={"credential": letters[3], "project": [str(ids[0])]}, headers=HTML)
    assert r.status_code == 429 and 'id="too-many"' in r.text and r.headers["retry-after"]


def test_the_report_form_answers_a_readable_page(limited: Any) -> None:
    c = limited
    setup_city(c)
    page = c.get("/participation/report")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    form = {"csrf": csrf.group(1), "service_code": "pothole", "lat": "53.55", "long": "9.99",
            "attribute[size]": "small", "description": "Hole"}
    codes = [c.post("/participation/report", data=form, follow_redirects=False).status_code for _ in range(6)]
    assert codes[:5] == [303] * 5 and codes[5] == 429
    r = c.post("/participation/report", data=form)
    assert r.status_code == 429 and "Please wait" in r.text and r.headers["retry-after"]
    assert _count(c, "participation_requests") == 5
