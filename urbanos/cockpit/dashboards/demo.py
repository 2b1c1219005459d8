"""The demo's dashboards and the sensors they need that the demo has no other source for: parking bays, waste
bins and air-quality stations in central Melbourne (simulated, each in a dataset of its own), created through the
SensorThings service as the platform's admin; and the dashboard files pedestrians, parking, bins and air-quality in
``<data_dir>/dashboards`` (written once: a file someone changed is left as it is)."""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from urbanos.cockpit.dashboards.demo_files import FILES
from urbanos.cockpit.dashboards.service import FOLDER
from urbanos.core.time import format_stored
from urbanos.errors import UrbanosError
from urbanos.governance import ADMIN
from urbanos.ports import CatalogPort, SensingPort

if TYPE_CHECKING:
    from urbanos.platform import Platform
    from urbanos.storage import Connection

log = logging.getLogger("urbanos.cockpit.dashboards")
V = "v1.1"
NOTE = "Simulated by the urbanos demo: not real measurements."
STREETS = (("Lonsdale Street", -37.8117, 144.9620, 0.00095, 0.0004), ("Little Collins Street", -37.8152, 144.9650, 0.0009,
           0.00042), ("Flinders Lane", -37.8166, 144.9655, 0.00092, 0.0004), ("Queen Street", -37.8150, 144.9602,
           -0.00035, -0.0009))
BINS = ((-37.8102, 144.9628), (-37.8110, 144.9665), (-37.8121, 144.9590), (-37.8133, 144.9702), (-37.8140, 144.9645),
        (-37.8149, 144.9580), (-37.8157, 144.9688), (-37.8163, 144.9612), (-37.8171, 144.9660), (-37.8180, 144.9630),
        (-37.8125, 144.9555), (-37.8095, 144.9690), (-37.8186, 144.9700), (-37.8117, 144.9735), (-37.8138, 144.9535),
        (-37.8168, 144.9570))
STATIONS = (("Melbourne CBD", -37.8125, 144.9648), ("Southbank", -37.8230, 144.9640), ("Carlton", -37.8001, 144.9671),
            ("Docklands", -37.8170, 144.9460))
POLLUTANTS = (("NO2", "Nitrogen dioxide", 24.0), ("PM10", "Particulate matter < 10 µm", 18.0),
              ("PM2.5", "Particulate matter < 2.5 µm", 9.0))
UGM3 = {"name": "microgram per cubic metre", "symbol": "µg/m³", "definition": "http://qudt.org/vocab/unit/MicroGM-PER-M3"}
MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"


@dataclass(frozen=True)
class Kind:
    source: str
    dataset: str
    title: str
    org: str


PARKING = Kind("demo-parking", "demo-parking-bays", "Parking bay occupancy (simulated demo)", "demo-mobility")
BIN = Kind("demo-bins", "demo-waste-bins", "Waste bin fill levels (simulated demo)", "demo-environment")
AIR = Kind("demo-air", "demo-air-quality", "Air quality (simulated demo)", "demo-environment")
KINDS = (PARKING, BIN, AIR)


def ensure_dataset(c: Connection, kind: Kind, catalog: CatalogPort) -> None:
    """The dataset of ``kind``'s sensors, through the catalogue (its checks; the metadata the catalogue's demo
    prepared for it is added there)."""
    catalog.ensure_dataset(c, ADMIN, {"name": kind.dataset, "title": kind.title, "owner_org": kind.org,
                                      "access_level": "open"})


def _point(lat: float, lon: float, name: str) -> list[dict[str, Any]]:
    return [{"name": name, "description": name, "encodingType": "application/geo+json",
             "location": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]}}]


def _thing(kind: Kind, name: str, lat: float, lon: float, props: dict[str, Any], streams: list[dict[str, Any]]) -> dict[str, Any]:
    return {"name": name, "description": f"{name}. {NOTE}", "properties": {
        "source": kind.source, "simulated": True, "urbanos:dataset": kind.dataset, **props},
        "Locations": _point(lat, lon, name), "Datastreams": streams}


def _stream(name: str, unit: dict[str, Any], sensor: dict[str, Any], prop: dict[str, Any], props: dict[str, Any],
            history: list[tuple[str, float]]) -> dict[str, Any]:
    return {"name": name, "description": f"{name}. {NOTE}", "observationType": MEASUREMENT, "unitOfMeasurement": unit,
            "properties": {"simulated": True, **props}, "Sensor": sensor, "ObservedProperty": prop,
            "Observations": [{"phenomenonTime": t, "result": v} for t, v in history]}


def occupancy_target(hour: float) -> float:
    """The share of bays taken at local hour ``hour``: quiet at night, full around midday and early evening."""
    day = math.exp(-((hour - 12.5) / 4.0) ** 2)
    evening = 0.5 * math.exp(-((hour - 19.0) / 2.0) ** 2)
    return min(0.95, 0.12 + 0.78 * day + 0.3 * evening)


def air_level(base: float, hour: float, pollutant: str) -> float:
    """A daily pattern: traffic peaks at 8:00 and 18:00 for NO2; particles rise in the evening."""
    if pollutant == "NO2":
        f = 0.6 + 0.9 * math.exp(-((hour - 8) / 1.8) ** 2) + 0.8 * math.exp(-((hour - 18) / 2.2) ** 2)
    else:
        f = 0.75 + 0.5 * math.exp(-((hour - 20) / 3.0) ** 2) + 0.2 * math.exp(-((hour - 8) / 2.0) ** 2)
    return base * f


