"""Writing what a ``sta`` mirror read (:mod:`urbanos.connectors.types.sta`), in the run's transaction, through the
SensorThings port as the connector's identity.

Each remote entity is remembered in ``connector_items`` by its kind and remote id (``sta:Thing:17``) with its local
id and a digest of what was written: a rerun of an unchanged remote writes nothing, a changed one is a PATCH, a new
one a POST. Things and Datastreams are placed in the connector's dataset (``properties["urbanos:dataset"]``, which
replaces a remote value). Observations go in bulk (:meth:`SensingPort.create_observations_bulk`) as the reader
hands their pages over (it fetches the next page meanwhile, :mod:`urbanos.connectors.pipe`); each Datastream's
high-water mark (``hw:<remote id>``) moves in the same transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from urbanos.connectors import store
from urbanos.connectors.writes import digest
from urbanos.ports import SensingPort

if TYPE_CHECKING:
    from urbanos.connectors.types.base import Counts, Job
    from urbanos.connectors.types.sta import Remote, Stream
    from urbanos.governance import Identity
    from urbanos.storage import Connection

Item = tuple[str, dict[str, Any], str]


def _text(v: Any) -> str:
    return v if isinstance(v, str) else ""


def _props(v: Any, dataset: str) -> dict[str, Any]:
    return {**(v if isinstance(v, dict) else {}), "urbanos:dataset": dataset}


class Mirror:
    def __init__(self, c: Connection, job: Job, counts: Counts) -> None:
        self.c, self.job, self.counts = c, job, counts
        self.sensing = job.platform.require(SensingPort)
        self.cid = job.connector.id
        self.have = store.items(c, self.cid, "sta:")
        self.done: list[Item] = []
        self.dataset = job.dataset.name

    def local(self, kind: str, remote: str) -> int:
        return int(self.have[f"sta:{kind}:{remote}"][0]["id"])

    def sync(self, kind: str, entries: list[tuple[str, dict[str, Any], str]]) -> None:
        """Entities ``(remote id, body, path to POST to)`` of one kind: POST the new, PATCH the changed."""
        new: list[tuple[str, dict[str, Any], str]] = []
        ops: list[tuple[str, str, dict[str, Any]]] = []
        for remote, body, post_to in entries:
            key, dg = f"sta:{kind}:{remote}", digest(body)
            prev = self.have.get(key)
            if prev is None:
                new.append((key, body, dg))
                ops.append(("POST", post_to, body))
            elif prev[1] != dg:
                ops.append(("PATCH", f"{kind}s({int(prev[0]['id'])})", body))
                self.done.append((key, prev[0], dg))
                self.have[key] = (prev[0], dg)
                self.counts.updated += 1
            else:
                self.counts.unchanged += 1
        ids = self.sensing.write_entities(self.c, self.job.identity, ops) if ops else []
        created = [i for (method, _, _), i in zip(ops, ids, strict=True) if method == "POST"]
        for (key, _, dg), local in zip(new, created, strict=True):
            self.have[key] = ({"id": local}, dg)
            self.done.append((key, {"id": local}, dg))
        self.counts.created += len(new)


def _location(loc: dict[str, Any]) -> dict[str, Any]:
    return {"name": _text(loc.get("name")) or "Location", "description": _text(loc.get("description")),
            "encodingType": _text(loc.get("encodingType")) or "application/geo+json", "location": loc.get("location")}


def apply(remote: Remote, c: Connection, job: Job, counts: Counts) -> None:
    m = Mirror(c, job, counts)
    locations = {str(loc["@iot.id"]): _location(loc) for t in remote.things.values()
                 for loc in (t.get("Locations") or []) if isinstance(loc, dict) and "@iot.id" in loc}
    m.sync("Location", [(r, body, "Locations") for r, body in locations.items()])
    things = []
    for r, t in remote.things.items():
        locs = [{"@iot.id": m.local("Location", str(loc["@iot.id"]))} for loc in (t.get("Locations") or [])
                if isinstance(loc, dict) and "@iot.id" in loc]
        things.append((r, {"name": _text(t.get("name")) or f"Thing {r}", "description": _text(t.get("description")),
                           "properties": _props(t.get("properties"), m.dataset), "Locations": locs}, "Things"))
    m.sync("Thing", things)
    sensors = {str(s.doc["Sensor"]["@iot.id"]): s.doc["Sensor"] for s in remote.streams}
    m.sync("Sensor", [(r, {"name": _text(v.get("name")) or f"Sensor {r}", "description": _text(v.get("description")),
                           "encodingType": _text(v.get("encodingType")) or "text/plain",
                           "metadata": v.get("metadata") if v.get("metadata") is not None else ""}, "Sensors")
                      for r, v in sensors.items()])
    props = {str(s.doc["ObservedProperty"]["@iot.id"]): s.doc["ObservedProperty"] for s in remote.streams}
    m.sync("ObservedProperty", [(r, {"name": _text(v.get("name")) or f"Property {r}",
                                     "definition": _text(v.get("definition")) or f"urn:remote:property:{r}",
                                     "description": _text(v.get("description"))}, "ObservedProperties")
                                for r, v in props.items()])
    m.sync("Datastream", [(s.rid, _datastream(m, s), f"Things({m.local('Thing', s.thing)})/Datastreams")
                          for s in remote.streams])
    _observations(m, remote)
    store.put_items(c, m.cid, m.done)


def _datastream(m: Mirror, s: Stream) -> dict[str, Any]:
    d = s.doc
    uom = d.get("unitOfMeasurement")
    return {"name": _text(d.get("name")) or f"Datastream {s.rid}", "description": _text(d.get("description")),
            "observationType": _text(d.get("observationType"))
            or "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
            "unitOfMeasurement": uom if isinstance(uom, dict) else {"name": None, "symbol": None, "definition": None},
            "properties": _props(d.get("properties"), m.dataset),
            "Sensor": {"@iot.id": m.local("Sensor", str(d["Sensor"]["@iot.id"]))},
            "ObservedProperty": {"@iot.id": m.local("ObservedProperty", str(d["ObservedProperty"]["@iot.id"]))}}


WRITE_ROWS = 10_000
"""Observations gathered from the pages before one bulk write."""


def _observations(m: Mirror, remote: Remote) -> None:
    """The Observations as the reader hands them over (page by page, while it fetches the next), in bulk writes of
    ``WRITE_ROWS`` or more; then each Datastream's high-water mark."""
    local = {s.rid: m.local("Datastream", s.rid) for s in remote.streams}
    rows: list[tuple[Any, ...]] = []
    refs: list[tuple[str, str, Any]] = []
    for s, page in remote.pipe:
        ds = local[s.rid]
        rows += [(ds, t, v, rt) for t, v, rt, _ in page]
        refs += [(s.rid, oid, t) for t, _, _, oid in page]
        if len(rows) >= WRITE_ROWS:
            write_observations(m.sensing, m.c, m.job.identity, rows, refs, m.counts)
            rows, refs = [], []
    write_observations(m.sensing, m.c, m.job.identity, rows, refs, m.counts)
    m.done += [(f"hw:{s.rid}", s.mark, "") for s in remote.streams if s.mark]
    if remote.multi:
        m.counts.note(f"{remote.multi} MultiDatastream(s) of the mirrored Things were skipped: the mirror copies "
                      "Datastreams only")


REFUSED = ("refused (a time the local service does not accept, or a Thing without Location to derive its "
           "FeatureOfInterest from); it is behind the Datastream's mark and is not read again")


def write_observations(sensing: SensingPort, c: Connection, identity: Identity, rows: list[tuple[Any, ...]],
                       refs: list[tuple[str, str, Any]], counts: Counts) -> list[int | None]:
    """Write ``rows`` (``(local Datastream, phenomenonTime, result, resultTime)``) in bulk; each refused one is
    counted as failed and named in the run log by ``refs`` (its remote Datastream, remote id and time)."""
    ids = sensing.create_observations_bulk(c, identity, rows) if rows else []
    refused = [ref for ref, i in zip(refs, ids, strict=True) if i is None]
    counts.created += len(ids) - len(refused)
    for ds, oid, t in refused:
        counts.fail(f"Observation {oid} of remote Datastream {ds} at {str(t)[:60]} was {REFUSED}")
    return ids


__all__ = ["apply", "Mirror", "write_observations"]
