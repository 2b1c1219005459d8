"""A project's ``boundaries`` names the feature collection of its heat map: a steward may link only a collection it
may read. A collection of another organisation's confidential dataset is answered exactly as one that does not
exist (the field named, nothing stored), so the answer tells nothing about it."""

from __future__ import annotations

from typing import Any

from tests.participation.planning.helpers import ADMIN, PREFIX, make_project, org, project_body, token


def test_boundaries_must_be_a_collection_the_steward_may_read(client: Any, platform: Any, fx: Any) -> None:
    org(client, "plan-a")
    org(client, "plan-b")
    hidden = fx.add_dataset(platform, "a-confidential-districts", "confidential", "plan-a")
    fx.add_points(platform, "a-secret-areas", hidden)
    fx.add_points(platform, "city-districts", fx.add_dataset(platform, "city-districts", "open", "plan-a"))
    steward_b = token(client, "st-plan-b", "steward", "plan-b")

    def refused(r: Any) -> None:
        assert r.status_code == 400, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"] == "unknown_boundaries" and "boundaries" in r.json()["detail"], r.text

    hidden_answer = client.post(PREFIX, json=project_body("b-plan", "plan-b", boundaries="a-secret-areas"),
                                headers=steward_b)
    missing_answer = client.post(PREFIX, json=project_body("b-plan", "plan-b", boundaries="no-such-areas"),
                                 headers=steward_b)
    refused(hidden_answer)
    refused(missing_answer)
    assert hidden_answer.json()["detail"].replace("a-secret-areas", "X") == \
        missing_answer.json()["detail"].replace("no-such-areas", "X")
    assert client.get(f"{PREFIX}/b-plan").status_code == 404  # nothing stored
    make_project(client, "b-plan", "plan-b", steward_b, boundaries="city-districts")  # an open collection: taken
    r = client.patch(f"{PREFIX}/b-plan", json={"boundaries": "a-secret-areas"}, headers=steward_b)
    refused(r)
    assert client.get(f"{PREFIX}/b-plan").json()["boundaries"] == "city-districts"
    r = client.patch(f"{PREFIX}/b-plan", json={"boundaries": ""}, headers=steward_b)  # none: allowed
    assert r.status_code == 200 and r.json()["boundaries"] is None, r.text
    # the admin (who may read it) links it; a later change of other fields by the steward keeps it
    r = client.patch(f"{PREFIX}/b-plan", json={"boundaries": "a-secret-areas"}, headers=ADMIN)
    assert r.status_code == 200, r.text
    r = client.patch(f"{PREFIX}/b-plan", json={"title": "B plan", "boundaries": "a-secret-areas"}, headers=steward_b)
    assert r.status_code == 200, r.text
