"""The demo city's bike-sharing system: a small GBFS v3.0 feed served by the demo server itself
(``/demo/gbfs/gbfs.json``) and the connector ``demo-bikes`` that polls it every minute into the dataset
``bike-sharing``. The 30 stations around Hamburg's centre are generated (``demo_data/LICENSE.txt``); their availability
and the free-floating vehicles are simulated from the time, so every poll may find a few changes."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from urbanos.connectors import demo_transit, store
from urbanos.connectors.owner import dataset, reference
from urbanos.core.time import format_stored
from urbanos.errors import NotFound
from urbanos.governance import ADMIN
from urbanos.governance.addresses import host_key

if TYPE_CHECKING:
    from urbanos.connectors.runner import Runner
    from urbanos.platform import Platform
    from urbanos.settings import Settings
    from urbanos.storage import Connection

DATA = Path(__file__).parent / "demo_data"
NAME = "demo-bikes"
DATASET = "bike-sharing"
FILES = ("system_information", "station_information", "station_status", "vehicle_status")
TTL = 60
VEHICLES = 15
CENTRE = (9.9937, 53.5511)


@lru_cache(maxsize=1)
def stations() -> list[dict[str, Any]]:
    return list(orjson.loads((DATA / "gbfs_stations.json").read_bytes())["stations"])


def _rfc3339(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _doc(data: dict[str, Any], now: datetime, ttl: int = TTL) -> dict[str, Any]:
    return {"last_updated": _rfc3339(now), "ttl": ttl, "version": "3.0", "data": data}


def _status(now: datetime) -> list[dict[str, Any]]:
    slot = int(now.timestamp()) // 120  # the simulated system reports every two minutes
    out = []
    for i, s in enumerate(stations()):
        rng = random.Random(slot * 1000 + i)  # nosec B311 - simulated availability, not a secret
        cap = int(s["capacity"])
        disabled = rng.choice((0, 0, 0, 1))
        vehicles = rng.randint(0, cap - disabled)
        out.append({"station_id": s["station_id"], "num_vehicles_available": vehicles, "num_vehicles_disabled": disabled,
                    "num_docks_available": cap - vehicles - disabled, "is_installed": True, "is_renting": True,
                    "is_returning": True, "last_reported": _rfc3339(datetime.fromtimestamp(slot * 120, UTC))})
    return out


def _vehicles(now: datetime) -> list[dict[str, Any]]:
    slot = int(now.timestamp()) // 120
    out = []
    for i in range(VEHICLES):
        rng = random.Random(slot * 7919 + i)  # nosec B311 - simulated positions
        out.append({"vehicle_id": f"v{slot % 1000:03d}-{i:02d}", "lat": round(CENTRE[1] + rng.uniform(-0.012, 0.012), 6),
                    "lon": round(CENTRE[0] + rng.uniform(-0.02, 0.02), 6), "is_reserved": False,
                    "is_disabled": rng.random() < 0.1, "vehicle_type_id": "bike", "last_reported": _rfc3339(now)})
    return out


def feed_file(file: str, base: str, now: datetime | None = None) -> dict[str, Any]:
    """The demo feed's file ``file`` (``gbfs.json`` or ``<name>.json``), its links under ``base``."""
    t = now or datetime.now(UTC)
    name = file.removesuffix(".json")
    if name == "gbfs":
        return _doc({"feeds": [{"name": n, "url": f"{base}/demo/gbfs/{n}.json"} for n in FILES]}, t)
    if name == "system_information":
        return _doc({"system_id": "urbanos-demo-bikes", "languages": ["de", "en"],
                     "name": [{"text": "Demo-Stadtrad (simuliert)", "language": "de"},
                              {"text": "Demo bike share (simulated)", "language": "en"}],
                     "opening_hours": "24/7", "timezone": "Europe/Berlin",
                     "license_url": "https://www.apache.org/licenses/LICENSE-2.0"}, t, 3600)
    if name == "station_information":
        return _doc({"stations": stations()}, t, 3600)
    if name == "station_status":
        return _doc({"stations": _status(t)}, t)
    if name == "vehicle_status":
        return _doc({"vehicles": _vehicles(t)}, t)
    raise NotFound(f"The demo feed has no file {file!r}.")


def demo_host(settings: Settings) -> str:
    host = str(settings.host)
    return "127.0.0.1" if host in ("", "0.0.0.0", "::", "[::]") else host  # nosec B104 - compared, not bound


def trust_own_feed(platform: Platform, runner: Runner) -> None:
    """Let the demo connectors (and only they) fetch this server's own address, which the outbound policy refuses to
    every other fetch unless ``outbound_allow`` lists it."""
    policy = platform.gate.outbound
    for name in (NAME, *demo_transit.NAMES):
        runner.policies[name] = replace(policy, hosts=policy.hosts | {host_key(demo_host(platform.settings))})


def _ensure(c: Connection, url: str) -> None:
    now = format_stored(datetime.now(UTC))
    ds = dataset(c, DATASET)
    if ds is None:
        c.insert("datasets", {"name": DATASET, "title": "Bike-sharing stations and vehicles (simulated)",
                              "owner_org": None, "access_level": "open", "created_at": now, "modified_at": now})
        ds = dataset(c, DATASET)
    assert ds is not None
    if store.get(c, NAME) is None:
        store.insert(c, {"name": NAME, "type": "gbfs", "url": url, "dataset_id": ds.id, "every_seconds": TTL,
                         "cron": None, "mapping": {}, "secret": None,  # nosec B105 - no secret: a GBFS feed needs none
                         **reference(ADMIN), "enabled": 1,
                         "created_at": now, "updated_at": now, "next_run_at": now})
    else:
        store.update(c, NAME, {"url": url, "next_run_at": now, "lease_owner": None, "lease_until": None})


def load_demo(platform: Platform) -> None:
    """Configure the demo connectors (bike sharing, transit: :mod:`urbanos.connectors.demo_transit`) for this server's address (idempotent; it runs once the server is up)."""
    s = platform.settings
    host = demo_host(s)
    base = f"http://{'[' + host + ']' if ':' in host else host}:{s.port}"
    platform.db.write_sync(lambda c: _ensure(c, f"{base}/demo/gbfs/gbfs.json"))
    platform.db.write_sync(lambda c: demo_transit.ensure(c, base))


__all__ = ["feed_file", "load_demo", "trust_own_feed", "NAME", "DATASET"]
