"""Impact assessments: person-related marks, the workflow draft → submitted → approved/rejected by a steward of the
data-protection organisation, the write checks that wait for the approval (a dataset made open, Observations of a
person-related ObservedProperty) naming the missing approval, and bad input."""

from __future__ import annotations

from typing import Any

import pytest

from tests.privacy.conftest import ADMIN_H, entries
from urbanos.governance.tokens import create_token
from urbanos.privacy.dpia.model import REQUIRED

FULL = {k: f"The {k.replace('_', ' ')} of the processing." for k in REQUIRED}


@pytest.fixture
def settings(make_settings: Any) -> Any:
    return make_settings(privacy_dpo_org="dpo")


@pytest.fixture
def dpo(platform: Any) -> dict[str, str]:
    secret = platform.db.write_sync(lambda c: create_token(c, "steward", "dpo", "data protection officer"))
    return {"Authorization": f"Bearer {secret}"}


def _open(client: Any, headers: dict[str, str]) -> Any:
    return client.post("/api/3/action/package_patch", json={"id": "org-a-private", "access_level": "open"},
                       headers=headers)


def test_a_person_related_dataset_opens_only_after_approval(client: Any, orgs: dict[str, Any], dpo: dict[str, str]) -> None:
    h = orgs["h"]
    r = client.put("/privacy/person-related", json={"kind": "dataset", "target": "org-a-private", "person_related": True},
                   headers=h["steward-a"])
    assert r.status_code == 200 and r.json()["assessment"] is None, r.text
    r = _open(client, h["publisher-a"])
    assert r.status_code == 403 and r.json()["success"] is False
    assert "impact assessment" in r.text and "no assessment exists yet" in r.text

    r = client.post("/privacy/dpias", json={"kind": "dataset", "target": "org-a-private",
                                            "sections": {"description": "Wi-Fi presence counts."}}, headers=h["steward-a"])
    assert r.status_code == 201, r.text
    dpia = r.json()["id"]
    assert r.json()["state"] == "draft" and r.headers["location"] == f"/privacy/dpias/{dpia}"
    r = client.post(f"/privacy/dpias/{dpia}/submit", headers=h["steward-a"])
    assert r.status_code == 400 and "personal_data" in r.text  # the required sections are missing
    assert client.patch(f"/privacy/dpias/{dpia}", json={"sections": FULL}, headers=h["steward-a"]).json()["version"] == 2
    assert client.post(f"/privacy/dpias/{dpia}/submit", headers=h["steward-a"]).json()["state"] == "submitted"
    assert "'submitted'" in _open(client, h["publisher-a"]).text
    assert client.patch(f"/privacy/dpias/{dpia}", json={"sections": FULL}, headers=h["steward-a"]).status_code == 409
    # only the data-protection organisation decides
    assert client.post(f"/privacy/dpias/{dpia}/approve", headers=h["steward-a"]).status_code == 403
    assert client.post(f"/privacy/dpias/{dpia}/approve", headers=h["steward-b"]).status_code == 404  # hidden draft
    r = client.post(f"/privacy/dpias/{dpia}/reject", json={"note": "Name the legal basis precisely."}, headers=dpo)
    assert r.status_code == 200 and r.json()["state"] == "rejected" and r.json()["decision_note"].startswith("Name")
    assert "'rejected'" in _open(client, h["publisher-a"]).text
    assert client.post(f"/privacy/dpias/{dpia}/submit", headers=h["steward-a"]).json()["state"] == "submitted"
    assert client.get(f"/privacy/dpias/{dpia}").status_code == 404  # not public before approval
    r = client.post(f"/privacy/dpias/{dpia}/approve", headers=dpo)
    assert r.status_code == 200 and r.json()["state"] == "approved"
    assert client.post(f"/privacy/dpias/{dpia}/approve", headers=dpo).status_code == 409
    assert client.get(f"/privacy/dpias/{dpia}").json()["sections"]["risks"].startswith("The risks")
    assert _open(client, h["publisher-a"]).status_code == 200
    actions = [e["action"] for e in entries(client, dataset="org-a-private")]
    assert {"dpia.marked", "dpia.created", "dpia.submit", "dpia.reject", "dpia.approve"} <= set(actions)


