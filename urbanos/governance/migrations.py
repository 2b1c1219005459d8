"""Tables the governance layer owns: organisations, datasets (access records), grants, tokens, rate counts."""

from __future__ import annotations

from urbanos.governance.visibility import visibility_stamp_migration
from urbanos.storage import Connection, Migration


def _v1(c: Connection) -> None:
    pk = c.dialect.pk
    c.execute(
        f"CREATE TABLE organizations (id {pk}, name TEXT NOT NULL UNIQUE, title TEXT NOT NULL DEFAULT '',"
        f" description TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL, extras {c.dialect.json_type})"
    )
    c.execute(
        f"CREATE TABLE datasets (id {pk}, name TEXT NOT NULL UNIQUE, title TEXT NOT NULL DEFAULT '',"
        " owner_org TEXT, access_level TEXT NOT NULL DEFAULT 'open',"
        " created_at TEXT NOT NULL, modified_at TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'active')"
    )
    c.execute("CREATE INDEX datasets_access ON datasets (access_level, owner_org)")
    c.execute(
        "CREATE TABLE dataset_grants (dataset_id BIGINT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,"
        " subject TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (dataset_id, subject))"
    )
    c.execute(
        f"CREATE TABLE api_tokens (id {pk}, name TEXT NOT NULL DEFAULT '', role TEXT NOT NULL, org TEXT,"
        " secret_hash TEXT NOT NULL, created_at TEXT NOT NULL, last_used_at TEXT, revoked_at TEXT)"
    )


def _v2(c: Connection) -> None:
    """A counter moved by every change that can make a cached identity wrong (a revoked token, a changed
    membership); each process compares it about once a second and drops its cached identities."""
    c.execute("CREATE TABLE credentials_version (id INTEGER PRIMARY KEY, n BIGINT NOT NULL)")
    c.execute("INSERT INTO credentials_version (id, n) VALUES (1, 0)")


def _v4(c: Connection) -> None:
    """Posts counted per key and window by the rate limits that several server processes share
    (``urbanos.governance.counters``): UNLOGGED on PostgreSQL, as counts are not worth a durable write."""
    unlogged = "UNLOGGED " if c.dialect.name == "postgresql" else ""
    c.execute(f"CREATE {unlogged}TABLE rate_counts (scope TEXT NOT NULL, key TEXT NOT NULL, slot BIGINT NOT NULL,"
              " n INTEGER NOT NULL, PRIMARY KEY (scope, key, slot))")


MIGRATIONS = [Migration("governance", 1, "organisations, datasets, grants, tokens", _v1),
              Migration("governance", 2, "credentials version", _v2),
              Migration("governance", 3, "visibility stamp", visibility_stamp_migration),
              Migration("governance", 4, "shared rate counts", _v4)]

__all__ = ["MIGRATIONS"]
