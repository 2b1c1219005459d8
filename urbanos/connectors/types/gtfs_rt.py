"""``gtfs-rt``: a GTFS-Realtime feed (a protobuf ``FeedMessage`` at the connector's URL, read with
``gtfs-realtime-bindings``).

* ``VehiclePosition`` entities with a position: a live features collection (``<connector>-vehicles``, or the mapping's
  ``vehicles``), replaced atomically whenever a vehicle moved, appeared or went; each vehicle that moved or appeared
  is published, once the run's transaction committed, as a GeoJSON Feature on the MQTT topic
  ``connectors/<connector>/vehicles/<vehicle_id>`` (:func:`vehicle_topic`) to subscribers who may read the dataset.
* ``TripUpdate`` delays: Observations (seconds) on one Datastream **per route** (a Thing ``Route <route_id>`` made on
  first sight). Routes are stable and few, trips are made anew every service day: a Datastream per trip would grow
  without bound. The route's Thing is placed (its Location, from which the Observations' FeatureOfInterest is made)
  at the first vehicle seen on the route, else at the mapping's ``position`` (``"lon,lat"``, e.g. the city centre, for
  a feed of trip updates only); a new route with neither waits (its delays counted failed with the reason). Each
  Observation names its trip in ``parameters`` and is written only when the trip's delay
  changed (the trip's own ``delay``, else that of its first stop time update). A trip update without a ``route_id``
  is counted failed.
* A body that is not a GTFS-Realtime protobuf, or that is truncated, fails the run with the reason; nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from google.protobuf.message import DecodeError
from google.transit import gtfs_realtime_pb2

from urbanos.connectors import store
from urbanos.connectors.fetch import FeedError
from urbanos.connectors.types.base import ConnectorType, Counts, Job, Writes
from urbanos.connectors.writes import FeatureWrites, digest
from urbanos.core.time import format_stored
from urbanos.errors import ValidationFailed
from urbanos.ports import MessagePort, SensingPort
from urbanos.storage import Connection

SPEC = "https://gtfs.org/documentation/realtime/reference/#message-tripupdate"
MEASURE = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"
OPTIONS = ("vehicles", "position")


def parse_feed(body: bytes, url: str) -> Any:
    """The ``FeedMessage`` in ``body``; FeedError when it is not one (or is cut short)."""
    try:
        msg = gtfs_realtime_pb2.FeedMessage.FromString(body)
    except (DecodeError, ValueError, RuntimeError) as exc:
        raise FeedError(f"{url}: not a GTFS-Realtime protobuf FeedMessage ({exc}); the feed may be truncated "
                        "or in another format") from None
    if not msg.IsInitialized() or not msg.header.gtfs_realtime_version:
        raise FeedError(f"{url}: not a complete GTFS-Realtime FeedMessage (required fields missing: "
                        f"{', '.join(msg.FindInitializationErrors()) or 'header.gtfs_realtime_version'}); "
                        "the feed may be truncated")
    return msg


def _time(seconds: int, fallback: str) -> str:
    try:
        return format_stored(datetime.fromtimestamp(seconds, UTC)) if seconds > 0 else fallback
    except (OverflowError, OSError, ValueError):
        return fallback


def vehicle_features(msg: Any, collection: str) -> FeatureWrites:
    out = FeatureWrites(collection)
    for e in msg.entity:
        if not e.HasField("vehicle") or not e.vehicle.HasField("position"):
            continue
        v, pos = e.vehicle, e.vehicle.position
        if not (-90 <= pos.latitude <= 90 and -180 <= pos.longitude <= 180):
            out.bad.append(f"entity {e.id}: the vehicle's position is not WGS84")
            continue
        vid = v.vehicle.id or e.id
        props: dict[str, Any] = {
            "vehicle_id": vid, "label": v.vehicle.label or None, "trip_id": v.trip.trip_id or None,
            "route_id": v.trip.route_id or None, "stop_id": v.stop_id or None,
            "current_status": gtfs_realtime_pb2.VehiclePosition.VehicleStopStatus.Name(v.current_status)
            if v.HasField("current_status") else None,
            "bearing": round(pos.bearing, 3) if pos.HasField("bearing") else None,
            "speed": round(pos.speed, 3) if pos.HasField("speed") else None,
            "timestamp": _time(v.timestamp, "") or None}
        out.features[vid] = {"type": "Feature", "properties": props,
                             "geometry": {"type": "Point", "coordinates": [round(pos.longitude, 5),
                                                                           round(pos.latitude, 5)]}}
    return out


@dataclass
class Delay:
    route: str
    trip: str
    start_date: str
    when: str
    seconds: int


def route_positions(msg: Any, fallback: tuple[float, float] | None) -> dict[str, tuple[float, float]]:
    """A position per route: of the first vehicle on it in the feed (float32 in the protobuf: 5 decimals, about a
    metre), else ``fallback`` (under the key ``""``)."""
    out: dict[str, tuple[float, float]] = {"": fallback} if fallback else {}
    for e in msg.entity:
        v = e.vehicle
        if e.HasField("vehicle") and v.HasField("position") and v.trip.route_id and v.trip.route_id not in out:
            if -90 <= v.position.latitude <= 90 and -180 <= v.position.longitude <= 180:
                out[v.trip.route_id] = (round(v.position.longitude, 5), round(v.position.latitude, 5))
    return out


def _position(text: Any) -> tuple[float, float] | None:
    try:
        lon, lat = (float(p) for p in str(text).split(","))
    except ValueError:
        return None
    return (lon, lat) if -180 <= lon <= 180 and -90 <= lat <= 90 else None


def trip_delays(msg: Any, fallback: str) -> tuple[list[Delay], list[str]]:
    out: list[Delay] = []
    bad: list[str] = []
    header_time = _time(msg.header.timestamp, fallback)
    for e in msg.entity:
        if not e.HasField("trip_update"):
            continue
        tu = e.trip_update
        delay: int | None = tu.delay if tu.HasField("delay") else None
        for stu in tu.stop_time_update if delay is None else []:
            for event in (stu.arrival, stu.departure):
                if delay is None and event.HasField("delay"):
                    delay = event.delay
        if delay is None:
            continue  # no delay stated (only times, or a cancellation)
        if not tu.trip.route_id:
            bad.append(f"entity {e.id}: trip {tu.trip.trip_id or '?'} names no route_id; its delay is not written")
            continue
        out.append(Delay(tu.trip.route_id, tu.trip.trip_id or e.id, tu.trip.start_date,
                         _time(tu.timestamp, header_time), int(delay)))
    return out, bad


class GtfsRtType(ConnectorType):
    name = "gtfs-rt"

    def check(self, url: str, mapping: Any) -> dict[str, Any]:
        m = mapping or {}
        if not isinstance(m, dict) or any(k not in OPTIONS or not isinstance(v, str) or not v for k, v in m.items()):
            raise ValidationFailed("A gtfs-rt connector's mapping may only name the vehicles collection and a "
                                   "position (text).", detail={"mapping": list(OPTIONS)})
        if "position" in m and _position(m["position"]) is None:
            raise ValidationFailed("mapping.position must be \"lon,lat\" in WGS84.", detail={"mapping": ["position"]})
        return dict(m)

    async def collect(self, job: Job) -> Writes:
        assert job.fetcher is not None
        msg = parse_feed(await job.fetcher.get(job.connector.url), job.connector.url)
        collection = str(job.connector.mapping.get("vehicles") or f"{job.connector.name}-vehicles")
        vehicles = vehicle_features(msg, collection)
        delays, bad = trip_delays(msg, format_stored(job.now))
        job.tick(1, 1)
        places = route_positions(msg, _position(job.connector.mapping.get("position")))
        return RtWrites(vehicles if vehicles.features or vehicles.bad or job.state.get("vehicles") else None,
                        delays, bad, places)


def vehicle_topic(connector: str, vehicle_id: str) -> str:
    """The MQTT topic of one vehicle's position: ``connectors/<connector>/vehicles/<vehicle_id>`` (the characters
    MQTT gives a meaning in topics, ``/ + #``, replaced by ``_`` in the vehicle id)."""
    return f"connectors/{connector}/vehicles/{vehicle_id.translate(_TOPIC_SAFE) or '_'}"


