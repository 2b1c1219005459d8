"""The stewards' budget pages: create a budget, add and change projects, decide residents' ideas, the feasibility
review, the next phase after a confirmation, letter codes shown once, closing the vote; through forms carrying the
page's CSRF token with the portal's sign-in cookie. Another organisation's steward is refused and changes nothing;
refused forms list the problem and store nothing."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import api_token
from tests.participation.budget.helpers import PREFIX, org

HTML = {"Accept": "text/html"}


def _signed(client: Any, token: str, path: str) -> tuple[str, dict[str, str]]:
    """The CSRF token of the page at ``path`` and the headers that send it with the portal's sign-in cookie."""
    page = client.get(path, headers={**HTML, "Cookie": f"urbanos_portal_token={token}"})
    assert page.status_code == 200, page.text[:500]
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    client.cookies.clear()
    return found.group(1), {"Cookie": f"urbanos_portal_token={token}; urbanos_budget_csrf={found.group(1)}"}


def _state(platform: Any) -> tuple[Any, ...]:
    def read(c: Any) -> tuple[Any, ...]:
        return tuple(tuple(map(tuple, c.fetchall(sql))) for sql in (
            "SELECT id, name, phase, amount FROM participation_budget_budgets ORDER BY id",
            "SELECT id, title, cost, feasible, review_reason, idea_id FROM participation_budget_projects ORDER BY id",
            "SELECT id, status, reason, project_id FROM participation_budget_ideas ORDER BY id",
            "SELECT COUNT(*) FROM participation_budget_codes"))
    return platform.db.read_sync(read)  # type: ignore[no-any-return]


