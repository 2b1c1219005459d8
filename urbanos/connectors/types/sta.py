"""``sta``: a mirror of a remote SensorThings API v1.1 service (another urbanos, FROST, istSOS).

The URL is the remote service root (``https://host/sta/v1.1``, ``https://host/FROST-Server/v1.1``). A run reads:

* ``Things?$expand=Locations`` (the mapping's ``things`` is passed as ``$filter``);
* ``Datastreams?$expand=Thing($select=id),Sensor,ObservedProperty`` (the mapping's ``datastreams`` as ``$filter``),
  keeping those whose Thing was read;
* per Datastream, its Observations from the **high-water mark** on (``phenomenonTime``, or ``resultTime`` with the
  mapping's ``by``), oldest first, following ``@iot.nextLink``. The mark is the time of the last Observation copied
  with the remote ids copied at exactly that time (the filter is ``ge`` the mark and those ids are skipped: two
  Observations at the same instant on either side of a run are both copied, once).

Every page goes through the outbound policy; next links must stay on the remote server. A run copies at most
``max_observations`` (the rest is copied by the next runs, oldest first); the writes are
:mod:`urbanos.connectors.types.sta_writes`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from urbanos.connectors import store
from urbanos.connectors.fetch import FeedError, parse_json
from urbanos.connectors.pipe import Pipe
from urbanos.connectors.types.base import ConnectorType, Job, Writes
from urbanos.connectors.types.remote import check_url, pages, with_query
from urbanos.connectors.types.sta_writes import apply
from urbanos.errors import ValidationFailed

OPTIONS: dict[str, type] = {"things": str, "datastreams": str, "by": str, "page_size": int, "max_observations": int,
                             "live": bool, "mqtt": str, "mqtt_username": str, "mqtt_password": str}
MQTT_SCHEMES = ("mqtt", "mqtts", "ws", "wss")
THING_CHUNK = 40
"""Things whose Datastreams one request asks for, when the mapping filters the Things."""
BY = ("phenomenonTime", "resultTime")
DEFAULT_PAGE = 10_000  # $top asked for; servers answer at most their own maximum and page on
DEFAULT_MAX = 200_000


def rid(entity: Any, where: str) -> str:
    """The remote ``@iot.id`` of ``entity`` as text (ids are numbers or strings)."""
    v = entity.get("@iot.id") if isinstance(entity, dict) else None
    if isinstance(v, bool) or not isinstance(v, int | str) or v == "":
        raise FeedError(f"{where}: an entity without @iot.id; the answer is not a SensorThings collection")
    return str(v)


def id_literal(remote: str) -> str:
    """The remote id as it goes in a path: a number, or a quoted string."""
    return remote if remote.isdigit() else "'" + remote.replace("'", "''") + "'"


def _bad(url: str, ob: dict[str, Any], by: str) -> bool:
    """Raise the FeedError of an Observation without an id, ``by`` time or result (True when it has them all)."""
    oid = rid(ob, url)
    if "result" not in ob or not isinstance(ob.get(by), str) or not ob[by]:
        raise FeedError(f"{url}: Observation {oid} has no {by} or no result")
    return True


def _at_end(page: list[dict[str, Any]], by: str, last_time: str | None, at_last: list[str],
            url: str) -> tuple[str, list[str]]:
    """The mark after ``page`` (sorted by ``by``): the time of its last Observation and the ids at that time."""
    end = page[-1][by].split("/", 1)[0]
    ids = []
    for ob in reversed(page):
        if ob[by].split("/", 1)[0] != end:
            break
        ids.append(rid(ob, url))
    if end == last_time and len(ids) == len(page):
        return end, at_last + ids
    return end, ids


def _next(doc: dict[str, Any]) -> Any:
    return doc.get("@iot.nextLink")


def by_thing(o: Options, things: list[str], extra: str | None) -> list[str | None]:
    """The ``$filter`` of each request for the Datastreams (or MultiDatastreams) of the mirrored Things: with a
    Things filter, those of ``THING_CHUNK`` Things at a time (none when no Thing passed it), else all, filtered by
    ``extra`` alone."""
    if o.things is None:
        return [extra]
    out: list[str | None] = []
    for i in range(0, len(things), THING_CHUNK):
        ids = " or ".join(f"Thing/id eq {id_literal(t)}" for t in things[i:i + THING_CHUNK])
        out.append(f"({extra}) and ({ids})" if extra else ids)
    return out


async def multi_datastreams(job: Job, base: str, o: Options, things: list[str]) -> int:
    """How many MultiDatastreams the mirrored Things have on the remote (not mirrored: the run log says so); 0 when
    the remote has none, does not implement them or does not answer."""
    n = 0
    for where in by_thing(o, things, None):
        assert job.fetcher is not None
        url = with_query(f"{base}/MultiDatastreams", {"$select": "id", "$top": 1, "$count": "true", "$filter": where})
        try:
            body = await job.fetcher.get_optional(url)
            doc = parse_json(body, url) if body is not None else None
        except FeedError:  # counting what is not copied never fails the run
            return 0
        if doc is None:
            return 0
        got = doc.get("@iot.count") if isinstance(doc, dict) else None
        if isinstance(got, int) and not isinstance(got, bool):
            n += got
        elif isinstance(doc, dict) and isinstance(doc.get("value"), list):
            n += len(doc["value"])
    return n


@dataclass
class Options:
    things: str | None = None
    datastreams: str | None = None
    by: str = "phenomenonTime"
    page_size: int = DEFAULT_PAGE
    max_observations: int = DEFAULT_MAX
    live: bool | None = None
    mqtt: str | None = None
    mqtt_username: str | None = None
    mqtt_password: str | None = None

    @classmethod
    def parse(cls, mapping: Any) -> Options:
        m = mapping or {}
        bad = [k for k, v in m.items() if k not in OPTIONS or not isinstance(v, OPTIONS[k])
               or (isinstance(v, bool) and OPTIONS[k] is not bool)] if isinstance(m, dict) else ["mapping"]
        if bad:
            raise ValidationFailed(f"A sta connector's mapping may set things and datastreams ($filter text), by "
                                   f"({' or '.join(BY)}), page_size and max_observations (numbers), live (true or "
                                   f"false) and mqtt, mqtt_username, mqtt_password (text); not {bad[0]!r}.",
                                   detail={"mapping": list(OPTIONS)})
        o = cls(**m)
        if o.by not in BY:
            raise ValidationFailed(f"by is {' or '.join(BY)}.", detail={"mapping.by": list(BY)})
        if not 1 <= o.page_size <= 10_000 or not 1 <= o.max_observations <= 10_000_000:
            raise ValidationFailed("page_size is 1 to 10000, max_observations 1 to 10000000.",
                                   detail={"mapping": ["page_size 1..10000", "max_observations 1..10000000"]})
        if o.live and not o.mqtt:
            raise ValidationFailed("live needs mqtt: the remote's MQTT address (mqtt://host:1883, mqtts://host:8883, "
                                   "ws://host/mqtt or wss://host/mqtt).", detail={"mapping.mqtt": ["required with live"]})
        if o.mqtt is not None:
            parts = urlsplit(o.mqtt)
            try:
                port_ok = parts.port is None or parts.port > 0
            except ValueError:
                port_ok = False
            if parts.scheme not in MQTT_SCHEMES or not parts.hostname or parts.username or parts.password \
                    or len(o.mqtt) > 2000 or not port_ok:
                raise ValidationFailed("mqtt is the remote broker's address: mqtt://host:port, mqtts://host:port, "
                                       "ws://host/path or wss://host/path, without credentials (give mqtt_username "
                                       "and mqtt_password).", detail={"mapping.mqtt": list(MQTT_SCHEMES)})
        return o

    def to_json(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in OPTIONS}
        return {k: v for k, v in out.items() if v is not None}


@dataclass
class Stream:
    """A remote Datastream, and its high-water mark (the mark after the Observations read, once they are read)."""

    rid: str
    thing: str
    doc: dict[str, Any]
    mark: dict[str, Any] | None = None


@dataclass
class Remote:
    """What a run read: Things and Datastreams; their Observations come through ``pipe`` while the run writes
    (``reading``: the coroutine that reads them, run by the runner beside the write), as ``(Stream, rows)`` with rows
    ``(phenomenonTime, result, resultTime, remote id)`` of one page; ``multi``: the remote's MultiDatastreams of the
    mirrored Things, which are not mirrored (counted for the run log)."""

    things: dict[str, dict[str, Any]]
    streams: list[Stream]
    pipe: Pipe
    reading: Callable[[], Awaitable[None]] | None = None
    complete: bool = True
    multi: int = 0

    def apply(self, c: Any, job: Job, counts: Any) -> None:
        apply(self, c, job, counts)


class StaType(ConnectorType):
    name = "sta"

    def check(self, url: str, mapping: Any) -> dict[str, Any]:
        check_url(url, "sta")
        return Options.parse(mapping).to_json()

    async def collect(self, job: Job) -> Writes:
        o = Options.parse(job.connector.mapping)
        base = job.connector.url.rstrip("/")
        things: dict[str, dict[str, Any]] = {}
        top = o.page_size
        async for url, page in pages(job, with_query(f"{base}/Things", {"$expand": "Locations", "$top": top,
                                                                          "$filter": o.things}), "value", _next):
            for t in page:
                things[rid(t, url)] = t
        streams: list[Stream] = []
        expand = "Thing($select=id),Sensor,ObservedProperty"
        seen: set[str] = set()
        for where in by_thing(o, list(things), o.datastreams):
            async for url, page in pages(job, with_query(f"{base}/Datastreams", {"$expand": expand, "$top": top,
                                                                                   "$filter": where}), "value", _next):
                for d in page:
                    thing = rid(d.get("Thing"), f"{url}: Datastream {d.get('@iot.id')}'s Thing")
                    if thing in things and rid(d, url) not in seen:
                        rid(d.get("Sensor"), f"{url}: Datastream {d.get('@iot.id')}'s Sensor")
                        rid(d.get("ObservedProperty"), f"{url}: Datastream {d.get('@iot.id')}'s ObservedProperty")
                        seen.add(rid(d, url))
                        streams.append(Stream(rid(d, url), thing, d))
        multi = await multi_datastreams(job, base, o, list(things))
        cid = job.connector.id
        marks = await job.platform.db.read(lambda c: store.items(c, cid, "hw:"))
        for s in streams:
            prev = marks.get(f"hw:{s.rid}")
            s.mark = prev[0] if prev else None
        out = Remote(things, streams, Pipe(), multi=multi)
        out.reading = lambda: out.pipe.feed(lambda pipe: self._read(job, base, o, out))
        return out

    async def _read(self, job: Job, base: str, o: Options, out: Remote) -> None:
        """Each Datastream's Observations after its mark into the pipe, at most ``max_observations`` in all."""
        budget = o.max_observations
        for i, s in enumerate(out.streams, start=1):
            if budget <= 0:
                out.complete = False
                break
            budget -= await self._observations(job, base, o, s, budget, out.pipe)
            job.tick(i, len(out.streams))

    async def _observations(self, job: Job, base: str, o: Options, s: Stream, budget: int, pipe: Pipe) -> int:
        """Read Observations of ``s`` after its mark into ``pipe`` (at most ``budget``), page by page; the new mark in
        ``s.mark``; the number read."""
        by = o.by
        mark = dict(s.mark or {})
        skip = set(mark.get("ids") or ())
        params: dict[str, Any] = {"$select": "id,phenomenonTime,resultTime,result", "$orderby": f"{by} asc,id asc",
                                  "$top": min(o.page_size, budget)}
        if mark.get("time"):
            params["$filter"] = f"{by} ge {mark['time']}"
        first = with_query(f"{base}/Datastreams({id_literal(s.rid)})/Observations", params)
        read = 0
        last_time, at_last = mark.get("time"), list(skip)
        async for url, page in pages(job, first, "value", _next):
            if skip:
                page = [ob for ob in page if str(ob.get("@iot.id")) not in skip]
            page = page[: budget - read]
            try:
                rows = [(ob.get("phenomenonTime"), ob["result"], ob.get("resultTime"), str(ob["@iot.id"])) for ob in page
                        if (type(ob[by]) is str and ob[by] and ob["@iot.id"] is not None) or _bad(url, ob, by)]
            except KeyError:
                for ob in page:
                    _bad(url, ob, by)
                raise
            if page:
                last_time, at_last = _at_end(page, by, last_time, at_last, url)
                read += len(rows)
                await pipe.put((s, rows))
            if read >= budget:
                break
        s.mark = {"time": last_time, "ids": at_last} if last_time else None
        return read


__all__ = ["StaType", "Options", "Remote", "Stream", "rid", "id_literal"]
