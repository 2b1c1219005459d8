"""The demo's person-related dataset with privacy rules: simulated Wi-Fi presence counts (devices seen per access
point and 5 minutes, over the last day) at 14 access points in Hamburg, released to everyone below the stewards of
the owning organisation only as sums per 15 minutes and Bezirk (the demo's ``hamburg-bezirke`` collection), with
cells below k = 10 withheld, and the access point's MAC address pseudonymised (idempotent: nothing is added when the
dataset exists)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from urbanos.core.time import format_stored, now_stored
from urbanos.governance import ADMIN
from urbanos.ports import FeaturesPort, SensingPort
from urbanos.privacy.rules.model import parse_declaration

if TYPE_CHECKING:
    from urbanos.platform import Platform
    from urbanos.privacy.rules.model import RuleSet
    from urbanos.privacy.rules.service import RulesService
    from urbanos.storage import Connection

DATASET = "wifi-presence-counts"
TITLE = "Wi-Fi presence counts (person-related, simulated demo)"
BOUNDARIES = "hamburg-bezirke"
POINTS = (("Jungfernstieg", 53.5530, 9.9925), ("Hauptbahnhof", 53.5527, 10.0067), ("Altona Bahnhof", 53.5520, 9.9350),
          ("Ottensen", 53.5540, 9.9230), ("Osterstraße", 53.5760, 9.9530), ("Eppendorf", 53.5860, 9.9830),
          ("Winterhude", 53.5850, 10.0050), ("Barmbek", 53.5870, 10.0440), ("Wandsbek Markt", 53.5720, 10.0680),
          ("Bramfeld", 53.6170, 10.0750), ("Bergedorf Bahnhof", 53.4890, 10.2060), ("Lohbrügge", 53.5000, 10.1900),
          ("Harburg Rathaus", 53.4600, 9.9830), ("Phoenix-Center", 53.4570, 9.9800))
RULES = {"rules": [{"kind": "aggregate", "bucket_minutes": 15, "boundaries": BOUNDARIES, "k": 10},
                   {"kind": "pseudonymise", "fields": ["mac"], "purpose": "wifi-presence", "period": "month"}]}


def _thing(name: str, lat: float, lon: float, i: int, ds: int) -> dict[str, Any]:
    return {"name": f"Wi-Fi access point {name}", "description": "Counts the devices seen (simulated demo).",
            "dataset_id": ds, "properties": {"simulated": True, "mac": f"02:00:5e:10:00:{i:02x}"},
            "Locations": [{"name": name, "description": name, "encodingType": "application/geo+json",
                           "location": {"type": "Point", "coordinates": [lon, lat]}}]}


def _stream(name: str) -> dict[str, Any]:
    return {"name": f"Devices seen at {name}", "description": "Devices seen per 5 minutes",
                             "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/"
                             "OM_CountObservation",
                             "unitOfMeasurement": {"name": "devices", "symbol": "1", "definition": "https://qudt.org/"
                                                   "vocab/unit/NUM"},
                             "Sensor": {"name": "Wi-Fi presence counter", "description": "Counts probe requests",
                                        "encodingType": "text/html", "metadata": "https://example.org/wifi-counter"},
                             "ObservedProperty": {"name": "Devices present", "definition": "https://example.org/devices",
                                                  "description": "Wi-Fi devices seen (a proxy for people present)"}}


def _count(i: int, t: datetime) -> int:
    hour = t.hour + t.minute / 60
    day = max(0.0, math.sin((hour - 6) / 18 * math.pi))  # none at night, most in the afternoon
    return int(round((4 + 3 * (i % 5)) * day + ((i * 7 + t.minute) % 3) * day))


def load_demo(platform: Platform, rules: RulesService) -> bool:
    """Add the dataset, its sensors, a day of counts and its rules (False when it exists or a part is missing)."""
    sensing, features = platform.optional(SensingPort), platform.optional(FeaturesPort)
    if sensing is None or features is None:
        return False
    exists, _ = platform.db.read_sync(lambda c: features.collection_dataset(c, BOUNDARIES))
    if not exists:
        return False

    def tx(c: Connection) -> RuleSet | None:
        if c.fetchone("SELECT 1 FROM datasets WHERE name = ?", (DATASET,)) is not None:
            return None
        org = c.fetchone("SELECT name FROM organizations WHERE name = 'demo-mobility'")
        now = now_stored()
        ds = int(c.insert("datasets", {"name": DATASET, "title": TITLE, "owner_org": org[0] if org else None,
                                       "access_level": "open", "created_at": now, "modified_at": now}))
        things = sensing.write_entities(c, ADMIN, [("POST", "Things", _thing(n, la, lo, i, ds))
                                                   for i, (n, la, lo) in enumerate(POINTS)])
        streams = sensing.write_entities(c, ADMIN, [("POST", f"Things({tid})/Datastreams", _stream(POINTS[i][0]))
                                                    for i, tid in enumerate(things)])
        end = datetime.now(UTC).replace(second=0, microsecond=0)
        end -= timedelta(minutes=end.minute % 5)
        times = [end - timedelta(minutes=5 * k) for k in range(288, 0, -1)]
        body = []
        for i, stream in enumerate(streams):
            body.append({"Datastream": {"@iot.id": int(stream)}, "components": ["phenomenonTime", "result"],
                         "dataArray": [[format_stored(t), _count(i, t)] for t in times]})
        sensing.create_observations(c, ADMIN, body)
        return rules.store.save(c, ds, DATASET, parse_declaration(RULES), ADMIN.subject)

    rs = platform.db.write_sync(tx)
    if rs is None:
        return False
    rules.store.remember(rs)  # the polygons follow within a second (until then its reads answer 503)
    return True


__all__ = ["load_demo", "DATASET", "RULES"]
