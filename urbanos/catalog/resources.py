"""Resource writes (CKAN's resource_create, resource_update, resource_patch and resource_delete), inside ``db.write``.

A resource is a URL, or an uploaded file kept by :mod:`urbanos.catalog.uploads`; the file is staged before the
transaction and removed by the caller when the write fails. Each write emits a ``Resource`` event on topic
``catalog`` (with the file's path for an upload, so the features capability can import it).
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

import orjson

from urbanos.catalog.access import authorize_write, check_collection
from urbanos.catalog.records import DatasetRow, dataset_row
from urbanos.catalog.uploads import Staged
from urbanos.catalog.validation import RESOURCE_FIELDS, Errors, invalid, resource_errors, resource_values
from urbanos.catalog.writes import reindex
from urbanos.core.time import now_stored
from urbanos.errors import NotFound
from urbanos.events import Event
from urbanos.governance import Gate, Identity
from urbanos.ports import FeaturesPort
from urbanos.storage import Connection

ResourceMode = Literal["create", "update", "patch"]


def resource_write(c: Connection, gate: Gate, identity: Identity, data: dict[str, Any], staged: Staged | None,
                   mode: ResourceMode, features: FeaturesPort | None = None) -> tuple[str, str]:
    """Create, replace or patch a resource; returns its id and the upload path it no longer uses ("" for none)."""
    row, prev = _target(c, data, mode)
    authorize_write(c, gate, identity, row, NotFound("Dataset not found" if mode == "create" else "Resource was not found."))
    src = dict(data)
    if mode == "patch" and prev is not None:
        base = {k: prev[k] for k in RESOURCE_FIELDS}
        base.update(orjson.loads(prev["extras"]) if isinstance(prev["extras"], str) and prev["extras"] else (prev["extras"] or {}))
        base.update(src)
        src = base
    errs = resource_errors(src)
    if errs:
        Errors(errs).raise_if()
    vals = resource_values(src)
    if vals["collection"] != (prev["collection"] if prev is not None else ""):
        check_collection(c, identity, vals["collection"], int(row["id"]), features)
    rid = prev["id"] if prev else str(uuid.uuid4())
    url_type, upload_path, old_upload = _file_columns(vals, src, row, rid, prev, staged)
    ts = now_stored()
    extras = c.dialect.json_param(vals.pop("extras"))
    if prev is None:
        pos = int(c.fetchval("SELECT COALESCE(MAX(position) + 1, 0) FROM catalog_resources WHERE dataset_id = ?", (row["id"],)) or 0)
        c.insert("catalog_resources", {**vals, "extras": extras, "id": rid, "dataset_id": row["id"], "position": pos,
                                       "url_type": url_type, "upload_path": upload_path, "created": ts, "last_modified": ts},
                 returning="id")
    else:
        c.execute("UPDATE catalog_resources SET name = ?, description = ?, url = ?, format = ?, mimetype = ?, size = ?, collection = ?,"
                  " datastore_active = ?, extras = ?, url_type = ?, upload_path = ?, last_modified = ? WHERE id = ?",
                  (vals["name"], vals["description"], vals["url"], vals["format"], vals["mimetype"], vals["size"], vals["collection"],
                   vals["datastore_active"], extras, url_type, upload_path, ts, rid))
    c.execute("UPDATE datasets SET modified_at = ? WHERE id = ?", (ts, row["id"]))
    reindex(c, int(row["id"]))
    payload: dict[str, Any] = {"dataset": row["name"], "format": vals["format"], "resource": rid,
                               "publisher_orgs": identity.orgs_with("publisher")}  # an import checks what it replaces
    if staged:
        payload["path"] = staged["path"]
    c.emit(Event("created" if prev is None else "updated", "Resource", rid, topic="catalog", dataset_id=int(row["id"]), data=payload))
    return rid, old_upload


def _target(c: Connection, data: dict[str, Any], mode: ResourceMode) -> tuple[DatasetRow, dict[str, Any] | None]:
    """The dataset a resource write goes to, and the resource it replaces (None on create)."""
    if mode == "create":
        row = dataset_row(c, data.get("package_id"))
        if row is None or row["state"] == "deleted":
            if data.get("package_id") in (None, ""):
                raise invalid("package_id", "Missing value")
            raise NotFound("Dataset not found")
        return row, None
    found = c.rows("SELECT * FROM catalog_resources WHERE id = ?", (str(data.get("id") or ""),))
    if not found:
        if data.get("id") in (None, ""):
            raise invalid("id", "Missing value")
        raise NotFound("Resource was not found.")
    row = dataset_row(c, found[0]["dataset_id"])
    if row is None:  # catalog_resources.dataset_id references datasets(id)
        raise NotFound("Resource was not found.")
    return row, found[0]


def _file_columns(vals: dict[str, Any], src: dict[str, Any], row: DatasetRow, rid: str, prev: dict[str, Any] | None,
                  staged: Staged | None) -> tuple[str, str, str]:
    """Set the URL, size, format and media type of a new upload, or keep the previous upload's; returns url_type,
    upload_path and the upload path no longer used."""
    keep_upload = prev is not None and prev["url_type"] == "upload" and not staged and (not vals["url"] or vals["url"].endswith(prev["url"]))
    if staged:
        vals["url"] = f"/dataset/{row['name']}/resource/{rid}/download/{staged['filename']}"
        vals["size"] = staged["size"]
        vals["format"] = vals["format"] or staged["format"]
        vals["mimetype"] = vals["mimetype"] if src.get("mimetype") else staged["mimetype"]
        return "upload", staged["upload_path"], prev["upload_path"] if prev else ""
    if keep_upload and prev is not None:
        vals["url"], vals["size"] = prev["url"], prev["size"]
        return "upload", prev["upload_path"], ""
    if not vals["url"]:
        raise invalid("url", "Missing value: give a URL or upload a file")
    return "", "", prev["upload_path"] if prev else ""


def resource_delete(c: Connection, gate: Gate, identity: Identity, key: Any) -> str:
    """Remove a resource; returns its upload path ("" for none)."""
    found = c.rows("SELECT * FROM catalog_resources WHERE id = ?", (str(key or ""),))
    if not found:
        raise NotFound("Resource was not found.")
    row = dataset_row(c, found[0]["dataset_id"])
    if row is None:  # catalog_resources.dataset_id references datasets(id)
        raise NotFound("Resource was not found.")
    authorize_write(c, gate, identity, row, NotFound("Resource was not found."))
    c.execute("DELETE FROM catalog_resources WHERE id = ?", (found[0]["id"],))
    c.execute("UPDATE datasets SET modified_at = ? WHERE id = ?", (now_stored(), row["id"]))
    reindex(c, int(row["id"]))
    c.emit(Event("deleted", "Resource", found[0]["id"], topic="catalog", dataset_id=int(row["id"]), data={"dataset": row["name"]}))
    return str(found[0]["upload_path"] or "")


__all__ = ["resource_write", "resource_delete", "ResourceMode"]
