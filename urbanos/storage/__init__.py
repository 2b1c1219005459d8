"""Storage: one interface, two back ends (SQLite and PostgreSQL/PostGIS)."""

from __future__ import annotations

from pathlib import Path

from urbanos.errors import ConfigError
from urbanos.settings import Settings
from urbanos.storage.base import Connection, Database, Dialect
from urbanos.storage.migrations import Migration, upgrade


def open_database(settings: Settings) -> Database:
    """Build (not yet open) the database the settings name."""
    url: str = settings.db or ""
    if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        from urbanos.storage.postgres import PostgresDatabase

        return PostgresDatabase(
            url.replace("postgresql+psycopg://", "postgresql://"),
            min_size=settings.pg_pool_min,
            max_size=settings.pg_pool_max,
            statement_timeout=settings.statement_timeout,
        )
    if url == "" or url.startswith("sqlite:///"):
        from urbanos.storage.sqlite import SQLiteDatabase

        path = Path(url[len("sqlite:///") :]) if url else settings.data_path / "urbanos.db"
        return SQLiteDatabase(
            path,
            read_connections=settings.sqlite_read_connections,
            batch_size=settings.sqlite_batch_size,
            query_timeout=settings.statement_timeout,
        )
    raise ConfigError(
        f"setting URBANOS_DB / --db: {url.split('://')[0]!r} is not a supported database. "
        "Fix: leave it empty for SQLite, or use postgresql://user@host:5432/dbname."
    )


__all__ = ["Connection", "Database", "Dialect", "Migration", "open_database", "upgrade"]
