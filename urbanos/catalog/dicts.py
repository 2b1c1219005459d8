"""CKAN-shaped dicts of catalogue rows: packages (with resources, groups and organisation), resources,
organisations and groups.

Governance fields (access_level, grounds, legal_basis, review_date, steward, owner, frequency, theme, publisher,
contact_name, contact_email, spatial, spatial_text, temporal_start, temporal_end, …) appear both as top-level keys
of a package and in its ``extras``. Nothing here checks access: callers pass only ids the caller may read.
"""

from __future__ import annotations

from typing import Any

import orjson

from urbanos.catalog.model import GROUNDS, LICENSE_BY_ID, THEMES
from urbanos.catalog.records import GOVERNANCE_KEYS, LIST_KEYS, ORG_SELECT, ckan_ts, jload, marks
from urbanos.catalog.uuids import public_id
from urbanos.settings import Settings
from urbanos.storage import Connection


def site_base(settings: Settings, base_url: str = "") -> str:
    """The base URL that resource paths of this platform are made absolute with."""
    return (base_url or str(settings.get("base_url") or "")).rstrip("/")


def package_dicts(c: Connection, ids: list[int], base: str) -> list[dict[str, Any]]:
    """The packages of these dataset ids, in the same order (ids that no longer exist are left out)."""
    if not ids:
        return []
    ph = marks(ids)
    rows = c.rows(
        "SELECT d.id, d.name, d.title, d.owner_org, d.access_level, d.created_at, d.modified_at, d.state, m.doc, u.uuid"
        " FROM datasets d LEFT JOIN catalog_meta m ON m.dataset_id = d.id LEFT JOIN catalog_dataset_ids u ON u.dataset_id = d.id"
        f" WHERE d.id IN ({ph})", ids)
    res: dict[int, list[dict[str, Any]]] = {}
    for r in c.rows(f"SELECT r.*, u.uuid AS package_uuid FROM catalog_resources r LEFT JOIN catalog_dataset_ids u ON u.dataset_id = r.dataset_id"
                    f" WHERE r.dataset_id IN ({ph}) ORDER BY r.dataset_id, r.position, r.created", ids):
        res.setdefault(int(r["dataset_id"]), []).append(r)
    groups: dict[int, list[dict[str, Any]]] = {}
    for g in c.rows("SELECT m.dataset_id, g.id, g.name, g.title, g.description, g.image_url, u.uuid FROM catalog_group_members m"
                    " JOIN catalog_groups g ON g.id = m.group_id LEFT JOIN catalog_group_ids u ON u.group_id = g.id"
                    f" WHERE m.dataset_id IN ({ph}) ORDER BY g.name", ids):
        groups.setdefault(int(g["dataset_id"]), []).append(
            {"id": public_id(g), "name": g["name"], "title": g["title"] or g["name"], "display_name": g["title"] or g["name"],
             "description": g["description"], "image_display_url": g["image_url"]})
    org_names = sorted({r["owner_org"] for r in rows if r["owner_org"]})
    orgs = {o["name"]: org_dict(o) for o in c.rows(
        f"{ORG_SELECT} WHERE o.name IN ({marks(org_names)})", org_names)}
    by_id = {int(r["id"]): package_dict(r, res.get(int(r["id"]), []), groups.get(int(r["id"]), []), orgs, base) for r in rows}
    return [by_id[i] for i in ids if i in by_id]


def org_dict(o: dict[str, Any]) -> dict[str, Any]:
    extras = jload(o.get("extras")) or {}
    return {"id": public_id(o), "name": o["name"], "title": o["title"] or o["name"], "display_name": o["title"] or o["name"],
            "description": o["description"], "type": "organization", "is_organization": True, "state": "active",
            "approval_status": "approved", "created": ckan_ts(o["created_at"]),
            "image_url": extras.get("image_url", "") if isinstance(extras, dict) else ""}


def group_dict(g: dict[str, Any]) -> dict[str, Any]:
    return {"id": public_id(g), "name": g["name"], "title": g["title"] or g["name"], "display_name": g["title"] or g["name"],
            "description": g["description"], "image_url": g["image_url"], "type": "group", "is_organization": False,
            "state": "active", "created": ckan_ts(g["created_at"])}


