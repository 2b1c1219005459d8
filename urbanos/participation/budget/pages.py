"""The residents' ideas page of a budget (``GET /participation/budgets/{name}/ideas`` for a browser): the ideas
with their status and the stewards' reasons, and in the ideas phase the form to propose one (``POST
/participation/budgets/{name}/propose``, form-encoded with the CSRF token of the page, as the signed-in caller: a
bearer token or the portal's sign-in cookie). Also the rendering shared by the budget pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from urbanos.core.lang import pick_lang
from urbanos.errors import RateLimited, UrbanosError
from urbanos.participation import throttle
from urbanos.participation.budget import store
from urbanos.participation.budget.i18n import translator
from urbanos.participation.budget.service import BudgetService, public
from urbanos.participation.throttle import too_many_page
from urbanos.platform import render_html
from urbanos.routing import PortalForms, platform_of

PREFIX = "/participation/budgets"
FORMS = PortalForms("urbanos_budget_csrf", PREFIX)
MAX_FIELD = 8 * 1024
IDEA_FIELDS = ("title", "description", "cost", "lat", "lon", "district")


def lang_of(request: Request) -> str:
    return pick_lang(request.query_params.get("lang"), request.headers.get("accept-language"))


def number(lang: str) -> Callable[[Any], str]:
    sep = "." if lang == "de" else ","
    return lambda n: f"{int(n):,}".replace(",", sep)


def render(request: Request, template: str, status: int = 200, forms: bool = False, **ctx: Any) -> HTMLResponse:
    """A budget page in the request's language; ``forms``: it has forms (the CSRF token, and its cookie when new)."""
    lang = lang_of(request)
    csrf = FORMS.token(request) if forms else ""
    html = render_html(platform_of(request), template, lang=lang, t=translator(lang), num=number(lang), csrf=csrf,
                       **ctx)
    resp = HTMLResponse(html, status_code=status, headers={"Content-Language": lang, "Cache-Control": "private, no-store",
                                                           "Vary": "Accept, Accept-Language"})
    return FORMS.keep(request, resp) if forms else resp


async def ideas_page(request: Request, budget: dict[str, Any], ideas: list[dict[str, Any]], status: int = 200,
                     errors: list[str] | None = None, values: dict[str, str] | None = None, *, total: int | None = None,
                     offset: int = 0, links: dict[str, str] | None = None) -> HTMLResponse:
    """The ideas page: one page of the ideas (``offset`` the first's position among ``total``, ``links`` to the
    pages before and after), the form in the ideas phase."""
    ident = await FORMS.identity(request)
    b = public(budget)
    db = platform_of(request).db
    titles = {p["id"]: p["title"] for p in await db.read(lambda c: store.projects(c, budget["id"]))}
    target = quote(f"{PREFIX}/{budget['id']}/ideas", safe="/")
    return render(request, "participation/budget/ideas.html", status, forms=True, budget=b, ideas=ideas,
                  errors=errors or [], values=values or {}, signed_in=not ident.is_anonymous,
                  new=request.query_params.get("new", ""), sign_in=f"/signin?next={target}",
                  titles=titles, total=len(ideas) if total is None else total, offset=offset, links=links or {})


def _cost(raw: str) -> Any:
    """A whole number typed with or without spaces (anything else goes to the service, which names the field)."""
    s = raw.replace(" ", "").replace("\u202f", "")
    return int(s) if s.isascii() and s.isdigit() and len(s) < 16 else s


def _coordinate(raw: str) -> Any:
    try:
        return float(raw.strip().replace(",", "."))
    except ValueError:
        return raw


def idea_body(form: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {"title": form.get("title", ""), "description": form.get("description", ""),
                            "cost": _cost(form.get("cost", "")), "district": form.get("district", "") or None}
    lat, lon = form.get("lat", "").strip(), form.get("lon", "").strip()
    if lat or lon:
        body["location"] = {"type": "Point", "coordinates": [_coordinate(lon), _coordinate(lat)]}
    return body


def propose_form(service: BudgetService) -> Callable[[Request], Awaitable[Response]]:
    async def post(request: Request) -> Response:
        ref = str(request.path_params["name"])
        budget = await service.get(ref)
        form = await FORMS.read(request, MAX_FIELD)
        FORMS.check(request, form.get("csrf"))
        ident = await FORMS.identity(request)
        lang = lang_of(request)
        try:
            await throttle.take(request, None if ident.is_anonymous else ident.subject, "ideas")
        except RateLimited as exc:
            return too_many_page(request, exc, f"{PREFIX}/{budget['id']}/ideas?lang={lang}")
        values = {k: form.get(k, "") for k in IDEA_FIELDS}
        try:
            out = await service.ideas.propose(ident, ref, idea_body(form))
        except UrbanosError as exc:
            _, ideas, total = await service.ideas.listing(ref)
            return await ideas_page(request, budget, ideas, exc.status, [exc.message], values, total=total,
                                    links={"next": f"{PREFIX}/{budget['id']}/ideas?offset={len(ideas)}"}
                                    if len(ideas) < total else None)
        return RedirectResponse(f"{PREFIX}/{budget['id']}/ideas?lang={lang}&new={out['id']}#idea-{out['id']}",
                                status_code=303)

    return post


__all__ = ["FORMS", "render", "ideas_page", "propose_form", "idea_body", "lang_of", "number", "PREFIX"]
