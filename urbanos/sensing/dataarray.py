"""The dataArray extension: ``CreateObservations`` (bulk ingest) and ``$resultFormat=dataArray`` on reads."""

from __future__ import annotations

from typing import Any

import orjson

from urbanos.errors import BadRequest
from urbanos.governance import Gate
from urbanos.sensing.model import ENTITIES, EntityType
from urbanos.sensing.serialize import self_link
from urbanos.sensing.timefmt import now_stored, store_instant, store_interval
from urbanos.sensing.write import Writer, _num

COMPONENTS = ("phenomenonTime", "result", "resultTime", "resultQuality", "validTime", "parameters", "FeatureOfInterest/id")
_COLS = ("phen_start", "phen_end", "result_time", "result", "result_num", "result_quality", "valid_start", "valid_end",
         "parameters", "datastream_id", "multi_datastream_id", "feature_id")
CHUNK = 400


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
    return [ps, pe, rt, orjson.dumps(res).decode(), _num(res),
            orjson.dumps(d["resultQuality"]).decode() if d.get("resultQuality") is not None else None,
            vs, ve, json_param(params), foi]


def _simple_rows(comp: list[str], data: list[Any], default_foi: Any, now: str) -> list[list[Any] | None]:
    """The common shape (phenomenonTime, result[, resultTime]) without the general per-row machinery."""
    n = len(comp)
    ip = comp.index("phenomenonTime") if "phenomenonTime" in comp else -1
    ir = comp.index("result")
    it = comp.index("resultTime") if "resultTime" in comp else -1
    out: list[list[Any] | None] = []
    for values in data:
        if type(values) is not list or len(values) != n:
            out.append(None)
            continue
        try:
            pt = values[ip] if ip >= 0 else None
            ps, pe = store_interval(pt, "phenomenonTime") if pt is not None else (now, None)
            rv = values[it] if it >= 0 else None
            rt = store_instant(rv, "resultTime") if rv is not None else None
        except BadRequest:
            out.append(None)
            continue
        res = values[ir]
        t = type(res)
        if t is int:
            text, num = str(res), float(res)
        else:
            text, num = orjson.dumps(res).decode(), _num(res)
        out.append([ps, pe, rt, text, num, None, None, None, None, default_foi])
    return out


def create_sync(conn: Any, version: str, base: str, body: Any) -> list[str]:
    if not isinstance(body, list):
        raise BadRequest("CreateObservations expects a JSON array of {Datastream, components, dataArray} objects.")
    w = Writer(conn, version)
    out: list[str] = []
    obs_e = ENTITIES["Observation"]
    now = now_stored()
    for group in body:
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
        parent = w.exists(ENTITIES[kind], ref["@iot.id"])
        thing_id, dataset_id = conn.fetchone(f"SELECT thing_id, dataset_id FROM {table} WHERE id = ?", (parent,))
        n_results = None
        if kind == "MultiDatastream":
            n_results = int(conn.fetchval("SELECT COUNT(*) FROM sta_mds_properties WHERE multi_datastream_id = ?", (parent,)))
        default_foi = None if "FeatureOfInterest/id" in comp else w._feature_for(thing_id)
        rows: list[list[Any] | None] = []
        simple = n_results is None and "result" in comp and set(comp) <= {"phenomenonTime", "result", "resultTime"}
        for values in ([] if simple else data):
            try:
                r = _row(comp, values, n_results, default_foi, now, conn.dialect.json_param)
                if r[-1] is None or (isinstance(r[-1], bool) or not isinstance(r[-1], int)):
                    raise BadRequest("FeatureOfInterest/id must be an integer.")
                rows.append(r)
            except BadRequest:
                rows.append(None)
        if simple:
            rows = _simple_rows(comp, data, default_foi, now)
        fois = {r[-1] for r in rows if r is not None}
        if fois - {default_foi}:
            have = {x[0] for x in conn.fetchall(
                f"SELECT id FROM sta_features WHERE id IN ({', '.join('?' * len(fois))})", list(fois))}
            rows = [r if r is None or r[-1] in have else None for r in rows]
        good = [r for r in rows if r is not None]
        ids: list[int] = []
        ds_col = [parent, None] if kind == "Datastream" else [None, parent]
        full = [r[:-1] + ds_col + [r[-1]] for r in good]
        used = [j for j in range(len(_COLS)) if any(r[j] is not None for r in full)]  # leave all-NULL columns out
        names = ", ".join(_COLS[j] for j in used)
        if full and conn.dialect.name == "sqlite":
            # one writer thread: the rows of one executemany get consecutive ids ending at last_insert_rowid()
            conn.executemany(f"INSERT INTO sta_observations ({names}) VALUES ({', '.join('?' * len(used))})",
                             [[r[j] for j in used] for r in full])
            last_id = int(conn.fetchval("SELECT last_insert_rowid()"))
            ids = list(range(last_id - len(full) + 1, last_id + 1))
            full = []
        for i in range(0, len(full), CHUNK):
            chunk = full[i : i + CHUNK]
            marks = ", ".join(["(" + ", ".join("?" * len(used)) + ")"] * len(chunk))
            params: list[Any] = [r[j] for r in chunk for j in used]
            cur = conn.execute(f"INSERT INTO sta_observations ({names}) VALUES {marks} RETURNING id", params)
            ids += [int(x[0]) for x in cur.fetchall()]
        if good:
            first = min(r[0] for r in good)
            last = max((r[1] or r[0]) for r in good)
            latest_start = max(r[0] for r in good)
            latest_id = min(i for r, i in zip(good, ids, strict=True) if r[0] == latest_start)  # ties: the first
            rts = [r[2] for r in good if r[2] is not None]
            w.track_many(table, parent, first, last, latest_id, latest_start, min(rts) if rts else None,
                         max(rts) if rts else None)
        it = iter(ids)
        for r in rows:
            if r is None:
                out.append("error")
                continue
            oid = next(it)
            out.append(self_link(base, version, obs_e, oid))
            w.emit("created", obs_e, oid, dataset_id, {"Datastream": ds_col[0], "MultiDatastream": ds_col[1],
                                                        "FeatureOfInterest": r[-1], "Thing": thing_id})
    return out


async def create_observations(platform: Any, version: str, body: Any, identity: Any, base: str) -> list[str]:
    Gate.require(identity, "publisher")
    if version not in ("v1.0", "v1.1"):
        raise BadRequest("Unknown version.")
    return await platform.db.write(lambda c: create_sync(c, version, base.rstrip("/"), body))  # type: ignore[no-any-return]


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
