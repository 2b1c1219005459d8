"""Import reports of uploaded (or fetched) resources, kept in the table ``feature_import_reports``: the import's
state (running, done with the report, failed with the reason), seen by every process on the database and by a
restarted one. Reports quote cell values: they are shown only to callers who may publish to the dataset."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from urbanos.core.time import now_stored
from urbanos.features.store import IMPORT_REPORTS
from urbanos.ports import CatalogPort

if TYPE_CHECKING:
    from urbanos.platform import Platform
    from urbanos.storage import Connection


def record_import(platform: Platform, c: Connection, resource_id: str, dataset_id: int | None, status: str,
                  report: dict[str, Any] | None = None, failure: str | None = None) -> None:
    """Record the state of the import of a resource: ``running``, ``done`` (with its report) or ``failed`` (with the
    reason). A new import of the resource replaces the row; a resource deleted meanwhile keeps none."""
    t = IMPORT_REPORTS
    catalog = platform.optional(CatalogPort)
    if catalog is not None and catalog.resource(c, resource_id) is None:
        c.execute(f"DELETE FROM {t} WHERE resource_id = ?", (resource_id,))
        return
    now = now_stored()
    if status == "running":
        started, finished = now, None
    else:
        row = c.fetchone(f"SELECT status, started_at FROM {t} WHERE resource_id = ?", (resource_id,))
        started, finished = (row[1] if row is not None and row[0] == "running" else now), now
    ds = c.fetchone("SELECT id FROM datasets WHERE id = ?", (dataset_id,)) if dataset_id is not None else None
    c.execute(
        f"INSERT INTO {t} (resource_id, dataset_id, status, report, failure, started_at, finished_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) "
        + c.dialect.upsert_suffix(("resource_id",), ("dataset_id", "status", "report", "failure", "started_at", "finished_at")),
        (resource_id, None if ds is None else ds[0], status, c.dialect.json_param(report), failure, started, finished),
    )


def read_import(c: Connection, resource_id: str) -> dict[str, Any] | None:
    """The recorded import of a resource: ``{status, report, failure, started_at, finished_at}``, or None."""
    row = c.fetchone(f"SELECT status, report, failure, started_at, finished_at FROM {IMPORT_REPORTS}"
                     " WHERE resource_id = ?", (resource_id,))
    if row is None:
        return None
    report = orjson.loads(row[1]) if isinstance(row[1], str | bytes) else row[1]
    return {"status": row[0], "report": report, "failure": row[2], "started_at": row[3], "finished_at": row[4]}


def drop_reports(c: Connection, resource_id: str) -> None:
    c.execute(f"DELETE FROM {IMPORT_REPORTS} WHERE resource_id = ?", (resource_id,))


__all__ = ["record_import", "read_import", "drop_reports"]
