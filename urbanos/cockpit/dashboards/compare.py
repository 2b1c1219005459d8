"""Comparisons in time, computed on the server from SensorThings queries made as the viewer: a value against the
same hour on the four preceding same weekdays, an hourly day against its 4-week and 52-week averages, and a total
against the same hour a year (52 weeks) earlier.

Where the data holds no values for a comparison, the comparison says so (a note) instead of inventing one. When the
four preceding same weekdays hold no data (a demo whose recorded history ends before its simulated live values),
the four latest same weekdays on record before them are compared, and the note names their dates."""

from __future__ import annotations

import asyncio
import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from urbanos.cockpit.dashboards.data import Item, Reader, number, start_of
from urbanos.core.time import format_stored, parse_lenient

if TYPE_CHECKING:
    from urbanos.cockpit.dashboards.model import Panel

Window = tuple[datetime, datetime]


@dataclass
class Comparison:
    """Reference values by Datastream id, what they are (``days``: the local dates compared), and notes."""

    values: dict[int, float] = field(default_factory=dict)
    days: list[date] = field(default_factory=list)
    hour: int | None = None
    fallback: bool = False
    missing: bool = False


def local_hour(stamp: str, tz: ZoneInfo) -> datetime:
    t = parse_lenient(stamp).astimezone(tz)
    return t.replace(minute=0, second=0, microsecond=0)


def hour_window(day: date, hour: int, tz: ZoneInfo, hours: int = 1) -> Window:
    start = datetime(day.year, day.month, day.day, hour, tzinfo=tz)
    return start.astimezone(UTC), (start + timedelta(hours=hours)).astimezone(UTC)


def windows_filter(windows: list[Window]) -> str:
    return " or ".join(f"(phenomenonTime ge {format_stored(a)} and phenomenonTime lt {format_stored(b)})"
                       for a, b in windows)


def latest(items: list[Item]) -> str:
    return max((it.time for it in items if it.time), default="")


async def _means(reader: Reader, panel: Panel, windows: list[Window], per: int = 500) -> dict[int, float]:
    """The mean value of each Datastream of the panel over ``windows``."""
    q = panel.sta_query
    q["$select"] = "id"
    q["$top"] = str(min(panel.limit, 1000))
    q["$expand"] = f"Observations($filter={windows_filter(windows)};$select=result;$top={per})"
    body = await reader.sta(panel.sta_path, q)
    out: dict[int, float] = {}
    for ds in body.get("value") or []:
        vals = [n for o in ds.get("Observations") or [] if (n := number(o.get("result"))) is not None]
        if vals:
            out[int(ds["@iot.id"])] = statistics.fmean(vals)
    return out


async def _last_before(reader: Reader, panel: Panel, before: datetime) -> str:
    q = panel.sta_query
    q["$select"] = "id"
    q["$top"] = str(min(panel.limit, 1000))
    q["$expand"] = (f"Observations($filter=phenomenonTime lt {format_stored(before)};$orderby=phenomenonTime desc;"
                    "$top=1;$select=phenomenonTime)")
    body = await reader.sta(panel.sta_path, q)
    times = [start_of(o.get("phenomenonTime")) for ds in body.get("value") or [] for o in ds.get("Observations") or []]
    return max(times, default="")


def _weekdays_before(day: date, weeks: int) -> list[date]:
    return [day - timedelta(days=7 * k) for k in range(1, weeks + 1)]


async def weekdays(reader: Reader, panel: Panel, items: list[Item], tz: ZoneInfo, weeks: int = 4) -> Comparison:
    """Each Datastream's mean at the hour of the panel's latest value on the ``weeks`` preceding same weekdays."""
    ref = latest(items)
    if not ref:
        return Comparison(missing=True)
    at = local_hour(ref, tz)
    days = _weekdays_before(at.date(), weeks)
    values = await _means(reader, panel, [hour_window(d, at.hour, tz) for d in days])
    if values:
        return Comparison(values, days, at.hour)
    last = await _last_before(reader, panel, hour_window(days[-1], at.hour, tz)[0])
    if not last:
        return Comparison(days=days, hour=at.hour, missing=True)
    anchor = parse_lenient(last).astimezone(tz).date()
    anchor -= timedelta(days=(anchor.weekday() - at.weekday()) % 7)
    days = [anchor] + _weekdays_before(anchor, weeks - 1)
    values = await _means(reader, panel, [hour_window(d, at.hour, tz) for d in days])
    return Comparison(values, days, at.hour, fallback=True, missing=not values)


async def previous_year(reader: Reader, panel: Panel, items: list[Item], tz: ZoneInfo) -> Comparison:
    """Each Datastream's mean at the same local hour 52 weeks before the panel's latest value (the same weekday)."""
    ref = latest(items)
    if not ref:
        return Comparison(missing=True)
    at = local_hour(ref, tz)
    day = at.date() - timedelta(weeks=52)
    values = await _means(reader, panel, [hour_window(day, at.hour, tz)])
    return Comparison(values, [day], at.hour, missing=not values)