def test_a_person_related_observed_property_receives_no_observations(client: Any, world: dict[str, Any],
                                                                     dpo: dict[str, str], sta: Any) -> None:
    stream = world["stream"]
    op = client.get(f"/sta/v1.1/Datastreams({stream})/ObservedProperty", headers=ADMIN_H).json()["@iot.id"]
    r = client.put("/privacy/person-related", json={"kind": "observed_property", "target": op, "person_related": True},
                   headers=world["h"]["steward-b"])
    assert r.status_code == 404  # org-a's, of a dataset org-b may not read: answered as one that does not exist
    r = client.put("/privacy/person-related", json={"kind": "observed_property", "target": str(op),
                                                    "person_related": True}, headers=world["h"]["steward-a"])
    assert r.status_code == 200 and r.json()["organization"] == "org-a", r.text
    body = {"result": 1, "Datastream": {"@iot.id": stream}}
    r = client.post("/sta/v1.1/Observations", json=body, headers=ADMIN_H)
    assert r.status_code == 403 and f"ObservedProperty {op}" in r.text and "impact assessment" in r.text
    arr = [{"Datastream": {"@iot.id": stream}, "components": ["result"], "dataArray": [[1]]}]
    assert client.post("/sta/v1.1/CreateObservations", json=arr, headers=ADMIN_H).status_code == 403
    r = client.post("/privacy/dpias", json={"kind": "observed_property", "target": op, "sections": FULL},
                    headers=world["h"]["steward-a"])
    dpia = r.json()["id"]
    client.post(f"/privacy/dpias/{dpia}/submit", headers=world["h"]["steward-a"])
    assert client.post("/sta/v1.1/Observations", json=body, headers=ADMIN_H).status_code == 403
    assert client.post(f"/privacy/dpias/{dpia}/approve", headers=dpo).json()["state"] == "approved"
    assert client.post("/sta/v1.1/Observations", json=body, headers=ADMIN_H).status_code == 201
    assert client.post("/sta/v1.1/CreateObservations", json=arr, headers=ADMIN_H).status_code == 201
    marks = client.get("/privacy/person-related", headers=world["h"]["steward-a"]).json()["person_related"]
    assert [(m["kind"], m["ref"]) for m in marks] == [("observed_property", str(op))]
    # an ObservedProperty of internal data only: not listed to a caller that may not read it
    assert client.get("/privacy/person-related").json()["person_related"] == []


