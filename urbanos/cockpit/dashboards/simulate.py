"""The demo's live feeds for the parking, bins and air-quality dashboards: one tick every few seconds writes a few
plausible Observations through the SensorThings service (as the platform's admin), so they reach the dashboards over
MQTT like any sensor's. Bounded and cheap: at most one Observation per Datastream per tick.

* parking: each tick a few bays change, drawn towards the share of bays taken at that hour of the day;
* bins: every bin fills a little each tick and is emptied (to a few percent) when a collection passes it;
* air quality: a daily pattern (traffic peaks for NO2, evening particles) with a little noise.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from urbanos.cockpit.dashboards.data import number
from urbanos.cockpit.dashboards.demo import AIR, BIN, PARKING, POLLUTANTS, air_level, occupancy_target
from urbanos.core.time import format_stored
from urbanos.governance import ADMIN
from urbanos.ports import SensingPort

if TYPE_CHECKING:
    from urbanos.platform import Platform

log = logging.getLogger("urbanos.cockpit.dashboards")
TZ = ZoneInfo("Australia/Melbourne")
V = "v1.1"
BASES = {code: base for code, _label, base in POLLUTANTS}


@dataclass
class Feed:
    """The Datastreams of the simulated sensors and their last values."""

    parking: dict[int, float] = field(default_factory=dict)
    bins: dict[int, float] = field(default_factory=dict)
    air: dict[int, tuple[str, float]] = field(default_factory=dict)  # id -> (pollutant, station factor)


async def discover(platform: Platform) -> Feed:
    sensing = platform.require(SensingPort)
    feed = Feed()
    for kind in (PARKING, BIN, AIR):
        body = await sensing.read_path(V, "Datastreams", {
            "$filter": f"Thing/properties/source eq '{kind.source}'", "$top": "1000", "$select": "id,properties",
            "$orderby": "id", "$expand": "Observations($orderby=phenomenonTime desc;$top=1;$select=result)"}, ADMIN, "")
        for i, ds in enumerate(body.get("value") or []):
            obs = ds.get("Observations") or [{}]
            last = number(obs[0].get("result")) or 0.0
            if kind is PARKING:
                feed.parking[int(ds["@iot.id"])] = last
            elif kind is BIN:
                feed.bins[int(ds["@iot.id"])] = last
            else:
                code = str((ds.get("properties") or {}).get("pollutant") or "NO2")
                feed.air[int(ds["@iot.id"])] = (code, 1 + 0.15 * (i // 3))
    return feed


def tick(feed: Feed, now: datetime, rnd: random.Random) -> list[tuple[int, float]]:
    """The Observations of one tick: (Datastream id, result)."""
    local = now.astimezone(TZ)
    hour = local.hour + local.minute / 60
    out: list[tuple[int, float]] = []
    target = occupancy_target(hour)
    for ds, v in feed.parking.items():
        if rnd.random() < 0.08:
            new = 1.0 if rnd.random() < target else 0.0
            if new != v:
                feed.parking[ds] = new
                out.append((ds, new))
    for ds, v in feed.bins.items():
        level = v + rnd.uniform(0.0, 1.2)
        if level >= 100 or (level > 85 and rnd.random() < 0.05):
            level = rnd.uniform(1.0, 6.0)  # emptied by a collection round
        feed.bins[ds] = round(min(level, 100.0), 1)
        out.append((ds, feed.bins[ds]))
    for ds, (code, factor) in feed.air.items():
        v = air_level(BASES.get(code, 10.0) * factor, hour, code) * rnd.uniform(0.9, 1.1)
        out.append((ds, round(v, 1)))
    return out


async def run(platform: Platform, interval: float = 5.0, stop_after: int | None = None,
              clock: Callable[[], datetime] | None = None) -> None:
    """Feed the simulated sensors every ``interval`` seconds until cancelled (or after ``stop_after`` ticks)."""
    if platform.optional(SensingPort) is None:
        return
    sensing = platform.require(SensingPort)
    rnd = random.Random(11)  # simulated demo values, not a secret  # nosec B311
    feed: Feed | None = None
    rounds = 0
    while stop_after is None or rounds < stop_after:
        rounds += 1
        try:
            if feed is None or not (feed.parking or feed.bins or feed.air):
                feed = await discover(platform)
            now = (clock or _now)()
            for ds, value in tick(feed, now, rnd):
                body: dict[str, Any] = {"result": value, "phenomenonTime": format_stored(now),
                                        "parameters": {"simulated": True}}
                await sensing.create_at_path(V, f"Datastreams({ds})/Observations", body, ADMIN, "")
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a failed tick must not stop the feed
            log.exception("simulated dashboards feed failed")
            feed = None
        await asyncio.sleep(interval)


def _now() -> datetime:
    return datetime.now(UTC)


__all__ = ["run", "tick", "discover", "Feed"]
