"""Participatory budgets over HTTP: phases, ownership, one-time codes, secret and changeable ballots, bad input
(each a 4xx in problem+json that stores nothing), and the published results."""

from __future__ import annotations

from typing import Any

from tests.conftest import api_token
from tests.participation.budget.helpers import ADMIN, PREFIX, budget_in_vote, codes, org, steward, voter_key


def _ballots(platform: Any, budget_id: int) -> list[tuple[Any, ...]]:
    return platform.db.read_sync(lambda c: c.fetchall(
        "SELECT ballot_id, change_mac, choices FROM participation_budget_ballots WHERE budget_id = ? ORDER BY choices",
        (budget_id,)))


def test_a_budget_runs_from_ideas_to_published_results(client: Any, platform: Any) -> None:
    org(client, "bezirk-nord")
    h = steward(client, "bezirk-nord")
    b, ids = budget_in_vote(client, "nord", "bezirk-nord", h)
    assert b["phase"] == "vote" and "voter_key" not in b
    letters = codes(client, b["id"], h, 3)
    keys = [voter_key(client, b["id"], c) for c in letters]
    for key, choice in zip(keys, ([ids[0], ids[1]], [ids[0]], [ids[2], ids[3]]), strict=True):
        r = client.put(f"{PREFIX}/{b['id']}/ballot", json={"projects": choice}, headers={"X-Voter-Key": key})
        assert r.status_code == 200 and r.json()["status"] == "cast", r.text
    # a registered token votes too, and changes its ballot until the vote closes
    resident = {"Authorization": f"Bearer {api_token(client, 'resident', 'reader')}"}
    assert client.put(f"{PREFIX}/nord/ballot", json={"projects": [ids[3]]}, headers=resident).json()["status"] == "cast"
    r = client.put(f"{PREFIX}/nord/ballot", json={"projects": [ids[0], ids[3]]}, headers=resident)
    assert r.json()["status"] == "changed"
    r = client.put(f"{PREFIX}/nord/ballot", json={"projects": [ids[1]]}, headers={"X-Voter-Key": keys[1]})
    assert r.json()["status"] == "changed"
    stored = _ballots(platform, b["id"])
    assert len(stored) == 4 and all(row[1] for row in stored)
    assert client.get(f"{PREFIX}/nord/results").status_code == 404  # not before the vote closes
    r = client.patch(f"{PREFIX}/nord", json={"phase": "results"}, headers=h)
    assert r.status_code == 200, r.text
    stored = _ballots(platform, b["id"])
    assert len(stored) == 4 and all(row[1] is None for row in stored)  # unlinkable: the change HMACs are gone
    order = "ctid" if platform.db.dialect.name == "postgresql" else "rowid"
    physical = platform.db.read_sync(lambda c: [r[0] for r in c.fetchall(
        f"SELECT ballot_id FROM participation_budget_ballots WHERE budget_id = ? ORDER BY {order}", (b["id"],))])
    assert physical == sorted(physical)  # the order of casting is gone too
    assert platform.db.read_sync(lambda c: c.fetchval(
        "SELECT voter_key FROM participation_budget_budgets WHERE id = ?", (b["id"],))) is None
    res = client.get(f"{PREFIX}/nord/results").json()
    assert res["ballots"] == 4 and res["rule"] == "equal_shares"
    by_id = {p["id"]: p for p in res["projects"]}
    assert [by_id[i]["votes"] for i in ids] == [2, 2, 1, 2]
    assert all(by_id[i]["cost"] > 0 for i in ids) and res["spent"] <= 100_000
    assert res["funded"] and set(res["compare"]) == {"greedy", "knapsack"}
    # closed: no more ballots, even with a valid key
    r = client.put(f"{PREFIX}/nord/ballot", json={"projects": [ids[0]]}, headers={"X-Voter-Key": keys[0]})
    assert r.status_code == 409 and r.headers["content-type"].startswith("application/problem+json")


def test_only_stewards_of_the_owner_change_a_budget(client: Any) -> None:
    org(client, "bezirk-mitte")
    org(client, "bezirk-altona")
    h = steward(client, "bezirk-mitte")
    other = steward(client, "bezirk-altona")
    publisher = {"Authorization": f"Bearer {api_token(client, 'pub-mitte', 'publisher', 'bezirk-mitte')}"}
    body = {"name": "mitte", "title": "Mitte", "owner_org": "bezirk-mitte", "amount": 1000}
    assert client.post(PREFIX, json=body).status_code == 401
    assert client.post(PREFIX, json=body, headers=other).status_code == 403
    assert client.post(PREFIX, json=body, headers=publisher).status_code == 403
    assert client.post(PREFIX, json={**body, "owner_org": "nowhere"}, headers=ADMIN).status_code == 400
    assert client.post(PREFIX, json=body, headers=h).status_code == 201
    assert client.post(PREFIX, json=body, headers=h).status_code == 409
    for hdr in (other, publisher, {}):
        assert client.post(f"{PREFIX}/mitte/projects", json={"title": "x", "cost": 1}, headers=hdr).status_code in (
            401, 403)
        assert client.patch(f"{PREFIX}/mitte", json={"phase": "review"}, headers=hdr).status_code in (401, 403)
        assert client.post(f"{PREFIX}/mitte/codes", json={"count": 1}, headers=hdr).status_code in (401, 403)
    assert client.get(f"{PREFIX}/mitte").json()["projects"] == []
    assert client.patch(f"{PREFIX}/mitte", json={"phase": "vote"}, headers=h).status_code == 409  # skips review