def test_bad_input_changes_nothing(client: Any, orgs: dict[str, Any], dpo: dict[str, str]) -> None:
    h = orgs["h"]
    js = {**h["steward-a"], "Content-Type": "application/json"}
    for body in (b"{", b"[]", b"", b'{"kind": "dataset"}', b'{"kind": "person", "target": "open-data", "person_related": true}',
                 b'{"kind": "dataset", "target": "open-data", "person_related": "yes"}',
                 b'{"kind": "dataset", "target": "open-data", "person_related": true, "x": 1}'):
        assert client.put("/privacy/person-related", content=body, headers=js).status_code == 400, body
    mark = {"kind": "dataset", "target": "open-data", "person_related": True}
    assert client.put("/privacy/person-related", json={**mark, "target": "nope"}, headers=js).status_code == 404
    assert client.put("/privacy/person-related", json={**mark, "kind": "observed_property", "target": 99999},
                      headers=ADMIN_H).status_code == 404
    assert client.put("/privacy/person-related", json={**mark, "kind": "observed_property", "target": [1]},
                      headers=ADMIN_H).status_code == 404
    assert client.put("/privacy/person-related", json=mark, headers=h["steward-b"]).status_code == 403
    assert client.put("/privacy/person-related", json=mark, headers=h["publisher-a"]).status_code == 403
    assert client.put("/privacy/person-related", json=mark).status_code == 401
    assert client.put("/privacy/person-related", json={**mark, "target": "org-b-private"}, headers=js).status_code == 404
    for body in (b"{", b'{"kind": "dataset", "target": "open-data", "sections": []}',
                 b'{"kind": "dataset", "target": "open-data", "sections": {"summary": "x"}}',
                 b'{"kind": "dataset", "target": "open-data", "sections": {"risks": 5}}'):
        assert client.post("/privacy/dpias", content=body, headers=js).status_code == 400, body
    huge = b'{"kind": "dataset", "target": "open-data", "sections": {"risks": "' + b"x" * (11 * 1024 * 1024) + b'"}}'
    assert client.post("/privacy/dpias", content=huge, headers=js).status_code == 413
    too_long = {"kind": "dataset", "target": "open-data", "sections": {"risks": "x" * 20001}}
    assert client.post("/privacy/dpias", json=too_long, headers=js).status_code == 400
    assert client.post("/privacy/dpias", json={"kind": "dataset", "target": "open-data"}, headers=h["steward-b"]).status_code == 403
    assert client.post("/privacy/dpias", json={"kind": "dataset", "target": "open-data"}).status_code == 401
    assert client.get("/privacy/dpias/99999").status_code == 404 and client.get("/privacy/dpias/abc").status_code == 404
    assert client.get("/privacy/dpias/" + "9" * 30).status_code == 404
    dpia = client.post("/privacy/dpias", json={"kind": "dataset", "target": "open-data"}, headers=js).json()["id"]
    assert client.post(f"/privacy/dpias/{dpia}/publish", headers=js).status_code == 404
    assert client.post(f"/privacy/dpias/{dpia}/approve", headers=dpo).status_code == 409  # a draft
    assert client.post(f"/privacy/dpias/{dpia}/approve").status_code == 401
    assert client.post(f"/privacy/dpias/{dpia}/submit", content=b"{", headers=js).status_code == 400
    assert client.patch(f"/privacy/dpias/{dpia}", json={"sections": FULL}, headers=h["steward-b"]).status_code == 404
    assert client.patch(f"/privacy/dpias/{dpia}", json={"state": "approved"}, headers=js).status_code == 400
    assert client.get(f"/privacy/dpias/{dpia}", headers=js).json()["state"] == "draft"
    assert client.get("/privacy/dpias").json()["assessments"] == []  # drafts are not public
    assert client.get("/privacy/person-related").json()["person_related"] == []


def test_the_list_of_marks_shows_only_what_the_caller_may_see(client: Any, orgs: dict[str, Any]) -> None:
    """A mark on a dataset the caller may not read is left out of ``GET /privacy/person-related``, as the mark's own
    write answers it (404, as a dataset that does not exist): the list named and titled another organisation's
    internal or confidential dataset to anyone, anonymous callers included."""
    h = orgs["h"]
    for target in ("org-a-private", "open-data"):
        r = client.put("/privacy/person-related", json={"kind": "dataset", "target": target, "person_related": True},
                       headers=h["steward-a"])
        assert r.status_code == 200, r.text

    def listed(headers: dict[str, str]) -> list[str]:
        r = client.get("/privacy/person-related", headers=headers)
        assert r.status_code == 200, r.text
        return [m["ref"] for m in r.json()["person_related"]]

    assert listed({}) == ["open-data"]
    assert listed(h["steward-b"]) == listed(h["publisher-b"]) == ["open-data"]
    assert "Private data of org-a" not in client.get("/privacy/person-related", headers=h["steward-b"]).text
    assert sorted(listed(h["reader-a"])) == sorted(listed(h["steward-a"])) == ["open-data", "org-a-private"]
    assert sorted(listed(ADMIN_H)) == ["open-data", "org-a-private"]
    r = client.post("/api/3/action/package_patch", json={"id": "org-a-private", "access_level": "confidential"},
                    headers=ADMIN_H)
    assert r.status_code == 200, r.text
    assert listed(h["reader-a"]) == ["open-data"]  # confidential: not the organisation's readers
    assert sorted(listed(h["steward-a"])) == ["open-data", "org-a-private"]  # its stewards set the marks
