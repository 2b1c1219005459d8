"""The dataArray extension: ``CreateObservations`` (bulk ingest) and ``$resultFormat=dataArray`` on reads."""

from __future__ import annotations

from operator import itemgetter
from typing import TYPE_CHECKING, Any

import orjson

from urbanos.core.time import now_stored
from urbanos.errors import BadRequest
from urbanos.events import Event
from urbanos.governance import Gate
from urbanos.sensing.envelope import track_many
from urbanos.sensing.model import ENTITIES, EntityType
from urbanos.sensing.serialize import self_link
from urbanos.sensing.timefmt import plain_utc, store_instant, store_interval
from urbanos.sensing.values import result_number
from urbanos.sensing.write import Writer

if TYPE_CHECKING:
    from urbanos.governance import Identity
    from urbanos.platform import Platform
    from urbanos.storage import Connection

COMPONENTS = ("phenomenonTime", "result", "resultTime", "resultQuality", "validTime", "parameters", "FeatureOfInterest/id")
_COLS = ("phen_start", "phen_end", "result_time", "result", "result_num", "result_quality", "valid_start", "valid_end",
         "parameters", "datastream_id", "multi_datastream_id", "feature_id")
CHUNK = 400
_new_event = object.__new__


def _row(comp: list[str], values: Any, n_results: int | None, default_foi: Any, now: str, json_param: Any) -> list[Any]:
    if not isinstance(values, list) or len(values) != len(comp):
        raise BadRequest("A dataArray row must have one value per component.")
    d = dict(zip(comp, values, strict=True))
    if "result" not in d:
        raise BadRequest("result is missing.")
    res = d["result"]
    if n_results is not None and (not isinstance(res, list) or len(res) != n_results):
        raise BadRequest("MultiDatastream results must be arrays.")
    ps, pe = store_interval(d["phenomenonTime"], "phenomenonTime") if d.get("phenomenonTime") is not None else (now, None)
    rt = store_instant(d["resultTime"], "resultTime") if d.get("resultTime") is not None else None
    vs, ve = store_interval(d["validTime"], "validTime") if d.get("validTime") is not None else (None, None)
    params = d.get("parameters")
    if params is not None and not isinstance(params, dict):
        raise BadRequest("parameters must be an object.")
    foi = d.get("FeatureOfInterest/id", default_foi)
    return [ps, pe, rt, orjson.dumps(res).decode(), result_number(res),
            orjson.dumps(d["resultQuality"]).decode() if d.get("resultQuality") is not None else None,
            vs, ve, json_param(params), foi]


_SIMPLE_COLS = "phen_start, phen_end, result_time, result, result_num, datastream_id, feature_id"


def _simple_rows(comp: list[str], data: list[Any], parent: int, default_foi: Any, now: str) -> list[Any]:
    """The common shape (phenomenonTime, result[, resultTime]) of a Datastream, without the general
    per-row machinery: each row comes out as the tuple inserted into ``_SIMPLE_COLS`` (None when invalid).

    Times in the usual ``YYYY-MM-DDTHH:MM:SSZ`` form are checked and stored inline (the same check
    as :func:`~urbanos.sensing.timefmt.store_instant`); anything else goes through ``store_interval``.
    """
    n = len(comp)
    ip = comp.index("phenomenonTime") if "phenomenonTime" in comp else -1
    ir = comp.index("result")
    it = comp.index("resultTime") if "resultTime" in comp else -1
    dumps = orjson.dumps
    out: list[Any] = []
    append = out.append
    for values in data:
        if type(values) is not list or len(values) != n:
            append(None)
            continue
        try:
            pe = None
            if ip < 0 or (pt := values[ip]) is None:
                ps = now
            elif type(pt) is str and (fast := plain_utc(pt)) is not None:
                ps = fast
            else:
                ps, pe = store_interval(pt, "phenomenonTime")
            rt = None
            if it >= 0 and (rv := values[it]) is not None:
                rt = store_instant(rv, "resultTime")
        except (BadRequest, ValueError):
            append(None)
            continue
        res = values[ir]
        t = type(res)
        if t is int:
            append((ps, pe, rt, str(res), float(res), parent, default_foi))
        elif t is float:
            append((ps, pe, rt, dumps(res).decode(), res, parent, default_foi))
        else:
            append((ps, pe, rt, dumps(res).decode(), result_number(res), parent, default_foi))
    return out


