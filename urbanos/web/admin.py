"""Platform administration over HTTP: tokens and the caller's identity (problem+json errors)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response

from urbanos.errors import Forbidden, NotFound, ValidationFailed
from urbanos.governance import ROLES, Gate, Identity
from urbanos.governance.tokens import create_token, list_tokens, revoke_token
from urbanos.web.deps import identity_of, json_body, platform_of

router = APIRouter(prefix="/admin", tags=["Administration"])


@router.get("/whoami", summary="The caller's identity and roles")
async def whoami(request: Request) -> dict[str, Any]:
    return (await identity_of(request)).describe()


def _admin_scopes(identity: Identity) -> list[str | None]:
    """Where the caller administers: ``[None]`` for the platform admin, else its organisations (401/403 when
    it administers nothing)."""
    Gate.require_somewhere(identity, "admin")
    return identity.orgs_with("admin")


@router.get("/tokens", summary="List API tokens (the platform admin: all; an organisation's admin: that organisation's)")
async def tokens_list(request: Request) -> list[dict[str, Any]]:
    scopes = _admin_scopes(await identity_of(request))
    rows = await platform_of(request).db.read(list_tokens)
    return [t.__dict__ for t in rows if None in scopes or (t.org is not None and t.org in scopes)]


@router.post(
    "/tokens",
    status_code=201,
    summary="Create an API token (admin); the secret is returned once",
    description="The platform admin may mint any token. An organisation's admin may mint tokens for that "
    "organisation only (``org`` is required), with a role at or below its own.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["role"],
                        "properties": {
                            "role": {"type": "string", "enum": list(ROLES)},
                            "org": {"type": ["string", "null"]},
                            "name": {"type": "string"},
                        },
                    }
                }
            },
        }
    },
)
async def tokens_create(request: Request) -> Response:
    identity = await identity_of(request)
    scopes = _admin_scopes(identity)
    body = await json_body(request)
    if not isinstance(body, dict):
        raise ValidationFailed("The body must be a JSON object with role, and optionally org and name.")
    role, org, name = body.get("role"), body.get("org"), body.get("name", "")
    problems: dict[str, list[str]] = {}
    if role not in ROLES:
        problems["role"] = [f"must be one of {', '.join(ROLES)}"]
    if org is not None and (not isinstance(org, str) or not org.strip()):
        problems["org"] = ["must be a non-empty string or null"]
    if not isinstance(name, str) or len(name) > 200:
        problems["name"] = ["must be a string of at most 200 characters"]
    if problems:
        raise ValidationFailed("The token request is invalid.", detail=problems)
    org = org.strip() if isinstance(org, str) else None
    if None not in scopes and org not in scopes:
        # a token is minted at or below the minter's own scope: an organisation's admin cannot mint a
        # platform-wide token, nor one for another organisation
        where = ", ".join(repr(o) for o in scopes)
        raise Forbidden(f"This token may only mint tokens for its own organisation ({where}); set \"org\" to it.")
    secret = await platform_of(request).db.write(lambda c: create_token(c, str(role), org, name, actor=identity.subject))
    token_id = int(secret.split("_")[1])
    return JSONResponse({"id": token_id, "role": role, "org": org, "name": name, "token": secret}, status_code=201)


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke an API token (admin)")
async def tokens_revoke(request: Request, token_id: int = Path(ge=1, le=2**63 - 1)) -> Response:
    identity = await identity_of(request)
    scopes = _admin_scopes(identity)
    platform = platform_of(request)
    if None not in scopes:
        tokens = {t.id: t for t in await platform.db.read(list_tokens)}
        found = tokens.get(token_id)
        if found is None or found.org not in scopes:
            raise NotFound(f"no token with id {token_id}")
    await platform.db.write(lambda c: revoke_token(c, token_id, actor=identity.subject))
    platform.gate.forget_tokens()
    return Response(status_code=204)


__all__ = ["router"]
