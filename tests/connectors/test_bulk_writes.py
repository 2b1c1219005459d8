"""The bulk writes connectors use (``SensingPort.create_things_bulk`` / ``create_observations_bulk``): the same rows,
rights and derived data as the API's deep insert and Observation creation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.connectors.helpers import dataset, sta
from urbanos.errors import BadRequest, Forbidden, UrbanosError
from urbanos.governance import ADMIN, Identity, Membership
from urbanos.ports import SensingPort


def publisher(org: str) -> Identity:
    return Identity(f"token:{org}", "token", frozenset({Membership("publisher", org)}))


def site(name: str, ds: str, sensor: int, prop: int) -> dict[str, Any]:
    stream = {"name": f"{name} count", "description": "d", "observationType": "x",
              "unitOfMeasurement": {"name": "count", "symbol": "1", "definition": "x"},
              "Sensor": {"@iot.id": sensor}, "ObservedProperty": {"@iot.id": prop}}
    return {"name": name, "description": "site", "properties": {"urbanos:dataset": ds, "k": 1},
            "Locations": [{"name": name, "description": "here", "encodingType": "application/geo+json",
                           "location": {"type": "Point", "coordinates": [9.9, 53.5]}}],
            "Datastreams": [stream]}


def meta(platform: Any, identity: Identity) -> tuple[int, int]:
    port = platform.require(SensingPort)
    ids = platform.db.write_sync(lambda c: port.write_entities(c, identity, [
        ("POST", "Sensors", {"name": "s", "description": "s", "encodingType": "text/plain", "metadata": "m"}),
        ("POST", "ObservedProperties", {"name": "p", "definition": "urn:p", "description": "p"})]))
    return int(ids[0]), int(ids[1])


def test_bulk_things_and_observations_match_the_api(cclient: Any, cplatform: Any) -> None:
    dataset(cplatform, "bulk-a", org="bulk-org")
    port = cplatform.require(SensingPort)
    me = publisher("bulk-org")
    sensor, prop = meta(cplatform, me)
    made = cplatform.db.write_sync(lambda c: port.create_things_bulk(c, me, [
        site(f"site {i}", "bulk-a", sensor, prop) for i in range(3)]))
    assert len(made) == 3 and all(len(m["locations"]) == 1 and len(m["datastreams"]) == 1 for m in made)
    thing = sta(cclient, f"Things({made[0]['thing']})?$expand=Locations,HistoricalLocations,Datastreams")
    assert thing["properties"] == {"k": 1, "urbanos:dataset": "bulk-a"}
    assert len(thing["HistoricalLocations"]) == 1 and thing["Datastreams"][0]["properties"]["urbanos:dataset"] == "bulk-a"
    ds = [m["datastreams"][0] for m in made]
    rows = [(ds[0], "2025-01-01T00:00:00Z", 1), (ds[0], "2025-01-01T01:00:00Z", 2), (ds[1], "nonsense", 3),
            (999_999, "2025-01-01T00:00:00Z", 4)]
    ids = cplatform.db.write_sync(lambda c: port.create_observations_bulk(c, me, rows))
    assert ids[0] and ids[1] and ids[2] is None and ids[3] is None
    stream = sta(cclient, f"Datastreams({ds[0]})?$expand=Observations($orderby=phenomenonTime desc;$top=1),"
                          "Observations/FeatureOfInterest")
    assert stream["phenomenonTime"] == "2025-01-01T00:00:00Z/2025-01-01T01:00:00Z"
    assert stream["Observations"][0]["result"] == 2
    assert stream["Observations"][0]["FeatureOfInterest"]["feature"]["coordinates"] == [9.9, 53.5]


def test_bulk_writes_check_the_organisation_of_each_row(cclient: Any, cplatform: Any) -> None:
    dataset(cplatform, "bulk-victim", org="victim-org")
    dataset(cplatform, "bulk-attacker", org="attacker-org")
    port = cplatform.require(SensingPort)
    victim, attacker = publisher("victim-org"), publisher("attacker-org")
    sensor, prop = meta(cplatform, victim)
    own_sensor, own_prop = meta(cplatform, attacker)
    # into another organisation's dataset
    with pytest.raises(UrbanosError) as refused:
        cplatform.db.write_sync(lambda c: port.create_things_bulk(c, attacker, [
            site("x", "bulk-victim", own_sensor, own_prop)]))
    assert isinstance(refused.value, Forbidden | BadRequest)
    # linking another organisation's Sensor
    with pytest.raises(UrbanosError):
        cplatform.db.write_sync(lambda c: port.create_things_bulk(c, attacker, [
            site("y", "bulk-attacker", sensor, own_prop)]))
    # Observations on another organisation's Datastream
    made = cplatform.db.write_sync(lambda c: port.create_things_bulk(c, victim, [site("v", "bulk-victim", sensor, prop)]))
    target = made[0]["datastreams"][0]
    with pytest.raises(UrbanosError):
        cplatform.db.write_sync(lambda c: port.create_observations_bulk(c, attacker, [(target, "2025-01-01T00:00:00Z", 1)]))
    assert sta(cclient, f"Datastreams({target})/Observations")["value"] == []
    assert sta(cclient, "Things?$filter=name eq 'x' or name eq 'y'")["value"] == []
    with pytest.raises(UrbanosError):
        cplatform.db.write_sync(lambda c: port.create_things_bulk(c, ADMIN.__class__(
            "token:r", "token", frozenset({Membership("reader")})), [site("z", "bulk-victim", sensor, prop)]))
