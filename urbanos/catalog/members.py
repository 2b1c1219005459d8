"""Members of organisations and groups: CKAN's member_create, member_delete and their organisation forms.

A user recorded as a member of an organisation gets a role for that organisation. The gate adds these
roles to a token or OIDC identity when it authenticates it (``memberships_of`` is registered as a
membership source), so a member reads the organisation's internal datasets on every path: package_show,
package_search with its counts and facets, DCAT and the portal.

CKAN capacities map to roles, scoped to the organisation:

====================  ================
CKAN capacity         urbanos role
====================  ================
``member``            ``reader``
``editor``            ``publisher``
``admin``             ``steward``
====================  ================

The member ``object`` is a user name, matched against the caller's ``Identity.user_names``: the name of
an API token (``urbanos token create --name``), the OIDC ``sub`` claim, or a subject such as
``token:12`` or ``oidc:<sub>``. Adding and removing users needs the steward role for the organisation
(an organisation ``admin`` member has it).

``member_list`` answers CKAN's ``[id, type, capacity]`` triples under the caller's rights: dataset members
only where the caller may read the dataset (the gate's dataset filter, as in search), and user members
only for a steward of the organisation or an admin, since who belongs to an organisation is personal data.
``organizations_for_user`` backs ``organization_list_for_user``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from urbanos.catalog.records import (
    ORG_SELECT,
    DatasetRow,
    dataset_row,
    group_full_row,
    group_row,
    org_name,
    org_row,
)
from urbanos.catalog.uuids import DATASET_UUID_SQL, dataset_uuid, public_id
from urbanos.catalog.validation import Errors, invalid
from urbanos.catalog.writes import reindex
from urbanos.core.time import now_stored
from urbanos.errors import Forbidden, NotFound
from urbanos.events import Event
from urbanos.governance import Gate, Identity, Membership
from urbanos.governance.tokens import credentials_changed
from urbanos.storage import Connection

CAPACITY_ROLES = {"member": "reader", "editor": "publisher", "admin": "steward"}
ROLE_CAPACITIES = {"reader": "member", "publisher": "editor", "steward": "admin", "admin": "admin"}
# CKAN's member_list answers a user's capacity by its display name (authz.roles_trans), a dataset's as stored
CAPACITY_LABELS = {"member": "Member", "editor": "Editor", "admin": "Admin"}
PACKAGE_CAPACITIES = ("organization", "public")
# CKAN permissions (organization_list_for_user) and the least role that holds them; others need the steward
PERMISSION_ROLES = {"read": "reader", "manage_group": "reader", "create_dataset": "publisher",
                    "update_dataset": "publisher", "delete_dataset": "publisher"}


def memberships_of(c: Connection, identity: Identity) -> Iterable[Membership]:
    """The organisation roles recorded for this caller's user names (a gate membership source)."""
    names = sorted(identity.user_names)
    if not names:
        return []
    rows = c.fetchall(f"SELECT org, capacity FROM catalog_org_members WHERE subject IN ({', '.join('?' * len(names))})", names)
    return [Membership(CAPACITY_ROLES[cap], org) for org, cap in rows if cap in CAPACITY_ROLES]


def _target(c: Connection, data: Any, fields: tuple[str, ...], what: str) -> tuple[str, str, str, str | None, Any]:
    if not isinstance(data, dict):
        raise invalid("__root__", f"The {what} must be a JSON object")
    errors = Errors()
    for k in fields:
        if data.get(k) in (None, ""):
            errors.add(k, "Missing value")
    if data.get("object_type") not in (None, "", "package", "user"):
        errors.add("object_type", "Must be package or user")
    if data.get("object_type") == "user" and "capacity" in fields and data.get("capacity") not in (None, "", *CAPACITY_ROLES):
        errors.add("capacity", f"Must be one of {', '.join(CAPACITY_ROLES)}")
    errors.raise_if()
    key, obj, otype = str(data["id"]), str(data["object"]), str(data["object_type"])
    org = org_name(c, key)
    grp = group_row(c, key)
    if org is None and grp is None:
        raise NotFound("Group was not found.")
    if otype == "user" and org is None:
        raise invalid("object_type", "Users are members of organisations here, not of groups")
    return key, obj, otype, org, grp


def _touch(c: Connection, ds: DatasetRow) -> None:
    c.execute("UPDATE datasets SET modified_at = ? WHERE id = ?", (now_stored(), ds["id"]))
    reindex(c, int(ds["id"]))
    c.emit(Event("updated", "Dataset", int(ds["id"]), topic="catalog", dataset_id=int(ds["id"]), data={"name": ds["name"]}))


