"""``gbfs``: a bike-sharing (or scooter) system's GBFS feed, versions 2.x and 3.0.

* Discovery: the connector's URL is the system's ``gbfs.json``; it lists the files (v2: per language under
  ``data.<lang>.feeds``, the mapping's ``language`` or ``en`` or the first; v3: ``data.feeds``).
* Each file's ``ttl`` is respected: a file is fetched again only once its ``ttl`` seconds have passed since it was last
  read (``gbfs.json`` too). A run in between reads nothing of it.
* ``station_information``: each station is a Thing (``properties.gbfs_station_id``) with its Location and two
  Datastreams, vehicles available and docks available; a station whose name, position or capacity changes is updated.
* ``station_status``: an Observation on a Datastream only when its value changed since the last one written
  (v2 ``num_bikes_available``, v3 ``num_vehicles_available``; ``num_docks_available``), at the station's
  ``last_reported`` time (v2 POSIX seconds, v3 RFC 3339).
* Free-floating vehicles (v2 ``free_bike_status``, v3 ``vehicle_status``) with a position: a features collection
  (``<connector>-vehicles``, or the mapping's ``collection``) replaced atomically whenever it changed.
* Versions other than 2.0 to 2.3 and 3.0 are refused with the reason; so are files that are not GBFS documents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from urbanos.connectors import store
from urbanos.connectors.fetch import FeedError
from urbanos.connectors.mapping import instant
from urbanos.connectors.types.base import ConnectorType, Counts, Job, Writes
from urbanos.connectors.writes import FeatureWrites, digest
from urbanos.core.time import format_stored, parse_utc
from urbanos.errors import ValidationFailed
from urbanos.ports import SensingPort
from urbanos.storage import Connection

VERSIONS = ("2.0", "2.1", "2.2", "2.3", "3.0")
SPEC = "https://github.com/MobilityData/gbfs/blob/v{v}/gbfs.md"
COUNT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_CountObservation"
KINDS = (("vehicles", "Vehicles available", "Vehicles available for rent at a station (GBFS station_status)."),
         ("docks", "Docks available", "Empty docks that accept a returned vehicle (GBFS station_status)."))
OPTIONS = ("language", "collection")


def _major(version: str) -> int:
    return 3 if version.startswith("3.") else 2


def _text(value: Any, language: str) -> str:
    """A v3 localised string (a list of ``{text, language}``) or a v2 plain string."""
    if isinstance(value, list):
        texts = [v for v in value if isinstance(v, dict) and isinstance(v.get("text"), str)]
        pick = next((v for v in texts if v.get("language") == language), texts[0] if texts else None)
        return str(pick["text"]) if pick else ""
    return str(value) if value is not None else ""


def _when(value: Any) -> str | None:
    try:
        return instant(value)
    except (ValueError, OverflowError, TypeError):
        return None


def _document(doc: Any, name: str, url: str) -> dict[str, Any]:
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), dict):
        raise FeedError(f"{url}: {name} is not a GBFS document (no data object)")
    return doc


def _ttl(doc: dict[str, Any]) -> int:
    ttl = doc.get("ttl")
    return int(ttl) if isinstance(ttl, int) and not isinstance(ttl, bool) and 0 <= ttl <= 86400 else 0


@dataclass
class Discovered:
    version: str
    feeds: dict[str, str]


class GbfsType(ConnectorType):
    name = "gbfs"

    def check(self, url: str, mapping: Any) -> dict[str, Any]:
        m = mapping or {}
        if not isinstance(m, dict) or any(k not in OPTIONS or not isinstance(v, str) for k, v in m.items()):
            raise ValidationFailed("A gbfs connector's mapping may only set language and collection (text).",
                                   detail={"mapping": list(OPTIONS)})
        return dict(m)

    async def collect(self, job: Job) -> Writes:
        found = await self._discover(job)
        files: dict[str, dict[str, Any]] = {}
        vehicles = "vehicle_status" if _major(found.version) == 3 else "free_bike_status"
        names = [n for n in ("station_information", "station_status", vehicles) if n in found.feeds]
        if not names:
            raise FeedError(f"{job.connector.url}: the system lists neither stations nor vehicles "
                            "(station_information, station_status, free_bike_status or vehicle_status)")
        for i, name in enumerate(names, start=1):
            doc = await self._file(job, name, found.feeds[name])
            if doc is not None:
                files[name] = doc
            job.tick(i, len(names))
        language = str(job.connector.mapping.get("language") or "en")
        collection = str(job.connector.mapping.get("collection") or f"{job.connector.name}-vehicles")
        return GbfsWrites(found.version, language, files, vehicles, collection)

    def _due(self, job: Job, name: str) -> bool:
        nxt = (job.state.get("files") or {}).get(name, {}).get("next")
        return not nxt or parse_utc(nxt) <= job.now

    def _read(self, job: Job, name: str, ttl: int) -> None:
        files = job.state.setdefault("files", {})
        files[name] = {"read": format_stored(job.now), "next": format_stored(job.now + timedelta(seconds=ttl))}

    async def _file(self, job: Job, name: str, url: str) -> dict[str, Any] | None:
        if not self._due(job, name):
            return None
        assert job.fetcher is not None
        doc = _document(await job.fetcher.get_json(url), name, url)
        self._read(job, name, _ttl(doc))
        return doc

    async def _discover(self, job: Job) -> Discovered:
        cached = job.state.get("discovery")
        if cached and not self._due(job, "gbfs"):
            return Discovered(str(cached["version"]), dict(cached["feeds"]))
        assert job.fetcher is not None
        url = job.connector.url
        doc = _document(await job.fetcher.get_json(url), "gbfs.json", url)
        version = str(doc.get("version") or "1.0")
        if version not in VERSIONS:
            raise FeedError(f"{url}: GBFS version {version} is not supported; this connector reads versions "
                            f"{', '.join(VERSIONS)}")
        data = doc["data"]
        if _major(version) == 2:
            lang = str(job.connector.mapping.get("language") or "en")
            block = data.get(lang) or next((v for v in data.values() if isinstance(v, dict)), None)
            data = block if isinstance(block, dict) else {}
        feeds = data.get("feeds")
        if not isinstance(feeds, list):
            raise FeedError(f"{url}: gbfs.json lists no feeds")
        urls = {str(f["name"]): str(f["url"]) for f in feeds
                if isinstance(f, dict) and isinstance(f.get("name"), str) and isinstance(f.get("url"), str)}
        job.state["discovery"] = {"version": version, "feeds": urls}
        self._read(job, "gbfs", _ttl(doc))
        return Discovered(version, urls)


def _station_list(doc: dict[str, Any] | None, name: str) -> list[dict[str, Any]]:
    if doc is None:
        return []
    stations = doc["data"].get("stations")
    if not isinstance(stations, list) or not all(isinstance(s, dict) and isinstance(s.get("station_id"), str | int)
                                                 for s in stations):
        raise FeedError(f"{name}: data.stations is not a list of stations with station_id")
    return stations


@dataclass
class GbfsWrites:
    version: str
    language: str
    files: dict[str, dict[str, Any]]
    vehicles_file: str
    collection: str

    def apply(self, c: Connection, job: Job, counts: Counts) -> None:
        info = _station_list(self.files.get("station_information"), "station_information")
        status = _station_list(self.files.get("station_status"), "station_status")
        if info or status:
            stations = Stations(c, job, self)
            stations.write_information(info, counts)
            stations.write_status(status, self._fallback_time(job), counts)
        if self.vehicles_file in self.files:
            self._vehicles(job).apply(c, job, counts)

    def _fallback_time(self, job: Job) -> str:
        doc = self.files.get("station_status") or {}
        return _when(doc.get("last_updated")) or format_stored(job.now)

    def _vehicles(self, job: Job) -> FeatureWrites:
        data = self.files[self.vehicles_file]["data"]
        items = data.get("vehicles" if _major(self.version) == 3 else "bikes")
        if not isinstance(items, list):
            raise FeedError(f"{self.vehicles_file}: data.{'vehicles' if _major(self.version) == 3 else 'bikes'} "
                            "is not a list")
        out = FeatureWrites(self.collection)
        for v in items:
            vid = v.get("vehicle_id", v.get("bike_id")) if isinstance(v, dict) else None
            lon, lat = (v.get("lon"), v.get("lat")) if isinstance(v, dict) else (None, None)
            if vid is None or not isinstance(lon, int | float) or not isinstance(lat, int | float):
                continue  # docked vehicles carry a station instead of a position
            props = {"vehicle_id": str(vid), "vehicle_type_id": v.get("vehicle_type_id"),
                     "is_reserved": bool(v.get("is_reserved")), "is_disabled": bool(v.get("is_disabled"))}
            out.features[str(vid)] = {"type": "Feature", "properties": props,
                                      "geometry": {"type": "Point", "coordinates": [float(lon), float(lat)]}}
        return out


class Stations:
    """Stations as Things, their status as Observations (one transaction, through :class:`SensingPort`)."""

    def __init__(self, c: Connection, job: Job, writes: GbfsWrites) -> None:
        self.c, self.job, self.w = c, job, writes
        self.sensing = job.platform.require(SensingPort)
        self.cid = job.connector.id
        self.known = store.items(c, self.cid, "st:")
        self.meta = self._meta()

    def _write(self, ops: list[tuple[str, str, dict[str, Any]]]) -> list[int]:
        return self.sensing.write_entities(self.c, self.job.identity, ops) if ops else []

    def _meta(self) -> dict[str, Any]:
        """The Sensor (the feed) and the two ObservedProperties every station's Datastreams share."""
        found = store.items(self.c, self.cid, "gbfs:meta")
        if "gbfs:meta" in found:
            return found["gbfs:meta"][0]
        spec = SPEC.format(v=self.w.version)
        ids = self._write([("POST", "Sensors", {
            "name": f"GBFS feed {self.job.connector.name}", "description": "A GBFS bike-sharing system feed.",
            "encodingType": "text/html", "metadata": self.job.connector.url})] + [
            ("POST", "ObservedProperties", {"name": title, "definition": f"{spec}#station_statusjson",
                                            "description": text}) for _, title, text in KINDS])
        meta = {"sensor": ids[0], "vehicles": ids[1], "docks": ids[2]}
        store.put_items(self.c, self.cid, [("gbfs:meta", meta, "")])
        return meta

    def _describe(self, s: dict[str, Any]) -> dict[str, Any] | None:
        lon, lat = s.get("lon"), s.get("lat")
        if not isinstance(lon, int | float) or not isinstance(lat, int | float) or not (-180 <= lon <= 180
                                                                                       and -90 <= lat <= 90):
            return None
        cap = s.get("capacity")
        return {"name": _text(s.get("name"), self.w.language) or f"Station {s['station_id']}",
                "lon": float(lon), "lat": float(lat),
                "capacity": cap if isinstance(cap, int) and not isinstance(cap, bool) else None}

    def _location(self, d: dict[str, Any]) -> dict[str, Any]:
        return {"name": d["name"], "description": "Position of the station", "encodingType": "application/geo+json",
                "location": {"type": "Point", "coordinates": [d["lon"], d["lat"]]}}

    def _thing(self, sid: str, d: dict[str, Any]) -> dict[str, Any]:
        return {"name": d["name"], "description": f"Bike-sharing station {sid} (GBFS)",
                "properties": {"urbanos:dataset": self.job.dataset.name, "gbfs_station_id": sid,
                               "capacity": d["capacity"]}}

    def _datastream(self, sid: str, d: dict[str, Any], kind: str, title: str) -> dict[str, Any]:
        return {"name": f"{d['name']}: {title.lower()}", "description": f"{title} at station {sid}",
                "observationType": COUNT, "unitOfMeasurement": {"name": "count", "symbol": "{count}",
                                                                "definition": "http://qudt.org/vocab/unit/NUM"},
                "Sensor": {"@iot.id": self.meta["sensor"]}, "ObservedProperty": {"@iot.id": self.meta[kind]},
                "properties": {"urbanos:dataset": self.job.dataset.name}}

    def write_information(self, info: list[dict[str, Any]], counts: Counts) -> None:
        new: list[tuple[str, dict[str, Any]]] = []
        patches: list[tuple[str, str, dict[str, Any]]] = []
        done: list[tuple[str, dict[str, Any], str]] = []
        for s in info:
            sid, d = str(s["station_id"]), self._describe(s)
            if d is None:
                counts.fail(f"station {sid}: no valid lat/lon")
                continue
            prev, dg = self.known.get(f"st:{sid}"), digest(d)
            if prev is None:
                new.append((sid, d))
            elif prev[1] == dg:
                counts.unchanged += 1
            else:
                ids = prev[0]
                patches += [("PATCH", f"Things({ids['thing']})", self._thing(sid, d)),
                            ("PATCH", f"Locations({ids['location']})", self._location(d))]
                done.append((f"st:{sid}", ids, dg))
                counts.updated += 1
        self._write(patches)
        done += self._create(new)
        counts.created += len(new)
        store.put_items(self.c, self.cid, done)
        self.known.update({k: (ids, dg) for k, ids, dg in done})

    def _create(self, new: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any], str]]:
        """New stations in bulk: each Thing with its Location and two Datastreams."""
        if not new:
            return []
        made = self.sensing.create_things_bulk(self.c, self.job.identity, [
            {**self._thing(sid, d), "Locations": [self._location(d)],
             "Datastreams": [self._datastream(sid, d, kind, title) for kind, title, _ in KINDS]} for sid, d in new])
        return [(f"st:{sid}", {"thing": m["thing"], "location": m["locations"][0], "vehicles": m["datastreams"][0],
                               "docks": m["datastreams"][1]}, digest(d)) for (sid, d), m in zip(new, made, strict=True)]

    def write_status(self, status: list[dict[str, Any]], fallback: str, counts: Counts) -> None:
        last = store.items(self.c, self.cid, "ss:")
        v3 = _major(self.w.version) == 3
        rows: list[tuple[int, str, Any]] = []
        done: list[tuple[str, dict[str, Any], str]] = []
        for s in status:
            sid = str(s["station_id"])
            ids = (self.known.get(f"st:{sid}") or ({}, ""))[0]
            if not ids:
                continue  # a station not (yet) described by station_information
            when = _when(s.get("last_reported")) or fallback
            values = {"vehicles": s.get("num_vehicles_available" if v3 else "num_bikes_available"),
                      "docks": s.get("num_docks_available")}
            for kind, value in values.items():
                if not isinstance(value, int) or isinstance(value, bool):
                    continue
                key = f"ss:{sid}:{kind}"
                if key in last and last[key][1] == str(value):
                    counts.unchanged += 1
                    continue
                rows.append((int(ids[kind]), when, value))
                done.append((key, {}, str(value)))
        created = self.sensing.create_observations_bulk(self.c, self.job.identity, rows)
        counts.created += sum(1 for oid in created if oid is not None)
        for (key, _, _), oid in zip(done, created, strict=True):
            if oid is None:
                counts.fail(f"station {key.split(':')[1]}: the Observation was refused")
        store.put_items(self.c, self.cid, [item for item, oid in zip(done, created, strict=True) if oid is not None])


__all__ = ["GbfsType", "GbfsWrites", "VERSIONS"]
