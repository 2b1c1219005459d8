"""The one place that decides access and applies privacy transforms.

Every read of data goes through the :class:`Gate`:

* ``authenticate`` turns a bearer token (API token, admin token or OIDC JWT)
  into an :class:`Identity`;
* ``require`` checks a role for a write;
* ``dataset_filter`` gives the SQL that limits rows to the datasets the caller
  may read, so lists, counts, facets and pages never leak non-open data (given the
  read's connection, from the datasets it may read, kept per stamp: see
  :mod:`urbanos.governance.visibility`);
* ``can_read`` decides for one dataset record;
* ``transform`` applies the privacy transforms registered for a dataset
  (later capabilities register rules; none may bypass this call);
* ``observe`` hands each access to non-open data to the audit hooks.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from urbanos.errors import Forbidden, TooManyRequests, Unauthorized
from urbanos.governance.identity import ACCESS_LEVELS, ANONYMOUS, Identity, Membership
from urbanos.governance.oidc import OIDCVerifier, check_settings, looks_like_jwt
from urbanos.governance.outbound import OutboundPolicy
from urbanos.governance.release import RELEASE_NOTES, DatasetAccess, Release, RulesHook, failing_closed
from urbanos.governance.throttle import ExpiringCache, FailureLimiter, client_key
from urbanos.governance.tokens import (
    credentials_version,
    secret_matches,
    split,
    token_from_headers,
    token_identity,
    token_record,
    verify_token,
)
from urbanos.governance.visibility import Filter, Visibility, VisibilityCache, guarded
from urbanos.settings import Settings
from urbanos.storage import Connection, Database

log = logging.getLogger("urbanos.governance")

ADMIN = Identity(subject="admin-token", kind="admin-token", memberships=frozenset({Membership("admin")}), name="admin token")

Transform = Callable[[Identity, DatasetAccess, list[dict[str, Any]]], list[dict[str, Any]]]

AccessObserver = Callable[[Identity, DatasetAccess, str], None]
WriteCheck = Callable[[Connection, "Identity | None", dict[str, Any]], None]
"""``check(conn, identity, facts)`` before a write of a kind (``dataset.access``, ``observation``): raises the refusal
(an :class:`~urbanos.errors.UrbanosError`) or returns. ``facts`` are what the writer knows; a value may be a
function without arguments that reads it when a check asks (so that a write pays nothing when no check needs it)."""
MembershipSource = Callable[[Connection, Identity], Iterable[Membership]]
"""Memberships recorded in the database for an authenticated caller (for example organisation members)."""


def _digest(token: str) -> str:
    """The key a token's verdict is cached under (the token itself is never kept)."""
    return hashlib.sha256(token.encode()).hexdigest()


def _refused() -> Unauthorized:
    return Unauthorized(
        "The token is invalid, expired or revoked.",
        headers={"WWW-Authenticate": 'Bearer realm="urbanos", error="invalid_token"'},
    )


