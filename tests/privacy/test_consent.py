"""The consent register: default deny, grants by a citizen or a steward acting for one, Kantara receipts (one's own
only), revocation on every read path at once, consent-based datasets declared by stewards, and bad input."""

from __future__ import annotations

from typing import Any

from shapely.geometry import Point

from tests.privacy.conftest import ADMIN_H, entries
from urbanos.features import store

KANTARA = {"version", "jurisdiction", "consentTimestamp", "collectionMethod", "consentReceiptID", "piiPrincipalId",
           "piiControllers", "policyUrl", "services", "sensitive", "spiCat"}


def _visits(platform: Any, ds_id: int, people: list[str | None]) -> None:
    rows = [({"person": p, "n": i}, Point(10 + i * 0.01, 53.5)) for i, p in enumerate(people)]
    platform.db.write_sync(lambda c: store.replace_collection(
        c, "visits", [{"name": "person", "type": "string"}, {"name": "n", "type": "integer"}], rows, dataset_id=ds_id))


def _people(client: Any, headers: dict[str, str]) -> list[Any]:
    r = client.get("/ogcapi/collections/visits/items", params={"f": "json", "limit": 100}, headers=headers)
    assert r.status_code == 200, r.text
    return sorted(str(f["properties"]["person"]) for f in r.json()["features"])


def _obs_people(client: Any, stream: int, headers: dict[str, str]) -> list[str]:
    r = client.get(f"/sta/v1.1/Datastreams({stream})/Observations", headers=headers)
    assert r.status_code == 200, r.text
    return sorted(str((o.get("parameters") or {}).get("person")) for o in r.json()["value"])


def test_consent_gates_rows_on_every_path(client: Any, platform: Any, world: dict[str, Any], sta: Any) -> None:
    h, sub = world["h"], world["subject"]
    citizen = sub["reader"]  # a citizen's token: its subject is the principal
    _visits(platform, world["ids"]["org-a-private"], ["p1", "p1", "p2", citizen, None])
    for who in ("p2", "p1"):  # the one without consent first: the rows left must stay with their entities
        sta.observe(world["stream"], 5, "2024-02-01T00:00:00Z", parameters={"person": who})
    assert _people(client, h["reader-a"]) == ["None", "p1", "p1", "p2", citizen]  # not consent-based yet
    r = client.put("/privacy/consent/datasets/org-a-private", json={"subject_field": "person", "purpose": "research"},
                   headers=h["steward-a"])
    assert r.status_code == 200, r.text
    assert r.json()["recipient"] == "org-a"
    assert _people(client, h["reader-a"]) == ["None"]  # default deny: only rows without a subject id
    assert _obs_people(client, world["stream"], h["reader-a"]) == ["None", "None", "None"]
    assert _people(client, ADMIN_H) == ["None"]

    r = client.post("/privacy/consent", json={"purpose": "research", "recipient": "org-a", "principal": "p1",
                                              "collection_method": "paper form"}, headers=h["steward-a"])
    assert r.status_code == 201, r.text
    p1 = r.json()["receipt"]
    assert KANTARA <= set(p1) and p1["piiPrincipalId"] == "p1" and p1["collectionMethod"] == "paper form"
    assert p1["services"][0]["purposes"][0]["purpose"] == "research" and p1["piiControllers"][0]["piiController"] == "org-a"
    r = client.post("/privacy/consent", json={"purpose": "research", "recipient": "org-a"}, headers=h["reader"])
    assert r.status_code == 201 and r.json()["receipt"]["piiPrincipalId"] == citizen
    mine = r.json()["receipt"]["consentReceiptID"]
    assert _people(client, h["reader-a"]) == ["None", "p1", "p1", citizen]
    assert sorted(_obs_people(client, world["stream"], h["reader-a"])) == ["None", "None", "None", "p1"]
    geo = client.get(f"/sta/v1.1/Datastreams({world['stream']})/Observations", params={"$resultFormat": "GeoJSON"},
                     headers=h["reader-a"]).json()["features"]
    assert [f["id"] for f in geo] == [f["properties"]["@iot.id"] for f in geo] and len(geo) == 4  # rows stay aligned
    preview = client.get("/download/visits.csv", headers=h["reader-a"])
    assert preview.status_code == 200 and "p2" not in preview.text and "p1" in preview.text
    # another purpose or recipient is not this consent
    client.post("/privacy/consent", json={"purpose": "marketing", "recipient": "org-a", "principal": "p2"},
                headers=h["steward-a"])
    assert "p2" not in _people(client, h["reader-a"])

    # receipts: one's own only
    assert [x["receipt"]["consentReceiptID"] for x in client.get("/privacy/consent/receipts", headers=h["reader"])
            .json()["receipts"]] == [mine]
    assert {x["receipt"]["piiPrincipalId"] for x in client.get("/privacy/consent/receipts", headers=h["steward-a"])
            .json()["receipts"]} == {"p1", "p2"}
    assert client.get("/privacy/consent/receipts", headers=h["publisher-b"]).json()["receipts"] == []
    assert client.get("/privacy/consent/receipts").status_code == 401

    # revocation: at once, on every path
    assert client.post(f"/privacy/consent/receipts/{mine}/revoke", headers=h["publisher-b"]).status_code == 404
    r = client.post(f"/privacy/consent/receipts/{mine}/revoke", headers=h["reader"])
    assert r.status_code == 200 and r.json()["state"] == "revoked" and r.json()["revoked_at"]
    assert citizen not in _people(client, h["reader-a"])
    r = client.post(f"/privacy/consent/receipts/{p1['consentReceiptID']}/revoke", headers=h["steward-a"])
    assert r.status_code == 200
    assert _people(client, h["reader-a"]) == ["None"]
    assert _obs_people(client, world["stream"], h["reader-a"]) == ["None", "None", "None"]
    assert {e["action"] for e in entries(client)} >= {"consent.granted", "consent.revoked", "consent.dataset_changed"}
    # unmarked: all rows again
    assert client.delete("/privacy/consent/datasets/org-a-private", headers=h["steward-a"]).status_code == 204
    assert len(_people(client, h["reader-a"])) == 5