def test_bad_ballots_are_refused_and_store_nothing(client: Any, platform: Any) -> None:
    org(client, "bezirk-wandsbek")
    h = steward(client, "bezirk-wandsbek")
    b, ids = budget_in_vote(client, "wandsbek", "bezirk-wandsbek", h, low=2, high=3)
    code = codes(client, b["id"], h, 2)
    key = voter_key(client, b["id"], code[0])
    url, vk = f"{PREFIX}/{b['id']}/ballot", {"X-Voter-Key": key}
    cases = [
        ({"projects": [ids[0]]}, vk, 400, "too_few"), ({"projects": ids}, vk, 400, "too_many"),
        ({"projects": [ids[0], 999999]}, vk, 400, "unknown_project"),
        ({"projects": [ids[0], ids[0]]}, vk, 400, "duplicate"), ({"projects": "1,2"}, vk, 400, None),
        ({"projects": [True, False]}, vk, 400, None), ({"nothing": 1}, vk, 400, None),
        ({"projects": [ids[0], ids[1]]}, {}, 401, None),
        ({"projects": [ids[0], ids[1]]}, {"X-Voter-Key": "vk_forged"}, 401, None),
    ]
    for body, headers, status, code_name in cases:
        r = client.put(url, json=body, headers=headers)
        assert r.status_code == status, (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        if code_name:
            assert r.json()["code"] == code_name
    assert client.put(url, content=b"{not json", headers={**vk, "Content-Type": "application/json"}).status_code == 400
    assert client.put(url, content=b"[1]", headers={**vk, "Content-Type": "text/plain"}).status_code == 415
    big = b'{"projects": [' + b"1," * 40000 + b"1]}"
    assert client.put(url, content=big, headers={**vk, "Content-Type": "application/json"}).status_code == 413
    assert client.put(f"{PREFIX}/no-such-budget/ballot", json={"projects": [1]}, headers=vk).status_code == 404
    # a code works once
    r = client.post(f"{PREFIX}/{b['id']}/verify", json={"code": code[0]})
    assert r.status_code == 403 and r.json()["code"] == "code_refused"
    assert client.post(f"{PREFIX}/{b['id']}/verify", json={"code": "AAAA-BBBB-CCCC"}).status_code == 403
    assert client.post(f"{PREFIX}/{b['id']}/verify", json={"code": 5}).status_code == 400
    assert _ballots(platform, b["id"]) == []
    # outside the vote phase
    org(client, "bezirk-harburg")
    h2 = steward(client, "bezirk-harburg")
    r = client.post(PREFIX, json={"name": "harburg", "title": "H", "owner_org": "bezirk-harburg", "amount": 5},
                    headers=h2)
    assert client.post(f"{PREFIX}/harburg/codes", json={"count": 1}, headers=h2).status_code == 201
    r = client.put(f"{PREFIX}/harburg/ballot", json={"projects": []},
                   headers={"Authorization": f"Bearer {api_token(client, 'res2', 'reader')}"})
    assert r.status_code == 409 and r.json()["code"] == "vote_not_open"
    for bad in ({"count": 0}, {"count": "5"}, {"count": 10**6}, [1]):
        assert client.post(f"{PREFIX}/harburg/codes", json=bad, headers=h2).status_code == 400


def test_codes_are_stored_hashed(client: Any, platform: Any) -> None:
    org(client, "bezirk-eimsbuettel")
    h = steward(client, "bezirk-eimsbuettel")
    b, _ = budget_in_vote(client, "eims", "bezirk-eimsbuettel", h)
    plain = codes(client, b["id"], h, 5)
    stored = platform.db.read_sync(lambda c: [r[0] for r in c.fetchall(
        "SELECT code_hash FROM participation_budget_codes WHERE budget_id = ?", (b["id"],))])
    assert len(stored) == 5 and not set(plain) & set(stored) and all(len(s) == 64 for s in stored)


def test_hostile_titles_stay_inert(client: Any) -> None:
    org(client, "bezirk-bergedorf")
    h = steward(client, "bezirk-bergedorf")
    r = client.post(PREFIX, json={"name": "berg", "title": "</script><script>alert(1)</script>",
                                  "owner_org": "bezirk-bergedorf", "amount": 10}, headers=h)
    assert r.status_code == 201
    page = client.get(f"{PREFIX}/berg", headers={"Accept": "text/html"}).text
    assert "<script>alert(1)" not in page and "&lt;/script&gt;" in page
