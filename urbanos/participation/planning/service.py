"""Planning projects: what the HTTP API and the pages do (``platform.services["planning"]``).

A project belongs to an organisation: its stewards (or an admin) create, change and close it and moderate its
contributions and comments. Any signed-in caller contributes, comments and rates during the project's period.
Authors are stored only as ``HMAC(project key, subject)`` and published as "Contributor N" (N per project)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

import orjson
from shapely.geometry import shape

from urbanos.core.time import now_stored
from urbanos.errors import Conflict, Forbidden, NotFound, Unauthorized
from urbanos.governance import Identity
from urbanos.participation.planning import model, store
from urbanos.participation.planning.model import MAX_TEXT, refuse
from urbanos.platform import Platform
from urbanos.ports import AuditPort
from urbanos.storage import Connection

MAX_LIST = 10_000


def public_project(p: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in p.items() if k != "author_key"}
    out["area"] = orjson.loads(p["area"])
    out["categories"] = orjson.loads(p["categories"])
    out["location_required"] = bool(p["location_required"])
    out["closed"] = bool(p["closed"])
    out["boundaries"] = p["boundaries"] or None
    return out


def public_contribution(k: dict[str, Any], project: str) -> dict[str, Any]:
    up, down = int(k.get("up") or 0), int(k.get("down") or 0)
    return {"id": k["id"], "project": project, "title": k["title"], "text": k["body"], "category": k["category"],
            "geometry": orjson.loads(k["geometry"]) if k["geometry"] else None, "author": f"Contributor {k['author']}",
            "created_at": k["created_at"], "rating": {"up": up, "down": down, "score": up - down},
            "comments": int(k.get("comments") or 0)}


def thread(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Visible comments as a tree (a hidden comment's replies vanish with it)."""
    nodes = {r["id"]: {"id": r["id"], "text": r["body"], "author": f"Contributor {r['author']}",
                       "created_at": r["created_at"], "replies": []} for r in rows if not r["hidden"]}
    top: list[dict[str, Any]] = []
    for r in rows:
        if r["id"] not in nodes:
            continue
        if r["parent_id"] is None:
            top.append(nodes[r["id"]])
        elif r["parent_id"] in nodes:
            nodes[r["parent_id"]]["replies"].append(nodes[r["id"]])
    return top


