"""The gate's decisions for catalogue rows: who may read a dataset's metadata, who may change a dataset, and which
feature collection a resource may name."""

from __future__ import annotations

from urbanos.catalog.records import DatasetRow
from urbanos.catalog.validation import invalid
from urbanos.errors import Forbidden, NotFound
from urbanos.governance import DatasetAccess, Gate, Identity
from urbanos.ports import FeaturesPort
from urbanos.storage import Connection


def check_read(c: Connection, gate: Gate, identity: Identity, row: DatasetRow, action: str) -> DatasetAccess:
    """The caller may read dataset ``row`` (NotFound for a missing one, and for a deleted one unless the caller may
    publish to its organisation, as CKAN shows deleted datasets to their editors; Forbidden otherwise); the read is
    reported to the gate's observers as ``action``."""
    ds, grants = gate.dataset_access(c, int(row["id"]))
    if ds is None:
        raise NotFound("Dataset not found")
    if row["state"] == "deleted" and (identity.is_anonymous or not Gate.can_write(identity, row["owner_org"])):
        raise NotFound("Dataset not found")
    if not gate.can_read(identity, ds, grants):
        raise Forbidden(f"Access denied: you may not read dataset {row['name']}.")
    gate.observe(identity, ds, action)
    return ds


def authorize_write(c: Connection, gate: Gate, identity: Identity, row: DatasetRow, missing: Exception) -> None:
    """The caller may publish to dataset ``row`` (:meth:`Gate.authorize_write`: a caller that may neither publish to
    nor read it gets ``missing``, the answer for a dataset that does not exist)."""
    if not identity.is_anonymous and identity.has_role("publisher", row["owner_org"]):
        return  # allowed: no need to read the dataset's access and grants
    ds, grants = gate.dataset_access(c, int(row["id"]))
    gate.authorize_write(identity, ds, grants, missing)


def check_collection(c: Connection, identity: Identity, name: str, ds_id: int, features: FeaturesPort | None) -> None:
    """A resource may name (as its ``collection``) a collection that does not exist yet, one of its own dataset, or
    one of a dataset the caller may publish to: an upload to the resource replaces the collection it names.

    The features capability knows its collections (:meth:`~urbanos.ports.FeaturesPort.collection_dataset`); a
    platform without it has no collections to protect."""
    if not name or features is None:
        return
    found, owner_ds = features.collection_dataset(c, name)
    if not found or (owner_ds is not None and owner_ds == ds_id):
        return
    org = c.fetchval("SELECT owner_org FROM datasets WHERE id = ?", (owner_ds,)) if owner_ds is not None else None
    if not Gate.can_write(identity, org):
        raise invalid("collection", f"The name {name!r} is taken by a collection of another dataset: leave collection "
                      "empty (an upload then gets a collection of its own) or name a new one")


__all__ = ["check_read", "authorize_write", "check_collection"]
