"""Create-or-update by name, for other capabilities that describe their own data in the catalogue (the cockpit's
usage statistics, the dashboards demo's sensors): :meth:`urbanos.ports.CatalogPort.ensure_dataset` and
:meth:`~urbanos.ports.CatalogPort.ensure_resource`.

Both run in the caller's transaction through the same steps as the Action API (package_create, package_patch,
resource_create, resource_patch): the caller's publisher role for the dataset's organisation, then every field's
validation. They are idempotent: when the stored dataset or resource already says what is asked, nothing is
written (no new ``modified`` date, no event), so a capability may call them at every start.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from urbanos.catalog import resources, writes
from urbanos.catalog.access import authorize_write
from urbanos.catalog.records import DatasetRow, dataset_row, jload, org_name
from urbanos.catalog.validation import PackageFields, invalid, merged_input, resource_values, validate_package
from urbanos.errors import NotFound, ValidationFailed
from urbanos.governance import Gate, Identity
from urbanos.ports import FeaturesPort
from urbanos.storage import Connection

Packages = Callable[[Connection, list[int]], list[dict[str, Any]]]
"""The catalogue's packages as package_show answers them (``CatalogSearch.packages``)."""


def _fields(c: Connection, data: dict[str, Any], existing: DatasetRow) -> PackageFields:
    merged, custom = merged_input(data)
    return validate_package(c, merged, custom, existing, org_name(c, merged.get("owner_org", existing["owner_org"])))


def ensure_dataset(c: Connection, gate: Gate, identity: Identity, data: Any, packages: Packages,
                   features: FeaturesPort | None) -> int:
    """The id of dataset ``data["name"]`` after making it say ``data``: package_create when it is missing (with the
    metadata an operator or the demo prepared for that name in ``catalog_pending`` under ``data``), else
    package_patch with ``data`` (a deleted dataset becomes active again unless ``data`` gives ``state``), skipped
    when nothing would change. Raises what those actions raise; a refusal writes nothing."""
    if not isinstance(data, dict):
        raise invalid("__root__", "The dataset must be a JSON object")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise invalid("name", "Missing value: ensure_dataset finds the dataset by its name")
    row = dataset_row(c, name)
    if row is None or row["name"] != name:  # a UUID is no name here
        pending = c.fetchone("SELECT doc FROM catalog_pending WHERE name = ?", (name,))
        src = {**(jload(pending[0]) if pending else {}), **data}
        ds_id = writes.package_write(c, gate, identity, src, mode="create", features=features)
        c.execute("DELETE FROM catalog_pending WHERE name = ?", (name,))
        return ds_id
    authorize_write(c, gate, identity, row, NotFound("Dataset not found"))
    current = packages(c, [int(row["id"])])[0]
    wanted = writes.merge_patch(current, {"state": "active", **data})
    try:
        same = _fields(c, wanted, row) == _fields(c, writes.merge_patch(current, {}), row)
    except ValidationFailed:  # the stored dataset or the input does not validate: package_write says which
        same = False
    if same:
        return int(row["id"])
    return writes.package_write(c, gate, identity, wanted, mode="update", features=features)


def ensure_resource(c: Connection, gate: Gate, identity: Identity, data: Any, features: FeaturesPort | None) -> str:
    """The id of the resource of dataset ``data["package_id"]`` whose URL is ``data["url"]``, after making it say
    ``data``: resource_create when the dataset has none with that URL, else resource_patch, skipped when nothing
    would change."""
    if not isinstance(data, dict):
        raise invalid("resource", "Must be an object: the resource, e.g. {\"package_id\": …, \"url\": …, \"name\": …}")
    url = data.get("url")
    if not isinstance(url, str) or not url:
        raise invalid("url", "Missing value: ensure_resource finds the resource by its URL")
    row = dataset_row(c, data.get("package_id"))
    if row is None or row["state"] == "deleted":
        if data.get("package_id") in (None, ""):
            raise invalid("package_id", "Missing value")
        raise NotFound("Dataset not found")
    authorize_write(c, gate, identity, row, NotFound("Dataset not found"))
    found = c.rows("SELECT * FROM catalog_resources WHERE dataset_id = ? AND url = ? ORDER BY position, id",
                   (row["id"], url))
    src = {k: v for k, v in data.items() if k not in ("id", "package_id")}
    if not found:
        rid, _ = resources.resource_write(c, gate, identity, {**src, "package_id": row["id"]}, None, "create", features)
        return rid
    prev = found[0]
    extras = jload(prev["extras"]) or {}
    current = {**{k: prev[k] for k in ("name", "description", "url", "format", "mimetype", "size", "collection")},
               **extras, "datastore_active": bool(prev["datastore_active"])}
    try:
        wanted = resource_values({**current, **src})
        same = wanted == resource_values(current)
    except (ValidationFailed, TypeError, ValueError):
        same = False
    if same:
        return str(prev["id"])
    rid, _ = resources.resource_write(c, gate, identity, {**src, "id": prev["id"]}, None, "patch", features)
    return rid


__all__ = ["ensure_dataset", "ensure_resource"]
