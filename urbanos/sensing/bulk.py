"""Bulk writes for machine feeds (connectors): many Things with their Location and Datastreams, and single
Observations on many Datastreams, in few statements instead of a handful per entity.

They write the same rows, check the same rights and emit the same events as the v1.1 API's deep insert and
Observation creation (:mod:`urbanos.sensing.write`): each dataset named must be one the caller may publish to, each
Sensor, ObservedProperty and Datastream linked one the caller may change; Things placed at a Location get their
HistoricalLocation; Observations take the FeatureOfInterest generated from their Thing's Location and keep their
Datastream's envelope and latest pointer. The Observations' events come in batches (one per Datastream and up to
``EVENT_BATCH`` Observations, :func:`urbanos.events.batch`), which subscribers take apart with
:func:`urbanos.events.each`. On PostgreSQL rows go in multi-row ``INSERT … RETURNING`` statements (one round trip
per few hundred rows; Observations in one ``COPY``); SQLite, in the process, inserts row by row (Observations in one
``executemany``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson

from urbanos.core.time import now_stored
from urbanos.errors import BadRequest
from urbanos.events import batch
from urbanos.sensing.envelope import track_many
from urbanos.sensing.model import ENTITIES, EntityType
from urbanos.sensing.serialize import load_json
from urbanos.sensing.timefmt import plain_utc, store_instant, store_interval
from urbanos.sensing.values import GEO_TYPES, GEOM, check_keys, column_values, result_number
from urbanos.sensing.write import Writer

if TYPE_CHECKING:
    from urbanos.governance import Gate, Identity
    from urbanos.storage import Connection

CHUNK = 300
VERSION = "v1.1"


def _insert_many(w: Writer, table: str, rows: list[dict[str, Any]]) -> list[int]:
    """INSERT ``rows`` (column dicts, ``(GEOM, wkb)`` for a geometry) into ``table``; their ids in order."""
    if w.c.dialect.name == "sqlite":
        return [w.insert(table, r) for r in rows]
    ids: list[int] = []
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, r in enumerate(rows):
        groups.setdefault(tuple(r), []).append(i)
    out: list[int] = [0] * len(rows)
    for cols, idx in groups.items():
        geo = [isinstance(rows[idx[0]][k], tuple) and rows[idx[0]][k][:1] == (GEOM,) for k in cols]
        one = "(" + ", ".join(w.sp.param() if g else "?" for g in geo) + ")"
        for start in range(0, len(idx), CHUNK):
            part = idx[start:start + CHUNK]
            params = [rows[i][k][1] if g else rows[i][k] for i in part for k, g in zip(cols, geo, strict=True)]
            cur = w.c.execute(f"INSERT INTO {table} ({', '.join(cols)}) VALUES {', '.join([one] * len(part))}"
                              " RETURNING id", params)
            ids = [int(x[0]) for x in cur.fetchall()]
            for i, new in zip(part, ids, strict=True):
                out[i] = new
    return out


def _values(w: Writer, e: EntityType, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest(f"A {e.name} must be a JSON object.")
    check_keys(e, body, VERSION)
    for p in e.props_for(VERSION):
        if p.required and p.name not in body:
            raise BadRequest(f"{e.name}.{p.name} is mandatory.")
    if e.name == "Location" and body.get("encodingType") not in GEO_TYPES:
        raise BadRequest(f"Location.encodingType {body.get('encodingType')!r} is not supported.")
    return column_values(e, body, VERSION, w.d, replace=False)


class Datasets:
    """The dataset (and owning organisation) each body names, checked once per name."""

    def __init__(self, w: Writer) -> None:
        self.w = w
        self.seen: dict[Any, tuple[int | None, Any]] = {}

    def of(self, e: EntityType, body: dict[str, Any], default: tuple[int | None, Any]) -> tuple[dict[str, Any],
                                                                                              tuple[int | None, Any]]:
        body, ref, given = self.w.dataset_ref(e, body)
        if not given:
            return body, default
        key = (type(ref).__name__, ref)
        if key not in self.seen:
            self.seen[key] = self.w.dataset_row(ref)
        ds = self.seen[key]
        return body, (ds if ds[0] is not None else default)


def create_things(conn: Connection, identity: Identity, gate: Gate, things: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Things, each with its ``Locations`` (new ones) and ``Datastreams`` (new ones linking an existing Sensor and
    ObservedProperty by ``@iot.id``), as ``POST Things`` deep inserts do them. Returns per Thing ``{"thing": id,
    "locations": [ids], "datastreams": [ids]}``."""
    w = Writer(conn, VERSION, identity, gate)
    T, L, D = ENTITIES["Thing"], ENTITIES["Location"], ENTITIES["Datastream"]
    datasets = Datasets(w)
    home = (None, w.own.home_org())
    thing_rows: list[dict[str, Any]] = []
    loc_rows: list[dict[str, Any]] = []
    ds_rows: list[dict[str, Any]] = []
    loc_of: list[list[int]] = []
    ds_of: list[list[int]] = []
    links: dict[str, set[int]] = {"Sensor": set(), "ObservedProperty": set()}
    for body in things:
        if not isinstance(body, dict):
            raise BadRequest("A Thing must be a JSON object.")
        body, (ds_id, org) = datasets.of(T, body, home)
        locs, streams = body.get("Locations") or [], body.get("Datastreams") or []
        if not isinstance(locs, list) or not isinstance(streams, list):
            raise BadRequest("Thing.Locations and Thing.Datastreams must be JSON arrays.")
        vals = _values(w, T, {k: v for k, v in body.items() if k not in ("Locations", "Datastreams")})
        thing_rows.append({**vals, "dataset_id": ds_id, "owner_org": org})
        loc_of.append([])
        for loc in locs:
            loc_of[-1].append(len(loc_rows))
            loc_rows.append({**_values(w, L, loc), "owner_org": org})
        ds_of.append([])
        for s in streams:
            if not isinstance(s, dict):
                raise BadRequest("A Datastream must be a JSON object.")
            s, (sds, sorg) = datasets.of(D, s, (ds_id, org))
            refs = {}
            for rel, fk in (("Sensor", "sensor_id"), ("ObservedProperty", "observed_property_id")):
                ref = s.get(rel)
                if not isinstance(ref, dict) or set(ref) != {"@iot.id"}:
                    raise BadRequest(f"A Datastream created in bulk links its {rel} by @iot.id.")
                refs[fk] = int(ref["@iot.id"]) if str(ref["@iot.id"]).isdigit() else -1
                links[rel].add(refs[fk])
            vals = _values(w, D, {k: v for k, v in s.items() if k not in ("Sensor", "ObservedProperty")})
            ds_of[-1].append(len(ds_rows))
            ds_rows.append({**vals, **refs, "dataset_id": sds, "owner_org": sorg})
    for rel, ids in links.items():
        missing = ids - w.own.linkable(ENTITIES[rel], sorted(ids))
        if missing:
            raise BadRequest(f"{rel} {min(missing)} (linked by @iot.id) does not exist.")
    loc_ids = _insert_many(w, "sta_locations", loc_rows)
    thing_ids = _insert_many(w, "sta_things", thing_rows)
    for i, tid in enumerate(thing_ids):
        for j in ds_of[i]:
            ds_rows[j]["thing_id"] = tid
    ds_ids = _insert_many(w, "sta_datastreams", ds_rows)
    placed = [(tid, [loc_ids[j] for j in loc_of[i]]) for i, tid in enumerate(thing_ids) if loc_of[i]]
    conn.executemany("INSERT INTO sta_thing_locations (thing_id, location_id) VALUES (?, ?)",
                     [(tid, lid) for tid, lids in placed for lid in lids])
    now = now_stored()
    hl_ids = _insert_many(w, "sta_historical_locations", [{"loc_time": now, "thing_id": tid} for tid, _ in placed])
    conn.executemany("INSERT INTO sta_hist_locations (historical_location_id, location_id) VALUES (?, ?)",
                     [(hl, lid) for hl, (_, lids) in zip(hl_ids, placed, strict=True) for lid in lids])
    for lid in loc_ids:
        w.emit("created", L, lid, None, {})
    for j, did in enumerate(ds_ids):
        r = ds_rows[j]
        w.emit("created", D, did, r["dataset_id"], {"Thing": r["thing_id"], "Sensor": r["sensor_id"],
                                                    "ObservedProperty": r["observed_property_id"]})
    for hl, (tid, lids) in zip(hl_ids, placed, strict=True):
        w.emit("created", ENTITIES["HistoricalLocation"], hl, None, {"Thing": tid, "Locations": lids})
    out = []
    for i, tid in enumerate(thing_ids):
        lids, dids = [loc_ids[j] for j in loc_of[i]], [ds_ids[j] for j in ds_of[i]]
        w.emit("created", T, tid, thing_rows[i]["dataset_id"], {"Locations": lids, "Datastreams": dids})
        out.append({"thing": tid, "locations": lids, "datastreams": dids})
    return out


