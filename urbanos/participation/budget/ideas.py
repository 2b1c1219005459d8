"""Residents' ideas for a participatory budget (``BudgetService.ideas``), as CONSUL and Decidim take them.

During the ``ideas`` phase any signed-in resident (a platform token, or the portal's sign-in cookie on the page)
proposes an idea: a title, a description of at most 4,000 characters, an estimated cost, and optionally a point
inside the budget's area and one of its districts. The author is stored only as ``HMAC(budget's author key,
subject)`` and never published. Ideas are listed publicly with their status. In the ``review`` phase a steward of
the budget's organisation decides on each proposed idea: ``accepted`` (it becomes a project with the checked cost,
which keeps a link to the idea), ``merged`` (it joins an existing project of the budget) or ``rejected`` (with a
reason, published).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING, Any

import orjson
from shapely.geometry import shape

from urbanos.core.time import now_stored
from urbanos.errors import Conflict, NotFound, Unauthorized, ValidationFailed
from urbanos.governance import Identity
from urbanos.participation.budget import store
from urbanos.participation.budget.fields import MAX_AMOUNT, obj, text, whole
from urbanos.participation.planning import model
from urbanos.storage import Connection

if TYPE_CHECKING:
    from urbanos.participation.budget.service import BudgetService

MAX_DESCRIPTION = 4000
PAGE = 100
"""Ideas in one answer unless ``limit`` says otherwise."""
MAX_PAGE = 1000
"""The largest ``limit``."""
STATUSES = ("proposed", "accepted", "merged", "rejected")
DECISIONS = ("accepted", "merged", "rejected")


def _refuse(field: str, message: str, code: str | None = None) -> ValidationFailed:
    return ValidationFailed(message, code=code, detail={"field": field})


def paging(limit: Any, offset: Any) -> tuple[int, int]:
    """``limit`` (1 to MAX_PAGE, PAGE when absent) and ``offset`` (0 or more) from a query string."""
    def number(name: str, raw: Any, default: int, low: int, high: int) -> int:
        if raw in (None, ""):
            return default
        text_ = str(raw)
        if not text_.isascii() or not text_.isdigit() or len(text_) > 9 or not low <= int(text_) <= high:
            raise _refuse(name, f"{name} is a whole number from {low} to {high}, not {text_[:20]!r}.")
        return int(text_)
    return number("limit", limit, PAGE, 1, MAX_PAGE), number("offset", offset, 0, 0, 999_999_999)


def public_idea(row: dict[str, Any]) -> dict[str, Any]:
    """An idea as published: no author, not even a pseudonym."""
    return {"id": row["id"], "title": row["title"], "description": row["description"], "cost": int(row["cost"]),
            "geometry": orjson.loads(row["geometry"]) if row["geometry"] else None, "district": row["district"],
            "status": row["status"], "reason": row["reason"], "project": row["project_id"],
            "created_at": row["created_at"]}


class Ideas:
    def __init__(self, budgets: BudgetService) -> None:
        self.budgets = budgets
        self.db = budgets.db

    def values(self, budget: dict[str, Any], body: Any) -> dict[str, Any]:
        """The stored columns of a proposed idea from the request's body (a ValidationFailed naming the field)."""
        b = obj(body)
        values: dict[str, Any] = {
            "budget_id": budget["id"], "title": text(b, "title", 200),
            "description": text(b, "description", MAX_DESCRIPTION), "cost": whole(b, "cost", 0, MAX_AMOUNT, 0),
            "geometry": None, "district": None, "status": "proposed", "created_at": now_stored(),
            "modified_at": now_stored()}
        if b.get("location") is not None:
            point = model.geometry(b["location"], "location", ("Point",))
            area = budget.get("area")
            if area and not shape(orjson.loads(area)).covers(point):
                raise _refuse("location", "location lies outside the budget's area.", "outside_area")
            values["geometry"] = model.geojson(point)
        district = b.get("district")
        if district not in (None, ""):
            allowed = orjson.loads(budget["districts"]) if budget.get("districts") else []
            if not isinstance(district, str) or district not in allowed:
                raise _refuse("district", f"district is one of {', '.join(allowed) or '(none: this budget has none)'}.",
                              "unknown_district")
            values["district"] = district
        return values

    async def propose(self, ident: Identity, ref: int | str, body: Any) -> dict[str, Any]:
        budget = await self.budgets.get(ref)
        if ident.is_anonymous:
            raise Unauthorized("Sign in (any API token, or the portal) to propose an idea.")
        values = self.values(budget, body)
        if budget["phase"] != "ideas":
            raise Conflict("Ideas are proposed in the ideas phase.", code="not_ideas_phase")
        key = budget.get("author_key")
        if not key:
            raise Conflict("This budget takes no ideas.", code="not_ideas_phase")
        values["author_mac"] = hmac.new(bytes.fromhex(key), ident.subject.encode(), hashlib.sha256).hexdigest()

        def tx(c: Connection) -> dict[str, Any]:
            new = store.idea(c, budget["id"], store.insert_idea(c, values))
            assert new is not None
            return new

        return public_idea(await self.db.write(tx))

    async def listing(self, ref: int | str, limit: int = PAGE, offset: int = 0,
                      status: str | None = None) -> tuple[dict[str, Any], list[dict[str, Any]], int]:
        """A page of the ideas, oldest first, and how many there are (``status``, as given in a query string: of
        those only; another value is 400 naming it). ``limit`` and ``offset``: see :func:`paging`."""
        if status not in (None, "") and status not in STATUSES:
            raise _refuse("status", f"status is one of {', '.join(STATUSES)}.")
        st = status or None
        budget = await self.budgets.get(ref)

        def read(c: Connection) -> tuple[list[dict[str, Any]], int]:
            return store.ideas(c, budget["id"], limit, offset, st), store.count_ideas(c, budget["id"], st)

        rows, total = await self.db.read(read)
        return budget, [public_idea(r) for r in rows], total

    async def one(self, ref: int | str, idea_id: int) -> dict[str, Any]:
        budget = await self.budgets.get(ref)
        row = await self.db.read(lambda c: store.idea(c, budget["id"], idea_id))
        if row is None:
            raise NotFound(f"Idea {idea_id} is not an idea of this budget.")
        return public_idea(row)

    async def decide(self, ident: Identity, ref: int | str, idea_id: int, body: Any) -> dict[str, Any]:
        """A steward's decision in the review phase: ``{"status": "accepted", "cost": …}`` (title and description
        may be corrected too), ``{"status": "merged", "project": id}`` or ``{"status": "rejected", "reason": …}``."""
        budget = await self.budgets.get(ref)
        self.budgets.steward(ident, budget["owner_org"])
        b = obj(body)
        status = b.get("status")
        if status not in DECISIONS:
            raise _refuse("status", f"status is one of {', '.join(DECISIONS)}.")
        reason = text(b, "reason", 1000, required=status == "rejected") or None
        cost = whole(b, "cost", 0, MAX_AMOUNT) if status == "accepted" else None
        if status == "accepted" and cost is None:
            raise _refuse("cost", "cost (the checked cost) is required to accept an idea.")
        raw = b.get("project")
        if status == "merged" and (isinstance(raw, bool) or not isinstance(raw, int)):
            raise _refuse("project", "project is the id of a project of this budget.")
        target = raw if isinstance(raw, int) else 0
        title = text(b, "title", 200) if "title" in b else None
        description = text(b, "description", 5000, required=False) if "description" in b else None
        if budget["phase"] != "review":
            raise Conflict("Ideas are decided in the feasibility review phase.", code="not_review_phase")

        def tx(c: Connection) -> dict[str, Any]:
            row = store.idea(c, budget["id"], idea_id)
            if row is None:
                raise NotFound(f"Idea {idea_id} is not an idea of this budget.")
            if row["status"] != "proposed":
                raise Conflict(f"Idea {idea_id} was {row['status']} already.", code="decided")
            project_id: int | None = None
            if status == "accepted":
                project_id = store.insert_project(c, {
                    "budget_id": budget["id"], "title": title or row["title"],
                    "description": row["description"] if description is None else description, "cost": cost,
                    "feasible": 1, "idea_id": idea_id, "created_at": now_stored()})
            elif status == "merged":
                if store.project(c, budget["id"], target) is None:
                    raise NotFound(f"Project {target} is not a project of this budget.")
                project_id = target
            if not store.decide_idea(c, idea_id, str(status), reason, project_id):
                raise Conflict(f"Idea {idea_id} was decided meanwhile.", code="decided")
            out = store.idea(c, budget["id"], idea_id)
            assert out is not None
            return out

        out = public_idea(await self.db.write(tx))
        self.budgets.audit(ident, f"budget.idea.{status}", budget, idea=idea_id, project=out["project"])
        return out


__all__ = ["Ideas", "public_idea", "STATUSES", "DECISIONS", "MAX_DESCRIPTION"]
