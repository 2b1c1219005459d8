"""Portal sign-in: an API token entered once and kept in an HttpOnly, SameSite=Strict cookie, and CSRF tokens.

The session cookie holds the API token itself (the server keeps no session state); every portal page
authenticates it exactly like a bearer token, so a revoked token signs the browser out at once. Forms carry a
CSRF token that must equal a second cookie (double submit); both cookies are SameSite=Strict and HttpOnly.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from urbanos.catalog.dcat.source import identity_of, platform_of
from urbanos.errors import Forbidden, UrbanosError
from urbanos.governance import Identity

SESSION = "urbanos_portal_token"
CSRF = "urbanos_portal_csrf"
MAX_AGE = 8 * 3600


def _secure(request: Request) -> bool:
    """Secure when the request came over https (behind a proxy: as the setting trusted_proxies lets it say) or the
    public base_url is https."""
    return request.url.scheme == "https" or str(platform_of(request).settings.base_url or "").lower().startswith("https://")


def session_token(request: Request) -> str | None:
    token = request.cookies.get(SESSION)
    return token.strip() if token and token.strip() else None


async def portal_identity(request: Request) -> Identity:
    """The caller: a bearer token in the headers first, then the portal's session cookie.

    A cookie whose token is no longer valid counts as signed out (anonymous), never as an error."""
    state = request.scope.setdefault("state", {})
    cached = state.get("portal_identity")
    if cached is not None:
        return cached
    token = None if request.headers.get("authorization") or request.headers.get("x-ckan-api-key") else session_token(request)
    ident: Identity | None = None
    if token is not None:
        try:
            ident = await platform_of(request).gate.authenticate(token, client=request.client.host if request.client else None)
            state["portal_signed_in"] = not ident.is_anonymous
        except UrbanosError:
            ident = None
    if ident is None:
        ident = await identity_of(request)
    state["portal_identity"] = ident
    return ident


def signed_in(request: Request) -> Identity | None:
    """The identity of a browser signed in with the session cookie (after :func:`portal_identity`)."""
    state = request.scope.get("state", {})
    return state.get("portal_identity") if state.get("portal_signed_in") else None


async def sign_in(request: Request, token: str) -> Identity:
    """Check the token (401 when it is unknown, expired or revoked); anonymous tokens are refused."""
    return await platform_of(request).gate.authenticate(token.strip(), client=request.client.host if request.client else None)


def set_session(response: Response, request: Request, token: str) -> None:
    response.set_cookie(SESSION, token.strip(), max_age=MAX_AGE, path="/", httponly=True, samesite="strict",
                        secure=_secure(request))


def clear_session(response: Response, request: Request) -> None:
    response.delete_cookie(SESSION, path="/", httponly=True, samesite="strict", secure=_secure(request))


def csrf_token(request: Request) -> str:
    """The CSRF token for the forms of this page (the existing cookie's, or a new one for :func:`keep_csrf`)."""
    existing = request.cookies.get(CSRF)
    if existing and len(existing) == 43:
        return existing
    state = request.scope.setdefault("state", {})
    if "portal_csrf" not in state:
        state["portal_csrf"] = secrets.token_urlsafe(32)
    return str(state["portal_csrf"])


def keep_csrf(response: Response, request: Request) -> None:
    """Set the CSRF cookie when this page made a new token."""
    new = request.scope.get("state", {}).get("portal_csrf")
    if new:
        response.set_cookie(CSRF, new, path="/", httponly=True, samesite="strict", secure=_secure(request))


def check_csrf(request: Request, form: Any) -> None:
    """403 unless the form's token equals the CSRF cookie."""
    sent = form.get("csrf") if form is not None else None
    cookie = request.cookies.get(CSRF)
    if not isinstance(sent, str) or not cookie or not hmac.compare_digest(sent.encode(), cookie.encode()):
        raise Forbidden("The form has expired or did not come from this portal (CSRF check failed); reload the page and try again.",
                        code="csrf")


def local_path(value: Any, default: str = "/") -> str:
    """A redirect target on this site only."""
    if isinstance(value, str) and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


__all__ = ["portal_identity", "signed_in", "sign_in", "set_session", "clear_session", "csrf_token", "keep_csrf", "check_csrf",
           "local_path", "SESSION", "CSRF"]
