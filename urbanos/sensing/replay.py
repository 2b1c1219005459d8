"""The demo's simulated live counts: a replay of the recorded ones, and the labels that say so.

The value written for "now" at a sensor is the typical (median) recorded count of that sensor on the same weekday
and at the same local hour (Australia/Melbourne) in the bundled data, with a little noise, and never outside the
range recorded for that weekday and hour: night stays quiet and rush hour busy, as they were. A sensor the bundled
data does not hold gets the counts of all sensors for that weekday and hour. Every simulated Observation carries
``parameters.simulated``; the Datastreams fed by the simulation say it in their description and properties.
"""

from __future__ import annotations

import asyncio
import csv
import gzip
import io
import logging
import random
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from urbanos.core import jsontext
from urbanos.core.time import format_stored
from urbanos.sensing.model import ENTITIES
from urbanos.sensing.update import update
from urbanos.sensing.write import Writer

if TYPE_CHECKING:
    from urbanos.platform import Platform
    from urbanos.storage import Connection

log = logging.getLogger("urbanos.sensing")
NOISE = 0.1  # standard deviation of the noise, as a share of the typical count
SIMULATED = "simulated"
SIMULATION = ("Values after the recorded period are simulated by the demo: every few seconds, the typical recorded "
              "count of this sensor for the same weekday and hour (Australia/Melbourne), with a little noise, within "
              "the range recorded for that weekday and hour. Simulated Observations have parameters.simulated = true.")


@dataclass(frozen=True)
class Recorded:
    """Recorded counts by (sensor, weekday, local hour) and by (weekday, local hour) over all sensors, sorted."""

    by_sensor: dict[tuple[int, int, int], tuple[int, ...]]
    by_slot: dict[tuple[int, int], tuple[int, ...]]
    first: str
    last: str

    @property
    def period(self) -> str:
        return f"{self.first}/{self.last}"


def _rows(path: Path) -> Iterable[dict[str, str]]:
    opener = gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")  # noqa: SIM115 - closed below
    with opener as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as fh:
        yield from csv.DictReader(fh)


@lru_cache(maxsize=4)
def recorded_counts(paths: tuple[Path, ...]) -> Recorded:
    """Read the hourly counts CSV files (columns Date_Time, Time, Sensor_ID, Hourly_Counts; local time)."""
    by_sensor: dict[tuple[int, int, int], list[int]] = {}
    by_slot: dict[tuple[int, int], list[int]] = {}
    days: set[str] = set()
    for path in paths:
        for row in _rows(path):
            try:
                day = row["Date_Time"].strip()[:10]
                weekday = date.fromisoformat(day).weekday()
                hour = int(row.get("Time") or row["Date_Time"].strip()[11:13])
                sid, count = int(row["Sensor_ID"]), int(float(row["Hourly_Counts"]))
            except (KeyError, ValueError, TypeError):
                continue
            days.add(day)
            by_sensor.setdefault((sid, weekday, hour), []).append(count)
            by_slot.setdefault((weekday, hour), []).append(count)
    return Recorded({k: tuple(sorted(v)) for k, v in by_sensor.items()}, {k: tuple(sorted(v)) for k, v in by_slot.items()},
                    min(days, default=""), max(days, default=""))


def replay_count(recorded: Recorded, sensor_id: int, local: datetime, rnd: random.Random) -> int:
    """The simulated count of sensor ``sensor_id`` at local time ``local``."""
    slot = (local.weekday(), local.hour)
    counts = recorded.by_sensor.get((sensor_id, *slot)) or recorded.by_slot.get(slot) or (0,)
    typical = statistics.median(counts)
    noisy = rnd.gauss(typical, max(1.0, NOISE * typical))
    return int(round(min(max(noisy, counts[0]), counts[-1])))


def _fed_streams(c: Connection, dataset: str, source: str) -> list[tuple[Any, ...]]:
    """(Datastream id, sensor id, description, properties) of the Datastreams of ``dataset`` from ``source``."""
    src = c.dialect.json_get("t.properties", "source")
    sid = c.dialect.json_get("t.properties", "sensor_id")
    return c.fetchall(f"SELECT d.id, CAST({sid} AS TEXT), d.description, d.properties FROM sta_datastreams d"
                      f" JOIN sta_things t ON t.id = d.thing_id WHERE {src} = ?"
                      " AND t.dataset_id = (SELECT id FROM datasets WHERE name = ?) ORDER BY d.id", (source, dataset))


def label_simulated(c: Connection, dataset: str, source: str, recorded: Recorded) -> int:
    """Say in the description and properties of each Datastream the simulation feeds that its live values are
    simulated (idempotent); returns how many were changed."""
    w = Writer(c, "v1.1")
    changed = 0
    note = (f" Recorded by the City of Melbourne from {recorded.first} to {recorded.last}; the values after that are "
            "simulated by the demo (the recorded counts of the same weekday and hour, with a little noise).")
    for ds, _sid, description, properties in _fed_streams(c, dataset, source):
        props = jsontext.from_column(properties, empty={}) or {}
        text = description or ""
        if SIMULATED in text and props.get(SIMULATED) is True and props.get("simulation") == SIMULATION:
            continue
        base = text.split(" Recorded by the City of Melbourne from ")[0]
        update(w, ENTITIES["Datastream"], int(ds), {"description": base + note, "properties": {
            **props, SIMULATED: True, "simulation": SIMULATION, "recordedPeriod": recorded.period}})
        changed += 1
    return changed


def _tick(c: Connection, *, dataset: str, source: str, recorded: Recorded, rnd: random.Random, now: datetime,
          interval: float, tz: ZoneInfo) -> int:
    w = Writer(c, "v1.1")
    local = now.astimezone(tz)
    streams = _fed_streams(c, dataset, source)
    for ds, sid, _description, _properties in streams:
        try:
            sensor = int(sid)
        except (TypeError, ValueError):
            sensor = -1
        w.create(ENTITIES["Observation"], {
            "result": replay_count(recorded, sensor, local, rnd),
            "phenomenonTime": f"{format_stored(now - timedelta(seconds=interval))}/{format_stored(now)}",
            "resultTime": format_stored(now), "parameters": {SIMULATED: True, "replayOf": f"{local:%A} {local:%H}:00"},
            "Datastream": {"@iot.id": ds}})
    return len(streams)


def _utc_now() -> datetime:
    return datetime.now(UTC)


async def replay(platform: Platform, *, counts: tuple[Path, ...], dataset: str, source: str, tz: ZoneInfo,
                 interval: float = 5.0, stop_after: int | None = None, clock: Callable[[], datetime] | None = None) -> None:
    """Write one simulated Observation per Datastream of ``dataset`` every ``interval`` seconds."""
    recorded = await asyncio.to_thread(recorded_counts, counts)
    rnd = random.Random(7)  # simulated demo values, not a secret  # nosec B311
    rounds = 0
    while stop_after is None or rounds < stop_after:
        rounds += 1
        try:
            await platform.db.write(partial(_tick, dataset=dataset, source=source, recorded=recorded, rnd=rnd,
                                            now=(clock or _utc_now)(), interval=interval, tz=tz))
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a failed tick must not stop the feed
            log.exception("simulated pedestrian feed failed")
        await asyncio.sleep(interval)


__all__ = ["Recorded", "recorded_counts", "replay_count", "label_simulated", "replay", "SIMULATION"]
