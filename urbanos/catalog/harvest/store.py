"""Harvest tables: sources, the objects each source brought, and the run log.

The tables are created on first use (``CREATE TABLE IF NOT EXISTS``), on SQLite and PostgreSQL alike; columns
added later (``token_env``, ``org``) are added to older tables the same way.
"""

from __future__ import annotations

import re
import weakref
from typing import Any

from urbanos.catalog.records import org_name
from urbanos.core.time import now_stored
from urbanos.errors import Conflict, NotFound, ValidationFailed
from urbanos.storage import Connection, Database

TYPES = ("ckan", "dcat")


# databases whose harvest tables this process has made sure of (weakly held: an id() could be reused by a
# later database object once this one is gone, and then skip the tables of another database)
_READY: weakref.WeakSet[Database] = weakref.WeakSet()


def _ensure(c: Connection) -> None:
    pk = c.dialect.pk
    c.execute(
        f"CREATE TABLE IF NOT EXISTS harvest_sources (id {pk}, name TEXT NOT NULL UNIQUE, type TEXT NOT NULL,"
        " url TEXT NOT NULL, created_at TEXT NOT NULL, last_run_at TEXT, next_run_at TEXT, last_status TEXT,"
        " failures INTEGER NOT NULL DEFAULT 0, token_env TEXT, org TEXT)"
    )
    columns = c.columns("harvest_sources")
    if "token_env" not in columns:  # tables made before sources carried credentials
        c.execute("ALTER TABLE harvest_sources ADD COLUMN token_env TEXT")
    if "org" not in columns:  # tables made before a source could name the local organisation
        c.execute("ALTER TABLE harvest_sources ADD COLUMN org TEXT")
    c.execute(
        f"CREATE TABLE IF NOT EXISTS harvest_log (id {pk}, source TEXT NOT NULL, started_at TEXT NOT NULL,"
        " finished_at TEXT, status TEXT NOT NULL, created INTEGER NOT NULL DEFAULT 0,"
        " updated INTEGER NOT NULL DEFAULT 0, deleted INTEGER NOT NULL DEFAULT 0, unchanged INTEGER NOT NULL DEFAULT 0,"
        " failed INTEGER NOT NULL DEFAULT 0, message TEXT NOT NULL DEFAULT '')"
    )
    c.execute(
        "CREATE TABLE IF NOT EXISTS harvest_objects (source TEXT NOT NULL, remote_id TEXT NOT NULL,"
        " local_name TEXT NOT NULL, content_hash TEXT NOT NULL, harvested_at TEXT NOT NULL,"
        " PRIMARY KEY (source, remote_id))"
    )


def ensure_sync(db: Database) -> None:
    if db not in _READY:
        db.write_sync(_ensure)
        _READY.add(db)


async def ensure(db: Database) -> None:
    if db not in _READY:
        await db.write(_ensure)
        _READY.add(db)


def validate_source(name: str, kind: str, url: str, token_env: str | None = None) -> None:
    errors: dict[str, list[str]] = {}
    if token_env is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,199}", token_env):
        errors["token_env"] = ["Must be the name of an environment variable (letters, digits and '_')."]
    if not re.fullmatch(r"[a-z0-9_-]{2,100}", name or ""):
        errors["name"] = ["Must be 2-100 characters: lowercase letters, digits, '-' and '_'."]
    if kind not in TYPES:
        errors["type"] = [f"Must be one of {', '.join(TYPES)}."]
    if not (url or "").startswith(("http://", "https://")):
        errors["url"] = ["Must be an http:// or https:// URL."]
    if errors:
        raise ValidationFailed("The harvest source is invalid.", detail=errors)