def _may_change(c: Connection, gate: Gate, identity: Identity, ds: DatasetRow) -> None:
    """The caller may publish to dataset ``ds``; one it may neither publish to nor read is "not found"."""
    acc, grants = gate.dataset_access(c, int(ds["id"]))
    gate.authorize_write(identity, acc, grants, NotFound("Dataset not found"))


def member_create(c: Connection, gate: Gate, identity: Identity, data: Any) -> dict[str, Any]:
    _key, obj, otype, org, grp = _target(c, data, ("id", "object", "object_type", "capacity"), "member")
    cap = str(data["capacity"])
    if otype == "user":
        gate.require(identity, "steward", org)
        c.execute("DELETE FROM catalog_org_members WHERE org = ? AND subject = ?", (org, obj))
        c.execute("INSERT INTO catalog_org_members (org, subject, capacity, created_at) VALUES (?, ?, ?, ?)", (org, obj, cap, now_stored()))
        credentials_changed(c)  # other processes drop the identities they cached with the old memberships
        c.emit(Event("updated", "Organization", str(org), topic="catalog", data={"name": org, "member": obj, "capacity": cap}))
        group = org_row(c, org)
        return {"group_id": public_id(group) if group else None, "table_name": "user", "table_id": obj, "capacity": cap,
                "state": "active"}
    ds = dataset_row(c, obj)
    if ds is None or ds["state"] == "deleted":
        raise NotFound("Dataset not found")
    _may_change(c, gate, identity, ds)
    if grp is not None:
        c.execute("DELETE FROM catalog_group_members WHERE group_id = ? AND dataset_id = ?", (grp[0], ds["id"]))
        c.execute("INSERT INTO catalog_group_members (group_id, dataset_id) VALUES (?, ?)", (grp[0], ds["id"]))
        group = group_full_row(c, grp[1])
    else:
        gate.require(identity, "publisher", org)
        c.execute("UPDATE datasets SET owner_org = ? WHERE id = ?", (org, ds["id"]))
        group = org_row(c, org)
    _touch(c, ds)
    return {"group_id": public_id(group) if group else None, "table_name": "package",
            "table_id": dataset_uuid(c, int(ds["id"])) or "", "capacity": cap, "state": "active"}


def member_delete(c: Connection, gate: Gate, identity: Identity, data: Any) -> None:
    """Remove a user from an organisation, or a dataset from a group (a dataset leaves its organisation only
    by changing its owner_org)."""
    _key, obj, otype, org, grp = _target(c, data, ("id", "object", "object_type"), "member")
    if otype == "user":
        gate.require(identity, "steward", org)
        if not c.fetchone("SELECT 1 FROM catalog_org_members WHERE org = ? AND subject = ?", (org, obj)):
            raise NotFound(f"User {obj} is not a member of {org}.")
        c.execute("DELETE FROM catalog_org_members WHERE org = ? AND subject = ?", (org, obj))
        credentials_changed(c)
        c.emit(Event("updated", "Organization", str(org), topic="catalog", data={"name": org, "member": obj, "capacity": None}))
        return
    if grp is None:
        raise invalid("id", "A dataset leaves its organisation by a new owner_org (package_patch), not by member_delete")
    ds = dataset_row(c, obj)
    if ds is None or ds["state"] == "deleted":
        raise NotFound("Dataset not found")
    _may_change(c, gate, identity, ds)
    if not c.fetchone("SELECT 1 FROM catalog_group_members WHERE group_id = ? AND dataset_id = ?", (grp[0], ds["id"])):
        raise NotFound(f"Dataset {ds['name']} is not in group {grp[1]}.")
    c.execute("DELETE FROM catalog_group_members WHERE group_id = ? AND dataset_id = ?", (grp[0], ds["id"]))
    _touch(c, ds)


