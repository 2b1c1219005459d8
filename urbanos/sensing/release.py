"""What the SensorThings read paths tell the privacy rules about the rows they hand to the gate
(:class:`urbanos.governance.Release`): per Observation its time, Datastream and place (its FeatureOfInterest's
point), and a window over every Observation of a dataset, so an aggregate-only dataset is released as complete
aggregates. Both are computed only when a rule asks (the gate calls them lazily). And the service's calls of the
gate's transform: on the entities served (:func:`transform`) and inside ``$expand`` (:func:`scrub`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from urbanos.errors import Forbidden
from urbanos.governance import Release

if TYPE_CHECKING:
    from urbanos.governance import DatasetAccess, Gate
    from urbanos.sensing.model import EntityType
    from urbanos.sensing.query import Ctx
    from urbanos.storage import Connection

Meta = list[dict[str, Any]]
_SHAPES = {"Observation": "sta:Observation", "Thing": "sta:Thing", "Datastream": "sta:Datastream",
           "MultiDatastream": "sta:MultiDatastream"}


def _point(text: Any) -> tuple[float, float] | None:
    """A representative (lon, lat) of a stored GeoJSON geometry or Feature (a point's own, else its bounds' centre)."""
    if text is None:
        return None
    try:
        g = orjson.loads(text) if isinstance(text, (str, bytes)) else text
        if isinstance(g, dict) and g.get("type") == "Feature":
            g = g.get("geometry")
        if not isinstance(g, dict):
            return None
        if g.get("type") == "Point":
            x, y = g["coordinates"][:2]
            return float(x), float(y)
        from shapely.geometry import shape

        c = shape(g).centroid
        return float(c.x), float(c.y)
    except (ValueError, KeyError, TypeError, AttributeError, orjson.JSONDecodeError):
        return None


def _points(conn: Connection, feature_ids: list[int]) -> dict[int, tuple[float, float] | None]:
    if not feature_ids:
        return {}
    out: dict[int, tuple[float, float] | None] = {}
    for i in range(0, len(feature_ids), 500):
        part = feature_ids[i:i + 500]
        for fid, feature in conn.fetchall(f"SELECT id, feature FROM sta_features WHERE id IN ({', '.join('?' * len(part))})",
                                          part):
            out[int(fid)] = _point(feature)
    return out


def _meta(conn: Connection, rows: list[dict[str, Any]]) -> Meta:
    pts = _points(conn, sorted({int(r["feature_id"]) for r in rows if r.get("feature_id") is not None}))
    return [{"time": r.get("phen_start"), "datastream": r.get("datastream_id"),
             "point": pts.get(int(r["feature_id"])) if r.get("feature_id") is not None else None} for r in rows]


def _window(conn: Connection, dataset_id: int) -> Callable[[str, str], Meta]:
    cache: dict[int, tuple[float, float] | None] = {}

    def window(start: str, end: str) -> Meta:
        rows = conn.fetchall(
            "SELECT o.phen_start, o.result_num, o.datastream_id, o.feature_id FROM sta_observations o"
            " JOIN sta_datastreams d ON d.id = o.datastream_id WHERE d.dataset_id = ? AND o.phen_start >= ?"
            " AND o.phen_start < ?", (dataset_id, start, end))
        cache.update(_points(conn, sorted({int(r[3]) for r in rows} - set(cache))))
        return [{"time": r[0], "value": r[1], "datastream": r[2], "point": cache.get(int(r[3]))} for r in rows]

    return window


_DATASET_SQL = {
    "Observation": "SELECT COALESCE((SELECT d.dataset_id FROM sta_datastreams d WHERE d.id = o.datastream_id),"
                   " (SELECT m.dataset_id FROM sta_multi_datastreams m WHERE m.id = o.multi_datastream_id))"
                   " FROM sta_observations o WHERE o.id = ?",
    "Thing": "SELECT dataset_id FROM sta_things WHERE id = ?",
    "Datastream": "SELECT dataset_id FROM sta_datastreams WHERE id = ?",
    "MultiDatastream": "SELECT dataset_id FROM sta_multi_datastreams WHERE id = ?",
}


def dataset_of(conn: Connection, gate: Gate, entity: str, id_: Any) -> DatasetAccess | None:
    """The catalogue dataset an entity's data belongs to (None: none, or an entity kind no dataset owns)."""
    sql = _DATASET_SQL.get(entity)
    row = conn.fetchone(sql, (id_,)) if sql is not None else None
    if row is None or row[0] is None:
        return None
    return gate.dataset_access(conn, int(row[0]))[0]


