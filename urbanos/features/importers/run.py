"""Run an import: file → (dataset created when missing) → collection, atomically, with a bad-row report.

Used by ``urbanos import`` (through the importers in ``__init__``) and by the CKAN upload hook.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from shapely.geometry.base import BaseGeometry

from urbanos.core.time import now_stored
from urbanos.errors import ValidationFailed
from urbanos.features import store
from urbanos.features.importers._model import Row, RowError, Source
from urbanos.features.importers.readers import open_source
from urbanos.ports import CatalogPort
from urbanos.storage import Connection

if TYPE_CHECKING:
    from urbanos.platform import Platform

log = logging.getLogger("urbanos.features.importers")
MAX_REPORTED = 1000  # bad rows kept in a report (the count is always exact)


def ensure_dataset(conn: Connection, name: str, *, title: str | None = None, org: str | None = None,
                   access_level: str | None = None) -> int:
    """The id of dataset ``name``; creates a minimal dataset record when it is missing."""
    row = conn.fetchone("SELECT id FROM datasets WHERE name = ?", (name,))
    if row is not None:
        return int(row[0])
    now = now_stored()
    return int(conn.insert("datasets", {"name": name, "title": title or name, "owner_org": org,
                                        "access_level": access_level or "open", "created_at": now, "modified_at": now}))


_FORMATS = {"csv": "CSV", "geojson": "GeoJSON", "gpkg": "GPKG", "shapefile": "SHP", "xlsx": "XLSX"}


def attach_distribution(platform: Platform, name: str, fmt: str, filename: str) -> None:
    """Describe collection ``name`` as a distribution of dataset ``name`` in the catalogue (once), when the catalogue
    is installed. Failures are logged: the data is loaded either way."""
    catalog = platform.optional(CatalogPort)
    if catalog is None:
        return
    try:
        if platform.db.read_sync(lambda c: catalog.resources_of_collection(c, name)):
            return
        coro = catalog.describe_collection(name, name, fmt=_FORMATS.get(fmt, fmt), url=f"/ogcapi/collections/{name}",
                                           title=filename)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            asyncio.run(coro)
        else:  # called on the thread of a running event loop: not expected, skip rather than block
            coro.close()
    except Exception as exc:  # noqa: BLE001 - the catalogue entry is a convenience, the import stands
        log.warning("could not add a distribution for %s: %s", name, getattr(exc, "message", exc))


def pick_time_field(source: Source, requested: str | None) -> str | None:
    names = [f.name for f in source.fields]
    if requested:
        if requested not in names:
            raise ValidationFailed(f"--time-field {requested!r} is not a column of the file (columns: {', '.join(names)}).",
                                   detail={"time_field": ["not a column"]})
        return requested
    return "datetime" if "datetime" in names else None


def _rows(source: Source, time_field: str | None, types: dict[str, str], progress: Callable[[int], None] | None,
          ) -> Iterator[tuple[dict[str, Any], BaseGeometry | None]]:
    """The source's good rows; values that the store would refuse become bad rows here, not a failed import."""
    row: Row
    for i, row in enumerate(source.rows(), start=1):
        if progress is not None and i % 500 == 0:
            progress(500)
        try:
            for name, kind in types.items():
                store.coerce(kind, row.properties.get(name))
            if time_field and row.properties.get(time_field) is not None:
                store.parse_datetime(store.coerce(types[time_field], row.properties[time_field]))
        except (ValueError, TypeError, OverflowError) as exc:
            source.errors.append(RowError(row.row, f"value does not fit its column ({exc})"))
            continue
        yield row.properties, row.geometry


def import_file(platform: Platform, path: str, name: str, options: dict[str, Any] | None = None, *,
                fmt: str | None = None, dataset_id: int | None = None, progress: bool | None = None,
                extras: dict[str, Any] | None = None,
                guard: Callable[[Connection, store.CollectionMeta | None], None] | None = None) -> dict[str, Any]:
    """Import ``path`` as collection ``name`` of dataset ``name`` (or ``dataset_id``). Returns the report.

    Raises ValidationFailed when the file cannot be read, when no row can be loaded, or (``strict``)
    when any row is bad; then nothing changes. ``guard(conn, current record or None)`` runs in the import's write
    transaction before anything is replaced, and may refuse by raising (uploads check who may replace what).
    """
    options = dict(options or {})
    store.check_name(name)
    source = open_source(path, options, fmt=fmt)
    time_field = pick_time_field(source, options.get("time_field"))
    fields = [store.Field(f.name, f.type, title=f.title) for f in source.fields]
    types = {f.name: f.type for f in source.fields}
    strict = bool(options.get("strict"))
    show = progress if progress is not None else sys.stderr.isatty()
    meta_extras = {"source_file": os.path.basename(path), "format": source.format, **{k: v for k, v in source.info.items()
                                                                                   if k in ("encoding", "delimiter", "sheet", "layer", "geometry_columns")}}
    meta_extras.update(extras or {})

    def load(conn: Connection, advance: Callable[[int], None] | None) -> tuple[store.CollectionMeta, int]:
        ds_id = dataset_id
        if ds_id is None:
            ds_id = ensure_dataset(conn, name, title=options.get("title"), org=options.get("org"),
                                   access_level=options.get("access_level"))
        old = store.get_collection(conn, name)
        if guard is not None:
            guard(conn, old)
        meta = store.replace_collection(
            conn, name, fields, _rows(source, time_field, types, advance),
            geometry_type=source.geometry_type or "" if source.geometry_type != "Geometry" else "",
            source_crs=source.source_crs or "OGC:CRS84", time_field=time_field, dataset_id=ds_id,
            title=options.get("title") or (old.title if old else "") or name,
            description=old.description if old else "", extras={**(old.extras if old else {}), **meta_extras,
                                                                 "bad_rows": len(source.errors)},
        )
        errors = source.errors
        if strict and errors:
            raise ValidationFailed(
                f"import refused (--strict): {len(errors)} bad row(s); {'; '.join(str(e) for e in errors[:5])}"
                + ("; …" if len(errors) > 5 else ""),
                detail={"rows": [str(e) for e in errors[:MAX_REPORTED]]})
        if meta.item_count == 0 and errors:
            raise ValidationFailed(
                f"import refused: none of the rows could be read; {'; '.join(str(e) for e in errors[:5])}"
                + ("; …" if len(errors) > 5 else ""),
                detail={"rows": [str(e) for e in errors[:MAX_REPORTED]]})
        return meta, ds_id

    if show:  # rich is loaded for a terminal only
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(TextColumn("importing {task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                      console=Console(stderr=True), transient=False) as bar:
            task = bar.add_task(os.path.basename(path), total=source.count)
            meta, ds_id = platform.db.write_sync(lambda c: load(c, lambda n: bar.advance(task, n)))
            bar.update(task, completed=meta.item_count + len(source.errors))
    else:
        meta, ds_id = platform.db.write_sync(lambda c: load(c, None))
    if dataset_id is None:
        attach_distribution(platform, name, source.format, os.path.basename(path))
    return {
        "dataset": name if dataset_id is None else ds_id,
        "collection": meta.name,
        "format": source.format,
        "rows": meta.item_count,
        "bad_rows": len(source.errors),
        "geometry_type": meta.geometry_type or "none",
        "source_crs": source.source_crs or "none",
        "time_field": time_field or "none",
        "errors": [str(e) for e in source.errors[:MAX_REPORTED]],
    }


__all__ = ["import_file", "ensure_dataset", "pick_time_field"]
