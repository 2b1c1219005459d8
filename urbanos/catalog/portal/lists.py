"""Portal list pages: the organisations and the themes with the number of datasets the caller may read, the
datasets of one theme, and the site icon; and the page helpers the portal's form and list pages share.

Every count and list comes from the catalogue service with the caller's identity (the organisation counts from the
gate's dataset filter, the theme counts from the search facets), so a page never counts a dataset the caller may
not read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse

from urbanos.catalog.dcat import source
from urbanos.catalog.dcat.source import platform_of
from urbanos.catalog.model import CITY_DOMAINS, EU_THEMES, THEMES
from urbanos.catalog.portal import session, view
from urbanos.catalog.portal.i18n import LANGS, in_language, pick_lang, translator
from urbanos.catalog.portal.session import portal_identity as identity_of
from urbanos.core.numbers import parse_int
from urbanos.errors import BadRequest, NotFound, UrbanosError
from urbanos.platform import render_html

STATIC = Path(__file__).parent / "static"
ICON = STATIC / "favicon.png"  # the picture of favicon.svg, 32 px (every browser reads a PNG at /favicon.ico)


# -- page helpers -------------------------------------------------------------------------------------------
def page_context(request: Request) -> dict[str, Any]:
    """The language, its translator, the links to the page in the other languages, and ``in_lang(item, key)``: a
    dataset's title or description in the page's language (:func:`urbanos.catalog.portal.i18n.in_language`)."""
    lang = pick_lang(request.query_params.get("lang"), request.headers.get("accept-language"))
    others = [(code, with_params(request, lang=code)) for code in LANGS if code != lang]
    return {"lang": lang, "t": translator(lang), "other_langs": others, "request_path": request.url.path,
            "lang_q": f"lang={lang}" if request.query_params.get("lang") else "",
            "in_lang": lambda item, key: in_language(item, key, lang)}


def with_params(request: Request, **changes: Any) -> str:
    """This page's path and query with ``changes`` (a value of None or "" removes the parameter)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    params += [(k, v) for k, v in changes.items() if v not in (None, "")]
    return request.url.path + ("?" + urlencode(params) if params else "")


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A portal page: the signed-in user, the form's CSRF token (and its cookie when new), never cached when signed in."""
    ctx = page_context(request)
    user = session.signed_in(request)
    html = render_html(platform_of(request), template, **ctx, user=user, csrf=session.csrf_token(request), **context)
    response = HTMLResponse(html, status_code=status, headers={"Content-Language": ctx["lang"],
                                                               "Vary": "Accept-Language, Authorization, Cookie"})
    session.keep_csrf(response, request)
    if user is not None:
        response.headers["Cache-Control"] = "private, no-store"
    return response


def refusal(request: Request, exc: UrbanosError) -> HTMLResponse:
    """The portal's error page for ``exc`` (its status and message)."""
    return render(request, "catalog/portal/portal_error.html", status=exc.status, message=exc.message,
                  status_code=exc.status)


def lang_suffix(request: Request, sep: str = "?") -> str:
    """``?lang=xx`` (or with ``sep``) when the page was asked for in a chosen language, else ""."""
    lang = request.query_params.get("lang")
    return f"{sep}lang={lang}" if lang in LANGS else ""


# -- organisations ------------------------------------------------------------------------------------------
async def organizations(request: Request) -> HTMLResponse:
    """Every organisation, with the number of active datasets the caller may read."""
    platform = platform_of(request)
    try:
        identity = await identity_of(request)
        found = await source.service(platform).organization_list(identity, all_fields=True)
    except UrbanosError as exc:
        return refusal(request, exc)
    orgs = sorted(({"name": str(o["name"]), "title": str(o.get("title") or o["name"]),
                    "description": str(o.get("description") or ""), "count": int(o.get("package_count") or 0)}
                   for o in found), key=lambda o: (str(o["title"]).casefold(), str(o["name"])))
    return render(request, "catalog/portal/portal_orgs.html", orgs=orgs)


# -- themes -------------------------------------------------------------------------------------------------
async def theme_counts(request: Request) -> dict[str, int]:
    """Datasets per theme that the caller may read (the search facet, which the gate filters)."""
    res = await source.search(platform_of(request), await identity_of(request), q="", fq="", rows=0, start=0,
                              facet_fields=["theme"], facet_limit=-1, sort="name asc")
    counts = (res.get("facets") or {}).get("theme") or {}
    return {str(k): int(v) for k, v in counts.items()}


def theme_rows(t: Any, counts: dict[str, int], codes: dict[str, str]) -> list[dict[str, Any]]:
    return [{"id": code, "label": t(f"theme_{code}", label), "count": counts.get(code, 0)} for code, label in codes.items()]


async def themes(request: Request) -> HTMLResponse:
    """The EU data themes and the city domains, with the number of datasets the caller may read."""
    t = page_context(request)["t"]
    try:
        counts = await theme_counts(request)
    except UrbanosError as exc:
        return refusal(request, exc)
    groups = [{"key": "eu", "title": t("eu_themes"), "themes": theme_rows(t, counts, EU_THEMES)},
              {"key": "city", "title": t("city_domains"), "themes": theme_rows(t, counts, CITY_DOMAINS)}]
    return render(request, "catalog/portal/portal_themes.html", groups=groups)


async def theme(request: Request, theme_id: str) -> HTMLResponse:
    """The datasets of one theme that the caller may read, a page at a time, newest first."""
    platform = platform_of(request)
    t = page_context(request)["t"]
    try:
        if theme_id not in THEMES:
            raise NotFound(t("theme_unknown", theme=theme_id[:60]))
        page = theme_page(request)
        size = int(platform.settings.portal_page_size)
        res = await source.search(platform, await identity_of(request), q="", fq=f'theme:"{theme_id}"', rows=size,
                                  start=(page - 1) * size, sort="metadata_modified desc", facet_fields=[], facet_limit=0)
    except UrbanosError as exc:
        return refusal(request, exc)
    count = int(res.get("count") or 0)
    pages = max(1, -(-count // size))
    return render(request, "catalog/portal/portal_theme.html", theme={"id": theme_id, "label": t(f"theme_{theme_id}", THEMES[theme_id])},
                  count=count, page=page, pages=pages, results=[view.summary(p) for p in res.get("results") or []],
                  prev_url=with_params(request, page=page - 1) if page > 1 else None,
                  next_url=with_params(request, page=page + 1) if page < pages else None)


def theme_page(request: Request) -> int:
    raw = request.query_params.get("page")
    if raw in (None, ""):
        return 1
    value = parse_int(raw, lo=1, hi=100000)
    if value is None:
        raise BadRequest(f"Parameter page must be a whole number from 1 to 100000 written with the digits 0-9, got {raw[:40]!r}.")
    return value


# -- the site icon ------------------------------------------------------------------------------------------
async def favicon(request: Request) -> FileResponse:
    """``/favicon.ico``, which browsers ask for on every site."""
    return FileResponse(ICON, media_type="image/png", headers={"Cache-Control": "public, max-age=86400"})


__all__ = ["page_context", "with_params", "render", "refusal", "lang_suffix", "organizations", "themes", "theme",
           "theme_counts", "favicon"]
