"""Imports of files uploaded through the catalogue's resource_create (or, with ``datastore_fetch_urls``, fetched from
a resource's URL) into the DataStore.

The import runs in the background when the catalogue's event for the resource arrives (topic ``catalog``); its state
and report are recorded (:mod:`urbanos.features.datastore.reports`). An import replaces an existing collection only
when the uploader may publish to that collection's dataset (:func:`replace_guard`, checked in the import's
transaction). A deleted resource takes its DataStore table (as in CKAN) and its import report with it.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from urbanos.errors import Forbidden
from urbanos.events import Event
from urbanos.features import store
from urbanos.features.datastore.args import setting
from urbanos.features.datastore.reports import drop_reports, record_import
from urbanos.features.datastore.resources import bind, free_name, resolve
from urbanos.features.importers.fetch import fetch_url
from urbanos.features.importers.readers import detect_format
from urbanos.features.importers.run import import_file
from urbanos.governance import Identity, Membership
from urbanos.ports import CatalogPort

if TYPE_CHECKING:
    from urbanos.platform import Platform
    from urbanos.storage import Connection

log = logging.getLogger("urbanos.features.datastore")

IMPORTABLE = {"csv", "tsv", "geojson", "json", "gpkg", "xlsx", "zip", "shp"}
Guard = Callable[["Connection", "store.CollectionMeta | None"], None]


def _upload_format(path: str, declared: str) -> str | None:
    ext = os.path.splitext(path)[1].lstrip(".").lower()
    if ext not in IMPORTABLE and (declared or "").lower() not in IMPORTABLE:
        return None
    return detect_format(path)


def replace_guard(platform: Platform, dataset_id: int | None, publisher_orgs: Sequence[str | None] | None) -> Guard:
    """The check an upload runs, in its write transaction, before it replaces collection ``old``: a new name, a
    collection of the resource's own dataset, or one of a dataset whose organisation the uploader may publish to
    (``publisher_orgs``: the uploader's publisher scopes as the catalogue recorded them; None is every
    organisation). Anything else refuses the import and changes nothing."""
    uploader = Identity(subject="uploader", kind="token",
                        memberships=frozenset(Membership("publisher", o) for o in publisher_orgs or ()))

    def guard(c: Connection, old: store.CollectionMeta | None) -> None:
        if old is None or (old.dataset_id is not None and old.dataset_id == dataset_id):
            return
        owner = None
        if old.dataset_id is not None:
            row = c.fetchone("SELECT owner_org FROM datasets WHERE id = ?", (old.dataset_id,))
            owner = row[0] if row is not None else None
        if not platform.gate.can_write(uploader, owner):
            raise Forbidden(f"The resource names the collection {old.name!r}, which belongs to another dataset that the "
                            "uploader may not publish to; nothing was imported. Fix: clear the resource's collection "
                            "(resource_patch with collection=\"\") and upload the file again.")

    return guard


def import_upload(platform: Platform, resource_id: str, dataset_id: int | None, path: str, declared: str,
                  publisher_orgs: Sequence[str | None] | None = None) -> dict[str, Any] | None:
    """Import an uploaded file into a collection attached to its dataset and resource (runs in a thread).
    ``publisher_orgs``: see :func:`replace_guard`."""
    fmt = _upload_format(path, declared)
    if fmt is None:
        return None

    def pick(c: Connection) -> str:
        meta, _ = resolve(platform, c, resource_id)
        if meta is not None:
            return meta.name
        ds = c.fetchone("SELECT name FROM datasets WHERE id = ?", (dataset_id,)) if dataset_id is not None else None
        base = str(ds[0]) if ds is not None else resource_id
        existing = store.get_collection(c, base)
        if existing is None or existing.extras.get("resource_id") == resource_id:
            return base
        return free_name(c, f"{base}-{resource_id[:8]}")

    def bound(c: Connection) -> None:
        catalog = platform.optional(CatalogPort)
        if catalog is not None and catalog.resource(c, resource_id) is not None:  # not deleted meanwhile
            bind(platform, c, resource_id, name)

    name = platform.db.read_sync(pick)
    platform.db.write_sync(lambda c: record_import(platform, c, resource_id, dataset_id, "running"))
    report = import_file(platform, path, name, {}, fmt=fmt, dataset_id=dataset_id, progress=False,
                         extras={"resource_id": resource_id}, guard=replace_guard(platform, dataset_id, publisher_orgs))
    platform.db.write_sync(bound)
    return report


def _url_of(platform: Platform, c: Connection, resource_id: str) -> tuple[str, str] | None:
    catalog = platform.optional(CatalogPort)
    ref = catalog.resource(c, resource_id) if catalog is not None else None
    if ref is None or ref.url_type == "upload" or not str(ref.url).startswith(("http://", "https://")):
        return None
    return str(ref.url), str(ref.format or "")


def import_url(platform: Platform, resource_id: str, dataset_id: int | None,
               publisher_orgs: Sequence[str | None] | None = None) -> dict[str, Any] | None:
    """Fetch and import a resource created with a URL (when ``datastore_fetch_urls`` is on)."""
    found = platform.db.read_sync(lambda c: _url_of(platform, c, resource_id))
    if found is None:
        return None
    url, declared = found
    ext = os.path.splitext(url.split("?", 1)[0])[1].lstrip(".").lower()
    if ext not in IMPORTABLE and declared.lower() not in IMPORTABLE:
        return None
    path = fetch_url(platform, url, resource_id, max_bytes=int(setting(platform, "catalog_upload_max_bytes", 50 << 20)),
                     allow_private=bool(setting(platform, "datastore_fetch_private", False)))
    try:
        return import_upload(platform, resource_id, dataset_id, path, declared, publisher_orgs)
    finally:
        os.unlink(path)


def _drop_for_resource(c: Connection, resource_id: str) -> None:
    """A deleted resource takes its DataStore table (as in CKAN) and its import report with it."""
    for meta in store.list_collections(c):
        if meta.extras.get("resource_id") == resource_id:
            store.drop_collection(c, meta.name)
    drop_reports(c, resource_id)


async def _record(platform: Platform, resource_id: str, dataset_id: int | None, status: str, **kw: Any) -> None:
    try:
        await platform.db.write(lambda c: record_import(platform, c, resource_id, dataset_id, status, **kw))
    except Exception:  # noqa: BLE001 - the import itself is done; a lost report is logged, never raised
        log.exception("the %s import of resource %s could not be recorded", status, resource_id)


async def _import(platform: Platform, ev: Event, path: Any) -> None:
    rid = str(ev.id)
    scopes = (ev.data or {}).get("publisher_orgs")
    scopes = [o for o in scopes if o is None or isinstance(o, str)] if isinstance(scopes, list) else []
    try:
        if path:
            report = await asyncio.to_thread(import_upload, platform, rid, ev.dataset_id, str(path),
                                             str((ev.data or {}).get("format") or ""), scopes)
        else:
            report = await asyncio.to_thread(import_url, platform, rid, ev.dataset_id, scopes)
    except Exception as exc:  # noqa: BLE001 - a failed import is logged and recorded, never raised
        message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        log.warning("import of uploaded resource %s failed: %s", ev.id, message)
        await _record(platform, rid, ev.dataset_id, "failed", failure=str(message))
        return
    if report is not None:
        await _record(platform, rid, ev.dataset_id, "done", report=report)
        log.info("imported resource %s: %s rows, %s bad", ev.id, report["rows"], report["bad_rows"])


def watch_catalog(platform: Platform) -> None:
    """Import uploaded (and, with ``datastore_fetch_urls``, linked) resources when the catalogue announces them, and
    drop the DataStore table of a deleted resource."""
    async def handle(ev: Event) -> None:
        if ev.entity == "Resource" and ev.kind == "deleted":
            await platform.db.write(lambda c: _drop_for_resource(c, str(ev.id)))
            return
        if ev.entity != "Resource" or ev.kind not in ("created", "updated"):
            return
        path = (ev.data or {}).get("path")
        if not path and not setting(platform, "datastore_fetch_urls", False):
            return
        await _import(platform, ev, path)

    platform.bus.subscribe(handle, topic="catalog")


__all__ = ["IMPORTABLE", "replace_guard", "import_upload", "import_url", "watch_catalog"]