def member_list(c: Connection, gate: Gate, identity: Identity, data: Any) -> list[list[str]]:
    """CKAN's member_list: ``[id, "package", capacity]`` for the datasets of a group (capacity ``public``) or
    an organisation (``organization``) that the caller may read, then ``[name, "user", capacity]`` for the
    users of an organisation when the caller is its steward or an admin. Users asked for by
    ``object_type=user`` without that role are refused (403); without ``object_type`` they are left out."""
    if not isinstance(data, dict):
        raise invalid("__root__", "The request must be a JSON object")
    errors = Errors()
    key, otype, cap = data.get("id"), data.get("object_type"), data.get("capacity")
    if key in (None, "") or isinstance(key, dict | list):
        errors.add("id", "Missing value" if key in (None, "") else "Must be a name or id")
    if otype not in (None, "") and otype not in ("package", "user"):
        errors.add("object_type", "Must be package or user")
    if cap not in (None, "") and cap not in (*CAPACITY_ROLES, *PACKAGE_CAPACITIES):
        errors.add("capacity", f"Must be one of {', '.join((*CAPACITY_ROLES, *PACKAGE_CAPACITIES))}")
    errors.raise_if()
    key = str(key)
    org = org_name(c, key)
    grp = group_row(c, key)
    if org is None and grp is None:
        raise NotFound("Group was not found.")
    out: list[list[str]] = []
    if otype in (None, "", "package"):
        pcap = "public" if grp is not None else "organization"
        if cap in (None, "", pcap):
            acc, params = gate.dataset_row_filter(identity, "d")
            if grp is not None:
                rows = c.fetchall(f"SELECT {DATASET_UUID_SQL} FROM catalog_group_members m JOIN datasets d ON d.id = m.dataset_id"
                                  f" WHERE m.group_id = ? AND d.state = 'active' AND {acc} ORDER BY d.name", [grp[0], *params])
            else:
                rows = c.fetchall(f"SELECT {DATASET_UUID_SQL} FROM datasets d WHERE d.owner_org = ? AND d.state = 'active'"
                                  f" AND {acc} ORDER BY d.name", [org, *params])
            out += [[str(r[0]), "package", pcap] for r in rows]
    if otype in (None, "", "user") and org is not None:
        steward = identity.is_admin or identity.has_role("steward", org)
        if otype == "user" and not steward:
            gate.require(identity, "steward", org)
            raise Forbidden(f"Access denied: listing the users of {org} needs the steward role for it.")
        if steward:
            sql, params = "SELECT subject, capacity FROM catalog_org_members WHERE org = ?", [org]
            if cap not in (None, ""):
                sql, params = sql + " AND capacity = ?", [*params, cap]
            out += [[r[0], "user", CAPACITY_LABELS.get(r[1], r[1])] for r in c.fetchall(sql + " ORDER BY subject", params)]
    return out


def organizations_for_user(c: Connection, identity: Identity, data: Any) -> list[tuple[dict[str, Any], str]]:
    """CKAN's organization_list_for_user: the organisations where the caller (or, for an admin or the user
    themself, the user named by ``id``) holds ``permission`` (default ``manage_group``: any membership),
    each with the CKAN capacity held there. A role without organisation above ``reader`` applies to every
    organisation, so the platform admin holds ``admin`` everywhere, like CKAN's sysadmin."""
    if not isinstance(data, dict):
        raise invalid("__root__", "The request must be a JSON object")
    user, permission = data.get("id"), data.get("permission")
    if user not in (None, "") and not isinstance(user, str):
        raise invalid("id", "Must be a user name")
    if permission not in (None, "") and not isinstance(permission, str):
        raise invalid("permission", "Must be a string")
    need = PERMISSION_ROLES.get(str(permission or "manage_group"), "steward")
    orgs = c.rows(ORG_SELECT + " ORDER BY o.name")
    if user not in (None, "") and user not in identity.user_names:
        if not identity.is_admin:
            raise Forbidden(f"Access denied: only an admin or the user may list the organisations of {user}.")
        held = frozenset(Membership(CAPACITY_ROLES[cap], org) for org, cap in c.fetchall(
            "SELECT org, capacity FROM catalog_org_members WHERE subject = ?", (user,)) if cap in CAPACITY_ROLES)
    else:
        # a role without organisation counts in every organisation, except the plain reader role that every
        # signed-in caller has: it makes nobody a member of an organisation
        held = frozenset(m for m in identity.memberships if m.org is not None or m.role != "reader")
    ident = Identity(subject="member", kind="token", memberships=held)
    out: list[tuple[dict[str, Any], str]] = []
    ranks = ("admin", "steward", "publisher", "reader")
    for o in orgs:
        if not ident.has_role(need, o["name"]):
            continue
        top = next(r for r in ranks if ident.has_role(r, o["name"]))
        out.append((o, ROLE_CAPACITIES[top]))
    return out


def organization_member(data: Any, role: bool = True) -> dict[str, Any]:
    """organization_member_create takes ``id``, ``username`` and ``role`` (organization_member_delete no
    role): the same as a user member."""
    if not isinstance(data, dict):
        raise invalid("__root__", "The member must be a JSON object")
    errors = Errors()
    for k in ("id", "username", *(("role",) if role else ())):
        if data.get(k) in (None, ""):
            errors.add(k, "Missing value")
    if role and data.get("role") not in (None, "", *CAPACITY_ROLES):
        errors.add("role", f"Must be one of {', '.join(CAPACITY_ROLES)}")
    errors.raise_if()
    return {"id": data["id"], "object": data["username"], "object_type": "user", "capacity": data.get("role")}


__all__ = ["CAPACITY_ROLES", "memberships_of", "member_create", "member_delete", "member_list", "organizations_for_user",
           "organization_member"]
