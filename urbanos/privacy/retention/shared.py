"""What the retention, consent, assessment and transparency parts share: the dataset a request names (as the caller
may see it), the steward check, bounded fields of a JSON body, and the privacy stamp that tells every process that
consent or an assessment changed."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from urbanos.errors import Conflict, NotFound, ValidationFailed
from urbanos.governance import DatasetAccess, Gate, Identity
from urbanos.ports import CatalogPort, DatasetRef

if TYPE_CHECKING:
    from urbanos.platform import Platform
    from urbanos.storage import Connection

MAX_TEXT = 2000
MAX_NAME = 200
STAMP_SQL = "SELECT n FROM privacy_stamp WHERE id = 1"


def _dataset(platform: Platform, c: Connection, name: Any,
             missing: NotFound) -> tuple[DatasetRef, DatasetAccess, list[str]]:
    """The active dataset ``name``, its access facts and grants; ``missing`` when there is none."""
    if not isinstance(name, str) or not name or len(name) > MAX_NAME:
        raise missing
    ref = platform.require(CatalogPort).dataset(c, name)
    if ref is None or ref.state != "active" or ref.name != name:
        raise missing
    ds, grants = platform.gate.dataset_access(c, ref.id)
    if ds is None:
        raise missing
    return ref, ds, grants


def visible_dataset(platform: Platform, c: Connection, identity: Identity, name: Any) -> DatasetRef:
    """The active dataset ``name`` when ``identity`` may read its privacy settings: whoever may read its data, and
    the stewards of its organisation, who may change them whatever its access level (a confidential dataset's
    stewards read back what they set); NotFound otherwise (a hidden one answers exactly like a missing one)."""
    missing = NotFound(f"There is no dataset {str(name)[:MAX_NAME]!r}.")
    ref, ds, grants = _dataset(platform, c, name, missing)
    if not settings_readable(platform.gate, identity, ds, grants):
        raise missing
    return ref


def settings_readable(gate: Gate, identity: Identity, ds: DatasetAccess, grants: Iterable[str]) -> bool:
    """May ``identity`` read the privacy settings of ``ds``: its data's readers and its organisation's stewards."""
    return gate.can_read(identity, ds, grants) or (not identity.is_anonymous
                                                   and identity.has_role("steward", ds.owner_org))


def writable_dataset(platform: Platform, c: Connection, identity: Identity, name: Any,
                     role: str = "steward") -> DatasetRef:
    """The active dataset ``name`` when ``identity`` may change its privacy settings: the gate's rule for writes,
    ``role`` for the dataset's organisation (whether or not its access level lets the caller read the data: a
    steward sets the retention of its organisation's confidential data). A caller without it gets NotFound for a
    dataset it may not read (as for one that does not exist), else 401 (anonymous) or 403."""
    missing = NotFound(f"There is no dataset {str(name)[:MAX_NAME]!r}.")
    ref, ds, grants = _dataset(platform, c, name, missing)
    platform.gate.authorize_write(identity, ds, grants, missing, role=role)
    return ref


# The privacy settings kept under a dataset's name: what each is called in a refusal, and its table and column.
BY_NAME = (("retention periods", "privacy_retention", "dataset", ""),
           ("a consent-based mark", "privacy_consent_datasets", "dataset", ""),
           ("a person-related mark", "privacy_person_related", "ref", " AND kind = 'dataset'"),
           ("impact assessments", "privacy_dpias", "ref", " AND kind = 'dataset'"))


def _held(c: Connection, table: str, column: str, kind: str, name: Any) -> bool:
    return c.fetchone(f"SELECT 1 FROM {table} WHERE {column} = ?{kind}", (name,)) is not None  # nosec B608 - BY_NAME


def check_name(c: Connection, identity: Identity | None, facts: dict[str, Any]) -> None:
    """The catalogue's ``dataset.access`` write check, for what privacy keeps under a dataset's name. A dataset with
    such settings keeps its name (renamed, it would lose its consent filter, retention and person-related mark, and
    a new dataset under the old name would take them over); a new dataset starts without the settings a purged
    dataset of the same name left behind (a soft-deleted one keeps its name)."""
    ds_id, name = facts.get("dataset_id"), facts.get("dataset")
    if ds_id is None:
        left = [(table, column, kind) for _, table, column, kind in BY_NAME if _held(c, table, column, kind, name)]
        for table, column, kind in left:
            c.execute(f"DELETE FROM {table} WHERE {column} = ?{kind}", (name,))  # nosec B608 - names from BY_NAME
        if left:
            bump_stamp(c)
        return
    old = c.fetchval("SELECT name FROM datasets WHERE id = ?", (ds_id,))
    if old is None or old == name:
        return
    held = [what for what, table, column, kind in BY_NAME if _held(c, table, column, kind, old)]
    if held:
        raise Conflict(f"Dataset {old!r} keeps its name: it has {', '.join(held)} under that name. Remove them "
                       "(or keep the name) to rename it.", code="privacy_settings_named")


def require_steward(identity: Identity, org: str | None) -> None:
    """401 for anonymous callers, 403 without the steward role for ``org`` (None: for the whole platform)."""
    Gate.require(identity, "steward", org)


def body_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValidationFailed("The body must be a JSON object.", detail={"field": "__root__"})
    return body


def text(body: dict[str, Any], key: str, *, required: bool = True, limit: int = MAX_TEXT,
         default: str | None = None) -> str | None:
    """A string field of at most ``limit`` characters (None when optional and missing)."""
    value = body.get(key)
    if value is None:
        if required:
            raise ValidationFailed(f"{key} is required.", detail={"field": key})
        return default
    if not isinstance(value, str):
        raise ValidationFailed(f"{key} must be a string.", detail={"field": key})
    value = value.strip()
    if required and not value:
        raise ValidationFailed(f"{key} must not be empty.", detail={"field": key})
    if len(value) > limit:
        raise ValidationFailed(f"{key} is longer than {limit} characters.", detail={"field": key})
    return value


def integer(body: dict[str, Any], key: str, *, lo: int, hi: int) -> int:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed(f"{key} must be an integer.", detail={"field": key})
    if not lo <= value <= hi:
        raise ValidationFailed(f"{key} must be between {lo} and {hi}.", detail={"field": key})
    return value


def only_keys(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ValidationFailed(f"Unknown field {unknown[0][:MAX_NAME]!r}; allowed: {', '.join(sorted(allowed))}.",
                               detail={"field": unknown[0][:MAX_NAME]})


def bump_stamp(c: Connection) -> None:
    """Give the privacy stamp a new value (in the writer's transaction): every process reloads consent and
    assessments when it sees it."""
    c.execute("UPDATE privacy_stamp SET n = ? WHERE id = 1", (secrets.randbits(52),))


def read_stamp(c: Connection) -> int:
    return int(c.fetchval(STAMP_SQL) or 0)


__all__ = ["visible_dataset", "settings_readable", "writable_dataset", "check_name", "BY_NAME", "require_steward", "body_object", "text", "integer", "only_keys",
           "bump_stamp", "read_stamp", "MAX_TEXT", "MAX_NAME"]