@dataclass
class DayProfile:
    """The hourly means of one Datastream on one local day, with the 4-week and 52-week averages by hour."""

    day: date
    hours: list[float | None]
    avg4: list[float | None]
    avg52: list[float | None]
    days4: list[date]
    fallback4: bool
    weeks52: int  # how many of the 52 preceding same weekdays are on record (52: the average is drawn)
    first: str


async def _hourly(reader: Reader, ds: int, windows: list[Window], tz: ZoneInfo,
                  pages: int = 4) -> tuple[list[float | None], int]:
    """The mean by local hour of Datastream ``ds`` over ``windows`` (at most ``pages`` thousand values), and on how
    many local days there were values."""
    sums: dict[int, list[float]] = {}
    days: set[date] = set()
    skip = 0
    for _ in range(pages):
        body = await reader.sta(f"Datastreams({ds})/Observations", {
            "$filter": windows_filter(windows), "$select": "result,phenomenonTime", "$top": "1000",
            "$skip": str(skip), "$orderby": "phenomenonTime desc"})
        rows = body.get("value") or []
        for o in rows:
            if (n := number(o.get("result"))) is not None:
                local = parse_lenient(start_of(o.get("phenomenonTime"))).astimezone(tz)
                sums.setdefault(local.hour, []).append(n)
                days.add(local.date())
        if len(rows) < 1000:
            break
        skip += 1000
    return [statistics.fmean(sums[h]) if h in sums else None for h in range(24)], len(days)


async def _hour_mean(reader: Reader, ds: int, window: Window) -> float | None:
    body = await reader.sta(f"Datastreams({ds})/Observations", {
        "$filter": windows_filter([window]), "$select": "result", "$top": "60", "$orderby": "phenomenonTime desc"})
    vals = [n for o in body.get("value") or [] if (n := number(o.get("result"))) is not None]
    return statistics.fmean(vals) if vals else None


async def _day_hours(reader: Reader, ds: int, day: date, tz: ZoneInfo) -> list[float | None]:
    """The mean of each local hour of ``day``: from one read when the day holds up to 1,000 values, else of the
    latest 60 values of each hour (a live feed writes many an hour)."""
    hours, _ = await _hourly(reader, ds, [_days(day, tz)], tz, pages=1)
    body = await reader.sta(f"Datastreams({ds})/Observations", {
        "$filter": windows_filter([_days(day, tz)]), "$select": "result", "$top": "1", "$skip": "1000"})
    if not body.get("value"):
        return hours
    return list(await asyncio.gather(*(_hour_mean(reader, ds, hour_window(day, h, tz)) for h in range(24))))


def _days(day: date, tz: ZoneInfo) -> Window:
    return hour_window(day, 0, tz, 24)


async def day_profile(reader: Reader, ds: int, ref: str, tz: ZoneInfo) -> DayProfile:
    day = parse_lenient(ref).astimezone(tz).date()
    hours = await _day_hours(reader, ds, day, tz)
    days4 = _weekdays_before(day, 4)
    avg4, seen4 = await _hourly(reader, ds, [_days(d, tz) for d in days4], tz)
    fallback = False
    if not seen4:
        last = await reader.sta(f"Datastreams({ds})/Observations", {
            "$filter": f"phenomenonTime lt {format_stored(_days(days4[-1], tz)[0])}",
            "$orderby": "phenomenonTime desc", "$top": "1", "$select": "phenomenonTime"})
        stamp = start_of((last.get("value") or [{}])[0].get("phenomenonTime"))
        if stamp:
            anchor = parse_lenient(stamp).astimezone(tz).date()
            anchor -= timedelta(days=(anchor.weekday() - day.weekday()) % 7)
            days4 = [anchor] + _weekdays_before(anchor, 3)
            avg4, _ = await _hourly(reader, ds, [_days(d, tz) for d in days4], tz)
            fallback = True
    days52 = _weekdays_before(day, 52)
    avg52, weeks52 = await _hourly(reader, ds, [_days(d, tz) for d in days52], tz, pages=2)
    if weeks52 < 52:
        avg52 = [None] * 24  # not a 52-week average: said on the page instead
    elif weeks52 == 52:
        avg52, weeks52 = await _hourly(reader, ds, [_days(d, tz) for d in days52], tz, pages=12)
    first_body = await reader.sta(f"Datastreams({ds})/Observations", {
        "$orderby": "phenomenonTime asc", "$top": "1", "$select": "phenomenonTime"})
    first = start_of((first_body.get("value") or [{}])[0].get("phenomenonTime"))
    return DayProfile(day, hours, avg4, avg52, days4, fallback, weeks52, first)


def ratio_class(value: float | None, ref: float | None) -> str:
    """How a value stands against its reference: ``low`` (under 80 %), ``normal``, ``high`` (over 120 %), ``none``."""
    if value is None or ref is None or ref <= 0:
        return "none"
    r = value / ref
    return "low" if r < 0.8 else "high" if r > 1.2 else "normal"


__all__ = ["Comparison", "DayProfile", "weekdays", "previous_year", "day_profile", "ratio_class", "local_hour"]
