"""Planning projects: what the HTTP API and the pages do (``platform.services["planning"]``).

A project belongs to an organisation: its stewards (or an admin) create, change and close it and moderate its
contributions and comments. Any signed-in caller contributes, comments and rates during the project's period.
Authors are stored only as ``HMAC(project key, subject)`` and published as "Contributor N" (N per project)."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
from typing import Any

import orjson
from shapely.geometry import shape

from urbanos.core.time import now_stored
from urbanos.errors import Conflict, Forbidden, NotFound, Unauthorized
from urbanos.governance import Identity
from urbanos.participation.planning import model, opendata, store
from urbanos.participation.planning.model import MAX_TEXT, refuse
from urbanos.participation.planning.opendata import PlanningOpenData
from urbanos.platform import Platform
from urbanos.ports import AuditPort, FeaturesPort
from urbanos.storage import Connection

MAX_LIST = 10_000


def public_project(p: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in p.items() if k != "author_key"}
    out["area"] = orjson.loads(p["area"])
    out["categories"] = orjson.loads(p["categories"])
    out["rubrics"] = orjson.loads(p.get("rubrics") or "{}")
    out["location_required"] = bool(p["location_required"])
    out["closed"] = bool(p["closed"])
    out["boundaries"] = p["boundaries"] or None
    return out


def public_contribution(k: dict[str, Any], project: str) -> dict[str, Any]:
    up, down = int(k.get("up") or 0), int(k.get("down") or 0)
    out = {"id": k["id"], "project": project, "title": k["title"], "text": k["body"], "category": k["category"],
           "rubric": k.get("rubric"), "geometry": orjson.loads(k["geometry"]) if k["geometry"] else None,
           "author": f"Contributor {k['author']}", "created_at": k["created_at"], "edited_at": k.get("edited_at"),
           "rating": {"up": up, "down": down, "score": up - down}, "comments": int(k.get("comments") or 0)}
    if k.get("hidden"):  # only ever built for the project's stewards
        out.update(hidden=True, hidden_reason=k.get("hidden_reason"))
    return out


def thread(rows: list[dict[str, Any]], steward: bool = False) -> list[dict[str, Any]]:
    """Visible comments as a tree (a hidden comment's replies vanish with it); for the project's stewards
    (``steward``) the hidden ones too, marked with the moderation's reason."""

    def node(r: dict[str, Any]) -> dict[str, Any]:
        out = {"id": r["id"], "text": r["body"], "author": f"Contributor {r['author']}",
               "created_at": r["created_at"], "replies": []}
        if r["hidden"]:
            out.update(hidden=True, hidden_reason=r["hidden_reason"])
        return out

    nodes = {r["id"]: node(r) for r in rows if steward or not r["hidden"]}
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
        self.open_data = PlanningOpenData(platform)

    # -- projects -----------------------------------------------------------------------------------------------
    def is_steward(self, ident: Identity, project: dict[str, Any]) -> bool:
        return not ident.is_anonymous and ident.has_role("steward", project["owner_org"])

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

    def _fields(self, b: dict[str, Any], partial: bool, old: dict[str, Any] | None = None) -> dict[str, Any]:
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
        cats = orjson.loads(out.get("categories") or (old or {}).get("categories") or "[]")
        if has("rubrics"):
            out["rubrics"] = orjson.dumps(model.rubrics(b, cats)).decode()
        elif old is not None and "categories" in out:  # categories changed: rubrics of the ones gone go with them
            kept = {k: v for k, v in orjson.loads(old.get("rubrics") or "{}").items() if k in cats}
            out["rubrics"] = orjson.dumps(kept).decode()
        if has("location_required"):
            out["location_required"] = int(model.flag(b, "location_required", True))
        if has("boundaries"):
            out["boundaries"] = model.text(b, "boundaries", 200, required=False)
        if "closed" in b:
            out["closed"] = int(model.flag(b, "closed", False))
        return out

    async def _check_boundaries(self, ident: Identity, name: str | None) -> None:
        """The heat map's boundary collection ``name`` (None or empty: none) is one the steward may read: a project
        links no collection its steward may not see. One it may not read is answered exactly as one that does not
        exist."""
        if not name:
            return
        features = self.platform.optional(FeaturesPort)
        if features is not None:
            with contextlib.suppress(NotFound):
                await features.preview(ident, name, 1)
                return
        raise refuse("boundaries", f"boundaries: there is no feature collection {name[:200]!r}; name a "
                                   "collection of districts you may read, or leave boundaries empty.",
                     code="unknown_boundaries")

    async def create(self, ident: Identity, body: Any) -> dict[str, Any]:
        b = model.obj(body)
        org = model.text(b, "owner_org", 100)
        self._steward(ident, org)
        values = {"name": model.name(b), "owner_org": org, **self._fields(b, partial=False),
                  "author_key": secrets.token_hex(32), "created_at": now_stored(), "modified_at": now_stored()}
        if values["ends_at"] <= values["starts_at"]:
            raise refuse("ends_at", "ends_at is after starts_at.")
        await self._check_boundaries(ident, values.get("boundaries"))

        def tx(c: Connection) -> int:
            if not store.org_exists(c, org):
                raise refuse("owner_org", f"There is no organisation {org!r}.")
            if store.project(c, values["name"]) is not None:
                raise Conflict(f"A project named {values['name']!r} exists.")
            return store.insert_project(c, values)

        pid = await self.db.write(tx)
        self._audit(ident, "planning.project.created", "PlanningProject", pid, values)
        project = await self.get(values["name"])
        await opendata.publish(self.platform, project, self.open_data)
        return public_project(project)

    async def change(self, ident: Identity, name: str, body: Any) -> dict[str, Any]:
        project = await self.get(name)
        self._steward(ident, project["owner_org"])
        b = model.obj(body)
        changes = self._fields(b, partial=True, old=project)
        if not changes:
            raise refuse("body", "Name at least one field to change.")
        if changes.get("ends_at", project["ends_at"]) <= changes.get("starts_at", project["starts_at"]):
            raise refuse("ends_at", "ends_at is after starts_at.")
        if changes.get("boundaries") not in (None, project["boundaries"]):
            await self._check_boundaries(ident, changes["boundaries"])
        await self.db.write(lambda c: store.update_project(c, project["id"], changes))
        self._audit(ident, "planning.project.changed", "PlanningProject", project["id"], project,
                    fields=sorted(changes))
        changed = await self.get(name)
        if "title" in changes:
            await opendata.publish(self.platform, changed, self.open_data, describe=True)
        return public_project(changed)

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

    async def _in_step(self, project: dict[str, Any], in_step: bool) -> None:
        """After a write whose transaction found no open-data collection yet: publish the project's now."""
        if not in_step:
            await opendata.publish(self.platform, project, self.open_data)

    async def contribute(self, ident: Identity, name: str, body: Any) -> dict[str, Any]:
        project = await self.get(name)
        mac = self._mac(project, ident)
        b = model.obj(body)
        values = self.contribution_values(project, b)
        self._open(project)

        def tx(c: Connection) -> tuple[int, bool]:
            cid = store.insert_contribution(c, {**values, "author": store.label(c, project["id"], mac)})
            return cid, self.open_data.changed(c, project, cid)

        cid, in_step = await self.db.write(tx)
        await self._in_step(project, in_step)
        return await self.contribution(name, cid)

    def contribution_values(self, project: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
        cats = orjson.loads(project["categories"])
        values: dict[str, Any] = {"project_id": project["id"], "title": model.text(b, "title", 200),
                                  "body": model.text(b, "text", MAX_TEXT), "created_at": now_stored()}
        category = b.get("category")
        if category not in cats:
            raise refuse("category", f"category is one of {', '.join(cats)}.", code="unknown_category")
        values["category"] = category
        values["rubric"] = self._rubric(project, str(category), b.get("rubric"))
        raw = b.get("geometry")
        if raw is None:
            if project["location_required"]:
                raise refuse("geometry", "geometry is required: a Point or LineString inside the project's area.")
            return {**values, "geometry": None, "minx": None, "miny": None, "maxx": None, "maxy": None}
        geom = model.geometry(raw, "geometry", ("Point", "LineString"))
        if not shape(orjson.loads(project["area"])).covers(geom):
            raise refuse("geometry", "geometry lies outside the project's area.", code="outside_area")
        minx, miny, maxx, maxy = geom.bounds
        return {**values, "geometry": model.geojson(geom), "minx": minx, "miny": miny, "maxx": maxx, "maxy": maxy}

    @staticmethod
    def _rubric(project: dict[str, Any], category: str, raw: Any) -> str | None:
        """The contribution's rubric: None, or one of its category's rubrics."""
        if raw is None or raw == "":
            return None
        names = orjson.loads(project.get("rubrics") or "{}").get(category, [])
        if not isinstance(raw, str) or raw not in names:
            allowed = f"one of {', '.join(names)}" if names else "left out (it has none)"
            raise refuse("rubric", f"rubric is a rubric of the category {category!r}: {allowed}.",
                         code="unknown_rubric")
        return raw

    async def edit(self, ident: Identity, name: str, cid: int, body: Any) -> dict[str, Any]:
        """Its author changes her contribution (title, text, category, rubric, geometry) while the project is open."""
        project = await self.get(name)
        mac = self._mac(project, ident)
        b = model.obj(body)
        unknown = sorted(set(b) - {"title", "text", "category", "rubric", "geometry"})
        if unknown or not b:
            raise refuse(unknown[0] if unknown else "body", "Change one or more of title, text, category, rubric "
                                                            "and geometry.")
        k = await self._visible(project, cid)
        label = await self.db.read(lambda c: store.known_label(c, project["id"], mac))
        if label != k["author"]:
            raise Forbidden("Only its author may change a contribution.")
        self._open(project)
        old = {"title": k["title"], "text": k["body"], "category": k["category"], "rubric": k["rubric"],
               "geometry": orjson.loads(k["geometry"]) if k["geometry"] else None}
        if "category" in b and "rubric" not in b and b["category"] != k["category"]:
            old["rubric"] = None  # a rubric belongs to its category
        values = self.contribution_values(project, {**old, **b})
        changes = {key: v for key, v in values.items() if key not in ("project_id", "created_at")}

        def tx(c: Connection) -> bool:
            found = store.contribution(c, project["id"], cid)
            if found is None or found["hidden"]:  # hidden meanwhile
                raise NotFound(f"Contribution {cid} does not exist in this project.")
            store.update_contribution(c, cid, {**changes, "edited_at": now_stored()})
            return self.open_data.changed(c, project, cid)

        await self._in_step(project, await self.db.write(tx))
        return await self.contribution(name, cid)

    async def contributions(self, name: str, category: str | None = None,
                            bbox: tuple[float, float, float, float] | None = None,
                            rubric: str | None = None) -> list[dict[str, Any]]:
        project = await self.get(name)
        rows = await self.db.read(lambda c: store.contributions(c, project["id"], category, bbox, MAX_LIST, rubric))
        return [public_contribution(k, name) for k in rows]

    async def _visible(self, project: dict[str, Any], cid: int, steward: bool = False) -> dict[str, Any]:
        k = await self.db.read(lambda c: store.contribution(c, project["id"], cid))
        if k is None or (k["hidden"] and not steward):
            raise NotFound(f"Contribution {cid} does not exist in this project.")
        return k

    async def contribution(self, name: str, cid: int, ident: Identity | None = None) -> dict[str, Any]:
        """A contribution and its thread; the project's stewards see it, and its comments, even when hidden."""
        project = await self.get(name)
        steward = ident is not None and self.is_steward(ident, project)
        k = await self._visible(project, cid, steward)
        up, down = await self.db.read(lambda c: store.ratings(c, cid))
        rows = await self.db.read(lambda c: store.comments(c, cid))
        out = public_contribution({**k, "up": up, "down": down, "hidden": k["hidden"] and steward,
                                   "comments": sum(1 for r in rows if not r["hidden"])}, name)
        return {**out, "thread": thread(rows, steward)}

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

        def tx(c: Connection) -> tuple[int, bool]:
            if parent is not None:
                found = store.comment(c, cid, parent)
                if found is None or found["hidden"]:
                    raise refuse("parent", "parent is the id of a comment of this contribution.")
            new = store.insert_comment(c, {**values, "parent_id": parent,
                                           "author": store.label(c, project["id"], mac)})
            return new, self.open_data.changed(c, project, cid)

        new, in_step = await self.db.write(tx)
        await self._in_step(project, in_step)
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

        def tx(c: Connection) -> tuple[bool, bool]:
            replaced = store.rate(c, cid, mac, int(value))
            return replaced, self.open_data.changed(c, project, cid)

        replaced, in_step = await self.db.write(tx)
        await self._in_step(project, in_step)
        up, down = await self.db.read(lambda c: store.ratings(c, cid))
        return {"status": "replaced" if replaced else "rated", "value": value,
                "rating": {"up": up, "down": down, "score": up - down}}

    # -- moderation (the project's stewards) --------------------------------------------------------------------
    async def moderate(self, ident: Identity, name: str, cid: int, body: Any) -> dict[str, Any]:
        project = await self.get(name)
        self._steward(ident, project["owner_org"])
        b = model.obj(body)
        hidden = model.flag(b, "hidden", True)
        reason = model.text(b, "reason", 1000, required=hidden) or None
        target = b.get("comment")
        if target is not None and (isinstance(target, bool) or not isinstance(target, int)):
            raise refuse("comment", "comment is the id of a comment of this contribution.")

        def tx(c: Connection) -> bool:
            if store.contribution(c, project["id"], cid) is None:
                raise NotFound(f"Contribution {cid} does not exist in this project.")
            if target is None:
                store.moderate(c, "contributions", cid, hidden, reason)
            elif store.comment(c, cid, target) is None:
                raise NotFound(f"Comment {target} does not exist under this contribution.")
            else:
                store.moderate(c, "comments", target, hidden, reason)
            return self.open_data.changed(c, project, cid)

        await self._in_step(project, await self.db.write(tx))
        kind, row = ("PlanningComment", target) if target is not None else ("PlanningContribution", cid)
        self._audit(ident, "planning.hidden" if hidden else "planning.shown", kind, row, project, reason=reason)
        return {"contribution": cid, "comment": target, "hidden": hidden, "reason": reason}

    async def hidden(self, ident: Identity, name: str) -> dict[str, Any]:
        """What the project's stewards hid, with the reasons: its hidden contributions, and the hidden comments of
        its contributions (401 anonymous, 403 for anyone else)."""
        project = await self.get(name)
        self._steward(ident, project["owner_org"])

        def read(c: Connection) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
            return (store.contributions(c, project["id"], limit=MAX_LIST, hidden=True),
                    store.hidden_comments(c, project["id"], MAX_LIST))

        rows, comments = await self.db.read(read)
        return {"contributions": [public_contribution(k, name) for k in rows],
                "comments": [{"id": m["id"], "contribution": m["contribution_id"], "parent": m["parent_id"],
                              "text": m["body"], "author": f"Contributor {m['author']}",
                              "created_at": m["created_at"], "hidden": True, "hidden_reason": m["hidden_reason"]}
                             for m in comments]}


__all__ = ["PlanningService", "public_project", "public_contribution", "thread", "MAX_LIST"]
