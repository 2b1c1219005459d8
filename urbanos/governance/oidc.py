"""OIDC/JWT bearer tokens verified against the provider's JWKS (Keycloak and others)."""

from __future__ import annotations

from typing import Any

import jwt
from jwt import PyJWKClient

from urbanos.governance.identity import Identity, Membership, parse_role

ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA"]


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and token.startswith("ey")


def _claim(payload: dict[str, Any], path: str) -> Any:
    cur: Any = payload
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


class OIDCVerifier:
    """Verifies signature, expiry, issuer and audience; maps the roles claim to memberships."""

    def __init__(self, jwks_url: str, *, issuer: str = "", audience: str = "", roles_claim: str = "roles", org_claim: str = "") -> None:
        self.client = PyJWKClient(jwks_url, cache_keys=True, lifespan=300, timeout=5)
        self.issuer = issuer or None
        self.audience = audience or None
        self.roles_claim = roles_claim
        self.org_claim = org_claim

    def verify(self, token: str) -> Identity | None:
        """Blocking (may fetch the JWKS): call from a worker thread."""
        try:
            key = self.client.get_signing_key_from_jwt(token)
            options: Any = {"verify_aud": self.audience is not None, "require": ["exp", "sub"]}
            payload = jwt.decode(
                token,
                key.key,
                algorithms=ALGORITHMS,
                audience=self.audience,
                issuer=self.issuer,
                options=options,
                leeway=30,
            )
        except (jwt.PyJWTError, OSError, ValueError):
            return None
        raw = _claim(payload, self.roles_claim) or []
        if isinstance(raw, str):
            raw = raw.replace(",", " ").split()
        org = _claim(payload, self.org_claim) if self.org_claim else None
        members = set()
        for value in raw if isinstance(raw, list) else []:
            m = parse_role(str(value))
            if m is not None:
                if m.org is None and isinstance(org, str) and m.role != "admin":
                    m = Membership(m.role, org)
                members.add(m)
        if not members:
            members.add(Membership("reader", org if isinstance(org, str) else None))
        return Identity(
            subject=f"oidc:{payload['sub']}",
            kind="oidc",
            memberships=frozenset(members),
            name=str(payload.get("azp") or payload.get("client_id") or ""),
        )


__all__ = ["OIDCVerifier", "looks_like_jwt"]