def resource_dict(r: dict[str, Any], package_name: str, base: str) -> dict[str, Any]:
    url = r["url"]
    if url.startswith("/"):
        url = base + url
    extras = jload(r.get("extras")) or {}
    out = {"id": r["id"], "package_id": public_id(r, "package_uuid", "dataset_id"), "package_name": package_name, "name": r["name"],
           "description": r["description"], "url": url, "format": r["format"], "mimetype": r["mimetype"] or None,
           "size": r["size"], "url_type": r["url_type"] or None, "created": ckan_ts(r["created"]),
           "last_modified": ckan_ts(r["last_modified"]), "position": r["position"], "state": "active",
           "datastore_active": bool(r["datastore_active"]), "collection": r["collection"] or None}
    if isinstance(extras, dict):
        for k, v in extras.items():
            out.setdefault(k, v)
    return out


def package_dict(r: dict[str, Any], resources: list[dict[str, Any]], groups: list[dict[str, Any]],
                 orgs: dict[str, dict[str, Any]], base: str) -> dict[str, Any]:
    """One package from its ``datasets`` row joined with its ``catalog_meta.doc``."""
    doc = jload(r.get("doc")) or {}
    lic = LICENSE_BY_ID.get(doc.get("license_id") or "", {})
    org = orgs.get(r["owner_org"]) if r["owner_org"] else None
    tags = sorted(doc.get("tags") or [])
    pkg: dict[str, Any] = {
        "id": public_id(r), "name": r["name"], "title": r["title"] or r["name"], "type": "dataset", "state": r["state"],
        "private": r["access_level"] != "open", "owner_org": org["id"] if org else r["owner_org"], "organization": org,
        "notes": doc.get("notes", ""), "url": doc.get("url", ""),
        "version": doc.get("version", ""),
        "title_translated": dict(doc.get("title_translated") or {}),
        "notes_translated": dict(doc.get("notes_translated") or {}),
        "author": doc.get("author", ""), "author_email": doc.get("author_email", ""),
        "maintainer": doc.get("maintainer", ""), "maintainer_email": doc.get("maintainer_email", ""),
        "license_id": doc.get("license_id", ""), "license_title": lic.get("title", doc.get("license_id", "")),
        "license_url": lic.get("url", ""),
        "isopen": r["access_level"] == "open" and lic.get("od_conformance") == "approved",
        "metadata_created": ckan_ts(r["created_at"]), "metadata_modified": ckan_ts(r["modified_at"]),
        "tags": [{"name": t, "display_name": t, "state": "active", "vocabulary_id": None} for t in tags],
        "num_tags": len(tags), "groups": groups,
        "resources": [resource_dict(x, r["name"], base) for x in resources], "num_resources": len(resources),
        "relationships_as_object": [], "relationships_as_subject": [],
    }
    gov = _governance(r, doc, org)
    pkg.update(gov)
    pkg["grounds_labels"] = [GROUNDS.get(g, g) for g in gov["grounds"]]
    pkg["theme_labels"] = [THEMES.get(t, t) for t in gov["theme"]]
    extras = dict(doc.get("extras") or {})
    for k, v in gov.items():
        if v not in ("", []):
            extras[k] = ",".join(v) if isinstance(v, list) else str(v)
    pkg["extras"] = [{"key": k, "value": extras[k]} for k in sorted(extras)]
    return pkg


def _governance(r: dict[str, Any], doc: dict[str, Any], org: dict[str, Any] | None) -> dict[str, Any]:
    gov: dict[str, Any] = {}
    for k in GOVERNANCE_KEYS:
        v = doc.get(k)
        if k == "access_level":
            v = r["access_level"]
        elif k in LIST_KEYS:
            v = list(v or [])
        elif k == "spatial":
            v = orjson.dumps(v).decode() if v else ""
        elif k == "publisher":
            v = v or (org["title"] if org else "")
        elif v is None:
            v = ""
        gov[k] = v
    return gov


__all__ = ["site_base", "package_dicts", "package_dict", "resource_dict", "org_dict", "group_dict"]