def release_of(conn: Connection, entity: str, dataset_id: int, rows: list[dict[str, Any]], *,
               stream: bool = False) -> Release:
    """The :class:`Release` of SensorThings rows of ``entity`` (raw rows of dataset ``dataset_id``)."""
    if entity != "Observation":
        return Release(shape=_SHAPES.get(entity, "rows"), stream=stream)
    return Release(shape="sta:Observation", meta=lambda: _meta(conn, rows), window=_window(conn, dataset_id),
                   stream=stream)




def _groups(e: EntityType, rows: list[dict[str, Any]]) -> dict[int, list[int]]:
    """Row positions per catalogue dataset (Observations by their (Multi)Datastream's, the others by their own)."""
    key = "_ds" if e.name == "Observation" else ("dataset_id" if e.name in ("Thing", "Datastream", "MultiDatastream")
                                                 else "")
    groups: dict[int, list[int]] = {}
    if key:
        for i, r in enumerate(rows):
            if r.get(key) is not None:
                groups.setdefault(int(r[key]), []).append(i)
    return groups


def _aggregate(entity: dict[str, Any]) -> bool:
    """An aggregate the privacy rules made (marked in its parameters), not an Observation as stored: a ``$select``
    without ``id`` leaves stored ones without ``@iot.id`` too."""
    params = entity.get("parameters")
    return isinstance(params, dict) and "urbanos:aggregate" in params and "@iot.id" not in entity


def transform(gate: Gate, conn: Connection, ctx: Ctx, e: EntityType, rows: list[dict[str, Any]],
              outs: list[dict[str, Any]], stream: bool = False) -> list[dict[str, Any]]:
    """The gate's privacy transforms per dataset on the entities served. Rows whose entity a transform drops are
    dropped from ``rows`` too, in place; Observations released as aggregates come last, and ``ctx.aggregated``
    says so."""
    groups = _groups(e, rows)
    if not groups:
        return outs
    result: list[dict[str, Any] | None] = list(outs)
    extra: list[dict[str, Any]] = []
    for ds_id, idx in groups.items():
        ds, _grants = gate.dataset_access(conn, ds_id)
        changed = gate.transform(ctx.identity, ds, [outs[i] for i in idx],
                                 release_of(conn, e.name, ds_id, [rows[i] for i in idx], stream=stream))
        if e.name == "Observation" and changed and _aggregate(changed[0]):  # released as aggregates
            for i in idx:
                result[i] = None
            extra.extend(changed)
            continue
        where = {id(outs[i]): i for i in idx}
        if len(changed) != len(idx) and all(id(o) in where for o in changed):
            # a transform that dropped entities (consent) and kept the others as they were: keep each with its own
            # row, so that what is built from the rows ($resultFormat) holds exactly the entities served
            for i in idx:
                result[i] = None
            for o in changed:
                result[where[id(o)]] = o
            continue
        for j, i in enumerate(idx):
            result[i] = changed[j] if j < len(changed) else None
    keep = [i for i, o in enumerate(result) if o is not None]
    if len(keep) != len(rows) or extra:
        rows[:] = [rows[i] for i in keep]
        ctx.aggregated = ctx.aggregated or bool(extra)
    return [*(o for o in result if o is not None), *extra]


def scrub(gate: Gate, conn: Connection, ctx: Ctx, e: EntityType, rows: list[dict[str, Any]],
          outs: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
    """The privacy rules on entities inside ``$expand``: field rules and k as on the entity sets; Observations of a
    dataset released only as aggregates are left out (None): the navigation link leads to the aggregates."""
    result: list[dict[str, Any] | None] = list(outs)
    for ds_id, idx in _groups(e, rows).items():
        ds, _grants = gate.dataset_access(conn, ds_id)
        if not gate.ruled(ctx.identity, ds):
            continue
        try:
            changed = gate.transform(ctx.identity, ds, [outs[i] for i in idx],
                                     release_of(conn, e.name, ds_id, [rows[i] for i in idx], stream=True))
        except Forbidden:
            for i in idx:
                result[i] = None
            continue
        if len(changed) == len(idx):
            for j, i in enumerate(idx):
                result[i] = changed[j]
            continue
        for i in idx:  # some were withheld: decide one by one
            one = gate.transform(ctx.identity, ds, [outs[i]], release_of(conn, e.name, ds_id, [rows[i]]))
            result[i] = one[0] if one else None
    return result


__all__ = ["release_of", "dataset_of", "transform", "scrub"]
