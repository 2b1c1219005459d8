"""Storage: one interface, two back ends (SQLite and PostgreSQL/PostGIS)."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from urbanos.errors import ConfigError, DatabaseDown, DiskFull, ReadOnlyStorage, StorageUnavailable
from urbanos.settings import Settings
from urbanos.storage.base import Connection, Database, Dialect
from urbanos.storage.migrations import Migration, upgrade


def open_database(settings: Settings) -> Database:
    """Build (not yet open) the database the settings name."""
    url: str = settings.db or ""
    read_url: str = settings.get("db_read") or ""
    if read_url and not read_url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        raise ConfigError("setting URBANOS_DB_READ / --db-read: not a PostgreSQL URL. "
                          "Fix: use postgresql://user@host:5432/dbname of a streaming standby, or leave it empty.")
    if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        from urbanos.storage.postgres import PostgresDatabase

        return PostgresDatabase(
            url.replace("postgresql+psycopg://", "postgresql://"),
            min_size=settings.pg_pool_min,
            max_size=settings.pg_pool_max,
            statement_timeout=settings.statement_timeout,
            pool_timeout=float(settings.get("pg_pool_timeout") or 5.0),
            read_url=read_url.replace("postgresql+psycopg://", "postgresql://"),
            max_lag=float(settings.get("db_read_max_lag_seconds") or 0.0),
            group_size=int(settings.get("pg_group_size") or 64),
            group_concurrency=int(settings.get("pg_group_concurrency") or 1),
        )
    if read_url:
        raise ConfigError("setting URBANOS_DB_READ / --db-read: a read replica needs PostgreSQL as db. "
                          "Fix: set db to the primary's postgresql:// URL, or leave db_read empty.")
    if url == "" or url.startswith("sqlite:///"):
        from urbanos.storage.sqlite import SQLiteDatabase

        path = Path(url[len("sqlite:///") :]) if url else settings.data_path / "urbanos.db"
        return SQLiteDatabase(
            path,
            read_connections=settings.sqlite_read_connections,
            batch_size=settings.sqlite_batch_size,
            query_timeout=settings.statement_timeout,
            cache_mb=settings.sqlite_cache_mb,
        )
    raise ConfigError(
        f"setting URBANOS_DB / --db: {url.split('://')[0]!r} is not a supported database. "
        "Fix: leave it empty for SQLite, or use postgresql://user@host:5432/dbname."
    )


# -- what the back ends know about the database's health -------------------------------------------------------

DISK_FULL = "disk_full"
READ_ONLY = "read_only"
DOWN = "database_down"

MESSAGES = {
    DISK_FULL: "The database's disk is full; writes fail until space is freed.",
    READ_ONLY: "The database is read-only; writes fail until it is writable again.",
    DOWN: "The database is unavailable.",
}


def unavailable(cause: str, retry_after: float = 5.0, log_message: str | None = None) -> StorageUnavailable:
    """The error a request gets for ``cause`` (one of DISK_FULL, READ_ONLY, DOWN), with Retry-After."""
    kind = {DISK_FULL: DiskFull, READ_ONLY: ReadOnlyStorage}.get(cause, DatabaseDown)
    return kind(MESSAGES.get(cause, MESSAGES[DOWN]), retry_after=retry_after, log_message=log_message)


class Condition:
    """The last storage failure a write met (disk full, read-only) until a write succeeds again: what /readyz
    reports between writes. ``free_bytes`` is the free space seen at the failure (a later check that finds
    clearly more space calls the disk no longer full)."""

    def __init__(self) -> None:
        self.cause: str | None = None
        self.since = 0.0
        self.free_bytes: int | None = None
        self.detail = ""
        self.checked: tuple[float, dict[str, Any]] | None = None  # the last readiness result and when

    def failed(self, cause: str, detail: str = "", free_bytes: int | None = None) -> None:
        if self.cause != cause:
            self.since = time.time()
        self.cause, self.detail, self.free_bytes = cause, detail, free_bytes

    def succeeded(self, *, wrote: bool) -> None:
        """A write went through: a read-only database is writable again; a full disk took new data (``wrote``)."""
        if self.cause == READ_ONLY or (self.cause == DISK_FULL and wrote) or self.cause == DOWN:
            self.cause, self.detail, self.free_bytes = None, "", None


def free_space(path: str) -> tuple[int | None, bool]:
    """(bytes free for unprivileged writers, mounted read-only) of the file system holding ``path``."""
    try:
        st = os.statvfs(path)
    except OSError:
        return None, False
    return st.f_bavail * st.f_frsize, bool(st.f_flag & os.ST_RDONLY)


class Breaker:
    """A circuit breaker on connection failures. Closed: requests go to the database. Open (after a failure that
    a direct probe confirms): requests fail at once with 503, and at most one caller every ``interval`` seconds
    probes the database (half-open); the probe that succeeds closes it and calls ``on_close`` (fresh
    connections)."""

    def __init__(self, probe: Callable[[], bool], *, interval: float = 0.5,
                 on_open: Callable[[], None] | None = None, on_close: Callable[[], None] | None = None) -> None:
        self.probe = probe
        self.interval = interval
        self.on_open = on_open
        self.on_close = on_close
        self.is_open = False
        self.opened_at = 0.0
        self.opened = 0  # times opened, for /metrics
        self._next_probe = 0.0
        self._probing = False
        self._lock = threading.Lock()

    def check(self) -> None:
        """Before using the database: raise DatabaseDown while open, unless this caller is the next probe and the
        probe finds the database back."""
        if not self.is_open:
            return
        with self._lock:
            now = time.monotonic()
            mine = not self._probing and now >= self._next_probe
            if mine:
                self._probing, self._next_probe = True, now + self.interval
        if not mine:
            raise unavailable(DOWN, retry_after=1.0)
        try:
            ok = self._safe_probe()
        finally:
            with self._lock:
                self._probing = False
        if not ok:
            raise unavailable(DOWN, retry_after=1.0)
        self._close()

    def failed(self, detail: str = "") -> bool:
        """A connection failed: probe the database directly; open when it does not answer. True when open."""
        if self.is_open:
            return True
        if self._safe_probe():
            return False
        with self._lock:
            if self.is_open:
                return True
            self.is_open, self.opened_at, self._next_probe = True, time.monotonic(), time.monotonic() + self.interval
            self.opened += 1
        if self.on_open is not None:
            self.on_open()
        return True

    def _safe_probe(self) -> bool:
        try:
            return bool(self.probe())
        except Exception:  # noqa: BLE001 - a probe that fails for any reason finds the database down
            return False

    def _close(self) -> None:
        with self._lock:
            if not self.is_open:
                return
            self.is_open = False
        if self.on_close is not None:
            self.on_close()


@runtime_checkable
class Probed(Protocol):
    """A back end that can check itself outside its pools: ``probe()`` (database answers, in a thread) and its
    :class:`Condition`."""

    condition: Condition

    def probe(self) -> dict[str, Any]: ...


async def readiness(db: Database, timeout: float = 1.0) -> dict[str, Any]:
    """What /readyz reports: ``{"status": "ok"|"error", "checks": {...}}``, the database checked within
    ``timeout`` seconds outside the request pools (a success is reused for 0.25 s, so that probes hammering the
    endpoint cost the database nothing more)."""
    if isinstance(db, Probed) and db.condition.checked is not None and time.monotonic() - db.condition.checked[0] < 0.25:
        return db.condition.checked[1]
    if not isinstance(db, Probed):
        try:
            ok = await asyncio.wait_for(db.ping(), timeout)
        except Exception:  # noqa: BLE001
            ok = False
        checks: dict[str, Any] = {"database": {"status": "ok" if ok else "error"}}
    else:
        started = time.perf_counter()
        try:
            checks = await asyncio.wait_for(asyncio.to_thread(db.probe), timeout)
        except TimeoutError:
            checks = {"database": {"status": "error", "reason": DOWN,
                                   "message": f"The database did not answer within {timeout:g} s."}}
        checks.setdefault("database", {})["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
    failing = any(c.get("status") != "ok" for c in checks.values())
    result = {"status": "error" if failing else "ok", "checks": checks}
    if isinstance(db, Probed):  # a success is reused briefly; a failure is checked again each time
        db.condition.checked = (time.monotonic(), result) if not failing else None
    return result


__all__ = ["Connection", "Database", "Dialect", "Migration", "open_database", "upgrade", "Breaker", "Condition",
           "readiness", "unavailable", "free_space", "DISK_FULL", "READ_ONLY", "DOWN", "MESSAGES"]
