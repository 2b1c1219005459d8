"""The stewards' pages of participatory budgets (English and German), beside the JSON API and through the same
service calls (the same checks: a steward of the budget's organisation, or an admin):

* ``/participation/budgets/new``: create a budget;
* ``/participation/budgets/{name}/manage``: the budget's projects, adding one (ideas phase), the residents' ideas to
  decide (review phase: accept with the checked cost, merge, reject with a reason), letter codes, the next phase;
* ``/participation/budgets/{name}/manage/projects/{id}``: change a project; in the review phase keep or drop it
  with a reason and the checked cost;
* ``/participation/budgets/{name}/manage/phase``: the next phase after a confirmation (the last one closes the
  vote and publishes the results);
* ``POST /participation/budgets/{name}/manage/codes``: a printable page with new letter codes, shown this once.

The caller is a bearer token or the portal's sign-in cookie; every form carries the CSRF token of its page. A
refused form comes back with the problem listed (and what was typed kept) and changes nothing."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from urbanos.errors import Conflict, Forbidden, NotFound, UrbanosError
from urbanos.governance import Identity
from urbanos.participation.budget import store
from urbanos.participation.budget.ideas import MAX_PAGE
from urbanos.participation.budget.pages import FORMS, PREFIX, lang_of, render
from urbanos.participation.budget.service import PHASES, BudgetService, public
from urbanos.participation.budget.tally import RULES

MAX_FIELD = 8 * 1024
BUDGET_FIELDS = ("name", "title", "description", "owner_org", "amount", "currency", "rule", "min_choices",
                 "max_choices")


def _whole(raw: str | None) -> Any:
    """A whole number typed with or without spaces; anything else as typed (the service names the field)."""
    s = (raw or "").replace(" ", "").replace("\u202f", "")
    return int(s) if s.isascii() and s.isdigit() and len(s) < 16 else (raw or "")


class StewardPages:
    def __init__(self, service: BudgetService) -> None:
        self.s = service

    async def _caller(self, request: Request) -> Identity:
        ident = await FORMS.identity(request)
        if ident.is_anonymous:
            raise NotFound("Sign in to the portal (or send a bearer token) as a steward to see this page.")
        return ident

    async def _budget(self, request: Request) -> tuple[Identity, dict[str, Any]]:
        ident = await self._caller(request)
        budget = await self.s.get(str(request.path_params["name"]))
        if not ident.has_role("steward", budget["owner_org"]):
            raise Forbidden(f"Only a steward of {budget['owner_org']!r} may manage this budget.")
        return ident, budget

    def _back(self, request: Request, budget: dict[str, Any], done: str) -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/{budget['id']}/manage?lang={lang_of(request)}&done={done}",
                                status_code=303)

    async def _form(self, request: Request) -> dict[str, str]:
        form = await FORMS.read(request, MAX_FIELD)
        FORMS.check(request, form.get("csrf"))
        return form

    # -- a new budget -------------------------------------------------------------------------------------------
    async def new(self, request: Request) -> Response:
        ident = await self._caller(request)
        orgs = sorted(o for o in ident.orgs_with("steward") if o)
        if request.method == "GET":
            v = {"owner_org": orgs[0] if len(orgs) == 1 else "", "currency": "EUR", "rule": "equal_shares",
                 "min_choices": "1"}
            return render(request, "participation/budget/new.html", forms=True, v=v, orgs=orgs, rules=RULES,
                          errors=[])
        form = await self._form(request)
        body: dict[str, Any] = {k: form.get(k, "").strip() for k in ("name", "title", "owner_org")}
        body.update({k: form[k].strip() for k in ("description", "currency", "rule") if form.get(k, "").strip()})
        body["amount"] = _whole(form.get("amount"))
        body["min_choices"] = _whole(form.get("min_choices")) if form.get("min_choices", "").strip() else 1
        if form.get("max_choices", "").strip():
            body["max_choices"] = _whole(form.get("max_choices"))
        try:
            out = await self.s.create(ident, body)
        except UrbanosError as exc:
            v = {k: form.get(k, "") for k in BUDGET_FIELDS}
            return render(request, "participation/budget/new.html", exc.status, forms=True, v=v, orgs=orgs,
                          rules=RULES, errors=[exc.message])
        return self._back(request, out, "created")

    # -- one budget ---------------------------------------------------------------------------------------------
    async def _manage_page(self, request: Request, budget: dict[str, Any], status: int = 200,
                           errors: list[str] | None = None, values: dict[str, str] | None = None) -> HTMLResponse:
        projects = await self.s.db.read(lambda c: store.projects(c, budget["id"]))
        _, waiting, proposed = await self.s.ideas.listing(budget["id"], MAX_PAGE, 0, "proposed")
        total = await self.s.db.read(lambda c: store.count_ideas(c, budget["id"]))
        phase = budget["phase"]
        following = PHASES[PHASES.index(phase) + 1] if phase != PHASES[-1] else None
        return render(request, "participation/budget/manage.html", status, forms=True, budget=public(budget),
                      projects=projects, total_ideas=total, waiting=waiting, more_waiting=proposed - len(waiting),
                      following=following, errors=errors or [], values=values or {},
                      done=request.query_params.get("done", ""))

    async def manage(self, request: Request) -> Response:
        _, budget = await self._budget(request)
        return await self._manage_page(request, budget)

    async def add_project(self, request: Request) -> Response:
        ident, budget = await self._budget(request)
        form = await self._form(request)
        body = {"title": form.get("title", ""), "description": form.get("description", ""),
                "cost": _whole(form.get("cost"))}
        try:
            await self.s.add_project(ident, budget["id"], body)
        except UrbanosError as exc:
            values = {k: form.get(k, "") for k in ("title", "description", "cost")}
            return await self._manage_page(request, budget, exc.status, [exc.message], values)
        return self._back(request, budget, "project")

    async def project(self, request: Request) -> Response:
        ident, budget = await self._budget(request)
        raw = str(request.path_params["id"])
        pid = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else -1
        found = [p for p in await self.s.db.read(lambda c: store.projects(c, budget["id"])) if p["id"] == pid]
        if not found:
            raise NotFound(f"Project {raw[:40]!r} is not a project of this budget.")
        p = found[0]
        if request.method == "GET":
            v = {"title": p["title"], "description": p["description"], "cost": str(p["cost"]),
                 "feasible": "1" if p["feasible"] else "0", "reason": p["review_reason"] or ""}
            return render(request, "participation/budget/project_form.html", forms=True, budget=public(budget), p=p,
                          v=v, errors=[])
        form = await self._form(request)
        body: dict[str, Any] = {"title": form.get("title", ""), "description": form.get("description", ""),
                                "cost": _whole(form.get("cost"))}
        if budget["phase"] == "review":
            body["feasible"] = {"1": True, "0": False}.get(form.get("feasible", ""), form.get("feasible", ""))
            body["reason"] = form.get("reason", "")
        try:
            await self.s.review_project(ident, budget["id"], pid, body)
        except UrbanosError as exc:
            v = {k: form.get(k, "") for k in ("title", "description", "cost", "feasible", "reason")}
            return render(request, "participation/budget/project_form.html", exc.status, forms=True,
                          budget=public(budget), p=p, v=v, errors=[exc.message])
        return self._back(request, budget, "project")

    async def decide(self, request: Request) -> Response:
        ident, budget = await self._budget(request)
        raw = str(request.path_params["id"])
        if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
            raise NotFound(f"Idea {raw[:40]!r} does not exist.")
        form = await self._form(request)
        status = form.get("status", "")
        body: dict[str, Any] = {"status": status}
        if status == "accepted":
            body["cost"] = _whole(form.get("cost"))
        if status == "merged":
            body["project"] = _whole(form.get("project"))
        if form.get("reason", "").strip() or status == "rejected":
            body["reason"] = form.get("reason", "")
        try:
            await self.s.ideas.decide(ident, budget["id"], int(raw), body)
        except UrbanosError as exc:
            return await self._manage_page(request, budget, exc.status, [exc.message])
        return self._back(request, budget, "idea")

    async def phase(self, request: Request) -> Response:
        ident, budget = await self._budget(request)
        if budget["phase"] == PHASES[-1]:
            raise NotFound("The vote is closed: there is no next phase.", code="no_next_phase")
        following = PHASES[PHASES.index(budget["phase"]) + 1]
        if request.method == "GET":
            return render(request, "participation/budget/confirm_phase.html", forms=True, budget=public(budget),
                          following=following, errors=[])
        form = await self._form(request)
        try:
            if form.get("phase") != following:  # the page was for another phase: confirm again
                raise Conflict(f"The budget is in phase {budget['phase']!r}; confirm the move to {following!r}.",
                               code="stale_confirmation")
            await self.s.set_phase(ident, budget["id"], {"phase": following})
        except UrbanosError as exc:
            return render(request, "participation/budget/confirm_phase.html", exc.status, forms=True,
                          budget=public(budget), following=following, errors=[exc.message])
        return self._back(request, budget, "phase")

    async def codes(self, request: Request) -> Response:
        ident, budget = await self._budget(request)
        form = await self._form(request)
        try:
            codes = await self.s.make_codes(ident, budget["id"], _whole(form.get("count")))
        except UrbanosError as exc:
            return await self._manage_page(request, budget, exc.status, [exc.message], {"count": form.get("count", "")})
        url = str(request.base_url).rstrip("/") + f"{PREFIX}/{budget['id']}"
        return render(request, "participation/budget/codes.html", 201, budget=public(budget), codes=codes, url=url)


def routes(service: BudgetService) -> tuple[list[Route], list[Route]]:
    """The routes to put before the budget's own (``/new``) and those after it."""
    p = StewardPages(service)
    first = [Route(PREFIX + "/new", p.new, methods=["GET", "POST"])]
    after = [
        Route(PREFIX + "/{name}/manage", p.manage, methods=["GET"]),
        Route(PREFIX + "/{name}/manage/projects", p.add_project, methods=["POST"]),
        Route(PREFIX + "/{name}/manage/projects/{id}", p.project, methods=["GET", "POST"]),
        Route(PREFIX + "/{name}/manage/ideas/{id}", p.decide, methods=["POST"]),
        Route(PREFIX + "/{name}/manage/phase", p.phase, methods=["GET", "POST"]),
        Route(PREFIX + "/{name}/manage/codes", p.codes, methods=["POST"]),
    ]
    return first, after


__all__ = ["StewardPages", "routes"]
