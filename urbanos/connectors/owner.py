"""Who a connector writes as: the identity that configured it, checked again at every run.

A connector records the configuring identity by reference, never its secret: an API token by its id, an OIDC
identity by its subject, the platform admin (the admin token, or the command line without ``--token``) as ``admin``.
At each run the identity is rebuilt from what the database says now (the token's role and organisation, and the
memberships recorded for it), so a revoked token or a withdrawn role makes the run fail with the reason, and
writes nothing. OIDC identities keep only the memberships recorded in the database (not the claims of a token
that is no longer at hand).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from urbanos.errors import Forbidden, NotFound, Unauthorized, ValidationFailed
from urbanos.governance import ADMIN, Identity
from urbanos.governance.tokens import TokenRecord, token_identity
from urbanos.ports import SensingPort

if TYPE_CHECKING:
    from urbanos.governance import Gate
    from urbanos.platform import Platform
    from urbanos.storage import Connection


@dataclass(frozen=True)
class Dataset:
    id: int
    name: str
    owner_org: str | None


def reference(identity: Identity) -> dict[str, Any]:
    """How the configuring identity is stored (no secret)."""
    if identity.kind == "admin-token":
        return {"owner_kind": "admin", "owner_subject": identity.subject, "owner_token_id": None}  # nosec B105
    if identity.kind == "token" and identity.token_id is not None:
        return {"owner_kind": "token", "owner_subject": identity.subject, "owner_token_id": int(identity.token_id)}
    return {"owner_kind": identity.kind or "oidc", "owner_subject": identity.subject,
            "owner_token_id": None}  # nosec B105 - the id of no token, not a password


def rebuild(gate: Gate, c: Connection, kind: str, subject: str, token_id: int | None) -> Identity:
    """The configuring identity as the database describes it now; Forbidden naming why it can no longer write."""
    if kind == "admin":
        return ADMIN
    if kind == "token" and token_id is not None:
        row = c.fetchone("SELECT name, role, org, revoked_at FROM api_tokens WHERE id = ?", (int(token_id),))
        if row is None or row[3] is not None:
            raise Forbidden(f"The token that configured this connector (token {token_id}) is revoked: the connector "
                            "writes nothing until someone who may publish to its dataset configures it again.",
                            code="connector_owner_revoked")
        ident = token_identity(TokenRecord(int(token_id), row[0] or "", row[1], row[2], ""))
    else:
        ident = Identity(subject=subject, kind=kind, name=subject)
    return gate.with_memberships(c, ident) or ident


def dataset(c: Connection, key: str | int) -> Dataset | None:
    if isinstance(key, int):
        row = c.fetchone("SELECT id, name, owner_org FROM datasets WHERE id = ?", (key,))
    else:
        row = c.fetchone("SELECT id, name, owner_org FROM datasets WHERE name = ?", (str(key),))
    return None if row is None else Dataset(int(row[0]), str(row[1]), row[2])


def check_publisher(gate: Gate, c: Connection, identity: Identity, key: str | int) -> Dataset:
    """The dataset ``key`` (name or id), after checking that ``identity`` may publish to it: the gate's rule for
    writes (a dataset the caller may not read is answered as missing)."""
    if identity.is_anonymous:
        raise Unauthorized("Connectors need a bearer token with the publisher role.")
    ds = dataset(c, key)
    missing = NotFound(f"There is no dataset {key!r}.")
    if ds is None:
        raise missing
    access, grants = gate.dataset_access(c, ds.id)
    gate.authorize_write(identity, access, grants, missing)
    return ds


def check_links(platform: Platform, c: Connection, ds: Dataset, mapping: Any) -> None:
    """Refuse a mapping that names a Datastream (by id) outside the connector's dataset: a connector links only rows
    of the dataset its caller may publish to. The answer is the same whether the Datastream is another dataset's or
    does not exist, so it tells nothing about other organisations' rows."""
    rules = mapping.get("observations") if isinstance(mapping, dict) else None
    named = [r.get("datastream") for r in rules or () if isinstance(r, dict)]
    ids = [i for i in named if isinstance(i, int) and not isinstance(i, bool)]
    if not ids:
        return
    sensing = platform.require(SensingPort)
    bad = []
    for i in ids:
        owner = sensing.datastream_owner(c, i)
        if owner is None or owner.dataset_id != ds.id:
            bad.append(i)
    if bad:
        raise ValidationFailed(f"mapping: Datastream {', '.join(map(str, bad))} is not in dataset {ds.name!r}; a connector "
                               "writes only into Datastreams of its own dataset.", detail={"mapping": ["datastream"]})


__all__ = ["Dataset", "reference", "rebuild", "dataset", "check_publisher", "check_links"]
