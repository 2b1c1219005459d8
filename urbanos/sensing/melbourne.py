"""Melbourne pedestrian counting: importer, demo data and simulated live counts.

Source: City of Melbourne, Pedestrian Counting System (hourly counts and sensor locations), licensed
CC BY 4.0. One Thing per sensor with its Location, one Datastream in persons per hour, and one
Observation per hour whose phenomenonTime is the interval of that local hour converted to UTC
(Australia/Melbourne, daylight saving included: the repeated hour at the end of summer time is one
two-hour interval, the skipped hour at its start does not exist).
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from urbanos.core.time import format_stored, now_stored
from urbanos.errors import ValidationFailed
from urbanos.plugins import Importer
from urbanos.sensing.describe import describe_api
from urbanos.sensing.envelope import track_many
from urbanos.sensing.model import ENTITIES
from urbanos.sensing.replay import label_simulated, recorded_counts, replay
from urbanos.sensing.write import Writer

if TYPE_CHECKING:
    from urbanos.platform import Platform
    from urbanos.storage import Connection

log = logging.getLogger("urbanos.sensing")
TZ = ZoneInfo("Australia/Melbourne")
DEMO_DATASET = "melbourne-pedestrian-counts"
DEMO_DIR = Path(__file__).parent / "demo_data"
SOURCE = "melbourne-pedestrian"
ATTRIBUTION = "City of Melbourne, Pedestrian Counting System (CC BY 4.0)"
COUNT_TYPE = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_CountObservation"
CHUNK = 4000


def _open(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115


def _header(path: Path) -> list[str]:
    try:
        with _open(path) as fh:
            return [h.strip().lower() for h in next(csv.reader(fh), [])]
    except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile):
        return []


def _kind(path: Path) -> str:
    h = _header(path)
    if "hourly_counts" in h and "sensor_id" in h and "date_time" in h:
        return "counts"
    if "sensor_id" in h and "latitude" in h and "longitude" in h:
        return "locations"
    return ""


def _files(path: str) -> tuple[list[Path], Path | None]:
    p = Path(path)
    cands = sorted(p.iterdir()) if p.is_dir() else [p, *sorted(p.parent.iterdir())]
    counts = [f for f in cands if f.is_file() and f.name.endswith((".csv", ".csv.gz")) and _kind(f) == "counts"]
    locs = [f for f in cands if f.is_file() and f.name.endswith((".csv", ".csv.gz")) and _kind(f) == "locations"]
    if p.is_file() and _kind(p) == "counts":
        counts = [p]
    return list(dict.fromkeys(counts)), (locs[0] if locs else None)


def local_hour_interval(day: str, hour: int) -> tuple[str, str]:
    """UTC start and end of local hour ``hour`` on ``day`` (YYYY-MM-DD) in Melbourne."""
    naive = datetime.fromisoformat(day).replace(hour=0) + timedelta(hours=hour)
    start = naive.replace(tzinfo=TZ, fold=0).astimezone(UTC)
    end = (naive + timedelta(hours=1)).replace(tzinfo=TZ, fold=0).astimezone(UTC)
    return format_stored(start), format_stored(end)


def _read_counts(files: list[Path]) -> Iterator[tuple[int, str, str, str, int]]:
    for f in files:
        with _open(f) as fh:
            for row in csv.DictReader(fh):
                try:
                    sid = int(row["Sensor_ID"])
                    dt = row["Date_Time"].strip()
                    day = dt[:10]
                    hour = int(row.get("Time") or dt[11:13])
                    count = int(float(row["Hourly_Counts"]))
                except (KeyError, ValueError, TypeError):
                    continue
                start, end = local_hour_interval(day, hour)
                yield sid, (row.get("Sensor_Name") or "").strip(), start, end, count


def _read_locations(path: Path | None) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    if path is None:
        return out
    with _open(path) as fh:
        for row in csv.DictReader(fh):
            try:
                out[int(row["sensor_id"])] = {"description": row.get("sensor_description", "").strip(),
                                              "lat": float(row["latitude"]), "lon": float(row["longitude"]),
                                              "code": row.get("sensor_name", "").strip(),
                                              "installed": row.get("installation_date", "").strip()}
            except (KeyError, ValueError):
                continue
    return out


def ensure_dataset(conn: Connection, name: str) -> int:
    row = conn.fetchone("SELECT id FROM datasets WHERE name = ?", (name,))
    if row:
        return int(row[0])
    now = now_stored()
    title = "Melbourne pedestrian counts" if name == DEMO_DATASET else name
    return int(conn.insert("datasets", {"name": name, "title": title, "access_level": "open", "created_at": now,
                                        "modified_at": now}))


def _ensure_stream(w: Writer, dataset_id: int, sid: int, name: str, loc: dict[str, Any] | None) -> tuple[int, str | None]:
    c = w.c
    key = c.dialect.json_get("t.properties", "sensor_id")
    src = c.dialect.json_get("t.properties", "source")
    row = c.fetchone(f"SELECT d.id, d.last_phen FROM sta_things t JOIN sta_datastreams d ON d.thing_id = t.id"
                     f" WHERE {src} = ? AND CAST({key} AS TEXT) = ? AND t.dataset_id = ? ORDER BY d.id LIMIT 1",
                     (SOURCE, str(sid), dataset_id))
    if row:
        return int(row[0]), row[1]
    sensor = c.fetchval("SELECT id FROM sta_sensors WHERE name = ? ORDER BY id LIMIT 1", ("Pedestrian counting sensor",))
    prop = c.fetchval("SELECT id FROM sta_observed_properties WHERE name = ? ORDER BY id LIMIT 1", ("Pedestrian count",))
    title = (loc or {}).get("description") or name or f"Sensor {sid}"
    body: dict[str, Any] = {
        "name": title, "description": f"Pedestrian counting sensor {sid} ({title}), City of Melbourne",
        "properties": {"source": SOURCE, "sensor_id": sid, "code": (loc or {}).get("code"),
                       "installed": (loc or {}).get("installed"), "attribution": ATTRIBUTION, "license": "CC-BY-4.0"},
        "dataset_id": dataset_id,
        "Datastreams": [{
            "name": f"Pedestrians per hour at {title}", "description": "Hourly pedestrian count, both directions",
            "observationType": COUNT_TYPE,
            "unitOfMeasurement": {"name": "persons per hour", "symbol": "1/h",
                                  "definition": "http://qudt.org/vocab/unit/PER-HR"},
            "Sensor": {"@iot.id": sensor} if sensor else {
                "name": "Pedestrian counting sensor", "description": "Automated pedestrian counter (City of Melbourne)",
                "encodingType": "text/html",
                "metadata": "https://data.melbourne.vic.gov.au/explore/dataset/pedestrian-counting-system-sensor-locations/"},
            "ObservedProperty": {"@iot.id": prop} if prop else {
                "name": "Pedestrian count", "definition": "https://data.melbourne.vic.gov.au/pedestrian-count",
                "description": "Number of people passing the sensor in both directions"},
        }],
    }
    if loc:
        body["Locations"] = [{"name": title, "description": f"Sensor {sid}", "encodingType": "application/geo+json",
                              "location": {"type": "Point", "coordinates": [loc["lon"], loc["lat"]]}}]
    tid = w.create(ENTITIES["Thing"], body)
    return int(c.fetchval("SELECT id FROM sta_datastreams WHERE thing_id = ?", (tid,))), None


def _new_stream(c: Connection, *, dataset_id: int, sid: int, name: str, loc: dict[str, Any] | None) -> tuple[int, str | None]:
    return _ensure_stream(Writer(c, "v1.1"), dataset_id, sid, name, loc)


def insert_counts(w: Writer, ds: int, rows: list[tuple[str, str, int]]) -> int:
    """Bulk insert (start, end, count) Observations into Datastream ``ds``; returns how many."""
    if not rows:
        return 0
    c = w.c
    thing_id = c.fetchval("SELECT thing_id FROM sta_datastreams WHERE id = ?", (ds,))
    try:
        foi = w.feature_for(thing_id)
    except Exception:  # noqa: BLE001 - a sensor without coordinates gets a feature of its own
        foi = w.insert("sta_features", {"name": "Unknown location", "encoding_type": "application/geo+json",
                                        "feature": c.dialect.json_param({"type": "Point", "coordinates": [0, 0]})})
    cols = "phen_start, phen_end, result, result_num, datastream_id, feature_id"
    ids: list[int] = []
    for i in range(0, len(rows), 500):
        part = rows[i : i + 500]
        marks = ", ".join(["(?, ?, ?, ?, ?, ?)"] * len(part))
        params: list[Any] = []
        for s, e, n in part:
            params += [s, e, str(n), float(n), ds, foi]
        ids += [int(r[0]) for r in c.execute(f"INSERT INTO sta_observations ({cols}) VALUES {marks} RETURNING id",
                                             params).fetchall()]
    latest_start = max(r[0] for r in rows)
    latest_id = min(i for r, i in zip(rows, ids, strict=True) if r[0] == latest_start)  # ties: the first
    track_many(c, "sta_datastreams", ds, min(r[0] for r in rows), max(r[1] for r in rows), latest_id, latest_start,
               None, None)
    return len(rows)


def import_melbourne(platform: Platform, path: str, dataset: str, progress: bool = True) -> dict[str, Any]:
    counts_files, loc_file = _files(path)
    if not counts_files:
        raise ValidationFailed(f"{path}: no Melbourne pedestrian hourly counts CSV found. Fix: point at the folder or "
                               "a file with Date_Time, Sensor_ID and Hourly_Counts columns.")
    locs = _read_locations(loc_file)
    db = platform.db
    dataset_id = db.write_sync(lambda c: ensure_dataset(c, dataset))
    streams: dict[int, tuple[int, str | None]] = {}
    pending: dict[int, list[tuple[str, str, int]]] = {}
    total = skipped = 0
    bar = _progress(progress)
    task = bar.add_task("Melbourne pedestrian counts", total=None) if bar else None

    def flush() -> None:
        nonlocal total
        batch = {k: v for k, v in pending.items() if v}
        pending.clear()

        def tx(c: Connection) -> int:
            w = Writer(c, "v1.1")
            return sum(insert_counts(w, streams[sid][0], rows) for sid, rows in batch.items())

        n = db.write_sync(tx)
        total += n
        if bar and task is not None:
            bar.update(task, advance=n)

    if bar:
        bar.start()
    try:
        for sid, name, start, end, count in _read_counts(counts_files):
            if sid not in streams:
                streams[sid] = db.write_sync(partial(_new_stream, dataset_id=dataset_id, sid=sid, name=name,
                                                     loc=locs.get(sid)))
            last = streams[sid][1]
            if last is not None and start <= last:
                skipped += 1
                continue
            pending.setdefault(sid, []).append((start, end, count))
            if sum(len(v) for v in pending.values()) >= CHUNK:
                flush()
        flush()
    finally:
        if bar:
            bar.stop()
    return {"dataset": dataset, "things": len(streams), "observations": total, "skipped (already loaded)": skipped,
            "attribution": ATTRIBUTION}


def _progress(enabled: bool) -> Any:
    if not enabled or not sys.stderr.isatty():
        return None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    transient=False)


class MelbourneImporter(Importer):
    name = "melbourne-pedestrian"
    description = "City of Melbourne pedestrian counting CSV (hourly counts and sensor locations) into SensorThings."

    def score(self, path: str) -> int:
        p = Path(path)
        try:
            if p.is_dir():
                return 90 if _files(path)[0] else 0
            return 90 if p.is_file() and _kind(p) == "counts" else 0
        except OSError:
            return 0

    def run(self, platform: Platform, path: str, dataset: str, options: dict[str, Any]) -> dict[str, Any]:
        return import_melbourne(platform, path, dataset)


def load_demo(platform: Platform) -> None:
    """Load the packaged subset (idempotent) into the dataset ``melbourne-pedestrian-counts``, and say on its
    Datastreams that the demo's live values are simulated."""
    import_melbourne(platform, str(DEMO_DIR), DEMO_DATASET, progress=False)
    recorded = recorded_counts(tuple(_files(str(DEMO_DIR))[0]))
    platform.db.write_sync(lambda c: label_simulated(c, DEMO_DATASET, SOURCE, recorded))
    describe_api(platform, DEMO_DATASET, SOURCE)  # its SensorThings API as a distribution in the catalogue


async def live(platform: Platform, interval: float = 5.0, stop_after: int | None = None,
               clock: Callable[[], datetime] | None = None) -> None:
    """Keep a simulated live count flowing into the demo dataset's Datastreams every ``interval`` seconds: the
    recorded counts of the same weekday and hour, replayed (:mod:`urbanos.sensing.replay`)."""
    await replay(platform, counts=tuple(_files(str(DEMO_DIR))[0]), dataset=DEMO_DATASET, source=SOURCE, tz=TZ,
                 interval=interval, stop_after=stop_after, clock=clock)


__all__ = ["MelbourneImporter", "import_melbourne", "load_demo", "live", "local_hour_interval", "DEMO_DATASET"]