def test_bad_input_changes_nothing(client: Any, world: dict[str, Any]) -> None:
    h = world["h"]
    js = {**h["reader"], "Content-Type": "application/json"}
    for body in (b"{", b"[]", b"", b'{"purpose": "x"}', b'{"recipient": "org-a"}', b'{"purpose": 5, "recipient": "a"}',
                 b'{"purpose": "x", "recipient": "org-a", "sensitive": "yes"}', b'{"purpose": "", "recipient": "org-a"}',
                 b'{"purpose": "x", "recipient": "org-a", "spi_categories": "health"}',
                 b'{"purpose": "x", "recipient": "org-a", "colour": "red"}',
                 b'{"purpose": "' + b"x" * 300 + b'", "recipient": "org-a"}'):
        r = client.post("/privacy/consent", content=body, headers=js)
        assert r.status_code == 400, (body, r.text)
    huge = b'{"purpose": "' + b"x" * (11 * 1024 * 1024) + b'"}'
    assert client.post("/privacy/consent", content=huge, headers=js).status_code == 413
    assert client.post("/privacy/consent", json={"purpose": "x", "recipient": "org-a"}).status_code == 401
    # acting for someone else needs the recipient's steward role
    assert client.post("/privacy/consent", json={"purpose": "x", "recipient": "org-a", "principal": "p9"},
                       headers=h["steward-b"]).status_code == 403
    assert client.post("/privacy/consent", json={"purpose": "x", "recipient": "org-a", "principal": "p9"},
                       headers=h["publisher-a"]).status_code == 403
    assert client.post("/privacy/consent/receipts/nope/revoke", headers=h["reader"]).status_code == 404
    assert client.post("/privacy/consent/receipts/nope/revoke").status_code == 401
    assert client.get("/privacy/consent/receipts", headers=h["reader"]).json()["receipts"] == []
    # consent-based datasets: stewards of the owning organisation only
    url = "/privacy/consent/datasets/org-a-private"
    for body in (b"{", b"[]", b'{"purpose": "x"}', b'{"subject_field": 3, "purpose": "x"}',
                 b'{"subject_field": "p", "purpose": "x", "extra": 1}'):
        assert client.put(url, content=body, headers={**h["steward-a"], "Content-Type": "application/json"}
                          ).status_code == 400, body
    good = {"subject_field": "person", "purpose": "x"}
    assert client.put(url, json=good, headers=h["steward-b"]).status_code == 404
    assert client.put("/privacy/consent/datasets/open-data", json=good, headers=h["steward-b"]).status_code == 403
    assert client.put("/privacy/consent/datasets/open-data", json=good, headers=h["publisher-a"]).status_code == 403
    assert client.put("/privacy/consent/datasets/open-data", json=good).status_code == 401
    assert client.put("/privacy/consent/datasets/missing", json=good, headers=h["admin"]).status_code == 404
    assert client.delete(url, headers=h["steward-b"]).status_code == 404
    assert client.get("/privacy/consent/datasets", headers=h["admin"]).json()["datasets"] == []
