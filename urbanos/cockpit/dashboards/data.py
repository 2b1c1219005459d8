"""What a panel shows, read as its viewer: SensorThings through :meth:`urbanos.ports.SensingPort.read_path` and OGC
API Features through :meth:`urbanos.ports.FeaturesPort.preview`, so the gate, privacy transforms, audit and usage
apply exactly as to the viewer's own request; a dashboard never shows what its viewer may not read."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from urbanos.core.jsontext import from_column
from urbanos.core.time import format_stored, parse_lenient
from urbanos.errors import NotFound, UrbanosError
from urbanos.ports import FeaturesPort, SensingPort

if TYPE_CHECKING:
    from urbanos.cockpit.dashboards.model import Panel
    from urbanos.governance import Identity
    from urbanos.platform import Platform

VERSION = "v1.1"
LATEST = "Observations($orderby=phenomenonTime desc;$top=1;$select=result,phenomenonTime)"
EXPAND = f"Thing($select=id,name,properties;$expand=Locations($select=location)),{LATEST}"
OBS_IN_PATH = re.compile(r"^Datastreams\((\d+)\)/Observations$")


@dataclass
class Item:
    """One Datastream (or feature) of a panel: where it is, and its latest value."""

    id: int | str
    name: str
    thing: str = ""
    unit: str = ""
    lon: float | None = None
    lat: float | None = None
    value: float | None = None
    text: str = ""
    time: str = ""
    props: dict[str, Any] = field(default_factory=dict)
    live: bool = False  # a SensorThings Datastream: updated over MQTT


@dataclass
class Series:
    datastream: int | None
    name: str
    unit: str
    points: list[tuple[str, float]]


def number(v: Any) -> float | None:
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, int | float):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return None
    return None


def start_of(t: Any) -> str:
    """The start of a SensorThings time (an instant, or an interval ``start/end``)."""
    return str(t or "").split("/")[0]


def _point(loc: Any) -> tuple[float | None, float | None]:
    geom = from_column(loc)
    if isinstance(geom, dict) and geom.get("type") == "Feature":
        geom = geom.get("geometry")
    if not isinstance(geom, dict):
        return None, None
    if geom.get("type") != "Point":
        return None, None
    c = geom.get("coordinates")
    try:
        return float(c[0]), float(c[1])  # type: ignore[index]
    except (TypeError, ValueError, IndexError):
        return None, None


def item_of(ds: dict[str, Any]) -> Item:
    thing = ds.get("Thing") or {}
    locs = thing.get("Locations") or []
    lon, lat = _point(locs[0].get("location")) if locs else (None, None)
    obs = ds.get("Observations") or []
    latest = obs[0] if obs else {}
    unit = ds.get("unitOfMeasurement") or {}
    props = {**(thing.get("properties") or {}), **(ds.get("properties") or {})}
    result = latest.get("result")
    return Item(id=int(ds["@iot.id"]), name=str(ds.get("name") or ""), thing=str(thing.get("name") or ""),
                unit=str(unit.get("symbol") or unit.get("name") or ""), lon=lon, lat=lat, value=number(result),
                text="" if result is None else str(result), time=start_of(latest.get("phenomenonTime")), props=props,
                live=True)


class Reader:
    """Reads a panel's source as one viewer."""

    def __init__(self, platform: Platform, identity: Identity, base_url: str) -> None:
        self.platform = platform
        self.identity = identity
        self.base_url = base_url
        self.memo: dict[tuple[str, tuple[tuple[str, str], ...]], asyncio.Future[dict[str, Any]]] = {}

    async def sta(self, path: str, query: dict[str, str]) -> dict[str, Any]:
        """The SensorThings answer for ``path`` and ``query`` as the viewer; panels of one page that ask the same
        share one read (the answers are read, never changed)."""
        key = (path, tuple(sorted(query.items())))
        task = self.memo.get(key)
        if task is None:
            sensing = self.platform.require(SensingPort)
            task = asyncio.ensure_future(sensing.read_path(VERSION, path, dict(query), self.identity, self.base_url))
            self.memo[key] = task
        return await asyncio.shield(task)

    async def datastreams(self, panel: Panel, expand: str = EXPAND) -> list[Item]:
        q = panel.sta_query
        q.setdefault("$expand", expand)
        q.setdefault("$top", str(min(panel.limit, 1000)))
        try:
            body = await self.sta(panel.sta_path, q)
        except NotFound:
            return []
        return [item_of(ds) for ds in body.get("value") or [] if isinstance(ds, dict) and "@iot.id" in ds]

    async def observations(self, panel: Panel) -> Series:
        q = panel.sta_query
        q.setdefault("$orderby", "phenomenonTime desc")
        q.setdefault("$top", str(min(panel.limit, 1000)))
        q.setdefault("$select", "result,phenomenonTime")
        m = OBS_IN_PATH.match(panel.sta_path)
        try:
            body = await self.sta(panel.sta_path, q)
        except NotFound:
            body = {}
        points = [(start_of(o.get("phenomenonTime")), n) for o in body.get("value") or []
                  if isinstance(o, dict) and (n := number(o.get("result"))) is not None]
        points.sort()
        return Series(int(m.group(1)) if m else None, panel.title, panel.unit, points)

    async def series(self, panel: Panel, hours: int) -> list[Series]:
        """One series per Datastream of the panel (at most 8): its values over the ``hours`` before its latest."""
        if panel.observations:
            return [await self.observations(panel)]
        items = (await self.datastreams(panel))[:8]
        out: list[Series] = []
        for it in items:
            if not it.time:
                out.append(Series(int(it.id), it.name, it.unit, []))
                continue
            since = shift(it.time, -hours * 3600)
            body = await self.sta(f"Datastreams({it.id})/Observations", {
                "$filter": f"phenomenonTime ge {since}", "$orderby": "phenomenonTime desc", "$top": "1000",
                "$select": "result,phenomenonTime"})
            pts = sorted((start_of(o.get("phenomenonTime")), n) for o in body.get("value") or []
                         if (n := number(o.get("result"))) is not None)
            out.append(Series(int(it.id), it.name, it.unit or panel.unit, pts))
        return out

    async def features(self, panel: Panel) -> list[Item]:
        port = self.platform.optional(FeaturesPort)
        if port is None:
            return []
        try:
            fc = await port.preview(self.identity, panel.features, min(panel.limit, 1000))
        except (NotFound, UrbanosError):
            return []
        out: list[Item] = []
        for f in fc.get("features") or []:
            props = f.get("properties") or {}
            lon, lat = _point(f.get("geometry"))
            raw = props.get(panel.value_property) if panel.value_property else None
            label = props.get(panel.label_property) if panel.label_property else None
            out.append(Item(id=str(f.get("id", "")), name=str(label if label is not None else f.get("id", "")),
                            lon=lon, lat=lat, value=number(raw), text="" if raw is None else str(raw), props=props,
                            unit=panel.unit))
        return out


def shift(stamp: str, seconds: float) -> str:
    """``stamp`` (ISO 8601 UTC) moved by ``seconds``, in the stored format."""
    return format_stored(parse_lenient(stamp) + timedelta(seconds=seconds))


__all__ = ["Item", "Series", "Reader", "item_of", "number", "start_of", "shift", "EXPAND", "VERSION"]
