"""OIDC/JWT bearer tokens verified against the provider's JWKS (Keycloak and others).

A token is accepted only when its signature verifies with a key of the provider's JWKS under an asymmetric
algorithm that fits the key (never ``none``, never an HMAC algorithm that would use a public key as a shared
secret), and its ``iss``, ``aud``, ``exp`` and ``sub`` are present and right (``exp``/``nbf``/``iat`` with a
small leeway for clock skew). The issuer and the audience are required settings: without them a token the
provider issued for any other application would be accepted here.

The JWKS is fetched at most once per ``refresh_seconds`` (``oidc_jwks_refresh_seconds``), whatever key ids
callers send: a token naming an unknown key triggers a fetch only when none was attempted recently, and no
caller waits for a fetch another caller is making.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import jwt
from jwt import PyJWK, PyJWKClient, PyJWKSet

from urbanos.errors import ConfigError
from urbanos.governance.identity import Identity, Membership, parse_role

log = logging.getLogger("urbanos.governance")

ALGORITHMS_BY_KEY_TYPE: dict[str, list[str]] = {
    "RSA": ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"],
    "EC": ["ES256", "ES384", "ES512"],
    "OKP": ["EdDSA"],
}
ALGORITHMS = [alg for algs in ALGORITHMS_BY_KEY_TYPE.values() for alg in algs]
LEEWAY_SECONDS = 30
"""Clock skew tolerated on ``exp``, ``nbf`` and ``iat``."""
KEYS_LIFESPAN = 300.0
"""Seconds the fetched JWKS is trusted before it is fetched again (key rotation)."""


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and token.startswith("ey")


def _claim(payload: dict[str, Any], path: str) -> Any:
    cur: Any = payload
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def check_settings(jwks_url: str, issuer: str, audience: str) -> None:
    """ConfigError unless the issuer and the audience are set together with the JWKS URL."""
    if not jwks_url:
        return
    missing = [name for name, value in (("URBANOS_OIDC_ISSUER", issuer), ("URBANOS_OIDC_AUDIENCE", audience))
               if not str(value or "").strip()]
    if missing:
        raise ConfigError(
            f"setting URBANOS_OIDC_JWKS_URL is set but {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} empty: tokens the provider issued for other applications would "
            "be accepted. Fix: set oidc_issuer to the provider's issuer (the 'iss' of its tokens, e.g. "
            "https://id.example.org/realms/city) and oidc_audience to this platform's client id (the 'aud' of the "
            "tokens meant for it)."
        )


class OIDCVerifier:
    """Verifies signature, algorithm, expiry, issuer and audience; maps the roles claim to memberships."""

    def __init__(self, jwks_url: str, *, issuer: str, audience: str, roles_claim: str = "roles", org_claim: str = "",
                 refresh_seconds: float = 60.0, timeout: float = 5.0) -> None:
        check_settings(jwks_url, issuer, audience)
        self.client = PyJWKClient(jwks_url, cache_jwk_set=False, cache_keys=False, timeout=timeout)
        self.issuer = issuer.strip()
        self.audience = audience.strip()
        self.roles_claim = roles_claim
        self.org_claim = org_claim
        self.refresh_seconds = float(refresh_seconds)
        self._keys: dict[str | None, PyJWK] = {}
        self._loaded = float("-inf")  # when the keys in hand were fetched
        self._attempted = float("-inf")  # when a fetch was last started
        self._fetching = threading.Lock()

    # -- keys -------------------------------------------------------------------------------------------------
    def _fetch(self) -> None:
        try:
            jwks = PyJWKSet.from_dict(self.client.fetch_data())
        except (jwt.PyJWTError, OSError, ValueError, TypeError) as exc:
            log.warning("could not fetch the OIDC provider's JWKS from %s: %s", self.client.uri, exc)
            return
        self._keys = {k.key_id: k for k in jwks.keys if k.public_key_use in (None, "sig")}
        self._loaded = time.monotonic()

    def signing_key(self, kid: str | None) -> PyJWK | None:
        """The key ``kid`` names (None: unknown). Fetches the JWKS when the keys are old or ``kid`` is unknown,
        at most once per ``refresh_seconds``; never waits for a fetch another thread is making."""
        now = time.monotonic()
        key = self._keys.get(kid)
        fresh = now - self._loaded < KEYS_LIFESPAN
        if (key is None or not fresh) and now - self._attempted >= self.refresh_seconds \
                and self._fetching.acquire(blocking=False):
            try:
                if time.monotonic() - self._attempted >= self.refresh_seconds:
                    self._attempted = time.monotonic()
                    self._fetch()
            finally:
                self._fetching.release()
            key = self._keys.get(kid)
        return key

    # -- tokens -----------------------------------------------------------------------------------------------
    def verify(self, token: str) -> Identity | None:
        """Blocking (may fetch the JWKS): call from a worker thread."""
        try:
            header = jwt.get_unverified_header(token)
            kid = header.get("kid")
            key = self.signing_key(kid if isinstance(kid, str) else None)
            if key is None:
                return None
            algorithms = ALGORITHMS_BY_KEY_TYPE.get(str(key.key_type), [])
            if header.get("alg") not in algorithms:
                return None
            payload = jwt.decode(
                token,
                key.key,
                algorithms=algorithms,
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iss", "aud", "sub"]},
                leeway=LEEWAY_SECONDS,
            )
        except (jwt.PyJWTError, OSError, ValueError, TypeError):
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


__all__ = ["OIDCVerifier", "looks_like_jwt", "check_settings", "ALGORITHMS", "LEEWAY_SECONDS"]
