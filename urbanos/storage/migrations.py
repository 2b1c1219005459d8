"""Numbered migrations, recorded in ``urbanos_migrations``.

Each component contributes an ordered list of :class:`Migration`. ``upgrade``
applies the missing ones, each in its own transaction, in component order.
Migrations only ever run forward.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from urbanos.core.time import now_stored
from urbanos.storage.base import Connection, Database

log = logging.getLogger("urbanos.storage")


@dataclass(frozen=True)
class Migration:
    component: str
    version: int
    name: str
    up: Callable[[Connection], None]


_TABLE = (
    "CREATE TABLE IF NOT EXISTS urbanos_migrations ("
    " component TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL, applied_at TEXT NOT NULL,"
    " PRIMARY KEY (component, version))"
)


# One migration at a time per schema (workers starting together); schemas of one database migrate side by side.
LOCK = "SELECT pg_advisory_xact_lock(735113, hashtext(current_schema()))"


def applied(db: Database) -> set[tuple[str, int]]:
    def q(c: Connection) -> set[tuple[str, int]]:
        if not c.table_exists("urbanos_migrations"):
            return set()
        return {(r[0], int(r[1])) for r in c.fetchall("SELECT component, version FROM urbanos_migrations")}

    return db.read_sync(q)


def upgrade(db: Database, migrations: Sequence[Migration]) -> list[Migration]:
    """Apply what is missing; returns the migrations applied now."""
    seen: set[tuple[str, int]] = set()
    for m in migrations:
        if (m.component, m.version) in seen:
            raise ValueError(f"migration {m.component}/{m.version} is defined twice")
        seen.add((m.component, m.version))

    def lock_and_create(c: Connection) -> None:
        if c.dialect.name == "postgresql":
            c.execute(LOCK)
        c.execute(_TABLE)

    db.write_sync(lock_and_create)
    done = applied(db)
    ran: list[Migration] = []
    for m in migrations:
        if (m.component, m.version) in done:
            continue

        def apply(c: Connection, m: Migration = m) -> bool:
            if c.dialect.name == "postgresql":
                c.execute(LOCK)
            if c.fetchone(
                "SELECT 1 FROM urbanos_migrations WHERE component = ? AND version = ?", (m.component, m.version)
            ):
                return False  # another worker applied it meanwhile
            m.up(c)
            c.execute(
                "INSERT INTO urbanos_migrations (component, version, name, applied_at) VALUES (?, ?, ?, ?)",
                (m.component, m.version, m.name, now_stored()),
            )
            return True

        if db.write_sync(apply):
            log.info("migration applied", extra={"component": m.component, "version": m.version, "migration": m.name})
            ran.append(m)
    return ran


__all__ = ["Migration", "upgrade", "applied"]