def _hours_back(now: datetime, n: int) -> list[datetime]:
    top = now.replace(minute=0, second=0, microsecond=0)
    return [top - timedelta(hours=k) for k in range(n, 0, -1)]


def things(now: datetime, tz_hour: Any) -> list[tuple[Kind, dict[str, Any]]]:
    """The Things to create, with a day of hourly history each (``tz_hour(t)``: the local hour of ``t``)."""
    out: list[tuple[Kind, dict[str, Any]]] = []
    bay_sensor = {"name": "Demo in-ground bay sensor", "description": "Simulated in-ground parking sensor",
                  "encodingType": "text/plain", "metadata": NOTE}
    bay_prop = {"name": "Parking bay occupancy", "definition": "https://example.org/def/bay-occupied",
                "description": "1 when a vehicle occupies the bay, 0 when it is free"}
    hours = _hours_back(now, 24)
    for street, lat, lon, dlat, dlon in STREETS:
        code = "".join(w[0] for w in street.split())
        for i in range(6):
            bay = f"{code}-{i + 1:02d}"
            hist = [(format_stored(t), float((i * 7 + t.hour) % 10 < occupancy_target(tz_hour(t)) * 10)) for t in hours]
            out.append((PARKING, _thing(PARKING, f"Parking bay {bay}, {street}", lat + dlat * i / 6, lon + dlon * i,
                                        {"street": street, "bay": bay},
                                        [_stream(f"Occupancy of bay {bay}", {"name": "occupied", "symbol": "",
                                                 "definition": "https://example.org/def/occupied"},
                                                 bay_sensor, bay_prop, {}, hist)])))
    bin_sensor = {"name": "Demo bin fill sensor", "description": "Simulated ultrasonic fill-level sensor",
                  "encodingType": "text/plain", "metadata": NOTE}
    bin_prop = {"name": "Bin fill level", "definition": "https://example.org/def/fill-level",
                "description": "How full a waste bin is"}
    for i, (lat, lon) in enumerate(BINS):
        level = 10.0 + (i * 37) % 85
        hist = [(format_stored(t), round(max(2.0, level - 2.0 * (len(hours) - k)), 1)) for k, t in enumerate(hours)]
        out.append((BIN, _thing(BIN, f"Waste bin {i + 1:02d}", lat, lon, {"bin": f"B{i + 1:02d}"},
                                [_stream(f"Fill level of bin {i + 1:02d}", {"name": "percent", "symbol": "%",
                                         "definition": "http://qudt.org/vocab/unit/PERCENT"},
                                         bin_sensor, bin_prop, {}, hist)])))
    air_sensor = {"name": "Demo air-quality monitor", "description": "Simulated reference monitor",
                  "encodingType": "text/plain", "metadata": NOTE}
    for s, (station, lat, lon) in enumerate(STATIONS):
        streams = []
        for code, label, base in POLLUTANTS:
            prop = {"name": label, "definition": f"https://example.org/def/{code}", "description": f"{label} ({code})"}
            hist = [(format_stored(t), round(air_level(base * (1 + 0.15 * s), tz_hour(t), code), 1)) for t in hours]
            streams.append(_stream(f"{code} at {station}", UGM3, air_sensor, prop, {"pollutant": code}, hist))
        out.append((AIR, _thing(AIR, f"Air-quality station {station}", lat, lon, {"station": station}, streams)))
    return out


async def _create(platform: Platform) -> int:
    sensing = platform.require(SensingPort)
    have: set[str] = set()
    for kind in KINDS:
        body = await sensing.read_path(V, "Things", {"$filter": f"properties/source eq '{kind.source}'", "$top": "1",
                                                     "$select": "id"}, ADMIN, "")
        if body.get("value"):
            have.add(kind.source)
    tz = ZoneInfo("Australia/Melbourne")
    made = 0
    for kind, body in things(datetime.now(UTC), lambda t: t.astimezone(tz).hour + t.astimezone(tz).minute / 60):
        if kind.source in have:
            continue
        await sensing.create_at_path(V, "Things", body, ADMIN, "")
        made += 1
    return made


def write_files(folder: Path) -> list[str]:
    """Write the demo's dashboard files that are missing; returns their names."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in FILES.items():
        path = folder / name
        if not path.exists():
            path.write_text(text, encoding="utf-8")
            written.append(name)
    return written


def load(platform: Platform) -> None:
    """Create the simulated sensors (once) and write the demo's dashboard files (the missing ones)."""
    catalog = platform.optional(CatalogPort)
    for kind in KINDS:
        if catalog is None:
            break
        try:
            platform.db.write_sync(partial(ensure_dataset, kind=kind, catalog=catalog))
        except UrbanosError as exc:  # e.g. the catalogue's demo did not make the organisation
            log.warning("dashboards demo: dataset %s not described in the catalogue: %s %s", kind.dataset,
                        exc.message, exc.detail or "")
    if platform.optional(SensingPort) is not None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            made = asyncio.run(_create(platform))
            log.info("dashboards demo: %d simulated Things created", made)
        else:  # called on an event loop's thread: not expected by the demo command
            log.warning("dashboards demo: sensors not created (called on a running event loop)")
    write_files(Path(platform.settings.data_path) / FOLDER)


__all__ = ["load", "write_files", "occupancy_target", "air_level", "KINDS", "PARKING", "BIN", "AIR", "STATIONS",
           "POLLUTANTS"]