def _in(n: int) -> str:
    return ", ".join("?" * n)


def _features(w: Writer, things: list[int]) -> dict[int, int]:
    """The FeatureOfInterest generated from each Thing's current Location (made when missing, as one write of an
    Observation without FeatureOfInterest does)."""
    out: dict[int, int] = {}
    for start in range(0, len(things), CHUNK):
        part = things[start:start + CHUNK]
        rows = w.c.fetchall(f"SELECT thing_id, MAX(location_id) FROM sta_thing_locations WHERE thing_id IN ({_in(len(part))})"
                            " GROUP BY thing_id", part)
        loc = {int(t): int(lid) for t, lid in rows}
        have = dict(w.c.fetchall(f"SELECT location_id, MIN(id) FROM sta_features WHERE location_id IN"
                                 f" ({_in(len(loc))}) GROUP BY location_id", list(loc.values()))) if loc else {}
        new = sorted({lid for lid in loc.values() if lid not in have})
        if new:
            locs = w.c.fetchall(f"SELECT id, name, description, encoding_type, location, {w.sp.select('geom')}, owner_org"
                                f" FROM sta_locations WHERE id IN ({_in(len(new))})", new)
            made = _insert_many(w, "sta_features", [{
                "name": r[1], "description": r[2], "encoding_type": r[3] or "application/geo+json",
                "feature": w.d.json_param(load_json(r[4])), "location_id": r[0],
                "geom": (GEOM, bytes(r[5])) if r[5] is not None else None, "owner_org": r[6]} for r in locs])
            for r, fid in zip(locs, made, strict=True):
                have[r[0]] = fid
                w.emit("created", ENTITIES["FeatureOfInterest"], fid, None, {})
        out.update({t: int(have[lid]) for t, lid in loc.items() if lid in have})
    return out


