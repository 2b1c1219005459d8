"""``GET /audit``: the audit trail, as JSON or a page (English and German). Stewards read the entries of their
organisations' datasets and records; a steward or admin without organisation reads all. No route changes the log:
the path answers GET only (any other method is 405)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from urbanos.core.numbers import parse_int
from urbanos.errors import BadRequest
from urbanos.governance import Gate, Identity
from urbanos.platform import Platform, render_html
from urbanos.privacy.audit.log import AuditLog, AuditQuery, stored_instant
from urbanos.privacy.pages import page_words, wants_html
from urbanos.routing import identity_of, platform_of

MAX_LIMIT = 1000
_TEXT_FILTERS = ("dataset", "actor", "action")


def reader_scope(identity: Identity) -> tuple[str, ...] | None:
    """The organisations whose entries ``identity`` may read (None: all); 401/403 without the steward role."""
    Gate.require_somewhere(identity, "steward")
    scopes = identity.orgs_with("steward")
    if None in scopes:
        return None
    return tuple(s for s in scopes if s is not None)


def _int_param(request: Request, name: str, low: int, high: int, default: int | None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    value = parse_int(raw)
    if value is None or not low <= value <= high:
        raise BadRequest(f"{name}: {raw!r} is not a whole number from {low} to {high}.",
                         detail={name: [f"a whole number from {low} to {high}"]})
    return value


def audit_query(request: Request, orgs: tuple[str, ...] | None) -> AuditQuery:
    qp = request.query_params
    for name in _TEXT_FILTERS:
        if len(qp.get(name) or "") > 300:
            raise BadRequest(f"{name}: at most 300 characters.", detail={name: ["at most 300 characters"]})
    limit = _int_param(request, "limit", 1, MAX_LIMIT, 100)
    return AuditQuery(dataset=qp.get("dataset") or None, actor=qp.get("actor") or None, action=qp.get("action") or None,
                      since=stored_instant(qp.get("since"), "since"), until=stored_instant(qp.get("until"), "until"),
                      before=_int_param(request, "before", 1, 2**62, None), limit=limit or 100, orgs=orgs)


def _next_url(request: Request, entries: list[dict[str, Any]], limit: int) -> str | None:
    if len(entries) < limit:
        return None
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "before"]
    params.append(("before", str(entries[-1]["seq"])))
    return f"/audit?{urlencode(params)}"


async def read_audit(request: Request) -> Response:
    identity = await identity_of(request)
    orgs = reader_scope(identity)
    q = audit_query(request, orgs)
    platform = platform_of(request)
    audit: AuditLog = platform.services["audit"]
    await audit.flush()  # what this process holds is shown too
    entries = await platform.db.read(lambda c: audit.entries(c, q))
    next_url = _next_url(request, entries, q.limit)
    if wants_html(request):
        raw = {k: request.query_params.get(k) for k in ("since", "until")}
        html = render_html(platform, "privacy/audit.html", entries=entries, q=q, raw=raw, scope=orgs,
                           next_url=next_url, **page_words(request))
        return HTMLResponse(html)
    return JSONResponse({"entries": entries, "next": next_url, "count": len(entries)})


def mount(app: FastAPI, platform: Platform) -> None:
    app.add_api_route("/audit", read_audit, methods=["GET"], tags=["privacy"], summary="Read the audit trail (stewards)")

__all__ = ["mount", "read_audit", "reader_scope", "audit_query"]
