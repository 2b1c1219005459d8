"""The demo's privacy facts (idempotent): a contact for objections per demo organisation, retention periods for the
simulated live feeds, and two datasets marked person-related with an approved impact assessment: the Wi-Fi presence
counts (devices seen near access points; released only as aggregates by its privacy rules) and, once the connectors'
demo has made it, the bike-sharing system (positions of rented bikes can reveal trips)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from urbanos.core.time import now_stored
from urbanos.ports import CatalogPort

if TYPE_CHECKING:
    from urbanos.platform import Platform
    from urbanos.storage import Connection

CONTACTS = {
    "demo-mobility": "privacy-mobility@demo-city.example",
    "demo-environment": "privacy-environment@demo-city.example",
    "demo-social": "privacy-social@demo-city.example",
    "demo-safety": "privacy-safety@demo-city.example",
    "city-of-melbourne": "privacy@melbourne.example",
    "hamburg-lgv": "datenschutz@hamburg-lgv.example",
}
RETENTION = {"demo-parking-bays": 90, "demo-waste-bins": 180, "demo-air-quality": 3650, "wifi-presence-counts": 365}
WIFI_DPIA = {
    "description": "Counts of Wi-Fi devices seen near the city's public access points, every five minutes.",
    "personal_data": "Device identifiers are hashed and discarded at the access point; only counts leave it. Small "
                     "counts in a small area could still single out a person.",
    "purposes": "Measure how busy public squares are over the day; plan events and cleaning.",
    "parties": "Department of Mobility (controller); the network operator (processor).",
    "retention": "Counts 365 days; no device identifier is stored.",
    "legal_basis": "Performance of a public task (GDPR Art. 6(1)(e)).",
    "necessity_proportionality": "Counts, not trajectories; released only per 15 minutes and district.",
    "data_subject_rights": "Turning Wi-Fi off opts out; objections through the contact below.",
    "risks": "Singling out a person in a quiet hour from a small count.",
    "measures": "Aggregation to 15 minutes and districts, and a k-threshold of 10, on every read path.",
}
DPIA = {
    "description": "Positions of shared bikes and the state of the stations, every minute, from the operator's API.",
    "personal_data": "No names or accounts. A rented bike's positions over time could reveal a rider's trip.",
    "purposes": "Plan stations and rebalancing; show free bikes and docks to the public.",
    "parties": "Department of Mobility (controller); the bike-sharing operator (processor).",
    "retention": "Station states 180 days; bike positions are not kept once a bike is rented.",
    "legal_basis": "Performance of a public task (GDPR Art. 6(1)(e)).",
    "necessity_proportionality": "Only parked bikes are published; rented bikes disappear from the feed.",
    "data_subject_rights": "Riders may object through the contact below; the operator answers access requests.",
    "risks": "Re-identification of trips from a bike's successive positions.",
    "measures": "Bike ids are rotated after every trip; rented bikes are not served; positions rounded to 10 m.",
}


def _load(c: Connection, platform: Platform) -> None:
    now = now_stored()
    catalog = platform.require(CatalogPort)
    for org, contact in CONTACTS.items():
        exists = c.fetchone("SELECT 1 FROM organizations WHERE name = ?", (org,)) is not None
        if exists and c.fetchone("SELECT 1 FROM privacy_contacts WHERE org = ?", (org,)) is None:
            c.insert("privacy_contacts", {"org": org, "contact": contact, "changed_at": now, "changed_by": "demo"},
                     returning="org")
    for name, days in RETENTION.items():
        ref = catalog.dataset(c, name)
        if ref is not None and c.fetchone("SELECT 1 FROM privacy_retention WHERE dataset = ?", (name,)) is None:
            c.insert("privacy_retention", {"dataset": name, "org": ref.owner_org, "scope": "dataset", "ref": "",
                                           "days": days, "note": "demo", "changed_at": now, "changed_by": "demo"})
    for name, sections in (("wifi-presence-counts", WIFI_DPIA), ("bike-sharing", DPIA)):
        ref = catalog.dataset(c, name)
        if ref is None or c.fetchone("SELECT 1 FROM privacy_dpias WHERE kind = 'dataset' AND ref = ?", (ref.name,)):
            continue
        if c.fetchone("SELECT 1 FROM privacy_person_related WHERE kind = 'dataset' AND ref = ?", (ref.name,)) is None:
            c.insert("privacy_person_related", {"kind": "dataset", "ref": ref.name, "label": ref.title,
                                                "org": ref.owner_org, "marked_at": now, "marked_by": "demo"},
                     returning="kind")
        c.insert("privacy_dpias", {"kind": "dataset", "ref": ref.name, "label": ref.title, "org": ref.owner_org,
                                   "state": "approved", "sections": json.dumps(sections, sort_keys=True), "version": 1,
                                   "created_at": now, "created_by": "demo", "modified_at": now, "modified_by": "demo",
                                   "decided_at": now, "decided_by": "demo", "decision_note": "Demo assessment."})
    c.execute("UPDATE privacy_stamp SET n = n + 1 WHERE id = 1")


def load_demo(platform: Platform) -> None:
    platform.db.write_sync(lambda c: _load(c, platform))
    platform.services["privacy_state"].reload_sync()


__all__ = ["load_demo"]
