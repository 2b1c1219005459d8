"""The demo's Open311 services and a few hundred simulated reports around Hamburg, in every workflow state
(idempotent: nothing is added when the services exist)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson

from urbanos.core.time import format_stored
from urbanos.participation.open311 import store
from urbanos.participation.open311.definitions import validate_service
from urbanos.participation.open311.opendata import OpenData

if TYPE_CHECKING:
    from urbanos.platform import Platform

REPORTS = 300
CENTRE = (53.5511, 9.9937)
SERVICES: list[dict[str, Any]] = [
    {"service_code": "pothole", "service_name": "Pothole", "description": "A hole in the road or cycle path.",
     "group": "streets", "keywords": "road, hole, damage", "attributes": [
         {"code": "size", "datatype": "singlevaluelist", "required": True, "description": "How large is it?",
          "values": [{"key": "small", "name": "Smaller than a hand"}, {"key": "medium", "name": "Up to a plate"},
                     {"key": "large", "name": "Larger than a plate"}]},
         {"code": "depth_cm", "datatype": "number", "description": "About how deep (cm)?"}]},
    {"service_code": "litter", "service_name": "Litter or dumped waste", "description": "Rubbish in a public place.",
     "group": "cleaning", "keywords": "rubbish, waste", "attributes": [
         {"code": "kinds", "datatype": "multivaluelist", "description": "What is it?", "values": [
             {"key": "household", "name": "Household waste"}, {"key": "bulky", "name": "Bulky waste"},
             {"key": "glass", "name": "Glass"}]}]},
    {"service_code": "streetlight", "service_name": "Street light out", "description": "A street light is dark.",
     "group": "lighting", "keywords": "light, lamp", "attributes": [
         {"code": "pole_id", "datatype": "string", "description": "The number on the pole, if any."}]},
    {"service_code": "graffiti", "service_name": "Graffiti", "description": "Graffiti on public property.",
     "group": "cleaning", "keywords": "graffiti, paint", "attributes": []},
]
WORDS = ("Deep hole near the crossing", "Bags of rubbish by the bench", "Lamp dark since Monday",
         "Tags on the bridge", "Bike lane damaged", "Overflowing bin", "Broken glass on the path")
STATES = ("open", "open", "acknowledged", "in_progress", "closed", "closed", "duplicate", "not_responsible",
          "no_further_action", "referred")


def _attributes(code: str, rnd: random.Random) -> dict[str, Any]:
    if code == "pothole":
        return {"size": rnd.choice(["small", "medium", "large"]), "depth_cm": float(rnd.randint(2, 20))}
    if code == "litter":
        return {"kinds": rnd.sample(["household", "bulky", "glass"], rnd.randint(1, 2))}
    return {}


def _load(c: Any) -> None:
    if store.services(c):
        return
    org = c.fetchval("SELECT name FROM organizations ORDER BY name LIMIT 1")
    now = datetime.now(UTC)
    for body in SERVICES:
        store.insert_service(c, validate_service({**body, "organization": org}), format_stored(now))
    rnd = random.Random(311)  # nosec B311 - demo data, not security
    for _ in range(REPORTS):
        code = rnd.choice([s["service_code"] for s in SERVICES])
        at = now - timedelta(minutes=rnd.randint(5, 80 * 24 * 60))
        state = rnd.choice(STATES)
        changed = min(now, at + timedelta(hours=rnd.randint(1, 96))) if state != "open" else at
        rid = store.insert_request(c, {
            "service_code": code, "owner_org": org, "state": state, "status": store.spec_status(state),
            "status_notes": None if state == "open" else f"Demo: {state.replace('_', ' ')}.",
            "agency": None if state == "open" else "Bezirksamt", "description": rnd.choice(WORDS),
            "lat": round(CENTRE[0] + rnd.uniform(-0.06, 0.06), 6), "lon": round(CENTRE[1] + rnd.uniform(-0.1, 0.1), 6),
            "attributes": orjson.dumps(_attributes(code, rnd)).decode(), "subject": "demo",
            "requested_at": format_stored(at), "updated_at": format_stored(changed), "state_at": format_stored(changed)},
            {})
        if state != "open":
            c.insert("participation_updates", {"request_id": rid, "state": state, "notes": f"Demo: {state}.",
                                               "agency": "Bezirksamt", "updated_at": format_stored(changed),
                                               "recorded_at": format_stored(changed), "actor": "demo", "applied": 1})


def load_demo(platform: Platform) -> None:
    """The services and reports, published as open data by the setting's organisation (else the services' one)."""
    platform.db.write_sync(_load)

    def publish(c: Any) -> None:
        org = str(platform.settings.participation_open_data_org or "") or \
            c.fetchval("SELECT owner_org FROM participation_services ORDER BY code LIMIT 1")
        if org:
            OpenData(platform, org).ensure(c)
    platform.db.write_sync(publish)


__all__ = ["load_demo", "SERVICES", "REPORTS"]