async def add_source(db: Database, name: str, kind: str, url: str, token_env: str | None = None,
                     org: str | None = None) -> dict[str, Any]:
    """Register a source. ``token_env`` names the environment variable that holds the source's API token at
    run time; the token itself is never stored. ``org`` names a local organisation (which must exist) that owns
    every dataset the source brings, whatever organisation the remote record names; without it the remote
    record decides (its organisation is created here when missing)."""
    validate_source(name, kind, url, token_env)
    await ensure(db)

    def tx(c: Connection) -> dict[str, Any]:
        if c.fetchone("SELECT 1 FROM harvest_sources WHERE name = ?", (name,)):
            raise Conflict(f"A harvest source named {name!r} exists already.")
        owner = org_name(c, org) if org is not None else None
        if org is not None and owner is None:
            raise ValidationFailed("The harvest source is invalid.",
                                   detail={"org": [f"No local organisation named {org!r}: create it first."]})
        c.insert("harvest_sources", {"name": name, "type": kind, "url": url.rstrip("/") if kind == "ckan" else url,
                                     "created_at": now_stored(), "next_run_at": now_stored(), "token_env": token_env,
                                     "org": owner})
        return {"name": name, "type": kind, "url": url, "token_env": token_env, "org": owner}

    return await db.write(tx)


async def sources(db: Database, name: str | None = None) -> list[dict[str, Any]]:
    await ensure(db)
    if name:
        rows = await db.read(lambda c: c.rows("SELECT * FROM harvest_sources WHERE name = ?", (name,)))
        if not rows:
            raise NotFound(f"No harvest source named {name!r}.")
        return rows
    return await db.read(lambda c: c.rows("SELECT * FROM harvest_sources ORDER BY name"))


async def due_sources(db: Database) -> list[dict[str, Any]]:
    await ensure(db)
    now = now_stored()
    return await db.read(lambda c: c.rows(
        "SELECT * FROM harvest_sources WHERE next_run_at IS NULL OR next_run_at <= ? ORDER BY name", (now,)))


async def objects(db: Database, source: str) -> dict[str, dict[str, str]]:
    rows = await db.read(lambda c: c.rows(
        "SELECT remote_id, local_name, content_hash FROM harvest_objects WHERE source = ?", (source,)))
    return {r["remote_id"]: r for r in rows}


async def put_object(db: Database, source: str, remote_id: str, local_name: str, content_hash: str) -> None:
    def tx(c: Connection) -> None:
        c.execute("DELETE FROM harvest_objects WHERE source = ? AND remote_id = ?", (source, remote_id))
        c.execute("INSERT INTO harvest_objects (source, remote_id, local_name, content_hash, harvested_at)"
                  " VALUES (?, ?, ?, ?, ?)", (source, remote_id, local_name, content_hash, now_stored()))

    await db.write(tx)


async def drop_object(db: Database, source: str, remote_id: str) -> None:
    await db.write(lambda c: c.execute("DELETE FROM harvest_objects WHERE source = ? AND remote_id = ?",
                                       (source, remote_id)))


async def log_run(db: Database, source: str, started: str, status: str, counts: dict[str, int], message: str,
                  next_run_at: str | None, failed_run: bool) -> None:
    def tx(c: Connection) -> None:
        c.insert("harvest_log", {"source": source, "started_at": started, "finished_at": now_stored(), "status": status,
                                 "created": counts.get("created", 0), "updated": counts.get("updated", 0),
                                 "deleted": counts.get("deleted", 0), "unchanged": counts.get("unchanged", 0),
                                 "failed": counts.get("failed", 0), "message": message[:2000]})
        if failed_run:
            c.execute("UPDATE harvest_sources SET last_run_at = ?, last_status = ?, next_run_at = ?,"
                      " failures = failures + 1 WHERE name = ?", (started, status, next_run_at, source))
        else:
            c.execute("UPDATE harvest_sources SET last_run_at = ?, last_status = ?, next_run_at = ?, failures = 0"
                      " WHERE name = ?", (started, status, next_run_at, source))

    await db.write(tx)


async def log(db: Database, source: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    await ensure(db)
    if source:
        return await db.read(lambda c: c.rows(
            "SELECT * FROM harvest_log WHERE source = ? ORDER BY id DESC LIMIT ?", (source, limit)))
    return await db.read(lambda c: c.rows("SELECT * FROM harvest_log ORDER BY id DESC LIMIT ?", (limit,)))


__all__ = ["TYPES", "ensure", "ensure_sync", "add_source", "sources", "due_sources", "objects", "put_object",
           "drop_object", "log_run", "log", "validate_source"]
