"""A revocation made in one server process stops the consent-based rows in another within a second (the privacy
stamp, read a few times a second by each process)."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.conftest import ADMIN_TOKEN
from tests.sensing.sta_helpers import thing

H = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def test_revocation_reaches_another_process_within_a_second(server_factory: Any, db_url: str) -> None:
    first = server_factory(db_url, env={"URBANOS_PRIVACY_PURGE_INTERVAL_SECONDS": "0"})
    second = server_factory(db_url, env={"URBANOS_PRIVACY_PURGE_INTERVAL_SECONDS": "0"})
    with httpx.Client(base_url=first.url, headers=H, timeout=60) as one, \
            httpx.Client(base_url=second.url, headers=H, timeout=60) as two:
        assert one.post("/api/3/action/organization_create", json={"name": "clinic"}).status_code == 200
        r = one.post("/api/3/action/package_create", json={"name": "visits", "owner_org": "clinic",
                                                           "access_level": "registered",
                                                           "grounds": ["gdpr-personal-data"]})
        assert r.status_code == 200, r.text
        r = one.post("/sta/v1.1/Things", json=thing("Door", properties={"urbanos:dataset": "visits"}))
        assert r.status_code == 201, r.text
        stream = one.get(r.headers["location"] + "/Datastreams").json()["value"][0]["@iot.id"]
        for who in ("p1", "p2"):
            body = {"result": 1, "Datastream": {"@iot.id": stream}, "parameters": {"person": who}}
            assert one.post("/sta/v1.1/Observations", json=body).status_code == 201
        url = f"/sta/v1.1/Datastreams({stream})/Observations"
        assert one.put("/privacy/consent/datasets/visits", json={"subject_field": "person", "purpose": "care"}
                       ).status_code == 200
        r = one.post("/privacy/consent", json={"purpose": "care", "recipient": "clinic", "principal": "p1"})
        assert r.status_code == 201
        receipt = r.json()["receipt"]["consentReceiptID"]
        deadline = time.monotonic() + 5
        while len(two.get(url).json()["value"]) != 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [o["parameters"]["person"] for o in two.get(url).json()["value"]] == ["p1"]
        assert one.post(f"/privacy/consent/receipts/{receipt}/revoke").status_code == 200
        revoked = time.monotonic()
        while two.get(url).json()["value"] and time.monotonic() - revoked < 1.0:
            time.sleep(0.02)
        assert two.get(url).json()["value"] == [], "the other process still served the revoked consent after 1 s"
        assert one.get(url).json()["value"] == []

