"""What the privacy capability's pages share: the language of a page and the choice between HTML and JSON."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from urbanos.privacy.i18n import pick_lang, translator


def page_words(request: Request) -> dict[str, Any]:
    """``lang`` and the translator ``t`` of a page (``?lang=`` first, then Accept-Language)."""
    lang = pick_lang(request.query_params.get("lang"), request.headers.get("accept-language"))
    return {"lang": lang, "t": translator(lang)}


def wants_html(request: Request) -> bool:
    """HTML for ``?f=html`` or a browser's Accept (text/html), JSON otherwise (and for ``?f=json``)."""
    f = request.query_params.get("f", "").lower()
    if f in ("html", "json"):
        return f == "html"
    return "text/html" in request.headers.get("accept", "")


__all__ = ["page_words", "wants_html"]