def test_a_steward_runs_a_budget_in_the_pages(client: Any, platform: Any) -> None:
    org(client, "bezirk-nord")
    org(client, "bezirk-sued")
    mine = api_token(client, "steward-nord", "steward", "bezirk-nord")
    theirs = api_token(client, "steward-sued", "steward", "bezirk-sued")
    resident = api_token(client, "resident", "reader")
    assert client.get(f"{PREFIX}/new", headers=HTML).status_code == 404  # not signed in
    csrf, h = _signed(client, mine, f"{PREFIX}/new?lang=de")
    form = {"csrf": csrf, "name": "nord-2027", "title": "Nord 2027", "owner_org": "bezirk-nord", "amount": "200 000",
            "currency": "EUR", "rule": "equal_shares", "min_choices": "1", "max_choices": "3"}
    refused = [({"amount": "viel"}, 400, "amount"), ({"name": "Nord 2027!"}, 400, "name"),
               ({"rule": "dice"}, 400, "rule"), ({"owner_org": "bezirk-sued"}, 403, None),
               ({"max_choices": "x"}, 400, "max_choices")]
    for change, status, text in refused:
        r = client.post(f"{PREFIX}/new", data={**form, **change}, headers=h)
        assert r.status_code == status and 'id="form-errors"' in r.text, (change, r.text[:300])
        assert text is None or text in r.text
        assert 'value="Nord 2027"' in r.text  # what was typed is kept
    assert client.post(f"{PREFIX}/new", data={**form, "csrf": "forged"}, headers=h).status_code == 403
    assert client.post(f"{PREFIX}/new", data=form, headers={"Cookie": f"urbanos_portal_token={mine}"}).status_code \
        == 403  # no CSRF cookie
    assert _state(platform)[0] == ()
    r = client.post(f"{PREFIX}/new", data=form, headers=h, follow_redirects=False)
    assert r.status_code == 303 and "/manage" in r.headers["location"], r.text[:300]
    b = client.get(f"{PREFIX}/nord-2027").json()
    assert b["amount"] == 200_000 and b["max_choices"] == 3 and b["phase"] == "ideas"
    manage = f"{PREFIX}/{b['id']}/manage"
    page = client.get(f"{manage}?lang=de", headers={**HTML, "Cookie": f"urbanos_portal_token={mine}"})
    assert page.status_code == 200 and "Projekt hinzufügen" in page.text
    csrf, h = _signed(client, mine, manage)
    # projects
    for title, cost in (("Benches", "12000"), ("Trees", "30 000"), ("Fountain", "90000")):
        r = client.post(f"{manage}/projects", data={"csrf": csrf, "title": title, "cost": cost}, headers=h,
                        follow_redirects=False)
        assert r.status_code == 303, r.text[:300]
    r = client.post(f"{manage}/projects", data={"csrf": csrf, "title": "", "cost": "5"}, headers=h)
    assert r.status_code == 400 and 'id="form-errors"' in r.text
    r = client.post(f"{manage}/projects", data={"csrf": csrf, "title": "Big", "cost": "5", "description": "y" * 9000},
                    headers=h)
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")
    assert client.post(f"{manage}/projects", data={"csrf": csrf, "title": "Benches", "cost": "1"}).status_code == 404
    ids = [p["id"] for p in client.get(f"{PREFIX}/{b['id']}").json()["projects"]]
    r = client.post(f"{manage}/projects/{ids[0]}", data={"csrf": csrf, "title": "Canal benches", "cost": "14000",
                                                         "description": "Six."}, headers=h, follow_redirects=False)
    assert r.status_code == 303
    # a resident's idea, decided in the review phase
    rh = {"Authorization": f"Bearer {resident}"}
    idea = client.post(f"{PREFIX}/{b['id']}/ideas", json={"title": "Bike racks", "description": "At the U-Bahn.",
                                                          "cost": 8000}, headers=rh).json()
    idea2 = client.post(f"{PREFIX}/{b['id']}/ideas", json={"title": "Moon base", "description": "Up.", "cost": 9},
                        headers=rh).json()
    confirm = client.get(f"{manage}/phase?lang=en", headers={**HTML, "Cookie": f"urbanos_portal_token={mine}"})
    assert confirm.status_code == 200 and "Feasibility review" in confirm.text
    assert client.post(f"{manage}/phase", data={"csrf": csrf, "phase": "vote"}, headers=h).status_code == 409
    assert client.post(f"{manage}/phase", data={"csrf": csrf, "phase": "review"}, headers=h,
                       follow_redirects=False).status_code == 303
    page = client.get(manage, headers={**HTML, "Cookie": f"urbanos_portal_token={mine}"}).text
    assert f'id="decide-{idea["id"]}"' in page and "Bike racks" in page
    r = client.post(f"{manage}/ideas/{idea['id']}", data={"csrf": csrf, "status": "accepted", "cost": "9500"},
                    headers=h, follow_redirects=False)
    assert r.status_code == 303, r.text[:300]
    r = client.post(f"{manage}/ideas/{idea2['id']}", data={"csrf": csrf, "status": "rejected", "reason": ""},
                    headers=h)
    assert r.status_code == 400 and 'id="form-errors"' in r.text
    assert client.post(f"{manage}/ideas/{idea2['id']}", data={"csrf": csrf, "status": "rejected",
                                                              "reason": "Not in the city."}, headers=h,
                       follow_redirects=False).status_code == 303
    assert client.post(f"{manage}/ideas/999999", data={"csrf": csrf, "status": "rejected", "reason": "x"},
                       headers=h).status_code == 404
    # the feasibility review: drop the fountain with a reason, correct the trees' cost
    review = client.get(f"{manage}/projects/{ids[2]}", headers={**HTML, "Cookie": f"urbanos_portal_token={mine}"})
    assert review.status_code == 200 and 'id="p-drop"' in review.text
    r = client.post(f"{manage}/projects/{ids[2]}", data={"csrf": csrf, "title": "Fountain", "cost": "90000",
                                                         "feasible": "0", "reason": "No water main."}, headers=h,
                    follow_redirects=False)
    assert r.status_code == 303
    r = client.post(f"{manage}/projects/{ids[1]}", data={"csrf": csrf, "title": "Trees", "cost": "33000",
                                                         "feasible": "1", "reason": ""}, headers=h,
                    follow_redirects=False)
    assert r.status_code == 303
    r = client.post(f"{manage}/projects/{ids[1]}", data={"csrf": csrf, "title": "Trees", "cost": "-3",
                                                         "feasible": "maybe"}, headers=h)
    assert r.status_code == 400 and 'value="Trees"' in r.text
    listed = {p["title"]: p for p in client.get(f"{PREFIX}/{b['id']}").json()["projects"]}
    assert listed["Fountain"]["feasible"] is False and listed["Fountain"]["review_reason"] == "No water main."
    assert listed["Trees"]["cost"] == 33_000 and listed["Canal benches"]["cost"] == 14_000
    assert listed["Bike racks"]["cost"] == 9500 and listed["Bike racks"]["idea_id"] == idea["id"]
    # another organisation's steward: refused everywhere, nothing changed
    before = _state(platform)
    other_csrf, other = _signed(client, theirs, f"{PREFIX}/new")
    theirs_cookie = {**HTML, "Cookie": f"urbanos_portal_token={theirs}"}
    assert client.get(manage, headers=theirs_cookie).status_code == 403
    assert client.get(f"{manage}/projects/{ids[0]}", headers=theirs_cookie).status_code == 403
    assert client.get(f"{manage}/phase", headers=theirs_cookie).status_code == 403
    attacks = [(f"{manage}/projects", {"title": "Mine", "cost": "1"}),
               (f"{manage}/projects/{ids[0]}", {"title": "Mine", "cost": "1", "feasible": "0", "reason": "x"}),
               (f"{manage}/ideas/{idea2['id']}", {"status": "accepted", "cost": "1"}),
               (f"{manage}/phase", {"phase": "vote"}), (f"{manage}/codes", {"count": "5"})]
    for path, data in attacks:
        assert client.post(path, data={**data, "csrf": other_csrf}, headers=other).status_code == 403, path
    assert _state(platform) == before
    # the vote: letter codes shown once on a printable page, then the vote is closed
    assert client.post(f"{manage}/phase", data={"csrf": csrf, "phase": "vote"}, headers=h,
                       follow_redirects=False).status_code == 303
    for bad in ("0", "many", "100001"):
        r = client.post(f"{manage}/codes", data={"csrf": csrf, "count": bad}, headers=h)
        assert r.status_code == 400 and 'id="form-errors"' in r.text
    r = client.post(f"{manage}/codes", data={"csrf": csrf, "count": "3"}, headers=h)
    assert r.status_code == 201 and r.headers["cache-control"] == "private, no-store"
    codes = re.findall(r"<code>([A-Z0-9-]{14})</code>", r.text)
    assert len(codes) == 3 and 'id="print-codes"' in r.text
    vk = client.post(f"{PREFIX}/{b['id']}/verify", json={"code": codes[0]}).json()["voter_key"]
    assert client.put(f"{PREFIX}/{b['id']}/ballot", json={"projects": [ids[0], ids[1]]},
                      headers={"X-Voter-Key": vk}).status_code == 200
    confirm = client.get(f"{manage}/phase", headers={**HTML, "Cookie": f"urbanos_portal_token={mine}"})
    assert "The vote closes for good" in confirm.text
    r = client.post(f"{manage}/phase", data={"csrf": csrf, "phase": "results"}, headers=h, follow_redirects=False)
    assert r.status_code == 303
    assert client.get(f"{PREFIX}/{b['id']}/results").json()["ballots"] == 1
    assert client.get(f"{manage}/phase", headers={**HTML, "Cookie": f"urbanos_portal_token={mine}"}).status_code \
        == 404
    assert client.get(f"{PREFIX}/nowhere/manage", headers={**HTML, "Cookie": f"urbanos_portal_token={mine}"}) \
        .status_code == 404