def _target(w: Writer, group: Any) -> tuple[list[str], list[Any], str, str, int]:
    """The components, rows, kind and table of one CreateObservations item, and its (Multi)Datastream's id (which the
    caller must be allowed to change)."""
    if not isinstance(group, dict):
        raise BadRequest("Each CreateObservations item must be an object.")
    comp = group.get("components")
    data = group.get("dataArray")
    if not isinstance(comp, list) or not comp or any(c not in COMPONENTS for c in comp) or len(set(comp)) != len(comp):
        raise BadRequest(f"components must be a list drawn from {', '.join(COMPONENTS)}.")
    if not isinstance(data, list):
        raise BadRequest("dataArray must be an array of rows.")
    if "Datastream" in group:
        kind, table, ref = "Datastream", "sta_datastreams", group["Datastream"]
    elif "MultiDatastream" in group:
        kind, table, ref = "MultiDatastream", "sta_multi_datastreams", group["MultiDatastream"]
    else:
        raise BadRequest("Each CreateObservations item names its Datastream or MultiDatastream.")
    if not isinstance(ref, dict) or "@iot.id" not in ref:
        raise BadRequest(f"{kind} must be given as {{\"@iot.id\": …}}.")
    return comp, data, kind, table, w.exists(ENTITIES[kind], ref["@iot.id"])


def _rows(w: Writer, comp: list[str], data: list[Any], parent: int, n_results: int | None, default_foi: Any,
          now: str, simple: bool) -> list[Any]:
    """One stored row per dataArray row (None for a row that is not valid, or names a FeatureOfInterest that does not
    exist or that the caller may not link)."""
    rows: list[Any] = []
    if simple:
        rows = _simple_rows(comp, data, parent, default_foi, now)
    for values in ([] if simple else data):
        try:
            r = _row(comp, values, n_results, default_foi, now, w.d.json_param)
            if r[-1] is None or (isinstance(r[-1], bool) or not isinstance(r[-1], int)):
                raise BadRequest("FeatureOfInterest/id must be an integer.")
            rows.append(r)
        except BadRequest:
            rows.append(None)
    fois = {r[-1] for r in rows if r is not None}
    if fois - {default_foi}:
        # rows naming a FeatureOfInterest that does not exist, or that the caller may not see, are errors
        have = w.own.linkable(ENTITIES["FeatureOfInterest"], sorted(fois - {default_foi})) | {default_foi}
        rows = [r if r is None or r[-1] in have else None for r in rows]
    return rows


def _insert(conn: Connection, names: str, ins: list[Any]) -> list[int]:
    """INSERT the rows ``ins`` (columns ``names``) into sta_observations; their new ids, in order."""
    ids: list[int] = []
    width = names.count(",") + 1
    if ins and conn.dialect.name == "sqlite":
        # one writer thread: the rows of one executemany get consecutive ids ending at last_insert_rowid()
        conn.executemany(f"INSERT INTO sta_observations ({names}) VALUES ({', '.join('?' * width)})", ins)
        last_id = int(conn.fetchval("SELECT last_insert_rowid()"))
        return list(range(last_id - len(ins) + 1, last_id + 1))
    for i in range(0, len(ins), CHUNK):
        chunk = ins[i : i + CHUNK]
        marks = ", ".join(["(" + ", ".join("?" * width) + ")"] * len(chunk))
        params: list[Any] = [v for r in chunk for v in r]
        cur = conn.execute(f"INSERT INTO sta_observations ({names}) VALUES {marks} RETURNING id", params)
        ids += [int(x[0]) for x in cur.fetchall()]
    return ids


def _track(conn: Connection, table: str, parent: int, good: list[Any], ids: list[int]) -> None:
    """The (Multi)Datastream's envelope and latest pointer after the valid rows ``good`` (with their ``ids``)."""
    starts = [r[0] for r in good]
    first = min(starts)
    latest_start = max(starts)
    ends = [r[1] for r in good if r[1] is not None]
    last = max(latest_start, max(ends)) if ends else latest_start
    latest_id = ids[starts.index(latest_start)]  # ties: the first
    rts = [r[2] for r in good if r[2] is not None]
    track_many(conn, table, parent, first, last, latest_id, latest_start, min(rts) if rts else None,
               max(rts) if rts else None)


def _emit(conn: Connection, rows: list[Any], ids: list[int], ds_col: tuple[int | None, int | None], thing_id: Any,
          dataset_id: Any, prefix: str, out: list[str]) -> None:
    """One event per Observation, exactly as Writer.emit builds them, and its link (or "error") in ``out``.

    The fields are filled from a template (the frozen dataclass's __init__ costs more than the insert of the row
    itself), and Observations with the same FeatureOfInterest share one links payload, which subscribers only read.
    """
    emit = conn.emit
    template = {"kind": "created", "entity": "Observation", "id": None, "topic": "sensing", "data": None,
                "dataset_id": dataset_id, "changed": ()}
    shared: dict[Any, dict[str, Any]] = {}
    it = iter(ids)
    for r in rows:
        if r is None:
            out.append("error")
            continue
        oid = next(it)
        out.append(f"{prefix}{oid})")
        foi = r[-1]
        payload = shared.get(foi)
        if payload is None:
            payload = shared[foi] = {"links": {"Datastream": ds_col[0], "MultiDatastream": ds_col[1],
                                               "FeatureOfInterest": foi, "Thing": thing_id}}
        ev = _new_event(Event)
        fields = ev.__dict__
        fields.update(template)
        fields["id"] = oid
        fields["data"] = payload
        emit(ev)