_OBS = ("phen_start", "phen_end", "result_time", "result", "result_num", "datastream_id", "feature_id")
_PG_TYPES = ("text", "text", "text", "text", "float8", "int8", "int8")


def _insert_observations(w: Writer, values: list[tuple[Any, ...]]) -> list[int]:
    """INSERT Observation rows (tuples in the order of ``_OBS``); their ids in order (:meth:`Connection.insert_rows`:
    one ``executemany`` on SQLite, one binary ``COPY`` on PostgreSQL)."""
    return w.c.insert_rows("sta_observations", _OBS, values, _PG_TYPES)


EVENT_BATCH = 10_000
"""Most Observations one batch event names (see :class:`urbanos.events.Event`)."""


def _emit_observations(conn: Connection, ds: int, where: tuple[int, Any], items: list[tuple[int, tuple[Any, ...]]]) -> None:
    """The "created" events of a Datastream's new Observations: one batch event (:func:`urbanos.events.batch`) per
    FeatureOfInterest and ``EVENT_BATCH`` Observations, in the order they were created; subscribers that handle
    Observations one by one take them apart with :func:`urbanos.events.each`."""
    thing, dataset = where
    by_foi: dict[Any, list[int]] = {}
    for oid, r in items:
        by_foi.setdefault(r[6], []).append(oid)
    for foi, ids in by_foi.items():
        links = {"links": {"Datastream": ds, "MultiDatastream": None, "FeatureOfInterest": foi, "Thing": thing}}
        for start in range(0, len(ids), EVENT_BATCH):
            conn.emit(batch("created", "Observation", ids[start:start + EVENT_BATCH], topic="sensing", data=links,
                            dataset_id=dataset))


