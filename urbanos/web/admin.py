"""Platform administration over HTTP: tokens and the caller's identity (problem+json errors)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response

from urbanos.errors import ValidationFailed
from urbanos.governance import ROLES, Gate
from urbanos.governance.tokens import create_token, list_tokens, revoke_token
from urbanos.web.deps import identity_of, json_body, platform_of

router = APIRouter(prefix="/admin", tags=["administration"])


@router.get("/whoami", summary="The caller's identity and roles")
async def whoami(request: Request) -> dict[str, Any]:
    return (await identity_of(request)).describe()


@router.get("/tokens", summary="List API tokens (admin)")
async def tokens_list(request: Request) -> list[dict[str, Any]]:
    Gate.require(await identity_of(request), "admin")
    rows = await platform_of(request).db.read(list_tokens)
    return [t.__dict__ for t in rows]


@router.post(
    "/tokens",
    status_code=201,
    summary="Create an API token (admin); the secret is returned once",
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
    Gate.require(await identity_of(request), "admin")
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
    secret = await platform_of(request).db.write(lambda c: create_token(c, role, org, name))
    token_id = int(secret.split("_")[1])
    return JSONResponse({"id": token_id, "role": role, "org": org, "name": name, "token": secret}, status_code=201)


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke an API token (admin)")
async def tokens_revoke(request: Request, token_id: int = Path(ge=1, le=2**63 - 1)) -> Response:
    Gate.require(await identity_of(request), "admin")
    platform = platform_of(request)
    await platform.db.write(lambda c: revoke_token(c, token_id))
    platform.gate.forget_tokens()
    return Response(status_code=204)


__all__ = ["router"]