_TOPIC_SAFE = str.maketrans({"/": "_", "+": "_", "#": "_", "\x00": "_"})


@dataclass
class RtWrites:
    vehicles: FeatureWrites | None
    delays: list[Delay] = field(default_factory=list)
    bad: list[str] = field(default_factory=list)
    places: dict[str, tuple[float, float]] = field(default_factory=dict)
    moved: list[dict[str, Any]] = field(default_factory=list)

    def apply(self, c: Connection, job: Job, counts: Counts) -> None:
        for message in self.bad:
            counts.fail(message)
        if self.vehicles is not None:
            prefix = f"feat:{self.vehicles.collection}:"
            have = store.items(c, job.connector.id, prefix)
            self.moved = [f for vid, f in self.vehicles.features.items()
                          if (have.get(prefix + vid) or ({}, ""))[1] != digest(f)]
            self.vehicles.apply(c, job, counts)
            job.state["vehicles"] = True
        if self.delays:
            Delays(c, job, self.places).write(self.delays, counts)

    async def after_commit(self, job: Job) -> None:
        """Each vehicle that moved or appeared, as a GeoJSON Feature on its topic of the platform's MQTT broker, to
        the subscribers who may read the connector's dataset."""
        messages = job.platform.optional(MessagePort)
        if messages is None:
            return
        for f in self.moved:
            await messages.publish(vehicle_topic(job.connector.name, str(f["properties"]["vehicle_id"])),
                                   orjson.dumps(f), job.dataset.id)


