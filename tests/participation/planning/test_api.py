"""Planning projects over HTTP: stewards own projects, anyone signed in contributes inside the area and period,
comments thread, ratings replace, moderation hides from every public path (and is audited), authors appear only
as per-project labels, and the exports carry no personal data."""

from __future__ import annotations

import csv
import io
from typing import Any

from tests.participation.planning.helpers import (
    ADMIN,
    INSIDE,
    PREFIX,
    contribute,
    make_project,
    org,
    project_body,
    token,
)


def test_stewards_own_projects(client: Any) -> None:
    org(client, "plan-mitte")
    org(client, "plan-altona")
    h = token(client, "st-mitte", "steward", "plan-mitte")
    other = token(client, "st-altona", "steward", "plan-altona")
    publisher = token(client, "pub-mitte", "publisher", "plan-mitte")
    body = project_body("mitte", "plan-mitte")
    assert client.post(PREFIX, json=body).status_code == 401
    assert client.post(PREFIX, json=body, headers=other).status_code == 403
    assert client.post(PREFIX, json=body, headers=publisher).status_code == 403
    assert client.get(PREFIX).json()["projects"] == []
    p = make_project(client, "mitte", "plan-mitte", h)
    assert p["categories"] == ["Traffic", "Green spaces"] and "author_key" not in p and p["closed"] is False
    assert client.post(PREFIX, json=body, headers=ADMIN).status_code == 409
    for hdr, status in ((other, 403), (publisher, 403), ({}, 401)):
        assert client.patch(f"{PREFIX}/mitte", json={"closed": True}, headers=hdr).status_code == status
    assert client.get(f"{PREFIX}/mitte").json()["closed"] is False
    r = client.patch(f"{PREFIX}/mitte", json={"title": "Mitte 2030"}, headers=ADMIN)
    assert r.status_code == 200 and r.json()["title"] == "Mitte 2030"
    r = client.patch(f"{PREFIX}/mitte", json={"closed": True}, headers=h)
    assert r.status_code == 200 and r.json()["closed"] is True
    r = client.post(f"{PREFIX}/mitte/contributions", json={"title": "x", "text": "y", "category": "Traffic",
                                                           "geometry": INSIDE}, headers=h)
    assert r.status_code == 409 and r.json()["code"] == "project_closed"


def test_contribute_comment_rate_and_moderate(client: Any, platform: Any) -> None:
    org(client, "plan-nord")
    org(client, "plan-sued")
    h = token(client, "st-nord", "steward", "plan-nord")
    other = token(client, "st-sued", "steward", "plan-sued")
    anna, ben = token(client, "anna"), token(client, "ben", "publisher", "plan-sued")
    make_project(client, "nord", "plan-nord", h)
    a1 = contribute(client, "nord", anna, text="=HYPERLINK(\"http://evil\") </script>")
    line = {"type": "LineString", "coordinates": [[9.990, 53.550], [9.995, 53.555]]}
    b1 = contribute(client, "nord", ben, title="Cycle lane", category="Traffic", geometry=line)
    a2 = contribute(client, "nord", anna, title="Trees")
    assert a1["author"] == a2["author"] == "Contributor 1" and b1["author"] == "Contributor 2"
    # comments thread; ratings: one per token, a second replaces the first
    c1 = client.post(f"{PREFIX}/nord/contributions/{a1['id']}/comments", json={"text": "Yes!"}, headers=ben)
    assert c1.status_code == 201 and c1.json()["author"] == "Contributor 2"
    c2 = client.post(f"{PREFIX}/nord/contributions/{a1['id']}/comments", json={"text": "Thanks", "parent":
                                                                                c1.json()["id"]}, headers=anna)
    assert c2.status_code == 201
    assert client.put(f"{PREFIX}/nord/contributions/{a1['id']}/rating", json={"value": 1},
                      headers=ben).json()["status"] == "rated"
    r = client.put(f"{PREFIX}/nord/contributions/{a1['id']}/rating", json={"value": -1}, headers=ben)
    assert r.json() == {"status": "replaced", "value": -1, "rating": {"up": 0, "down": 1, "score": -1}}
    client.put(f"{PREFIX}/nord/contributions/{a1['id']}/rating", json={"value": 1}, headers=h)
    one = client.get(f"{PREFIX}/nord/contributions/{a1['id']}").json()
    assert one["rating"] == {"up": 1, "down": 1, "score": 0} and one["comments"] == 2
    assert one["thread"][0]["text"] == "Yes!" and one["thread"][0]["replies"][0]["author"] == "Contributor 1"
    # filters
    assert [k["id"] for k in client.get(f"{PREFIX}/nord/contributions?category=Traffic").json()["contributions"]] \
        == [b1["id"]]
    got = client.get(f"{PREFIX}/nord/contributions?bbox=9.992,53.552,9.994,53.554").json()["contributions"]
    assert sorted(k["id"] for k in got) == sorted([a1["id"], b1["id"], a2["id"]])
    assert client.get(f"{PREFIX}/nord/contributions?bbox=9.0,53.0,9.1,53.1").json()["count"] == 0
    assert client.get(f"{PREFIX}/nord/contributions?bbox=1,2,x").status_code == 400
    # exports: labels only, formula cells neutralised
    csv_text = client.get(f"{PREFIX}/nord/contributions.csv").text
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert len(rows) == 3 and rows[-1]["text"].startswith("'=HYPERLINK")
    fc = client.get(f"{PREFIX}/nord/contributions.geojson")
    assert fc.headers["content-type"].startswith("application/geo+json") and len(fc.json()["features"]) == 3
    for text in (csv_text, fc.text, client.get(f"{PREFIX}/nord/contributions").text):
        assert "anna" not in text and "token:" not in text and "ben" not in text.lower().replace("benches", "")
    # moderation: the other organisation's steward and a contributor are refused
    for hdr, status in ((other, 403), (anna, 403), ({}, 401)):
        r = client.post(f"{PREFIX}/nord/contributions/{a1['id']}/moderation", json={"reason": "spam"}, headers=hdr)
        assert r.status_code == status
    assert client.post(f"{PREFIX}/nord/contributions/{a1['id']}/moderation", json={}, headers=h).status_code == 400
    r = client.post(f"{PREFIX}/nord/contributions/{a1['id']}/moderation",
                    json={"comment": c1.json()["id"], "reason": "Off topic"}, headers=h)
    assert r.status_code == 200
    assert client.get(f"{PREFIX}/nord/contributions/{a1['id']}").json()["thread"] == []  # the reply goes with it
    r = client.post(f"{PREFIX}/nord/contributions/{a1['id']}/moderation", json={"reason": "Insulting"}, headers=h)
    assert r.status_code == 200 and r.json()["hidden"] is True
    assert client.get(f"{PREFIX}/nord/contributions/{a1['id']}").status_code == 404
    for path in ("contributions", "contributions.geojson", "contributions.csv"):
        assert "HYPERLINK" not in client.get(f"{PREFIX}/nord/{path}").text
    assert client.get(f"{PREFIX}/nord", headers={"Accept": "text/html"}).text.count("HYPERLINK") == 0
    assert client.put(f"{PREFIX}/nord/contributions/{a1['id']}/rating", json={"value": 1},
                      headers=anna).status_code == 404
    from urbanos.ports import AuditPort

    platform.require(AuditPort).flush_sync()
    r = client.get("/audit", headers=ADMIN, params={"action": "planning.hidden"})
    assert r.status_code == 200 and "Insulting" in r.text and "Off topic" in r.text, r.text
