"""API tokens: ``uos_<id>_<secret>``, stored as argon2 hashes, shown once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from urbanos.core.time import now_stored
from urbanos.errors import NotFound, ValidationFailed
from urbanos.events import Event
from urbanos.governance.identity import ROLES, Identity, Membership
from urbanos.storage import Connection

# Tokens are long random secrets, so moderate argon2 cost is enough; verified tokens are cached.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
PREFIX = "uos_"


@dataclass(frozen=True)
class TokenInfo:
    id: int
    name: str
    role: str
    org: str | None
    created_at: str
    last_used_at: str | None
    revoked_at: str | None


def create_token(c: Connection, role: str, org: str | None = None, name: str = "", actor: str = "") -> str:
    """Create a token and return its secret form. It cannot be shown again. ``actor``: who creates it (a subject, for
    the audit trail: the event ``created ApiToken`` on topic ``governance`` carries it, never the secret)."""
    if role not in ROLES:
        raise ValidationFailed(f"unknown role {role!r}; use one of {', '.join(ROLES)}", detail={"role": [f"one of {', '.join(ROLES)}"]})
    secret = secrets.token_urlsafe(32)
    token_id = c.insert(
        "api_tokens",
        {"name": name, "role": role, "org": org or None, "secret_hash": _HASHER.hash(secret), "created_at": now_stored()},
    )
    c.emit(Event("created", "ApiToken", token_id, topic="governance",
                 data={"name": name, "role": role, "org": org or None, "actor": actor}))
    return f"{PREFIX}{token_id}_{secret}"


def list_tokens(c: Connection) -> list[TokenInfo]:
    return [
        TokenInfo(int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6])
        for r in c.fetchall("SELECT id, name, role, org, created_at, last_used_at, revoked_at FROM api_tokens ORDER BY id")
    ]


def revoke_token(c: Connection, token_id: int, actor: str = "") -> None:
    row = c.fetchone("SELECT revoked_at, name, role, org FROM api_tokens WHERE id = ?", (token_id,))
    if row is None:
        raise NotFound(f"no token with id {token_id}")
    if row[0] is None:
        c.execute("UPDATE api_tokens SET revoked_at = ? WHERE id = ?", (now_stored(), token_id))
        credentials_changed(c)
        c.emit(Event("deleted", "ApiToken", token_id, topic="governance",
                     data={"name": row[1], "role": row[2], "org": row[3], "actor": actor}))


def credentials_changed(c: Connection) -> None:
    """Record, in the writing transaction, that cached identities may be wrong now (a token was revoked,
    a membership changed): every process drops its cached identities within ``Gate.RECHECK_SECONDS``."""
    c.execute("UPDATE credentials_version SET n = n + 1 WHERE id = 1")


def credentials_version(c: Connection) -> int:
    return int(c.fetchval("SELECT n FROM credentials_version WHERE id = 1") or 0)


_SECRET_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def split(token: str) -> tuple[int, str] | None:
    """``uos_<id>_<secret>`` as (id, secret), by ASCII rules: the id is 1 to 19 digits 0-9 and the secret is
    URL-safe base64 text; anything else (``uos_²_x``, ``uos_١٢_x``, bytes beyond ASCII in a header) is None."""
    if not isinstance(token, str) or not token.startswith(PREFIX) or len(token) > 512:
        return None
    tid, sep, secret = token[len(PREFIX) :].partition("_")
    if not sep or not secret or not (0 < len(tid) <= 19) or not (tid.isascii() and tid.isdigit()):
        return None
    if not _SECRET_CHARS.issuperset(secret):
        return None
    return int(tid), secret


@dataclass(frozen=True)
class TokenRecord:
    """What is stored for an unrevoked token: enough to check its secret and to build its identity."""

    id: int
    name: str
    role: str
    org: str | None
    secret_hash: str


def token_record(c: Connection, token: str) -> tuple[TokenRecord, str] | None:
    """The record of the unrevoked token ``token`` names, and the secret to check against it; None, without any
    hashing, for a malformed token and for an unknown or revoked token id. One primary-key read."""
    parts = split(token)
    if parts is None:
        return None
    tid, secret = parts
    if not 0 < tid < 2**63:  # no such id; a larger number would not even fit the column's type
        return None
    row: Any = c.fetchone("SELECT name, role, org, secret_hash, revoked_at FROM api_tokens WHERE id = ?", (tid,))
    if row is None or row[4] is not None:
        return None
    return TokenRecord(tid, row[0] or "", row[1], row[2], row[3]), secret


def secret_matches(record: TokenRecord, secret: str) -> bool:
    """The argon2 verification of ``secret`` (CPU-bound, tens of milliseconds: run it off the event loop, with
    bounded concurrency)."""
    try:
        return bool(_HASHER.verify(record.secret_hash, secret))
    except (VerificationError, InvalidHashError):
        return False


def token_identity(record: TokenRecord) -> Identity:
    return Identity(
        subject=f"token:{record.id}",
        kind="token",
        memberships=frozenset({Membership(record.role, record.org)}),
        name=record.name or f"token {record.id}",
        token_id=record.id,
    )


def verify_token(c: Connection, token: str) -> Identity | None:
    """The identity of a valid, unrevoked token, or None (unknown and revoked ids are refused before hashing)."""
    found = token_record(c, token)
    if found is None:
        return None
    record, secret = found
    return token_identity(record) if secret_matches(record, secret) else None


def token_from_headers(authorization: str | None, api_key: str | None = None) -> str | None:
    """Bearer tokens, and the bare token CKAN clients send in Authorization or X-CKAN-API-Key."""
    if authorization:
        value = authorization.strip()
        scheme, _, rest = value.partition(" ")
        if rest and scheme.lower() == "bearer":
            return rest.strip()
        if rest and scheme.lower() == "basic":
            return None
        if not rest:
            return value
    if api_key:
        return api_key.strip()
    return None


__all__ = ["token_from_headers", "TokenInfo", "create_token", "list_tokens", "revoke_token", "verify_token", "PREFIX", "credentials_changed",
           "credentials_version", "TokenRecord", "token_record", "secret_matches", "token_identity"]