class Delays:
    """A Thing and Datastream per route (made on first sight) and an Observation per changed trip delay."""

    def __init__(self, c: Connection, job: Job, places: dict[str, tuple[float, float]]) -> None:
        self.c, self.job, self.places = c, job, places
        self.sensing = job.platform.require(SensingPort)
        self.cid = job.connector.id
        self.meta = self._meta()

    def _write(self, ops: list[tuple[str, str, dict[str, Any]]]) -> list[int]:
        return self.sensing.write_entities(self.c, self.job.identity, ops) if ops else []

    def _meta(self) -> dict[str, Any]:
        found = store.items(self.c, self.cid, "rt:meta")
        if "rt:meta" in found:
            return found["rt:meta"][0]
        ids = self._write([
            ("POST", "Sensors", {"name": f"GTFS-Realtime feed {self.job.connector.name}",
                                 "description": "A GTFS-Realtime trip updates feed.", "encodingType": "text/html",
                                 "metadata": self.job.connector.url}),
            ("POST", "ObservedProperties", {"name": "Trip delay", "definition": SPEC,
                                            "description": "Seconds a trip runs late (negative: early)."})])
        meta = {"sensor": ids[0], "property": ids[1]}
        store.put_items(self.c, self.cid, [("rt:meta", meta, "")])
        return meta

    def _routes(self, routes: list[str]) -> dict[str, int]:
        known = store.items(self.c, self.cid, "rt:route:")
        out = {r: int(known[f"rt:route:{r}"][0]["datastream"]) for r in routes if f"rt:route:{r}" in known}
        new = [r for r in routes if r not in out and (self.places.get(r) or self.places.get(""))]
        if not new:
            return out
        ds = self.job.dataset.name
        locs = self._write([("POST", "Locations", {
            "name": f"Route {r}", "description": "Where a vehicle of the route was first seen",
            "encodingType": "application/geo+json",
            "location": {"type": "Point", "coordinates": list(self.places.get(r) or self.places[""])}}) for r in new])
        things = self._write([("POST", "Things", {
            "name": f"Route {r}", "description": f"Transit route {r} (GTFS-Realtime {self.job.connector.name})",
            "properties": {"urbanos:dataset": ds, "gtfs_route_id": r}, "Locations": [{"@iot.id": lid}]})
            for r, lid in zip(new, locs, strict=True)])
        streams = self._write([("POST", f"Things({tid})/Datastreams", {
            "name": f"Route {r}: trip delay", "description": f"Delays of the trips of route {r}",
            "observationType": MEASURE, "unitOfMeasurement": {"name": "second", "symbol": "s",
                                                              "definition": "http://qudt.org/vocab/unit/SEC"},
            "Sensor": {"@iot.id": self.meta["sensor"]}, "ObservedProperty": {"@iot.id": self.meta["property"]},
            "properties": {"urbanos:dataset": ds}}) for r, tid in zip(new, things, strict=True)])
        store.put_items(self.c, self.cid, [(f"rt:route:{r}", {"thing": tid, "datastream": sid}, "")
                                           for r, tid, sid in zip(new, things, streams, strict=True)])
        return out | dict(zip(new, streams, strict=True))

    def write(self, delays: list[Delay], counts: Counts) -> None:
        last = store.items(self.c, self.cid, "rt:trip:")
        latest = {f"rt:trip:{d.trip}:{d.start_date}": d for d in delays}
        changed = {k: d for k, d in latest.items() if k not in last or last[k][1] != str(d.seconds)}
        counts.unchanged += len(latest) - len(changed)
        if not changed:
            return
        streams = self._routes(list(dict.fromkeys(d.route for d in changed.values())))
        for k, d in list(changed.items()):
            if d.route not in streams:
                counts.fail(f"trip {d.trip}: route {d.route} has no position yet (no vehicle on it in the feed, no "
                            "mapping.position); its delay waits")
                del changed[k]
        self._write([("POST", f"Datastreams({streams[d.route]})/Observations", {
            "phenomenonTime": d.when, "result": d.seconds,
            "parameters": {"trip_id": d.trip, "start_date": d.start_date or None}}) for d in changed.values()])
        counts.created += len(changed)
        store.put_items(self.c, self.cid, [(k, {}, str(d.seconds)) for k, d in changed.items()])


__all__ = ["GtfsRtType", "RtWrites", "parse_feed", "vehicle_topic"]