def create_sync(conn: Connection, version: str, base: str, body: Any, identity: Identity | None = None,
                gate: Gate | None = None) -> list[str]:
    """Insert the Observations of a CreateObservations body. ``identity`` (None: a trusted caller) must be allowed
    to change each (Multi)Datastream (checked once per Datastream) and each FeatureOfInterest a row links."""
    if not isinstance(body, list):
        raise BadRequest("CreateObservations expects a JSON array of {Datastream, components, dataArray} objects.")
    w = Writer(conn, version, identity, gate)
    out: list[str] = []
    now = now_stored()
    prefix = f"{base}/sta/{version}/{ENTITIES['Observation'].set_name}("
    for group in body:
        comp, data, kind, table, parent = _target(w, group)
        thing_id, dataset_id = conn.fetchone(f"SELECT thing_id, dataset_id FROM {table} WHERE id = ?", (parent,)) or (None, None)
        w.own.check_observations(kind, parent, dataset_id)
        n_results = None
        if kind == "MultiDatastream":
            n_results = int(conn.fetchval("SELECT COUNT(*) FROM sta_mds_properties WHERE multi_datastream_id = ?", (parent,)))
        default_foi = None if "FeatureOfInterest/id" in comp else w.feature_for(thing_id)
        simple = n_results is None and "result" in comp and set(comp) <= {"phenomenonTime", "result", "resultTime"}
        rows = _rows(w, comp, data, parent, n_results, default_foi, now, simple)
        # ``good``: the valid rows; each starts with phen_start, phen_end, result_time and ends with the feature id
        good = [r for r in rows if r is not None]
        if simple:
            names, ins = _SIMPLE_COLS, good
        else:
            # leave all-NULL columns out (of datastream/multi_datastream, the one that is set). Columns other
            # than phenomenonTime, result and its number hold None or non-empty text: truth tests say "set"
            used = [0, *(j for j in (1, 2) if any(map(itemgetter(j), good))), 3, 4,
                    *(j for j in (5, 6, 7, 8) if any(map(itemgetter(j), good)))]
            names = ", ".join([*(_COLS[j] for j in used), _COLS[9] if kind == "Datastream" else _COLS[10], _COLS[11]])
            ins = [(*(r[j] for j in used), parent, r[9]) for r in good]
        ids = _insert(conn, names, ins)
        if good:
            _track(conn, table, parent, good, ids)
        ds_col = (parent, None) if kind == "Datastream" else (None, parent)
        _emit(conn, rows, ids, ds_col, thing_id, dataset_id, prefix, out)
    return out


async def create_observations(platform: Platform, version: str, body: Any, identity: Identity, base: str) -> list[str]:
    Gate.require_somewhere(identity, "publisher")
    if version not in ("v1.0", "v1.1"):
        raise BadRequest("Unknown version.")
    return await platform.db.write(
        lambda c: create_sync(c, version, base.rstrip("/"), body, identity, platform.gate))


def to_data_array(e: EntityType, rows: list[dict[str, Any]], body: dict[str, Any], select: Any, base: str,
                  version: str) -> dict[str, Any]:
    if e.name != "Observation":
        raise BadRequest("$resultFormat=dataArray applies to Observations only.")
    comps = [p[0] for p in select] if select else ["id", "phenomenonTime", "resultTime", "result"]
    for c in comps:
        if c not in ("id", "@iot.id") and c not in e.prop_map:
            raise BadRequest(f"$select {c!r} cannot be a dataArray component.")
    groups: dict[tuple[str, Any], list[list[Any]]] = {}
    for r, o in zip(rows, body["value"], strict=True):
        key = ("Datastream", r["datastream_id"]) if r["datastream_id"] is not None else ("MultiDatastream", r["multi_datastream_id"])
        groups.setdefault(key, []).append([o.get("@iot.id") if c in ("id", "@iot.id") else o.get(c) for c in comps])
    value = []
    for (kind, pid), arr in groups.items():
        value.append({f"{kind}@iot.navigationLink": self_link(base, version, ENTITIES[kind], pid),
                      "components": comps, "dataArray@iot.count": len(arr), "dataArray": arr})
    out: dict[str, Any] = {}
    if "@iot.count" in body:
        out["@iot.count"] = body["@iot.count"]
    if "@iot.nextLink" in body:
        out["@iot.nextLink"] = body["@iot.nextLink"]
    out["value"] = value
    return out


__all__ = ["create_observations", "create_sync", "to_data_array"]
