"""Catalogue writes of datasets, organisations and groups, and the index kept with them.

Every function here runs inside ``db.write`` (one transaction): a refusal or a validation error raises before
anything is changed, so a refused or bad write changes nothing. A package write runs in three steps:

1. **authorise**: find the dataset an update names and check that the caller may publish to it, then check the
   organisation the package names (publisher role for it, on create and when it moves). A caller who may not
   write gets its 401/403/404 before any field message, so a refusal tells nothing about the input's problems;
2. **validate**: every field (:func:`urbanos.catalog.validation.validate_package`), all errors raised at once;
3. **persist**: the ``datasets`` row, the metadata document, resources and groups, the index, the event.

Resource writes are in :mod:`urbanos.catalog.resources`, members in :mod:`urbanos.catalog.members`.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, Literal

from urbanos.catalog import index
from urbanos.catalog.access import authorize_write, check_collection
from urbanos.catalog.records import DatasetRow, dataset_row, jload, org_name
from urbanos.catalog.validation import (
    Errors,
    PackageFields,
    check_name,
    invalid,
    merged_input,
    resource_values,
    validate_package,
)
from urbanos.core.time import now_stored
from urbanos.errors import NotFound, ValidationFailed
from urbanos.events import Event
from urbanos.governance import ADMIN, Gate, Identity
from urbanos.ports import FeaturesPort
from urbanos.storage import Connection

log = logging.getLogger("urbanos.catalog")

Mode = Literal["create", "update"]


def package_write(c: Connection, gate: Gate, identity: Identity, data: Any, *, mode: Mode,
                  features: FeaturesPort | None = None) -> int:
    """package_create (``mode="create"``) or package_update: authorise, validate, persist. Returns the dataset id."""
    if not isinstance(data, dict):
        raise invalid("__root__", "The dataset must be a JSON object")
    existing = _authorise_target(c, gate, identity, data) if mode == "update" else None
    data, custom = merged_input(data)
    org = _authorise_owner(c, identity, data, existing)
    fields = validate_package(c, data, custom, existing, org)
    gate.check_write(c, "dataset.access", identity, {  # (a privacy assessment that must be approved first, say)
        "dataset": fields.name, "dataset_id": existing["id"] if existing else None, "access_level": fields.access,
        "previous": existing["access_level"] if existing else None})
    return persist_package(c, identity, fields, existing, features)


def _authorise_target(c: Connection, gate: Gate, identity: Identity, data: dict[str, Any]) -> DatasetRow:
    """The dataset an update names, when the caller may publish to it (404 for one it may not see)."""
    existing = dataset_row(c, data.get("id") or data.get("name"))
    if existing is None:
        raise NotFound("Dataset not found")
    authorize_write(c, gate, identity, existing, NotFound("Dataset not found"))
    return existing


def _authorise_owner(c: Connection, identity: Identity, data: dict[str, Any], existing: DatasetRow | None) -> str | None:
    """The organisation the package names (None when it names none or a missing one, which validation reports),
    after checking the caller's publisher role for it: on create, and when an update moves the dataset."""
    org_key = data.get("owner_org", existing["owner_org"] if existing else None)
    if existing is None:
        Gate.require(identity, "publisher", org_name(c, org_key) or (str(org_key) if org_key else None))
    org = org_name(c, org_key)
    if existing is not None and org is not None and org != existing["owner_org"]:
        Gate.require(identity, "publisher", org)
    return org


def persist_package(c: Connection, identity: Identity, fields: PackageFields, existing: DatasetRow | None,
                    features: FeaturesPort | None = None) -> int:
    """Write a validated package (a new dataset when ``existing`` is None); index it and emit its event."""
    ts = now_stored()
    if existing is None:
        ds_id = int(c.insert("datasets", {"name": fields.name, "title": fields.title, "owner_org": fields.org,
                                          "access_level": fields.access, "created_at": ts, "modified_at": ts,
                                          "state": "active"}))
        c.insert("catalog_meta", {"dataset_id": ds_id, "doc": c.dialect.json_param(fields.doc), "indexed_at": ""},
                 returning="dataset_id")
        kind: Literal["created", "updated"] = "created"
    else:
        ds_id = int(existing["id"])
        c.execute("UPDATE datasets SET name = ?, title = ?, owner_org = ?, access_level = ?, modified_at = ?, state = ? WHERE id = ?",
                  (fields.name, fields.title, fields.org, fields.access, ts, fields.state, ds_id))
        put_doc(c, ds_id, fields.doc)
        kind = "updated"
    if fields.resources is not None:
        sync_resources(c, ds_id, fields.resources, identity, features)
    if fields.group_ids is not None:
        c.execute("DELETE FROM catalog_group_members WHERE dataset_id = ?", (ds_id,))
        for gid in sorted(set(fields.group_ids)):
            c.execute("INSERT INTO catalog_group_members (group_id, dataset_id) VALUES (?, ?)", (gid, ds_id))
    reindex(c, ds_id)
    c.emit(Event(kind, "Dataset", ds_id, topic="catalog", dataset_id=ds_id,
                 data={"name": fields.name, "access_level": fields.access}))
    return ds_id