class PlanningService:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.db = platform.db

    # -- projects -----------------------------------------------------------------------------------------------
    def _steward(self, ident: Identity, org: str) -> None:
        if ident.is_anonymous:
            raise Unauthorized("Sign in with a steward's token of the project's organisation.")
        if not ident.has_role("steward", org):
            raise Forbidden(f"Only a steward of {org!r} may change this project.")

    def _audit(self, ident: Identity, action: str, kind: str, row_id: int, project: dict[str, Any],
               **details: Any) -> None:
        audit = self.platform.optional(AuditPort)
        if audit is not None:
            audit.record(ident.subject, action, kind, row_id, org=project["owner_org"],
                         details={"project": project["name"], **details})

    def _fields(self, b: dict[str, Any], partial: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}

        def has(key: str) -> bool:
            return not partial or key in b

        if has("title"):
            out["title"] = model.text(b, "title", 200)
        if has("description"):
            out["description"] = model.text(b, "description", 20_000, required=False)
        if has("area"):
            out["area"] = model.geojson(model.geometry(b.get("area"), "area", ("Polygon", "MultiPolygon")))
        for key in ("starts_at", "ends_at"):
            if has(key):
                out[key] = model.instant(b, key)
        if has("categories"):
            out["categories"] = orjson.dumps(model.categories(b)).decode()
        if has("location_required"):
            out["location_required"] = int(model.flag(b, "location_required", True))
        if has("boundaries"):
            out["boundaries"] = model.text(b, "boundaries", 200, required=False)
        if "closed" in b:
            out["closed"] = int(model.flag(b, "closed", False))
        return out

    async def create(self, ident: Identity, body: Any) -> dict[str, Any]:
        b = model.obj(body)
        org = model.text(b, "owner_org", 100)
        self._steward(ident, org)
        values = {"name": model.name(b), "owner_org": org, **self._fields(b, partial=False),
                  "author_key": secrets.token_hex(32), "created_at": now_stored(), "modified_at": now_stored()}
        if values["ends_at"] <= values["starts_at"]:
            raise refuse("ends_at", "ends_at is after starts_at.")

        def tx(c: Connection) -> int:
            if not store.org_exists(c, org):
                raise refuse("owner_org", f"There is no organisation {org!r}.")
            if store.project(c, values["name"]) is not None:
                raise Conflict(f"A project named {values['name']!r} exists.")
            return store.insert_project(c, values)

        pid = await self.db.write(tx)
        self._audit(ident, "planning.project.created", "PlanningProject", pid, values)
        return public_project(await self.get(values["name"]))

    async def change(self, ident: Identity, name: str, body: Any) -> dict[str, Any]:
        project = await self.get(name)
        self._steward(ident, project["owner_org"])
        b = model.obj(body)
        changes = self._fields(b, partial=True)
        if not changes:
            raise refuse("body", "Name at least one field to change.")
        if changes.get("ends_at", project["ends_at"]) <= changes.get("starts_at", project["starts_at"]):
            raise refuse("ends_at", "ends_at is after starts_at.")
        await self.db.write(lambda c: store.update_project(c, project["id"], changes))
        self._audit(ident, "planning.project.changed", "PlanningProject", project["id"], project,
                    fields=sorted(changes))
        return public_project(await self.get(name))

    async def get(self, name: str) -> dict[str, Any]:
        project = await self.db.read(lambda c: store.project(c, name[:200]))
        if project is None:
            raise NotFound(f"Project {name[:60]!r} does not exist.")
        return project

    async def listing(self) -> list[dict[str, Any]]:
        return [public_project(p) for p in await self.db.read(store.projects)]

    # -- contributions ------------------------------------------------------------------------------------------
    def _mac(self, project: dict[str, Any], ident: Identity) -> str:
        if ident.is_anonymous:
            raise Unauthorized("Sign in (any API token) to take part.")
        return hmac.new(bytes.fromhex(project["author_key"]), ident.subject.encode(), hashlib.sha256).hexdigest()

    def _open(self, project: dict[str, Any]) -> None:
        now = now_stored()
        if project["closed"]:
            raise Conflict("The project is closed.", code="project_closed")
        if not project["starts_at"] <= now <= project["ends_at"]:
            raise Conflict(f"The project takes contributions from {project['starts_at']} to {project['ends_at']}.",
                           code="outside_period")

    async def contribute(self, ident: Identity, name: str, body: Any) -> dict[str, Any]:
        project = await self.get(name)
        mac = self._mac(project, ident)
        b = model.obj(body)
        values = self.contribution_values(project, b)
        self._open(project)

        def tx(c: Connection) -> int:
            return store.insert_contribution(c, {**values, "author": store.label(c, project["id"], mac)})

        cid = await self.db.write(tx)
        return await self.contribution(name, cid)

    def contribution_values(self, project: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
        cats = orjson.loads(project["categories"])
        values: dict[str, Any] = {"project_id": project["id"], "title": model.text(b, "title", 200),
                                  "body": model.text(b, "text", MAX_TEXT), "created_at": now_stored()}
        category = b.get("category")
        if category not in cats:
            raise refuse("category", f"category is one of {', '.join(cats)}.", code="unknown_category")
        values["category"] = category
        raw = b.get("geometry")
        if raw is None:
            if project["location_required"]:
                raise refuse("geometry", "geometry is required: a Point or LineString inside the project's area.")
            return values
        geom = model.geometry(raw, "geometry", ("Point", "LineString"))
        if not shape(orjson.loads(project["area"])).covers(geom):
            raise refuse("geometry", "geometry lies outside the project's area.", code="outside_area")
        minx, miny, maxx, maxy = geom.bounds
        return {**values, "geometry": model.geojson(geom), "minx": minx, "miny": miny, "maxx": maxx, "maxy": maxy}

    async def contributions(self, name: str, category: str | None = None,
                            bbox: tuple[float, float, float, float] | None = None) -> list[dict[str, Any]]:
        project = await self.get(name)
        rows = await self.db.read(lambda c: store.contributions(c, project["id"], category, bbox, MAX_LIST))
        return [public_contribution(k, name) for k in rows]

    async def _visible(self, project: dict[str, Any], cid: int) -> dict[str, Any]:
        k = await self.db.read(lambda c: store.contribution(c, project["id"], cid))
        if k is None or k["hidden"]:
            raise NotFound(f"Contribution {cid} does not exist in this project.")
        return k

    async def contribution(self, name: str, cid: int) -> dict[str, Any]:
        project = await self.get(name)
        k = await self._visible(project, cid)
        up, down = await self.db.read(lambda c: store.ratings(c, cid))
        rows = await self.db.read(lambda c: store.comments(c, cid))
        out = public_contribution({**k, "up": up, "down": down,
                                   "comments": sum(1 for r in rows if not r["hidden"])}, name)
        return {**out, "thread": thread(rows)}

    async def comment(self, ident: Identity, name: str, cid: int, body: Any) -> dict[str, Any]:
        project = await self.get(name)
        mac = self._mac(project, ident)
        b = model.obj(body)
        values = {"contribution_id": cid, "body": model.text(b, "text", MAX_TEXT), "created_at": now_stored()}
        parent = b.get("parent")
        if parent is not None and (isinstance(parent, bool) or not isinstance(parent, int)):
            raise refuse("parent", "parent is the id of a comment of this contribution.")
        await self._visible(project, cid)
        self._open(project)

        def tx(c: Connection) -> int:
            if parent is not None:
                found = store.comment(c, cid, parent)
                if found is None or found["hidden"]:
                    raise refuse("parent", "parent is the id of a comment of this contribution.")
            return store.insert_comment(c, {**values, "parent_id": parent,
                                            "author": store.label(c, project["id"], mac)})

        new = await self.db.write(tx)
        label = await self.db.read(lambda c: store.label(c, project["id"], mac))
        return {"id": new, "parent": parent, "text": values["body"], "author": f"Contributor {label}",
                "created_at": values["created_at"]}

    async def rate(self, ident: Identity, name: str, cid: int, body: Any) -> dict[str, Any]:
        project = await self.get(name)
        mac = self._mac(project, ident)
        value = model.obj(body).get("value")
        if isinstance(value, bool) or value not in (1, -1):
            raise refuse("value", "value is 1 or -1.")
        await self._visible(project, cid)
        self._open(project)
        replaced = await self.db.write(lambda c: store.rate(c, cid, mac, int(value)))
        up, down = await self.db.read(lambda c: store.ratings(c, cid))
        return {"status": "replaced" if replaced else "rated", "value": value,
                "rating": {"up": up, "down": down, "score": up - down}}

    async def moderate(self, ident: Identity, name: str, cid: int, body: Any) -> dict[str, Any]:
        project = await self.get(name)
        self._steward(ident, project["owner_org"])
        b = model.obj(body)
        hidden = model.flag(b, "hidden", True)
        reason = model.text(b, "reason", 1000, required=hidden) or None
        target = b.get("comment")
        if target is not None and (isinstance(target, bool) or not isinstance(target, int)):
            raise refuse("comment", "comment is the id of a comment of this contribution.")

        def tx(c: Connection) -> None:
            if store.contribution(c, project["id"], cid) is None:
                raise NotFound(f"Contribution {cid} does not exist in this project.")
            if target is None:
                store.moderate(c, "contributions", cid, hidden, reason)
            elif store.comment(c, cid, target) is None:
                raise NotFound(f"Comment {target} does not exist under this contribution.")
            else:
                store.moderate(c, "comments", target, hidden, reason)

        await self.db.write(tx)
        kind, row = ("PlanningComment", target) if target is not None else ("PlanningContribution", cid)
        self._audit(ident, "planning.hidden" if hidden else "planning.shown", kind, row, project, reason=reason)
        return {"contribution": cid, "comment": target, "hidden": hidden, "reason": reason}


__all__ = ["PlanningService", "public_project", "public_contribution", "thread", "MAX_LIST"]
