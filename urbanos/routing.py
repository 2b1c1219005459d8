"""Helpers that capability routes share: the platform, the caller's identity, JSON bodies, base URL,
and the hook through which a standard API registers its error renderer.

It sits beside ``platform.py`` so that capability ``routes.py`` modules can use it without importing
``urbanos.web``."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from urbanos.core.text import nul_field, nul_problem
from urbanos.errors import BadRequest, Forbidden, UnsupportedMediaType, UrbanosError
from urbanos.governance import Identity
from urbanos.platform import Platform
from urbanos.query.limits import BODY_MAX_NESTING, json_problem


def platform_of(request: Request) -> Platform:
    return request.app.state.platform  # type: ignore[no-any-return]


async def identity_of(request: Request) -> Identity:
    """Authenticate once per request (Authorization: Bearer, or the bare token CKAN clients send)."""
    cached = request.scope.get("state", {}).get("identity")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    platform = platform_of(request)
    token = platform.gate.token_from_headers(request.headers.get("authorization"), request.headers.get("x-ckan-api-key"))
    ident = await platform.gate.authenticate(token, client=request.client.host if request.client else None)
    request.scope.setdefault("state", {})["identity"] = ident
    return ident


async def json_body(request: Request, *, require_json_type: bool = False,
                    invalid: str = "The request body is not valid JSON: {}.", code: str | None = None) -> Any:
    """Parse the body as JSON; malformed JSON is a 400 with the position of the problem, worded by ``invalid``
    (``code``: the error code of the standard, e.g. OGC's ``InvalidRequestBody``)."""
    ctype = request.headers.get("content-type", "")
    if require_json_type and ctype and "json" not in ctype:
        raise UnsupportedMediaType(f"Expected a JSON body, got {ctype!r}.")
    raw = await request.body()
    if not raw.strip():
        raise BadRequest("The request body is empty; a JSON document is expected.", code=code)
    if (problem := json_problem(raw, max_nesting=BODY_MAX_NESTING, what="The request body")) is not None:
        raise BadRequest(problem, code=code)  # bounded before parsing: what is read must be written back and walked
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(invalid.format(exc), code=code) from None
    if (nul := nul_problem(body)) is not None:  # PostgreSQL cannot store it: refused on every back end alike
        raise BadRequest(nul, code=code, detail={"field": nul_field(body)})
    return body


def base_url(request: Request) -> str:
    """The public base URL for links: the setting ``base_url``, else the request's scheme and Host. The platform
    middleware has checked that Host against ``allowed_hosts`` (a 400 otherwise) and applied X-Forwarded-Proto and
    -Host only from ``trusted_proxies``, so a client cannot make the links (or a cached page) point elsewhere."""
    configured = platform_of(request).settings.base_url
    if configured:
        return str(configured).rstrip("/")
    return str(request.base_url).rstrip("/")


async def handled_response(request: Request, exc: Exception) -> Response:
    """The response the application's own exception handlers give for ``exc`` (for ASGI middleware that answers a
    route itself, so that its errors are rendered and logged as on the route); ``exc`` again when none handles it."""
    handlers: dict[Any, Any] = request.scope["app"].exception_handlers
    for cls in type(exc).__mro__:
        handler = handlers.get(cls)
        if handler is not None:
            return await handler(request, exc)  # type: ignore[no-any-return]
    raise exc


ErrorRenderer = Callable[[Request, UrbanosError], Response]
"""``renderer(request, exc)``: the response of an error in a standard's own format."""


def register_error_renderer(app: Starlette, prefix: str, renderer: ErrorRenderer) -> None:
    """Render errors under ``prefix`` with ``renderer(request, exc)`` (the standard's own error format)."""
    renderers: list[tuple[str, ErrorRenderer]] = app.state.error_renderers
    renderers.append((prefix, renderer))
    renderers.sort(key=lambda item: len(item[0]), reverse=True)


R = TypeVar("R", bound=Response)

PORTAL_COOKIE = "urbanos_portal_token"
"""The portal's sign-in cookie (HttpOnly, SameSite=Strict): it holds an API token, set by the catalogue's sign-in page."""


class PortalForms:
    """Sign-in and CSRF for a group of server-rendered pages with forms (dashboards, connectors, participation): the
    caller is a bearer token, else the portal's sign-in cookie; forms carry a token that must equal a cookie of their
    own (double submit, scoped to ``path``)."""

    def __init__(self, csrf_cookie: str, path: str) -> None:
        self.cookie, self.path = csrf_cookie, path
        self._new = f"csrf:{csrf_cookie}"

    async def identity(self, request: Request) -> Identity:
        """A bearer token first (an invalid one: 401), else the sign-in cookie (an invalid one: anonymous)."""
        state = request.scope.setdefault("state", {})
        if "portal_forms_identity" in state:
            return state["portal_forms_identity"]  # type: ignore[no-any-return]
        gate = platform_of(request).gate
        client = request.client.host if request.client else None
        header = gate.token_from_headers(request.headers.get("authorization"), request.headers.get("x-ckan-api-key"))
        state["portal_forms_cookie"] = False
        if header is not None:
            ident = await gate.authenticate(header, client=client)
        else:
            cookie = (request.cookies.get(PORTAL_COOKIE) or "").strip()
            ident = await gate.authenticate(None)
            if cookie:
                try:
                    ident = await gate.authenticate(cookie, client=client)
                    state["portal_forms_cookie"] = not ident.is_anonymous
                except UrbanosError:
                    pass
        state["portal_forms_identity"] = ident
        return ident

    @staticmethod
    def by_cookie(request: Request) -> bool:
        """Whether :meth:`identity` found the caller through the sign-in cookie (then forms need the CSRF token)."""
        return bool(request.scope.get("state", {}).get("portal_forms_cookie"))

    def token(self, request: Request) -> str:
        """The CSRF token for this page's forms: the cookie's, or a new one that :meth:`keep` sets."""
        existing = request.cookies.get(self.cookie)
        if existing and len(existing) == 43:
            return existing
        state = request.scope.setdefault("state", {})
        return str(state.setdefault(self._new, secrets.token_urlsafe(32)))

    def keep(self, request: Request, response: R) -> R:
        """Set the CSRF cookie when this page made a new token."""
        new = request.scope.get("state", {}).get(self._new)
        if new:
            response.set_cookie(self.cookie, new, path=self.path, httponly=True, samesite="strict",
                                secure=request.url.scheme == "https")
        return response

    def check_form(self, request: Request, form: Any) -> None:
        """Forms sent with the sign-in cookie must carry the CSRF token of their page; bearer-token clients need not."""
        if self.by_cookie(request):
            self.check(request, form.get("csrf"))

    @staticmethod
    async def read(request: Request, max_field: int | None = None) -> dict[str, str]:
        """The text fields of a form post (url-encoded or multipart, at most 20 fields, each at most ``max_field``
        characters); anything else is a 400."""
        ctype = request.headers.get("content-type", "")
        if not ctype and not await request.body():
            return {}
        if not ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            raise BadRequest("Send the form as application/x-www-form-urlencoded or multipart/form-data.")
        try:
            form = await request.form(max_files=0, max_fields=20)
        except Exception as exc:  # noqa: BLE001 - a malformed body is the client's error
            raise BadRequest(f"The form cannot be read: {exc}") from None
        out = {k: v for k, v in form.items() if isinstance(v, str)}
        if max_field is not None and any(len(v) > max_field for v in out.values()):
            raise BadRequest(f"A field of the form is longer than {max_field // 1024} KiB.")
        return out

    def check(self, request: Request, sent: Any) -> None:
        """403 unless ``sent`` equals the CSRF cookie."""
        cookie = request.cookies.get(self.cookie)
        if not isinstance(sent, str) or not sent or not cookie or not hmac.compare_digest(sent.encode(), cookie.encode()):
            raise Forbidden("The form has expired or did not come from this site (CSRF check failed); reload the page.",
                            code="csrf")


__all__ = ["platform_of", "identity_of", "json_body", "base_url", "handled_response", "register_error_renderer",
           "ErrorRenderer", "PortalForms", "PORTAL_COOKIE"]