def put_doc(c: Connection, ds_id: int, doc: dict[str, Any]) -> None:
    """Store the metadata document of a dataset."""
    if c.fetchone("SELECT 1 FROM catalog_meta WHERE dataset_id = ?", (ds_id,)):
        c.execute("UPDATE catalog_meta SET doc = ? WHERE dataset_id = ?", (c.dialect.json_param(doc), ds_id))
    else:
        c.insert("catalog_meta", {"dataset_id": ds_id, "doc": c.dialect.json_param(doc), "indexed_at": ""}, returning="dataset_id")


def merge_patch(current: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """package_patch: the current package with the given keys replaced (resources and groups kept unless given)."""
    merged = {k: v for k, v in current.items() if k not in ("resources", "groups", "organization", "private")}
    merged.update(data)
    merged["id"] = current["id"]
    if "private" in data and "access_level" not in data:
        merged.pop("access_level", None)
    if "extras" in data:
        for e in data.get("extras") or []:
            if isinstance(e, dict) and e.get("key") in merged and e.get("key") not in data:
                merged.pop(e["key"], None)
    elif isinstance(merged.get("extras"), list):  # a key given ("" or null clears it) wins over the stored extra
        merged["extras"] = [e for e in merged["extras"] if not (isinstance(e, dict) and e.get("key") in data)]
    return merged


def sync_resources(c: Connection, ds_id: int, resources: list[dict[str, Any]], identity: Identity,
                   features: FeaturesPort | None = None) -> None:
    """Make the resources of a dataset the given list: known ids are updated, others added, missing ones removed."""
    old = {r["id"]: r for r in c.rows("SELECT * FROM catalog_resources WHERE dataset_id = ?", (ds_id,))}
    keep: set[str] = set()
    ts = now_stored()
    for pos, r in enumerate(resources):
        vals = resource_values(r)
        rid = str(r.get("id") or "")
        prev = old.get(rid)
        if vals["collection"] != (prev["collection"] if prev is not None else ""):
            check_collection(c, identity, vals["collection"], ds_id, features)
        if prev is not None:
            keep.add(rid)
            if prev["url_type"] == "upload" and (not vals["url"] or vals["url"].endswith(prev["url"])):
                vals["url"] = prev["url"]
                vals["size"] = prev["size"]
            c.execute("UPDATE catalog_resources SET position = ?, name = ?, description = ?, url = ?, format = ?, mimetype = ?,"
                      " size = ?, collection = ?, datastore_active = ?, extras = ?, last_modified = ? WHERE id = ?",
                      (pos, vals["name"], vals["description"], vals["url"], vals["format"], vals["mimetype"], vals["size"],
                       vals["collection"], vals["datastore_active"], c.dialect.json_param(vals["extras"]), ts, rid))
        else:
            new_id = str(uuid.uuid4())
            c.insert("catalog_resources", {**vals, "extras": c.dialect.json_param(vals["extras"]), "id": new_id, "dataset_id": ds_id,
                                           "position": pos, "created": ts, "last_modified": ts}, returning="id")
    for rid in old:
        if rid not in keep:
            c.execute("DELETE FROM catalog_resources WHERE id = ?", (rid,))


def package_delete(c: Connection, gate: Gate, identity: Identity, key: Any, *, purge: bool) -> list[str]:
    """package_delete (state ``deleted``) or dataset_purge (the rows go); returns the upload paths a purge frees."""
    if purge:  # a platform-wide action: refused before the dataset is looked up, so it tells nothing about it
        Gate.require(identity, "admin")
    row = dataset_row(c, key)
    if row is None or (row["state"] == "deleted" and not purge):
        raise NotFound("Dataset not found")
    if not purge:
        authorize_write(c, gate, identity, row, NotFound("Dataset not found"))
    ds_id = int(row["id"])
    if purge:
        paths = [r[0] for r in c.fetchall("SELECT upload_path FROM catalog_resources WHERE dataset_id = ? AND upload_path <> ''", (ds_id,))]
        index.drop_text(c, ds_id)
        c.execute("DELETE FROM catalog_spatial WHERE id = ?", (ds_id,))
        c.execute("DELETE FROM datasets WHERE id = ?", (ds_id,))
        c.emit(Event("deleted", "Dataset", ds_id, topic="catalog", dataset_id=ds_id, data={"name": row["name"], "purged": True}))
        return paths
    c.execute("UPDATE datasets SET state = 'deleted', modified_at = ? WHERE id = ?", (now_stored(), ds_id))
    reindex(c, ds_id)
    c.emit(Event("deleted", "Dataset", ds_id, topic="catalog", dataset_id=ds_id, data={"name": row["name"]}))
    return []


# -- organisations and groups ---------------------------------------------------------------------------------
def _simple_create(c: Connection, identity: Identity, data: Any, table: str, what: str) -> str:
    Gate.require(identity, "admin")
    if not isinstance(data, dict):
        raise invalid("__root__", f"The {what} must be a JSON object")
    errors = Errors()
    name = data.get("name")
    check_name(errors, name)
    if not errors and c.fetchone(f"SELECT 1 FROM {table} WHERE name = ?", (name,)):
        errors.add("name", "Group name already exists in database")
    errors.raise_if()
    values = {"name": name, "title": str(data.get("title") or ""), "description": str(data.get("description") or ""),
              "created_at": now_stored()}
    if table == "organizations":
        values["extras"] = c.dialect.json_param({"image_url": str(data.get("image_url") or "")})
    else:
        values["image_url"] = str(data.get("image_url") or "")
    new_id = c.insert(table, values)
    c.emit(Event("created", "Organization" if table == "organizations" else "Group", new_id, topic="catalog", data={"name": name}))
    return str(name)


def organization_create(c: Connection, identity: Identity, data: Any) -> str:
    return _simple_create(c, identity, data, "organizations", "organization")


def group_create(c: Connection, identity: Identity, data: Any) -> str:
    return _simple_create(c, identity, data, "catalog_groups", "group")


# -- index ----------------------------------------------------------------------------------------------------
def reindex(c: Connection, ds_id: int) -> None:
    """Rebuild facets, full text and spatial rows of one dataset; a dataset another capability created gets its
    metadata document here (the one waiting for it in ``catalog_pending``, or an empty one)."""
    rows = c.rows("SELECT id, name, title, owner_org, access_level, modified_at, state FROM datasets WHERE id = ?", (ds_id,))
    if not rows:
        return
    d = rows[0]
    meta = c.fetchone("SELECT doc FROM catalog_meta WHERE dataset_id = ?", (ds_id,))
    if meta is None:
        if _adopt_pending(c, d):
            return
        doc: dict[str, Any] = {}
        put_doc(c, ds_id, doc)
    else:
        doc = jload(meta[0]) or {}
    index.rebuild(c, d, doc)


def _adopt_pending(c: Connection, d: dict[str, Any]) -> bool:
    """Apply the metadata the demo (or an operator) prepared for a dataset another capability creates later, as the
    platform admin (the update of :func:`package_write` without its authorisation, which the admin always passes).
    False when there is none, or when it does not validate."""
    row = c.fetchone("SELECT doc FROM catalog_pending WHERE name = ?", (d["name"],))
    if row is None:
        return False
    c.execute("DELETE FROM catalog_pending WHERE name = ?", (d["name"],))
    raw = dict(jload(row[0]))
    raw["id"] = d["id"]
    raw.pop("name", None)
    if d["title"]:
        raw["title"] = d["title"]
    put_doc(c, int(d["id"]), {})
    try:
        data, custom = merged_input(raw)
        fields = validate_package(c, data, custom, d, org_name(c, data.get("owner_org", d["owner_org"])))
        persist_package(c, ADMIN, fields, d)
    except ValidationFailed as exc:
        log.warning("the metadata prepared for dataset %r does not validate, so it is left out: %s %s", d["name"],
                    exc.message, exc.detail)
        return False
    return True


__all__ = ["package_write", "persist_package", "package_delete", "merge_patch", "put_doc", "sync_resources",
           "organization_create", "group_create", "reindex"]
