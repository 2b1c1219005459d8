"""A streaming read replica for the PostgreSQL back end (setting ``db_read``).

Read-only work (``read``, ``read_sync``, ``read_one``) runs on the replica when it may: the replica answers, it is a
standby (in recovery), its replay lag is at most ``db_read_max_lag_seconds``, and it has replayed the last write
this process committed (read-your-writes). Otherwise the read runs on the primary, as it would without a replica.
Writes, and reads inside write transactions, always run on the primary.

Read-your-writes: after each committed write transaction the primary's WAL insert position is read on the same
connection (``pg_current_wal_insert_lsn()``, which is at or past the end of the commit record) and kept as the
process's "last write LSN". A read goes to the replica only when the replica's ``pg_last_wal_replay_lsn()`` (read
at most every few milliseconds) is at or past it. The guarantee is per process: a write made by another server
process (another worker, another host) is seen on the replica within the replication lag, which is bounded by
``db_read_max_lag_seconds``; a client that must read its writes across processes needs sticky sessions.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout

T = TypeVar("T")
log = logging.getLogger("urbanos.storage")

#: what the replica reports about itself: replay position, lag in seconds (0 when it has replayed all it received
#: and its WAL receiver streams; else the age of the last replayed commit), and whether it is a standby at all
STATE_SQL = (
    "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text, "
    "CASE WHEN pg_last_wal_replay_lsn() = pg_last_wal_receive_lsn() AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver) "
    "THEN 0.0 ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 END"
)
WRITE_LSN_SQL = "SELECT pg_current_wal_insert_lsn()::text"

DOWN, LAGGING, NOT_STANDBY, BUSY, OWN_WRITE = "down", "lagging", "not_standby", "busy", "own_write"
_HEALTH = (DOWN, LAGGING, NOT_STANDBY)
_MESSAGES = {
    DOWN: "the read replica does not answer: reads go to the primary",
    LAGGING: "the read replica lags more than db_read_max_lag_seconds: reads go to the primary",
    NOT_STANDBY: "the read replica (db_read) is not a standby in recovery: reads go to the primary. "
                 "Fix: point db_read at a streaming standby of the primary",
}


class Miss:
    """The read was not run on the replica (the caller runs it on the primary)."""


MISS = Miss()


def lsn(text: str | None) -> int:
    """``'16/B374D848'`` as a number (0 for None)."""
    if not text:
        return 0
    hi, _, lo = text.partition("/")
    return (int(hi, 16) << 32) | int(lo, 16)


@dataclass(frozen=True)
class State:
    at: float
    standby: bool
    replay: int
    lag: float | None


def _lost(exc: psycopg.Error) -> bool:
    state = getattr(exc, "sqlstate", None)
    return state is None or state[:2] == "08" or state in ("57P01", "57P02", "57P03")


class Replica:
    """The replica's pool and the routing decision. ``run(body)`` runs ``body(raw connection)`` on the replica and
    returns its result, or returns :data:`MISS` when the read belongs on the primary."""

    def __init__(self, url: str, *, max_lag: float, min_size: int, max_size: int,
                 configure: Callable[[psycopg.Connection[Any]], None], refresh: float = 0.005,
                 retry_after_down: float = 1.0) -> None:
        self.url = url
        self.max_lag = max_lag
        self.min_size = min_size
        self.max_size = max(max_size, min_size)
        self.configure = configure
        self.refresh = refresh
        self.retry_after_down = retry_after_down
        self.pool: ConnectionPool | None = None
        self.last_write = 0  # the highest commit LSN this process saw on the primary
        self.primary_until = 0.0  # a write's LSN is unknown: reads go to the primary until then
        self.down_until = 0.0
        self.state: State | None = None
        self.detail = ""
        self.reason: str | None = None  # why the replica does not serve now (health reasons only)
        self.counts = {"replica_reads": 0, "replica_fallbacks": 0, "replica_own_write_reads": 0,
                       "replica_refused": 0}
        self._lock = threading.Lock()

    def open(self) -> None:
        """Connect when the replica answers; when it does not, reads go to the primary and the replica is tried
        again at the first read a second later (the server starts either way)."""
        if self._probe():
            self.pool = self._make_pool()
        else:
            self._miss(DOWN)

    def _make_pool(self) -> ConnectionPool:
        return ConnectionPool(self.url, min_size=self.min_size, max_size=self.max_size, configure=self.configure,
                              kwargs={"autocommit": True, "connect_timeout": 2}, open=True, name="urbanos-read",
                              timeout=1.0)

    def _probe(self) -> bool:
        try:
            with psycopg.connect(self.url, connect_timeout=1, autocommit=True) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            self.detail = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
            return False
        return True

    def _drop(self) -> None:
        """The replica broke: its pool goes (closed in the background), reads go to the primary, and one read a
        second later tries a fresh connection."""
        self.down_until = time.monotonic() + self.retry_after_down
        self.state = None
        with self._lock:
            pool, self.pool = self.pool, None
        if pool is not None:
            threading.Thread(target=pool.close, kwargs={"timeout": 1.0}, daemon=True, name="urbanos-read-close").start()

    def close(self) -> None:
        with self._lock:
            pool, self.pool = self.pool, None
        if pool is not None:
            pool.close(timeout=1.0)

    # -- the write side ------------------------------------------------------------------------------------------
    def after_write(self, raw: psycopg.Connection[Any]) -> None:
        """After a commit on ``raw`` (the primary): remember its WAL position."""
        try:
            row = raw.execute(WRITE_LSN_SQL).fetchone()
        except psycopg.Error:
            self.primary_until = time.monotonic() + self.max_lag  # unknown: the lag bound covers it
            return
        pos = lsn(row[0] if row else None)
        with self._lock:
            if pos > self.last_write:
                self.last_write = pos

    # -- the read side -------------------------------------------------------------------------------------------
    def run(self, body: Callable[[psycopg.Connection[Any]], T]) -> T | Miss:
        now = time.monotonic()
        if now < self.down_until:
            return self._miss(DOWN)
        if now < self.primary_until:
            return self._miss(OWN_WRITE)
        pool = self.pool
        if pool is None:  # down: one read a second tries again, the others go to the primary at once
            with self._lock:
                if time.monotonic() < self.down_until or self.pool is not None:
                    return self._miss(DOWN)
                self.down_until = time.monotonic() + self.retry_after_down
            if not self._probe():
                return self._miss(DOWN, self.detail)
            with self._lock:
                if self.pool is None:
                    self.pool = self._make_pool()
                pool = self.pool
        try:
            raw = pool.getconn(timeout=0.25)
        except PoolTimeout:
            return self._miss(BUSY)
        except PoolClosed:
            return self._miss(DOWN)
        try:
            why = self._why_not(raw, now)
            if why is not None:
                return self._miss(why)
            result = body(raw)
        except (psycopg.OperationalError, psycopg.InternalError) as exc:
            # the replica broke, was stopped, cancelled the query for a recovery conflict, or refused a write hidden
            # in a read: the read runs again on the primary
            if _lost(exc):
                self._drop()
                return self._miss(DOWN, str(exc).strip().splitlines()[0] if str(exc).strip() else "")
            log.info("read replica refused a read (%s); it runs on the primary", str(exc).strip()[:200])
            self.counts["replica_refused"] += 1
            return self._miss(BUSY)
        finally:
            try:
                pool.putconn(raw)
            except Exception:  # noqa: BLE001 - the pool was dropped meanwhile: the connection just closes
                raw.close()
        self.counts["replica_reads"] += 1
        if self.reason is not None:
            log.warning("the read replica serves reads again")
            self.reason = None
        return result

    def _why_not(self, raw: psycopg.Connection[Any], now: float) -> str | None:
        st = self.state
        if st is None or now - st.at > self.refresh:
            row = raw.execute(STATE_SQL).fetchone() or (False, None, None)
            st = State(now, bool(row[0]), lsn(row[1]), None if row[2] is None else float(row[2]))
            self.state = st
        if not st.standby:
            return NOT_STANDBY
        if st.lag is None or st.lag > self.max_lag:
            return LAGGING
        if st.replay < self.last_write:
            return OWN_WRITE
        return None

    def _miss(self, why: str, detail: str = "") -> Miss:
        if why == OWN_WRITE:
            self.counts["replica_own_write_reads"] += 1
        else:
            self.counts["replica_fallbacks"] += 1
        if why in _HEALTH and self.reason != why:
            self.reason = why
            log.warning("%s%s", _MESSAGES[why], f" ({detail})" if detail else "")
        return MISS

    def stats(self) -> dict[str, float]:
        st = self.state
        return {
            **{k: float(v) for k, v in self.counts.items()},
            "replica_serving": float(self.reason is None and time.monotonic() >= self.down_until),
            "replica_lag_seconds": float(st.lag) if st is not None and st.lag is not None else -1.0,
        }


__all__ = ["Replica", "MISS", "Miss", "lsn"]
