"""Which Things and Datastreams belong to a dataset, with their locations: the answer of
:meth:`urbanos.ports.SensingPort.dataset_sensors`, which the catalogue's portal draws on a dataset's map and chart.

The gate decides first: a caller who may not read the dataset gets nothing (the same answer as a dataset without
sensors), and a read of non-open data is reported to the audit hooks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from urbanos.core.jsontext import from_column
from urbanos.ports import SensorRef

if TYPE_CHECKING:
    from urbanos.governance import Gate, Identity
    from urbanos.storage import Connection


def _point(location: Any) -> tuple[float | None, float | None]:
    """(longitude, latitude) of a GeoJSON Point (or a Feature of one), else (None, None)."""
    geom = from_column(location)
    if isinstance(geom, dict) and geom.get("type") == "Feature":
        geom = geom.get("geometry")
    if not isinstance(geom, dict) or geom.get("type") != "Point":
        return None, None
    coords = geom.get("coordinates")
    if not isinstance(coords, list | tuple):
        return None, None
    try:
        return float(coords[0]), float(coords[1])
    except (TypeError, ValueError, IndexError):
        return None, None


def _unit(unit: Any) -> str:
    u = from_column(unit)
    return str(u.get("symbol") or u.get("name") or "") if isinstance(u, dict) else ""


def dataset_sensors(c: Connection, gate: Gate, identity: Identity, dataset: str, limit: int) -> list[SensorRef]:
    """Up to ``limit`` Things of dataset ``dataset`` (by name), each with its first point Location and Datastreams."""
    row = c.fetchone("SELECT id FROM datasets WHERE name = ? AND state = 'active'", (dataset,))
    if row is None:
        return []
    ds, grants = gate.dataset_access(c, int(row[0]))
    if ds is None or not gate.can_read(identity, ds, grants):
        return []
    gate.observe(identity, ds, f"sensors of {dataset}")
    things = c.rows("SELECT id, name FROM sta_things WHERE dataset_id = ? ORDER BY id LIMIT ?", (ds.id, max(0, limit)))
    if not things:
        return []
    ids = [int(t["id"]) for t in things]
    marks = ", ".join("?" * len(ids))
    where: dict[int, tuple[float | None, float | None]] = {}
    for r in c.rows(f"SELECT tl.thing_id, l.location FROM sta_thing_locations tl JOIN sta_locations l"
                    f" ON l.id = tl.location_id WHERE tl.thing_id IN ({marks}) ORDER BY tl.thing_id, l.id", ids):
        point = _point(r["location"])
        if point[0] is not None:
            where.setdefault(int(r["thing_id"]), point)
    streams: dict[int, list[tuple[int, str, str]]] = {}
    for r in c.rows(f"SELECT id, thing_id, name, unit FROM sta_datastreams WHERE thing_id IN ({marks})"
                    " ORDER BY thing_id, id", ids):
        streams.setdefault(int(r["thing_id"]), []).append((int(r["id"]), str(r["name"] or ""), _unit(r["unit"])))
    return [SensorRef(thing_id=tid, name=str(t["name"] or ""), longitude=where.get(tid, (None, None))[0],
                      latitude=where.get(tid, (None, None))[1], datastreams=tuple(streams.get(tid, [])))
            for t in things for tid in (int(t["id"]),)]


__all__ = ["dataset_sensors"]