class Gate:
    RECHECK_SECONDS = 1.0
    """How often a process compares the credentials version (``tokens.credentials_changed``) before it
    trusts its cached identities: a token revoked or a membership changed anywhere (another worker, the
    ``urbanos token revoke`` command) stops counting here within about this time."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self._cache = ExpiringCache(float(settings.token_cache_seconds))
        self._failures = ExpiringCache(float(settings.get("auth_failure_cache_seconds", 10.0)))
        self._limiter = FailureLimiter(int(settings.get("auth_failures_per_minute", 10)))
        self._verify_slots = max(1, int(settings.get("auth_verify_concurrency", 2)))
        self._verifier: ThreadPoolExecutor | None = None  # made at the first verification
        self._inflight: dict[str, asyncio.Future[Identity | None]] = {}
        self._forgotten = 0  # how often the caches were dropped: a verification begun before is not cached
        self._credentials: int | None = None
        self._rechecked = float("-inf")
        self._oidc: OIDCVerifier | None = None
        check_settings(settings.oidc_jwks_url, settings.oidc_issuer, settings.oidc_audience)
        if settings.oidc_jwks_url:
            self._oidc = OIDCVerifier(
                settings.oidc_jwks_url,
                issuer=settings.oidc_issuer,
                audience=settings.oidc_audience,
                roles_claim=settings.oidc_roles_claim,
                org_claim=settings.oidc_org_claim,
                refresh_seconds=float(settings.get("oidc_jwks_refresh_seconds", 60.0)),
            )
        self.outbound = OutboundPolicy.from_settings(settings)
        """The outbound-fetch policy (``outbound_allow``, ``outbound_max_redirects``) for capabilities that fetch
        URLs: use it with ``urbanos.governance.outbound.OutboundClient``."""
        self._transforms: list[Transform] = []
        self._rules: RulesHook | None = None
        self._observers: list[AccessObserver] = []
        self._write_checks: dict[str, list[WriteCheck]] = {}
        self._membership_sources: list[MembershipSource] = []
        self.visibility_cache = VisibilityCache(self._decide)
        """Which datasets each kind of caller may read, per visibility stamp (``visibility``)."""

    # -- authentication ---------------------------------------------------------------------------
    token_from_headers = staticmethod(token_from_headers)

    def forget_tokens(self) -> None:
        """Drop cached verifications (after a revoke, a membership change); one still running is not shared or kept."""
        self._forgotten += 1
        self._cache.clear()
        self._failures.clear()
        self._inflight.clear()

    async def _recheck(self) -> None:
        """Drop the cached identities when the credentials version moved (read at most once per
        ``RECHECK_SECONDS``; the first caller past the interval pays one primary-key read, made as a short
        read without a transaction)."""
        now = time.monotonic()
        if now - self._rechecked < self.RECHECK_SECONDS:
            return
        self._rechecked = now
        try:
            version = await self.db.read_one(credentials_version)
        except Exception:  # noqa: BLE001 - a database hiccup must not fail authentication; check again soon
            log.warning("could not read the credentials version", exc_info=True)
            self._rechecked = float("-inf")
            return
        if version != self._credentials:  # the first reading is a baseline: verifications under way stand
            (self._cache.clear if self._credentials is None else self.forget_tokens)()
            self._credentials = version

    async def credentials_changed_since(self, seen: int | None) -> tuple[bool, int | None]:
        """For paths that keep an identity for long (an MQTT session): ``(moved, version)``, where ``moved``
        tells whether the credentials version differs from ``seen`` (a version this method returned before;
        ``None`` the first time, which is not a move). The version is the one :meth:`_recheck` reads, at most
        once per ``RECHECK_SECONDS``; when it moved, the cached identities are gone, so the next
        :meth:`authenticate` verifies afresh. ``version`` is ``None`` while the version could not be read."""
        await self._recheck()
        version = self._credentials
        return (seen is not None and version is not None and version != seen), version

    # -- recorded memberships ---------------------------------------------------------------------
    def add_membership_source(self, fn: MembershipSource) -> None:
        """Register a source of memberships recorded in the database; they are added to every token or
        OIDC identity when it is authenticated (and cached with it until ``forget_tokens``)."""
        self._membership_sources.append(fn)
        self.forget_tokens()

    def with_memberships(self, c: Connection, ident: Identity | None) -> Identity | None:
        if ident is None or ident.is_anonymous or ident.kind == "admin-token" or not self._membership_sources:
            return ident
        extra: set[Membership] = set()
        for fn in self._membership_sources:
            extra.update(fn(c, ident))
        if extra <= ident.memberships:
            return ident
        return replace(ident, memberships=ident.memberships | extra)

    def _is_admin_token(self, token: str) -> bool:
        admin = self.settings.admin_token
        return bool(admin) and hmac.compare_digest(token.encode(), admin.encode())

    def authenticate_sync(self, token: str | None) -> Identity:
        """The blocking form of :meth:`authenticate`, for code in worker threads and the command line (no limit
        per client address: it has none)."""
        if not token:
            return ANONYMOUS
        if self._is_admin_token(token):
            return ADMIN
        key = _digest(token)
        found, ident = self._cache.get(key)
        if not found:
            found, ident = self._failures.get(key)
        if not found:
            if looks_like_jwt(token) and self._oidc is not None:
                ident = self._oidc.verify(token)
                if ident is not None and self._membership_sources:
                    verified = ident
                    ident = self.db.read_sync(lambda c: self.with_memberships(c, verified))
            elif split(token) is not None:
                ident = self.db.read_sync(lambda c: self.with_memberships(c, verify_token(c, token)))
            (self._cache if ident is not None else self._failures).put(key, ident)
        if ident is None:
            raise _refused()
        return ident

    async def authenticate(self, token: str | None, *, client: str | None = None) -> Identity:
        """The identity a bearer token stands for (anonymous without a token); 401 for a token that is not valid.

        ``client`` is the caller's address (an IP address, or a peer such as ``tcp:1.2.3.4:5678``): each address
        may fail ``auth_failures_per_minute`` verifications a minute, then gets 429 (``TooManyRequests`` with
        ``Retry-After``) for tokens not verified already. ``None`` (internal callers) is not limited.

        What a stranger's token costs: a token verified recently is answered from a cache (successes and
        failures in separate bounded caches, so refused tokens never push valid ones out); an API token whose id
        is unknown or revoked is refused after one primary-key read, without hashing; the argon2 verification of
        the others runs in a pool of ``auth_verify_concurrency`` threads of its own, never in the event loop's
        default pool; concurrent requests with the same token share one verification."""
        if not token:
            return ANONYMOUS
        if self._is_admin_token(token):
            return ADMIN
        key = _digest(token)
        await self._recheck()  # at most one short read a second; read before the first verification too, so
        # that identities cached then are not dropped when the version is first seen
        found, ident = self._cache.get(key)
        if found and ident is not None:
            return ident
        found, _ = self._failures.get(key)
        if found:
            raise _refused()
        who = client_key(client)
        wait = self._limiter.retry_after(who)
        if wait:
            raise TooManyRequests(
                f"Too many failed authentications from this address; retry in {wait} seconds.",
                code="too_many_failed_authentications",
                headers={"Retry-After": str(wait)},
            )
        pending = self._inflight.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._verify_and_remember(token, key, who))
            self._inflight[key] = pending
            pending.add_done_callback(functools.partial(self._settled, key))
        ident = await asyncio.shield(pending)  # a caller that goes away does not cancel the others' verification
        if ident is None:
            raise _refused()
        return ident

    def record_failure(self, client: str | None) -> None:
        """Count a credential the caller refused by itself (a malformed MQTT password, say) as a failed
        authentication of ``client``, like the failures :meth:`authenticate` counts."""
        self._limiter.failed(client_key(client))

    def _settled(self, key: str, task: asyncio.Future[Identity | None]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # retrieved: every waiter has it raised already

    async def _verify_and_remember(self, token: str, key: str, who: str | None) -> Identity | None:
        began = self._forgotten
        ident = await self._verify(token)
        if began != self._forgotten:
            return ident  # the credentials changed meanwhile: answer the callers who asked before, remember nothing
        if ident is None:
            self._failures.put(key, None)
            self._limiter.failed(who)
        else:
            self._cache.put(key, ident)
        return ident

    def _verify_pool(self) -> ThreadPoolExecutor:
        if self._verifier is None:
            self._verifier = ThreadPoolExecutor(max_workers=self._verify_slots, thread_name_prefix="urbanos-verify")
        return self._verifier

    async def _verify(self, token: str) -> Identity | None:
        """Verify a token not in the caches: an OIDC JWT against the provider's keys, an API token against its
        stored hash (unknown and revoked ids refused before hashing)."""
        ident: Identity | None
        if looks_like_jwt(token) and self._oidc is not None:
            ident = await asyncio.to_thread(self._oidc.verify, token)
        else:
            if split(token) is None:  # not an API token at all: no database read
                return None
            found = await self.db.read_one(lambda c: token_record(c, token))
            if found is None:
                return None
            record, secret = found
            loop = asyncio.get_running_loop()
            ok = await loop.run_in_executor(self._verify_pool(), secret_matches, record, secret)
            if not ok:
                return None
            ident = token_identity(record)
        if ident is not None and self._membership_sources:
            verified: Identity = ident
            ident = await self.db.read(lambda c: self.with_memberships(c, verified))
        return ident

    def close(self) -> None:
        """Stop the verification threads (they are made again if the gate is used later)."""
        pool, self._verifier = self._verifier, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    # -- authorisation ----------------------------------------------------------------------------
    @staticmethod
    def require(identity: Identity, role: str, org: str | None = None) -> None:
        """Raise 401 for anonymous callers and 403 when the role is missing for ``org``.

        ``org=None`` asks for the role without organisation (platform-wide actions, and what no
        organisation owns): an organisation-scoped role does not pass it."""
        if identity.is_anonymous:
            raise Unauthorized(f"This action needs a bearer token with the {role} role.")
        if not identity.has_role(role, org):
            if org:
                raise Forbidden(f"This action needs the {role} role for organisation {org!r}; the token does not have it.")
            if identity.has_role_somewhere(role):
                raise Forbidden(f"This action needs the {role} role for the whole platform; the token's role is "
                                "limited to an organisation.")
            raise Forbidden(f"This action needs the {role} role; the token does not have it.")

    @staticmethod
    def require_somewhere(identity: Identity, role: str) -> None:
        """An early refusal: 401 for anonymous callers, 403 when the caller holds ``role`` nowhere. Passing it
        grants nothing; the write still checks the organisation of every row it touches."""
        if identity.is_anonymous:
            raise Unauthorized(f"This action needs a bearer token with the {role} role.")
        if not identity.has_role_somewhere(role):
            raise Forbidden(f"This action needs the {role} role; the token does not have it.")

    @staticmethod
    def can_write(identity: Identity, org: str | None) -> bool:
        """May ``identity`` change data owned by ``org`` (``None``: owned by no organisation)?"""
        return identity.has_role("publisher", org)

    def authorize_write(self, identity: Identity, ds: DatasetAccess | None, grants: Iterable[str], missing: Exception,
                        role: str = "publisher") -> None:
        """The one rule for a write to data of dataset ``ds`` (``None``: data no dataset owns, so no organisation),
        whose grant subjects are ``grants``:

        * a caller holding ``role`` for the dataset's organisation (or without organisation) passes, whether or
          not the dataset's access level lets it read the data (a publisher feeds its organisation's
          confidential data without a grant to read it back);
        * otherwise a caller that may not read the dataset gets ``missing``, exactly what a target that does not
          exist answers, so a refusal never tells that hidden data exists (anonymous callers included);
        * otherwise 401 for an anonymous caller, and 403 naming the organisation."""
        org = ds.owner_org if ds is not None else None
        if not identity.is_anonymous and identity.has_role(role, org):
            return
        if ds is not None and not self.can_read(identity, ds, grants):
            raise missing
        self.require(identity, role, org)

    def can_read(self, identity: Identity, ds: DatasetAccess | None, grants: Iterable[str] = ()) -> bool:
        """May ``identity`` read the data of ``ds``? ``None`` means data not tied to a dataset (open)."""
        if ds is None or ds.access_level == "open":
            return True
        if identity.is_admin:
            return True
        if identity.is_anonymous:
            return False
        if identity.subject in set(grants):
            return True
        if ds.access_level == "registered":
            return True
        if ds.access_level == "internal":
            return ds.owner_org is not None and ds.owner_org in identity.orgs()
        return False  # confidential: explicit grant only

    def _decide(self, identity: Identity, ds_id: Any, org: str | None, level: str, granted: bool) -> bool:
        return self.can_read(identity, DatasetAccess(ds_id, "", org, level), (identity.subject,) if granted else ())

    def visibility(self, c: Connection, identity: Identity) -> Visibility | None:
        """The datasets ``identity`` may read and may not read, as of the stamp the read ``c`` sees (one primary-key
        read; the datasets are read again only after a change); None for an admin (everything)."""
        if identity.is_admin:
            return None
        return self.visibility_cache.of(c, identity)

    @staticmethod
    def guard(c: Connection, view: Visibility, fast: Filter | None, full: Callable[[], Filter]) -> Filter | None:
        """``fast`` (SQL built from ``view``'s lists; None: no filter) made safe for the statement it goes into:
        as it is where a read is one snapshot (SQLite), else applied only while the stamp is still ``view``'s and
        ``full()`` (the rule written out on the tables) otherwise."""
        return guarded(c.dialect.name, view, fast, full)

    def dataset_filter(self, identity: Identity, column: str, c: Connection | None = None) -> tuple[str, list[Any]]:
        """SQL (with params) true for rows whose ``column`` (a dataset id, may be NULL) the caller may read.

        With ``c``, the read the SQL goes into, the filter is the list of the datasets the caller may (or may not)
        read, or nothing when it may read all (:meth:`visibility`); without it, the rule written on the tables."""
        if identity.is_admin:
            return "1=1", []
        if c is None:
            return self._full_filter(identity, column)
        view = self.visibility(c, identity)
        if view is None or not view.listable:
            return self._full_filter(identity, column)
        return self.guard(c, view, None if view.everything else view.filter(column),
                          lambda: self._full_filter(identity, column)) or ("1=1", [])

    def _full_filter(self, identity: Identity, column: str) -> tuple[str, list[Any]]:
        if identity.is_anonymous:
            return f"({column} IS NULL OR {column} IN (SELECT id FROM datasets WHERE access_level = 'open'))", []
        orgs = sorted(identity.orgs())
        parts = ["access_level IN ('open', 'registered')"]
        params: list[Any] = []
        if orgs:
            parts.append(f"(access_level = 'internal' AND owner_org IN ({', '.join('?' * len(orgs))}))")
            params.extend(orgs)
        parts.append("id IN (SELECT dataset_id FROM dataset_grants WHERE subject = ?)")
        params.append(identity.subject)
        return f"({column} IS NULL OR {column} IN (SELECT id FROM datasets WHERE {' OR '.join(parts)}))", params

    def dataset_row_filter(self, identity: Identity, alias: str = "d") -> tuple[str, list[Any]]:
        """The same rule as :meth:`dataset_filter`, written on a ``datasets`` row itself (``alias``): for
        queries over the datasets table, where it avoids a self-subquery per row."""
        if identity.is_admin:
            return "1=1", []
        if identity.is_anonymous:
            return f"{alias}.access_level = 'open'", []
        orgs = sorted(identity.orgs())
        parts = [f"{alias}.access_level IN ('open', 'registered')"]
        params: list[Any] = []
        if orgs:
            parts.append(f"({alias}.access_level = 'internal' AND {alias}.owner_org IN ({', '.join('?' * len(orgs))}))")
            params.extend(orgs)
        parts.append(f"{alias}.id IN (SELECT dataset_id FROM dataset_grants WHERE subject = ?)")
        params.append(identity.subject)
        return f"({' OR '.join(parts)})", params

    def dataset_access(self, c: Connection, dataset_id: int) -> tuple[DatasetAccess | None, list[str]]:
        row = c.fetchone("SELECT id, name, owner_org, access_level FROM datasets WHERE id = ?", (dataset_id,))
        if row is None:
            return None, []
        grants = [r[0] for r in c.fetchall("SELECT subject FROM dataset_grants WHERE dataset_id = ?", (dataset_id,))]
        return DatasetAccess(int(row[0]), row[1], row[2], row[3]), grants

    # -- privacy transforms and audit -------------------------------------------------------------
    def add_transform(self, fn: Transform) -> None:
        self._transforms.append(fn)

    def set_rules(self, fn: RulesHook) -> None:
        """Install the privacy rules (the privacy capability does, once)."""
        if self._rules is not None and self._rules is not fn:
            raise ValueError("privacy rules are installed twice")
        self._rules = fn

    def ruled(self, identity: Identity, ds: DatasetAccess | None) -> list[str]:
        """The privacy rules that change what ``identity`` may get of ``ds`` (for paths that cannot hand rows to
        :meth:`transform` and so refuse: nested or reformatted SensorThings answers, say). Fails closed like it."""
        if ds is None or self._rules is None:
            return []
        with failing_closed(ds):
            return self._rules.applying(identity, ds)

    def preflight(self, identity: Identity, ds: DatasetAccess | None, release: Release) -> None:
        """Refuse before any row is read (or any byte sent) where the privacy rules cannot release ``ds``'s rows to
        ``identity`` through a path of ``release.shape`` (a download, DataStore SQL). Fails closed."""
        if ds is None or self._rules is None:
            return
        with failing_closed(ds):
            self._rules.check(identity, ds, release)

    def transform(self, identity: Identity, ds: DatasetAccess | None, rows: list[dict[str, Any]],
                  release: Release | None = None) -> list[dict[str, Any]]:
        """The rows of dataset ``ds`` that ``identity`` may see: the privacy rules first (they fail closed: a rule
        that cannot be evaluated is an error, never the raw rows), then the other transforms (the audit's count)."""
        if ds is None:
            return rows
        if self._rules is not None:
            with failing_closed(ds):
                rows = self._rules(identity, ds, rows, release or Release())
        for fn in self._transforms:
            rows = fn(identity, ds, rows)
        return rows

    # -- write checks ------------------------------------------------------------------------------
    def add_write_check(self, kind: str, fn: WriteCheck) -> None:
        """Register ``fn`` to run before every write of ``kind``: ``dataset.access`` (the catalogue sets a dataset's
        access level; facts ``dataset``, ``dataset_id``, ``access_level``, ``previous``) and ``observation`` (sensing
        adds Observations to a (Multi)Datastream; facts ``kind``, ``id``, ``dataset_id``, ``observed_properties``)."""
        self._write_checks.setdefault(kind, []).append(fn)

    def check_write(self, c: Connection, kind: str, identity: Identity | None, facts: dict[str, Any]) -> None:
        """Run the checks of ``kind`` in the writer's transaction ``c``; the first refusal is raised."""
        for fn in self._write_checks.get(kind, ()):
            fn(c, identity, facts)

    def add_observer(self, fn: AccessObserver) -> None:
        self._observers.append(fn)

    def observe(self, identity: Identity, ds: DatasetAccess | None, action: str) -> None:
        if ds is None or ds.access_level == "open":
            return
        for fn in self._observers:
            try:
                fn(identity, ds, action)
            except Exception:  # noqa: BLE001
                log.exception("access observer failed")


__all__ = ["Gate", "DatasetAccess", "WriteCheck", "Release", "RulesHook", "RELEASE_NOTES", "ADMIN", "ACCESS_LEVELS",
           "MembershipSource", "FailureLimiter", "client_key"]