def _stored(rows: Sequence[tuple[Any, ...]], info: dict[int, tuple[int, Any]], fois: dict[int, int]
            ) -> tuple[list[int], list[tuple[Any, ...]]]:
    """The rows that can be written, in the stored form (``_OBS``), with their positions in ``rows``."""
    now = now_stored()
    at: list[int] = []
    out: list[tuple[Any, ...]] = []
    dumps = orjson.dumps
    foi_of = {ds: fois.get(thing) for ds, (thing, _) in info.items()}
    for i, row in enumerate(rows):
        ds, t, result = int(row[0]), row[1], row[2]
        foi = foi_of.get(ds)
        if foi is None:
            continue
        try:
            if type(t) is str and (fast := plain_utc(t)) is not None:
                ps, pe = fast, None
            else:
                ps, pe = store_interval(t, "phenomenonTime") if t is not None else (now, None)
            rt = store_instant(row[3], "resultTime") if len(row) > 3 and row[3] is not None else None
        except (BadRequest, ValueError):
            continue
        kind = type(result)
        num = float(result) if kind is int or kind is float else result_number(result)
        at.append(i)
        out.append((ps, pe, rt, dumps(result).decode(), num, ds, foi))
    return at, out


def create_observations(conn: Connection, identity: Identity, gate: Gate,
                        rows: Sequence[tuple[Any, ...]]) -> list[int | None]:
    """Observations ``(datastream id, phenomenonTime, result[, resultTime])`` on many Datastreams (a feed's latest
    values, or a mirror's pages); their ids in order, None for a row refused (a Datastream that does not exist or is not
    visible, a time that is not one, a Thing without Location)."""
    if not rows:
        return []
    w = Writer(conn, VERSION, identity, gate)
    wanted = sorted({int(r[0]) for r in rows})
    ok = w.own.linkable(ENTITIES["Datastream"], wanted)
    info: dict[int, tuple[int, Any]] = {}
    for start in range(0, len(wanted), CHUNK):
        part = [i for i in wanted[start:start + CHUNK] if i in ok]
        if part:
            info.update({int(r[0]): (int(r[1]), r[2]) for r in conn.fetchall(
                f"SELECT id, thing_id, dataset_id FROM sta_datastreams WHERE id IN ({_in(len(part))})", part)})
    at, values = _stored(rows, info, _features(w, sorted({t for t, _ in info.values()})))
    ids = _insert_observations(w, values)
    out: list[int | None] = [None] * len(rows)
    by_ds: dict[int, list[tuple[int, tuple[Any, ...]]]] = {}
    for i, r, oid in zip(at, values, ids, strict=True):
        out[i] = oid
        by_ds.setdefault(r[5], []).append((oid, r))
    for ds, items in by_ds.items():
        latest = max(items, key=lambda x: (x[1][0], -x[0]))
        rts = [r[2] for _, r in items if r[2] is not None]
        track_many(conn, "sta_datastreams", ds, min(r[0] for _, r in items), max(r[1] or r[0] for _, r in items),
                   latest[0], latest[1][0], min(rts) if rts else None, max(rts) if rts else None)
        _emit_observations(conn, ds, info[ds], items)
    return out


__all__ = ["create_things", "create_observations"]
