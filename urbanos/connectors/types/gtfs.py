"""``gtfs``: a transit agency's static GTFS feed (a zip file at the connector's URL) as Features collections.

* ``stops.txt``: one point feature per stop (``stop_id`` the feature's id, every other column a property) in
  ``<connector>-stops``. Stops of ``location_type`` 3 and 4 (generic nodes, boarding areas) may have no position
  and are kept without a geometry; any other stop needs a WGS84 ``stop_lat``/``stop_lon``.
* ``routes.txt``: one feature per route (no geometry; ``route_id`` the id) in ``<connector>-routes``.
* ``shapes.txt`` (optional in GTFS): one LineString per ``shape_id`` (points ordered by ``shape_pt_sequence``) in
  ``<connector>-shapes``, with the attributes of the route(s) whose trips use the shape (joined through
  ``trips.txt``). A feed without it loads stops and routes; a shapes collection made earlier is left as it is.
* The files GTFS requires (``agency.txt``, ``stops.txt``, ``routes.txt``, ``trips.txt``, ``stop_times.txt``, and
  ``calendar.txt`` or ``calendar_dates.txt``) must be in the zip: a missing one fails the run, naming it.
* A row that cannot be read (a wrong number of fields, no id, a bad position) is counted failed with its line number.
* Each collection is replaced atomically in the run's transaction, and only when a feature changed, appeared or went.
* The zip's members are checked before anything is extracted: a member, or all the members read together, larger
  than ``connectors_gtfs_max_unzipped_bytes`` is refused (a zip bomb reads nothing).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from urbanos.connectors.fetch import FeedError
from urbanos.connectors.types.base import ConnectorType, Job, Writes
from urbanos.connectors.writes import Combined, FeatureWrites
from urbanos.errors import ValidationFailed

REQUIRED = ("agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt")
CALENDARS = ("calendar.txt", "calendar_dates.txt")
READ = ("stops.txt", "routes.txt", "trips.txt", "shapes.txt")
OPTIONS = ("stops", "routes", "shapes")
ROUTE_KEYS = ("route_id", "agency_id", "route_short_name", "route_long_name", "route_type", "route_color",
              "route_text_color")


@dataclass
class Table:
    """The rows of one GTFS file: ``(line number, row)``; rows that could not be read are messages in ``bad``."""

    name: str
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    bad: list[str] = field(default_factory=list)


class Archive:
    """A GTFS zip, its member sizes checked before anything is read."""

    def __init__(self, body: bytes, url: str, limit: int) -> None:
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(body))
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise FeedError(f"{url}: not a GTFS zip file ({exc}); the feed may be truncated") from None
        self.url = url
        self.members = {i.filename: i for i in infos if not i.is_dir() and "/" not in i.filename.strip("/")}
        self.limit = limit

    def check(self) -> None:
        missing = [n for n in REQUIRED if n not in self.members]
        if not any(n in self.members for n in CALENDARS):
            missing.append("calendar.txt or calendar_dates.txt")
        if missing:
            raise FeedError(f"{self.url}: the GTFS feed lacks the required file(s) {', '.join(missing)}")
        total = 0
        for name in READ:
            info = self.members.get(name)
            if info is None:
                continue
            total += info.file_size
            if info.file_size > self.limit or total > self.limit:
                raise FeedError(f"{self.url}: {name} unzips to {info.file_size} bytes; more than "
                                f"connectors_gtfs_max_unzipped_bytes ({self.limit}) is refused")

    def table(self, name: str) -> Table | None:
        info = self.members.get(name)
        if info is None:
            return None
        try:
            with self.zip.open(info) as f:  # reads at most the declared (checked) size
                raw = f.read(self.limit + 1)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError) as exc:
            raise FeedError(f"{self.url}: {name} cannot be unzipped ({exc})") from None
        if len(raw) > self.limit:
            raise FeedError(f"{self.url}: {name} unzips to more than connectors_gtfs_max_unzipped_bytes")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise FeedError(f"{self.url}: {name} is not UTF-8 text ({exc})") from None
        return read_csv(name, text)


def _records(reader: Any) -> Iterator[tuple[list[str] | None, str]]:
    """The rows of a csv reader; a row it cannot read is ``(None, reason)`` and reading goes on."""
    while True:
        try:
            yield next(reader), ""
        except StopIteration:
            return
        except csv.Error as exc:
            yield None, str(exc)


def read_csv(name: str, text: str) -> Table:
    out = Table(name)
    reader = csv.reader(io.StringIO(text, newline=""))
    records = _records(reader)
    header: list[str] | None = None
    for row, error in records:
        if row is not None:
            header = [h.strip() for h in row]
            break
        raise FeedError(f"{name}: the header cannot be read ({error})")
    if not header:
        return out
    width = len(header)
    for row, error in records:
        line = reader.line_num
        if row is None:
            out.bad.append(f"{name} line {line}: {error}")
        elif len(row) == width:
            out.rows.append((line, dict(zip(header, map(str.strip, row), strict=True))))
        elif len(row) > 1 or row and row[0].strip():
            out.bad.append(f"{name} line {line}: {len(row)} fields where the header has {width}")
        # else: a blank line
    return out


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def stop_features(table: Table, collection: str) -> FeatureWrites:
    out = FeatureWrites(collection, bad=list(table.bad))
    for line, row in table.rows:
        sid = row.get("stop_id", "")
        lat, lon = _float(row.get("stop_lat")), _float(row.get("stop_lon"))
        if not sid:
            out.bad.append(f"stops.txt line {line}: no stop_id")
            continue
        geometry = None
        if lat is not None and lon is not None and -90 <= lat <= 90 and -180 <= lon <= 180:
            geometry = {"type": "Point", "coordinates": [lon, lat]}
        elif row.get("location_type") not in ("3", "4") or row.get("stop_lat") or row.get("stop_lon"):
            out.bad.append(f"stops.txt line {line}: stop {sid} has no valid stop_lat/stop_lon")
            continue
        props = {k: v for k, v in row.items() if k not in ("stop_id", "stop_lat", "stop_lon")}
        out.features[sid] = {"type": "Feature", "properties": {"stop_id": sid, **props},
                             "geometry": geometry}
    return out


def route_features(table: Table, collection: str) -> tuple[FeatureWrites, dict[str, dict[str, str]]]:
    out = FeatureWrites(collection, bad=list(table.bad))
    routes: dict[str, dict[str, str]] = {}
    for line, row in table.rows:
        rid = row.get("route_id", "")
        if not rid:
            out.bad.append(f"routes.txt line {line}: no route_id")
            continue
        routes[rid] = row
        out.features[rid] = {"type": "Feature", "properties": dict(row), "geometry": None}
    return out, routes


def shape_routes(trips: Table | None) -> dict[str, list[str]]:
    """The routes whose trips follow each shape (in order of first use)."""
    out: dict[str, list[str]] = {}
    for _, row in trips.rows if trips else []:
        shape, route = row.get("shape_id", ""), row.get("route_id", "")
        if shape and route and route not in out.setdefault(shape, []):
            out[shape].append(route)
    return out


def shape_features(table: Table, collection: str, routes: dict[str, dict[str, str]],
                   used: dict[str, list[str]]) -> FeatureWrites:
    out = FeatureWrites(collection, bad=list(table.bad))
    points: dict[str, list[tuple[float, float, float]]] = {}
    for line, row in table.rows:
        sid = row.get("shape_id", "")
        lat, lon = _float(row.get("shape_pt_lat")), _float(row.get("shape_pt_lon"))
        seq = _float(row.get("shape_pt_sequence"))
        if not sid or seq is None or lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
            out.bad.append(f"shapes.txt line {line}: needs shape_id, shape_pt_sequence and a WGS84 position")
            continue
        points.setdefault(sid, []).append((seq, lon, lat))
    for sid, pts in points.items():
        pts.sort()
        if len(pts) < 2:
            out.bad.append(f"shapes.txt: shape {sid} has fewer than two points")
            continue
        ids = used.get(sid, [])
        first = routes.get(ids[0], {}) if ids else {}
        props: dict[str, Any] = {"shape_id": sid, "route_ids": ",".join(ids),
                                 **{k: first[k] for k in ROUTE_KEYS if k in first}}
        out.features[sid] = {"type": "Feature", "properties": props,
                             "geometry": {"type": "LineString", "coordinates": [[lon, lat] for _, lon, lat in pts]}}
    return out


class GtfsType(ConnectorType):
    name = "gtfs"

    def check(self, url: str, mapping: Any) -> dict[str, Any]:
        m = mapping or {}
        if not isinstance(m, dict) or any(k not in OPTIONS or not isinstance(v, str) or not v for k, v in m.items()):
            raise ValidationFailed("A gtfs connector's mapping may only name the stops, routes and shapes "
                                   "collections (text).", detail={"mapping": list(OPTIONS)})
        return dict(m)

    async def collect(self, job: Job) -> Writes:
        assert job.fetcher is not None
        url = job.connector.url
        archive = Archive(await job.fetcher.get(url), url, int(job.platform.settings.connectors_gtfs_max_unzipped_bytes))
        archive.check()
        names = {k: str(job.connector.mapping.get(k) or f"{job.connector.name}-{k}") for k in OPTIONS}
        tables: dict[str, Table | None] = {}
        for i, member in enumerate(READ, start=1):
            tables[member] = archive.table(member)
            job.tick(i, len(READ))
        stops, routes_t = tables["stops.txt"], tables["routes.txt"]
        assert stops is not None and routes_t is not None  # required, checked above
        routes, by_id = route_features(routes_t, names["routes"])
        out = Combined([stop_features(stops, names["stops"]), routes])
        shapes = tables["shapes.txt"]
        if shapes is not None:
            out.parts.append(shape_features(shapes, names["shapes"], by_id, shape_routes(tables["trips.txt"])))
        return out


__all__ = ["GtfsType", "Archive", "read_csv", "REQUIRED"]
