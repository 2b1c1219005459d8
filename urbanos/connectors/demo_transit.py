"""The demo city's transit feeds: a small generated GTFS schedule (two bus lines through Hamburg's centre, 12 stops,
their shapes) at ``/demo/gtfs/gtfs.zip`` and a GTFS-Realtime feed at ``/demo/gtfs/realtime.pb`` whose buses move
along the shapes with the clock (a position every 30 seconds, a trip delay that drifts), both served by the demo
server itself. The connectors ``demo-transit`` (daily) and ``demo-transit-live`` (every 30 s) read them into the
dataset ``transit``. Everything is generated; no operator's data is used."""

from __future__ import annotations

import io
import math
import zipfile
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from google.transit import gtfs_realtime_pb2

from urbanos.connectors import store
from urbanos.connectors.owner import dataset, reference
from urbanos.core.time import format_stored
from urbanos.errors import NotFound
from urbanos.governance import ADMIN

if TYPE_CHECKING:
    from urbanos.storage import Connection

DATASET = "transit"
STATIC, LIVE = "demo-transit", "demo-transit-live"
NAMES = (STATIC, LIVE)
CENTRE = (9.9937, 53.5511)
# two lines: (route id, short name, long name, colour, direction in degrees)
LINES = (("D1", "D1", "Hauptbahnhof – Altona (demo)", "E2001A", 250.0),
         ("D2", "D2", "Rathaus – Winterhude (demo)", "1A6FE2", 20.0))
STOPS_PER_LINE = 6
TRIP_SECONDS = 20 * 60


def _line_points(direction: float) -> list[tuple[float, float]]:
    """The stops of a line: a straight line from the centre, about 600 m apart."""
    dx, dy = math.cos(math.radians(direction)), math.sin(math.radians(direction))
    return [(round(CENTRE[0] + i * 0.009 * dx, 6), round(CENTRE[1] + i * 0.0054 * dy, 6)) for i in range(STOPS_PER_LINE)]


def _csv(rows: list[list[Any]]) -> str:
    return "\n".join(",".join(str(v) for v in r) for r in rows) + "\n"


@lru_cache(maxsize=1)
def gtfs_zip() -> bytes:
    """The generated static feed (the same bytes every time: a daily poll finds it unchanged)."""
    stops: list[list[Any]] = [["stop_id", "stop_name", "stop_lat", "stop_lon"]]
    routes: list[list[Any]] = [["route_id", "agency_id", "route_short_name", "route_long_name", "route_type", "route_color"]]
    trips: list[list[Any]] = [["route_id", "service_id", "trip_id", "shape_id"]]
    times: list[list[Any]] = [["trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"]]
    shapes: list[list[Any]] = [["shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence"]]
    for rid, short, long, colour, direction in LINES:
        routes.append([rid, "demo", short, long, 3, colour])
        trips.append([rid, "daily", f"{rid}-1", f"{rid}-shape"])
        for i, (lon, lat) in enumerate(_line_points(direction)):
            stops.append([f"{rid}-{i}", f"Demo {short} stop {i + 1}", lat, lon])
            t = f"08:{i * 4:02d}:00"
            times.append([f"{rid}-1", t, t, f"{rid}-{i}", i + 1])
            shapes.append([f"{rid}-shape", lat, lon, i + 1])
    files = {
        "agency.txt": _csv([["agency_id", "agency_name", "agency_url", "agency_timezone"],
                            ["demo", "Demo transit (generated)", "https://example.org/", "Europe/Berlin"]]),
        "stops.txt": _csv(stops), "routes.txt": _csv(routes), "trips.txt": _csv(trips),
        "stop_times.txt": _csv(times), "shapes.txt": _csv(shapes),
        "calendar.txt": _csv([["service_id", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                               "sunday", "start_date", "end_date"], ["daily", 1, 1, 1, 1, 1, 1, 1, 20250101, 20351231]]),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            z.writestr(zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0)), text)
    return out.getvalue()


def realtime(now: datetime | None = None) -> bytes:
    """The GTFS-Realtime FeedMessage at ``now``: one bus per line on its shape, its trip's delay."""
    t = now or datetime.now(UTC)
    slot = int(t.timestamp()) // 30 * 30
    msg = gtfs_realtime_pb2.FeedMessage()
    msg.header.gtfs_realtime_version = "2.0"
    msg.header.timestamp = slot
    for n, (rid, _short, _long, _colour, direction) in enumerate(LINES):
        pts = _line_points(direction)
        along = (slot / TRIP_SECONDS + n / len(LINES)) % 1.0 * (len(pts) - 1)
        i = min(int(along), len(pts) - 2)
        f = along - i
        lon, lat = pts[i][0] + (pts[i + 1][0] - pts[i][0]) * f, pts[i][1] + (pts[i + 1][1] - pts[i][1]) * f
        e = msg.entity.add(id=f"vehicle-{rid}")
        v = e.vehicle
        v.vehicle.id, v.vehicle.label = f"bus-{rid}", f"Demo bus {rid}"
        v.trip.trip_id, v.trip.route_id = f"{rid}-1", rid
        v.position.latitude, v.position.longitude = lat, lon
        v.stop_id, v.timestamp = f"{rid}-{i + 1}", slot
        u = msg.entity.add(id=f"trip-{rid}")
        u.trip_update.trip.trip_id, u.trip_update.trip.route_id = f"{rid}-1", rid
        u.trip_update.trip.start_date = t.strftime("%Y%m%d")
        u.trip_update.delay = 30 * ((slot // 300 + n) % 5) - 30  # -30 s to 90 s, changing every five minutes
        u.trip_update.timestamp = slot
    return bytes(msg.SerializeToString())


def feed(name: str) -> tuple[bytes, str]:
    """The body and media type of ``/demo/gtfs/{name}``."""
    if name == "gtfs.zip":
        return gtfs_zip(), "application/zip"
    if name == "realtime.pb":
        return realtime(), "application/x-protobuf"
    raise NotFound(f"The demo's transit feed has no file {name!r}.")


def ensure(c: Connection, base: str) -> None:
    """The dataset ``transit`` and the two connectors reading the feeds at ``base`` (idempotent)."""
    now = format_stored(datetime.now(UTC))
    ds = dataset(c, DATASET)
    if ds is None:
        c.insert("datasets", {"name": DATASET, "title": "Transit stops, lines and live buses (generated)",
                              "owner_org": None, "access_level": "open", "created_at": now, "modified_at": now})
        ds = dataset(c, DATASET)
    assert ds is not None
    for name, kind, path, every, mapping in (
            (STATIC, "gtfs", "gtfs.zip", 86400, {}),
            (LIVE, "gtfs-rt", "realtime.pb", 30, {"position": f"{CENTRE[0]},{CENTRE[1]}"})):
        url = f"{base}/demo/gtfs/{path}"
        if store.get(c, name) is None:
            store.insert(c, {"name": name, "type": kind, "url": url, "dataset_id": ds.id, "every_seconds": every,
                             "cron": None, "mapping": mapping, "secret": None,  # nosec B105 - no secret: a feed to poll
                             **reference(ADMIN), "enabled": 1,
                             "created_at": now, "updated_at": now, "next_run_at": now})
        else:
            store.update(c, name, {"url": url, "next_run_at": now, "lease_owner": None, "lease_until": None})


__all__ = ["gtfs_zip", "realtime", "feed", "ensure", "NAMES", "DATASET"]
