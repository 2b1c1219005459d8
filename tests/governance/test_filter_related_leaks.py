"""Read leaks through $filter on to-many navigation paths: a related entity the caller may not read never makes an
entity match (a Thing's confidential Datastream, its Observations, a Location's hidden Thing)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sensing.sta_helpers import Sta, datastream, location
from urbanos.governance.tokens import create_token

LEVELS = ("open", "registered", "internal", "confidential")


@pytest.fixture
def world(sta: Sta, platform: Any) -> dict[str, Any]:
    def setup(c: Any) -> dict[str, int]:
        return {level: c.insert("datasets", {"name": f"ds-{level}", "title": level, "owner_org": "city",
                                             "access_level": level, "created_at": "2024-01-01T00:00:00Z",
                                             "modified_at": "2024-01-01T00:00:00Z"}) for level in LEVELS}

    ds = platform.db.write_sync(setup)
    # an open Thing with an open and a secret Datastream; a secret Thing at a shared Location
    shared = sta.create("/Locations", location("Shared", 144.96, -37.81))["@iot.id"]
    open_t = sta.create("/Things", {"name": "Open", "description": "x", "dataset_id": ds["open"],
                                    "Locations": [{"@iot.id": shared}],
                                    "Datastreams": [datastream("Public", dataset_id=ds["open"])]})["@iot.id"]
    secret_ds = sta.create(f"/Things({open_t})/Datastreams", datastream("Secret", dataset_id=ds["confidential"]))["@iot.id"]
    sta.observe(secret_ds, 999, "2024-01-01T00:00:00Z")
    sta.create("/Things", {"name": "Hidden", "description": "x", "dataset_id": ds["confidential"],
                           "Locations": [location("Hideout", 145.5, -37.5)]})
    hidden = sta.ok("/Things?$filter=name eq 'Hidden'", sta.h)["value"][0]["@iot.id"]
    sta.post(f"/Things({hidden})/Locations/$ref", {"@iot.id": shared})
    reader = platform.db.write_sync(lambda c: create_token(c, "reader", None, "reader"))
    insider = platform.db.write_sync(lambda c: create_token(c, "reader", "city", "insider"))
    return {"reader": {"Authorization": f"Bearer {reader}"}, "insider": {"Authorization": f"Bearer {insider}"},
            "ds": ds, "open_thing": open_t}


def _names(sta: Sta, path: str, headers: dict[str, str] | None = None) -> list[str]:
    r = sta.c.get("/sta/v1.1" + path, headers=headers or {})
    assert r.status_code == 200, r.text
    return sorted(e["name"] for e in r.json()["value"])


@pytest.mark.parametrize("who", ["anonymous", "reader", "insider"])
def test_hidden_related_entities_never_make_a_match(sta: Sta, world: dict[str, Any], who: str) -> None:
    h = {} if who == "anonymous" else world[who]
    assert _names(sta, "/Things?$filter=Datastreams/name eq 'Public'", h) == ["Open"]
    for flt in ("Datastreams/name eq 'Secret'", "Datastreams/Observations/result eq 999",
                "Datastreams/Observations/result gt 0", "Datastreams/properties/urbanos:dataset eq 'ds-confidential'"):
        assert _names(sta, f"/Things?$filter={flt}", h) == [], flt
        assert sta.c.get(f"/sta/v1.1/Things?$filter={flt}&$count=true", headers=h).json()["@iot.count"] == 0
    assert _names(sta, "/Locations?$filter=Things/name eq 'Hidden'", h) == []
    assert _names(sta, "/Sensors?$filter=Datastreams/name eq 'Secret'", h) == []
    assert _names(sta, "/Observations?$filter=Datastream/Thing/Datastreams/name eq 'Secret'", h) == []


def test_the_admin_and_a_granted_reader_see_them(sta: Sta, world: dict[str, Any], platform: Any) -> None:
    assert _names(sta, "/Things?$filter=Datastreams/name eq 'Secret'", sta.h) == ["Open"]
    assert _names(sta, "/Things?$filter=Datastreams/Observations/result eq 999", sta.h) == ["Open"]
    assert _names(sta, "/Locations?$filter=Things/name eq 'Hidden'", sta.h) == ["Hideout", "Shared"]
    subject = "token:" + world["insider"]["Authorization"].split("_")[1]
    platform.db.write_sync(lambda c: c.execute("INSERT INTO dataset_grants (dataset_id, subject, created_at)"
                                               " VALUES (?, ?, ?)", (world["ds"]["confidential"], subject,
                                                                     "2025-01-01T00:00:00Z")))
    assert _names(sta, "/Things?$filter=Datastreams/name eq 'Secret'", world["insider"]) == ["Open"]
