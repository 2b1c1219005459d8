"""Demo entries of the algorithm register: an adaptive traffic-signal control and a pedestrian-count forecast, linked
to the demo's datasets (idempotent: each entry has a fixed UUID and is left alone when present)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from urbanos.governance import ADMIN
from urbanos.privacy.algorithms.service import AlgorithmRegister
from urbanos.privacy.algorithms.validate import today, validated
from urbanos.storage import Connection

if TYPE_CHECKING:
    from urbanos.platform import Platform

_COMMON = {"lang": "en", "standard_version": "0.3.1", "contact_phone": "", "area": "Demo City",
           "lawful_basis": "Performance of a public task (GDPR Art. 6(1)(e)); road traffic regulations.",
           "revision_date": "2027-01-31"}

DEMO = (
    {**_COMMON, "uuid": "4f1c7a52-6a4e-4d0e-9a51-6d2f6c1b7a01", "owner_org": "demo-mobility",
     "datasets": ["traffic-signal-timings"],
     "name": "Adaptive traffic-signal control", "description_short": "Adjusts green times at signalised junctions to "
     "the traffic counted by loop detectors.", "organization": "Demo City", "department": "Department of Mobility",
     "contact_email": "signals@demo-city.example", "domain": "traffic and transportation", "status": "operational",
     "decision_making_process": "Chooses a signal plan every cycle; traffic engineers set the limits it works within.",
     "goal": "Shorter waits and fewer stops for all road users, priority for buses and trams.",
     "impact": "Affects waiting times of drivers, cyclists and pedestrians; it decides nothing about individuals.",
     "risks": "A faulty detector can lengthen waits on one approach.", "risk_category": "limited",
     "proportionality": "Uses vehicle counts only, no images and no identifiers.",
     "training_data": "None: the control is rule-based.", "source_data": "Loop detector counts per lane and cycle.",
     "connected_data_sources": "Signal timing plans (dataset traffic-signal-timings).", "algorithm_type": "rule-based",
     "description": "Extends or shortens green phases within fixed minimum and maximum times by detector occupancy.",
     "monitoring": "Daily reports of waiting times per junction; alarms on detector faults.", "type": "prescriptive",
     "human_intervention": "Operators in the traffic control centre can switch any junction to a fixed plan.",
     "objection_procedure": "Write to signals@demo-city.example or the city's complaints office.",
     "keywords": ["traffic lights", "mobility"]},
    {**_COMMON, "uuid": "4f1c7a52-6a4e-4d0e-9a51-6d2f6c1b7a02", "owner_org": "city-of-melbourne",
     "datasets": ["melbourne-pedestrian-counts", "pedestrian-sensors"], "area": "Melbourne CBD",
     "name": "Pedestrian-count forecast", "description_short": "Forecasts hourly pedestrian counts per sensor for the "
     "next day, for event and cleaning planning.", "organization": "City of Melbourne", "department": "City Insights",
     "contact_email": "pedestrians@demo-city.example", "domain": "traffic and transportation", "status": "pilot",
     "decision_making_process": "Planners read the forecast; it takes no decision by itself.",
     "goal": "Plan staff for cleaning and events where many people are expected.",
     "impact": "Indirect: where services are scheduled. No decision about individuals.",
     "risks": "Forecasts miss unplanned events; planners must not rely on them alone.", "risk_category": "minimal",
     "proportionality": "Aggregated counts per sensor and hour; the sensors register no personal data.",
     "training_data": "Three years of hourly pedestrian counts (dataset melbourne-pedestrian-counts).",
     "source_data": "Hourly counts of the pedestrian counting system.",
     "connected_data_sources": "Sensor locations (dataset pedestrian-sensors); public holidays.",
     "algorithm_type": "self-learning", "description": "A gradient-boosted regression per sensor on weekday, hour, "
     "holidays and the counts of the last weeks.", "monitoring": "Weekly comparison of forecast and count.",
     "type": "predictive", "human_intervention": "Planners decide; the forecast is advice.",
     "objection_procedure": "Write to pedestrians@demo-city.example.", "keywords": ["pedestrians", "forecast"]},
)


def _missing(c: Connection, spec: dict[str, Any]) -> bool:
    if c.fetchone("SELECT 1 FROM privacy_algorithms WHERE uuid = ?", (spec["uuid"],)) is not None:
        return False
    if c.fetchone("SELECT 1 FROM organizations WHERE name = ?", (spec["owner_org"],)) is None:
        return False
    return True


def load_demo(platform: Platform, register: AlgorithmRegister) -> int:
    """Add the demo entries that are missing (linking only the demo datasets that exist); returns how many."""
    added = 0
    for spec in DEMO:
        body = {**spec, "publication_date": today()}

        def tx(c: Connection, body: dict[str, Any] = body) -> int | None:
            if not _missing(c, body):
                return None
            body["datasets"] = [d for d in body["datasets"]
                                if c.fetchone("SELECT 1 FROM datasets WHERE name = ?", (d,)) is not None]
            record, org, datasets = validated(body)
            return register.save(c, ADMIN, None, record, org, datasets, "created", sorted(record))

        new_id = platform.db.write_sync(tx)
        if new_id is not None:
            register.audit.record(ADMIN.subject, "algorithm.created", "algorithm", new_id, org=str(spec["owner_org"]),
                                  details={"name": spec["name"], "demo": True})
            added += 1
    if added:
        register.audit.flush_sync()
    return added


__all__ = ["load_demo", "DEMO"]
