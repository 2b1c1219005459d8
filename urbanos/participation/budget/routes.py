"""HTTP routes of participatory budgets under ``/participation/budgets``: the JSON API (errors as problem+json) and
the pages (budget with its projects, the ballot form, the results), in English and German."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from urbanos.core.lang import pick_lang
from urbanos.errors import BadRequest, NotFound, PayloadTooLarge, RateLimited, Unauthorized, UrbanosError
from urbanos.participation import throttle
from urbanos.participation.budget import pages, steward
from urbanos.participation.budget.i18n import translator
from urbanos.participation.budget.ideas import paging
from urbanos.participation.budget.service import BudgetService, public
from urbanos.participation.throttle import too_many_page
from urbanos.platform import render_html
from urbanos.routing import base_url, identity_of, json_body, platform_of

MAX_BODY = 64 * 1024
PREFIX = "/participation/budgets"


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json",
                    headers={"Cache-Control": "private, no-store"})


async def _raw(request: Request) -> bytes:
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY:
        raise PayloadTooLarge(f"A request body is at most {MAX_BODY} bytes.")
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise PayloadTooLarge(f"A request body is at most {MAX_BODY} bytes.")
    return raw


async def _body(request: Request) -> Any:
    await _raw(request)
    return await json_body(request, require_json_type=True)


def _pid(request: Request, what: str = "Project") -> int:
    raw = str(request.path_params["id"])
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise NotFound(f"{what} {raw[:40]!r} does not exist.")
    return int(raw)


def wants_html(request: Request) -> bool:
    f = request.query_params.get("f")
    if f in ("json", "html"):
        return f == "html"
    accept = request.headers.get("accept", "")
    return "text/html" in accept


class BudgetRoutes:
    def __init__(self, service: BudgetService) -> None:
        self.s = service

    def _page(self, request: Request, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        lang = pick_lang(request.query_params.get("lang"), request.headers.get("accept-language"))
        sep = "." if lang == "de" else ","
        html = render_html(platform_of(request), template, lang=lang, t=translator(lang),
                           num=lambda n: f"{int(n):,}".replace(",", sep), **ctx)
        return HTMLResponse(html, status_code=status, headers={"Content-Language": lang,
                                                                "Cache-Control": "private, no-store",
                                                                "Vary": "Accept, Accept-Language"})

    async def index(self, request: Request) -> Response:
        if request.method == "POST":
            out = await self.s.create(await identity_of(request), await _body(request))
            return _json(public(out), 201)
        budgets = await self.s.listing()
        if wants_html(request):
            return self._page(request, "participation/budget/index.html", budgets=budgets)
        return _json({"budgets": budgets})

    async def budget(self, request: Request) -> Response:
        ref = str(request.path_params["name"])
        if request.method == "PATCH":
            return _json(public(await self.s.set_phase(await identity_of(request), ref, await _body(request))))
        budget = await self.s.get(ref)
        projects = await self.s.projects(budget)
        if wants_html(request):
            return self._page(request, "participation/budget/budget.html", budget=budget, projects=projects,
                              error=None, done=None, chosen=[])
        return _json({**public(budget), "projects": projects})

    async def projects(self, request: Request) -> Response:
        out = await self.s.add_project(await identity_of(request), str(request.path_params["name"]),
                                       await _body(request))
        return _json(out, 201)

    async def project(self, request: Request) -> Response:
        pid = _pid(request)
        return _json(await self.s.review_project(await identity_of(request), str(request.path_params["name"]), pid,
                                                 await _body(request)))

    async def ideas(self, request: Request) -> Response:
        ref = str(request.path_params["name"])
        if request.method == "POST":
            ident = await identity_of(request)
            await throttle.take(request, None if ident.is_anonymous else ident.subject, "ideas")
            return _json(await self.s.ideas.propose(ident, ref, await _body(request)), 201)
        q = request.query_params
        lim, off = paging(q.get("limit"), q.get("offset"))
        budget, ideas, total = await self.s.ideas.listing(ref, lim, off, q.get("status"))
        links = {}
        for rel, at in (("prev", max(0, off - lim) if off else None), ("next", off + lim if off + lim < total else None)):
            if at is not None:
                keep = [(k, v) for k, v in q.multi_items() if k not in ("offset", "new", "lang")]
                links[rel] = f"{PREFIX}/{budget['id']}/ideas?{urlencode([*keep, ('offset', str(at))])}"
        if wants_html(request):
            return await pages.ideas_page(request, budget, ideas, total=total, offset=off, links=links)
        body: dict[str, Any] = {"budget": budget["name"], "ideas": ideas, "count": total, "limit": lim, "offset": off}
        base = base_url(request)
        body.update({rel: base + link for rel, link in links.items()})
        return _json(body)

    async def idea(self, request: Request) -> Response:
        return _json(await self.s.ideas.one(str(request.path_params["name"]), _pid(request, "Idea")))

    async def decision(self, request: Request) -> Response:
        return _json(await self.s.ideas.decide(await identity_of(request), str(request.path_params["name"]),
                                               _pid(request, "Idea"), await _body(request)))

    async def codes(self, request: Request) -> Response:
        body = await _body(request)
        count = body.get("count") if isinstance(body, dict) else None
        codes = await self.s.make_codes(await identity_of(request), str(request.path_params["name"]), count)
        return _json({"codes": codes}, 201)

    async def verify(self, request: Request) -> Response:
        body = await _body(request)
        await throttle.take(request, None, "codes")  # by address: letters' codes are not to be guessed
        if not isinstance(body, dict):
            raise BadRequest("The body is a JSON object with the code.")
        key = await self.s.verify(str(request.path_params["name"]), body.get("code"))
        return _json({"voter_key": key}, 201)

    async def ballot(self, request: Request) -> Response:
        if request.method == "POST":
            return await self.ballot_form(request)
        body = await _body(request)
        if not isinstance(body, dict):
            raise BadRequest("The body is a JSON object with the projects.")
        key = request.headers.get("x-voter-key", "").strip()
        if key:
            credential = "key:" + key[:200]
        else:
            ident = await identity_of(request)
            if ident.is_anonymous:
                raise Unauthorized("Vote with the voter key of your letter's code (X-Voter-Key) or a registered token.")
            credential = "id:" + ident.subject
        await throttle.take(request, credential, "ballots")
        return _json(await self.s.cast(str(request.path_params["name"]), credential, body.get("projects")))

    async def ballot_form(self, request: Request) -> Response:
        """The ballot form's POST (form-encoded): a letter's code (first vote) or the voter key, and the projects."""
        ref = str(request.path_params["name"])
        budget = await self.s.get(ref)
        projects = await self.s.projects(budget)
        raw = await _raw(request)
        form = parse_qs(raw.decode("utf-8", "replace"), max_num_fields=2000)
        chosen_raw = form.get("project", [])
        chosen = [int(x) for x in chosen_raw if x.isascii() and x.isdigit() and len(x) < 19]
        credential = (form.get("credential") or [""])[0].strip()
        try:
            await throttle.take(request, "key:" + credential[:200] if credential.startswith("vk_") else None, "ballots")
        except RateLimited as exc:
            lang = pick_lang(request.query_params.get("lang"), request.headers.get("accept-language"))
            return too_many_page(request, exc, f"{PREFIX}/{ref}?lang={lang}")
        try:
            if len(chosen) != len(chosen_raw):
                raise BadRequest("A project is not one of this vote's projects.", code="unknown_project")
            if not credential:
                raise Unauthorized("Enter the code from your letter or your voter key.", code="no_credential")
            await self.s.validate(budget, chosen)
            key = credential if credential.startswith("vk_") else await self.s.verify(ref, credential)
            done = {**await self.s.cast(ref, "key:" + key, chosen), "voter_key": key}
        except UrbanosError as exc:
            return self._page(request, "participation/budget/budget.html", exc.status, budget=budget,
                              projects=projects, error=exc.code or "refused", error_text=exc.message, done=None,
                              chosen=chosen)
        return self._page(request, "participation/budget/budget.html", budget=budget, projects=projects,
                          error=None, done=done, chosen=chosen)

    async def ballots_pb(self, request: Request) -> Response:
        name, text = await self.s.ballots_pb(str(request.path_params["name"]))
        return Response(text, media_type="text/plain; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    async def results(self, request: Request) -> Response:
        out = await self.s.results(str(request.path_params["name"]))
        if wants_html(request):
            return self._page(request, "participation/budget/results.html", r=out)
        return _json(out)


def mount(app: Any, service: BudgetService) -> None:
    r = BudgetRoutes(service)
    before, after = steward.routes(service)
    app.router.routes.extend([
        Route(PREFIX, r.index, methods=["GET", "POST"]),
        *before,
        Route(PREFIX + "/{name}", r.budget, methods=["GET", "PATCH"]),
        Route(PREFIX + "/{name}/projects", r.projects, methods=["POST"]),
        Route(PREFIX + "/{name}/projects/{id}", r.project, methods=["PATCH"]),
        Route(PREFIX + "/{name}/ideas", r.ideas, methods=["GET", "POST"]),
        Route(PREFIX + "/{name}/ideas/{id}", r.idea, methods=["GET"]),
        Route(PREFIX + "/{name}/ideas/{id}/decision", r.decision, methods=["POST"]),
        Route(PREFIX + "/{name}/propose", pages.propose_form(service), methods=["POST"]),
        Route(PREFIX + "/{name}/codes", r.codes, methods=["POST"]),
        Route(PREFIX + "/{name}/verify", r.verify, methods=["POST"]),
        Route(PREFIX + "/{name}/ballot", r.ballot, methods=["PUT", "POST"]),
        Route(PREFIX + "/{name}/results", r.results, methods=["GET"]),
        Route(PREFIX + "/{name}/ballots.pb", r.ballots_pb, methods=["GET"]),
        *after,
    ])


__all__ = ["mount", "BudgetRoutes", "PREFIX", "MAX_BODY"]
