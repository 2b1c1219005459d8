"""SQLite back end: WAL, one writer thread that groups commits, a pool of readers."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import orjson

from urbanos.errors import BadRequest, ConfigError, Conflict, StorageError, StorageUnavailable, UrbanosError
from urbanos.events import Event
from urbanos.storage import DISK_FULL, MESSAGES, READ_ONLY, Condition, free_space, unavailable
from urbanos.storage.base import Connection, Database, Dialect
from urbanos.storage.spatial import SQLiteSpatial, register_sqlite_functions

T = TypeVar("T")
log = logging.getLogger("urbanos.storage")


class SQLiteDialect(Dialect):
    name = "sqlite"
    pk = "INTEGER PRIMARY KEY AUTOINCREMENT"
    bigint = "INTEGER"
    json_type = "TEXT"
    blob_type = "BLOB"
    supports_rtree = True

    def json_get(self, expr: str, *path: str) -> str:
        p = "$" + "".join(f'."{k}"' for k in path)
        return f"json_extract({expr}, '{p}')"

    def json_param(self, value: Any) -> Any:
        return None if value is None else orjson.dumps(value).decode()

    def like_ci(self, expr: str) -> str:
        return f"{expr} LIKE"


_SPATIAL = SQLiteSpatial()
_DIALECT = SQLiteDialect()


class SQLiteConnection(Connection):
    dialect = _DIALECT
    _spatial = _SPATIAL

    def __init__(self, raw: sqlite3.Connection) -> None:
        super().__init__()
        self.raw = raw

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        try:
            return self.raw.execute(sql, params)
        except OverflowError as exc:
            raise BadRequest("A number in the request is out of range (at most 2^63-1).") from exc
        except sqlite3.OperationalError as exc:
            text = str(exc)
            if "parser stack overflow" in text or "too many" in text or "too large" in text:
                raise BadRequest("The query is too complex; simplify the filter (fewer terms or less nesting).") from exc
            if "interrupted" in text:
                raise StorageError("The query took too long and was stopped.", status=503) from exc
            raise

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.raw.executemany(sql, rows)

    def insert_rows(self, table: str, cols: Sequence[str], rows: Sequence[Sequence[Any]],
                    types: Sequence[str] = ()) -> list[int]:
        """One ``executemany``: one writer, so the rows get consecutive ids ending at ``last_insert_rowid()``."""
        if not rows:
            return []
        self.raw.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", rows)
        last = int(self.raw.execute("SELECT last_insert_rowid()").fetchone()[0])
        return list(range(last - len(rows) + 1, last + 1))

    def table_exists(self, name: str) -> bool:
        return (
            self.raw.execute("SELECT 1 FROM sqlite_master WHERE type IN ('table','view') AND name = ?", (name,)).fetchone()
            is not None
        )

    def columns(self, table: str) -> list[str]:
        return [r[1] for r in self.raw.execute(f"PRAGMA table_info({table})").fetchall()]

    @contextmanager
    def read_only_tables(self, tables: Iterable[str], functions: Iterable[str] | None = None) -> Iterator[None]:
        """An authorizer callback: statements prepared in the block may SELECT, read columns of ``tables`` in the
        main database and call ``functions``; everything else (other tables, sqlite_master, PRAGMAs and
        table-valued functions, ATTACH, recursion, writes) is denied. Setting an authorizer expires the
        connection's prepared statements, so a cached statement is checked again too."""
        allowed = {t.lower() for t in tables}
        calls = None if functions is None else {f.lower() for f in functions}

        def authorize(action: int, arg1: str | None, arg2: str | None, db: str | None, _source: str | None) -> int:
            if action == sqlite3.SQLITE_SELECT:
                return sqlite3.SQLITE_OK
            if action == sqlite3.SQLITE_READ and db in (None, "main") and (arg1 or "").lower() in allowed:
                return sqlite3.SQLITE_OK
            if action == sqlite3.SQLITE_FUNCTION and (calls is None or (arg2 or "").lower() in calls):
                return sqlite3.SQLITE_OK
            return sqlite3.SQLITE_DENY

        self.raw.set_authorizer(authorize)
        try:
            yield
        finally:
            self.raw.set_authorizer(None)


def _connect(path: str, *, readonly: bool, cache_kib: int = 1024) -> sqlite3.Connection:
    """A connection with a page cache of ``cache_kib`` KiB and no memory map (a map per connection grows the process
    with the database); other pages come from the operating system's file cache, which the process does not hold."""
    raw = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
    for pragma in ("busy_timeout = 30000", "foreign_keys = ON", "synchronous = NORMAL", "temp_store = MEMORY",
                   f"cache_size = -{max(int(cache_kib), 64)}", "mmap_size = 0"):
        raw.execute(f"PRAGMA {pragma}")
    if readonly:
        raw.execute("PRAGMA query_only = 1")
    register_sqlite_functions(raw)
    return raw


_STOP = object()
_ASYNC = object()


class SQLiteDatabase(Database):
    """The embedded default. A file in WAL mode; ``:memory:`` is not supported (readers need the file)."""

    dialect = _DIALECT

    def __init__(self, path: str | Path, *, read_connections: int = 4, batch_size: int = 256, query_timeout: float = 15.0,
                 cache_mb: int = 64) -> None:
        super().__init__()
        self.path = str(path)
        self.write_cache_kib = cache_mb * 1024 // 2  # the writer half of sqlite_cache_mb, the readers the other half
        self.read_cache_kib = cache_mb * 1024 // 2 // read_connections
        self.url = f"sqlite:///{self.path}"
        self.read_connections = read_connections
        self.batch_size = batch_size
        self.query_timeout = query_timeout
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._readers: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._read_conns: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self.commits = 0
        self.write_jobs = 0
        self._busy_reads = 0
        self._submit_lock = threading.Lock()
        self._closed = False
        self._pending: dict[asyncio.AbstractEventLoop, list[tuple[Callable[[Connection], Any], asyncio.Future[Any]]]] = {}
        self.condition = Condition()
        self._probe_raw: sqlite3.Connection | None = None
        self._probe_lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------------------------
    def open(self) -> None:
        p = Path(self.path)
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            raw = _connect(self.path, readonly=False, cache_kib=self.write_cache_kib)
            mode = raw.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(
                f"setting URBANOS_DATA_DIR / --data-dir: cannot open the SQLite database {self.path} ({exc}). "
                "Fix: choose a writable data directory."
            ) from None
        if str(mode).lower() != "wal":
            raise ConfigError(f"SQLite database {self.path} cannot use WAL mode. Fix: put the data directory on a local disk.")
        self._wraw = raw
        self._writer = threading.Thread(target=self._write_loop, name="urbanos-sqlite-writer", daemon=True)
        self._writer.start()
        self._readers = ThreadPoolExecutor(max_workers=self.read_connections, thread_name_prefix="urbanos-sqlite-read")

    def close(self) -> None:
        if self._writer is not None:
            with self._submit_lock:
                self._closed = True
                self._queue.put(_STOP)
            self._writer.join(timeout=30)
            self._writer = None
            self._wraw.close()
            self._fail_queued()
        if self._readers is not None:
            self._readers.shutdown(wait=True)
            self._readers = None
        with self._lock:
            for c in self._read_conns:
                try:
                    c.close()
                except sqlite3.Error:
                    pass
            self._read_conns.clear()
        with self._probe_lock:
            if self._probe_raw is not None:
                self._probe_raw.close()
                self._probe_raw = None

    # -- reads -----------------------------------------------------------------------------------
    def _reader(self) -> sqlite3.Connection:
        raw = getattr(self._local, "raw", None)
        if raw is None:
            raw = _connect(self.path, readonly=True, cache_kib=self.read_cache_kib)
            self._local.raw = raw
            with self._lock:
                self._read_conns.append(raw)
        return raw

    def _run_read(self, fn: Callable[[Connection], T]) -> T:
        raw = self._reader()
        self._busy_reads += 1
        deadline = time.monotonic() + self.query_timeout
        raw.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 10000)
        raw.execute("BEGIN")
        try:
            return fn(SQLiteConnection(raw))
        finally:
            raw.execute("COMMIT")
            raw.set_progress_handler(None, 0)
            self._busy_reads -= 1

    def read_sync(self, fn: Callable[[Connection], T]) -> T:
        if self._readers is None:
            raise StorageError("database is closed")
        return self._readers.submit(self._run_read, fn).result()

    async def read(self, fn: Callable[[Connection], T]) -> T:
        if self._readers is None:
            raise StorageError("database is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, contextvars.copy_context().run, self._run_read, fn)

    async def read_one(self, fn: Callable[[Connection], T]) -> T:
        """On the calling thread, with its own read-only connection: an index lookup costs less than handing it
        to a reader thread and back."""
        if self._readers is None:
            raise StorageError("database is closed")
        return fn(SQLiteConnection(self._reader()))

    # -- writes ----------------------------------------------------------------------------------
    def _submit(self, fn: Callable[[Connection], T]) -> Future[T]:
        fut: Future[T] = Future()
        with self._submit_lock:
            if self._closed or self._writer is None:
                raise StorageError("database is closed")
            self._queue.put((fn, fut))
        return fut

    def _fail_queued(self) -> None:
        """Writes still queued when the writer stopped fail instead of waiting for ever."""
        closed = StorageError("database is closed")
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is _STOP:
                continue
            if item[0] is _ASYNC:
                _settle([(_LoopFuture(fut, item[2]), None, closed, []) for _, fut in item[1]])
            else:
                item[1].set_exception(closed)

    def write_sync(self, fn: Callable[[Connection], T]) -> T:
        return self._submit(fn).result()

    async def write(self, fn: Callable[[Connection], T]) -> T:
        """Queue ``fn``; every write queued in the same event-loop turn goes to the writer in one hand-off."""
        if self._writer is None:
            raise StorageError("database is closed")
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        pending = self._pending.get(loop)
        if pending is None:
            pending = self._pending[loop] = []
            loop.call_soon(self._flush, loop)
        pending.append((fn, fut))
        return await fut

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        batch = self._pending.pop(loop, None)
        if not batch:
            return
        with self._submit_lock:
            if not self._closed:
                self._queue.put((_ASYNC, batch, loop))
                return
        closed = StorageError("database is closed")
        for _, fut in batch:
            if not fut.done():
                fut.set_exception(closed)

    def _write_loop(self) -> None:
        raw = self._wraw
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            batch = [item]
            stop = False
            while len(batch) < self.batch_size:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    stop = True
                    break
                batch.append(nxt)
            self._run_batch(raw, batch)
            if stop:
                return

    def _run_batch(self, raw: sqlite3.Connection, items: list[Any]) -> None:
        # Items are (fn, concurrent Future) from write_sync, or (_ASYNC, [(fn, asyncio Future)], loop).
        jobs: list[tuple[Callable[[Connection], Any], Any]] = []
        for item in items:
            if item[0] is _ASYNC:
                jobs.extend((fn, _LoopFuture(fut, item[2])) for fn, fut in item[1])
            else:
                jobs.append(item)
        outcomes: list[tuple[Any, Any, BaseException | None, list[Event]]] = []
        try:
            raw.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            begin_err = self._storage_failure(exc) or StorageError("The database could not start a write.", log_message=str(exc))
            _settle([(fut, None, begin_err, []) for _, fut in jobs])
            return
        changes = raw.total_changes
        for fn, fut in jobs:
            if not fut.set_running_or_notify_cancel():
                continue
            conn = SQLiteConnection(raw)
            raw.execute("SAVEPOINT job")
            try:
                result = fn(conn)
                raw.execute("RELEASE job")
                outcomes.append((fut, result, None, conn.events))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                try:
                    raw.execute("ROLLBACK TO job")
                    raw.execute("RELEASE job")
                except sqlite3.Error:
                    pass
                failure: BaseException = _integrity(exc) if isinstance(exc, sqlite3.IntegrityError) else exc
                if isinstance(exc, sqlite3.Error):
                    failure = self._storage_failure(exc) or failure
                outcomes.append((fut, None, failure, []))
        try:
            raw.execute("COMMIT")
        except sqlite3.Error as exc:
            try:
                raw.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            commit_err = self._storage_failure(exc) or StorageError("The write could not be committed.", log_message=str(exc))
            _settle([(fut, None, commit_err, []) for fut, _, _, _ in outcomes])
            return
        self.condition.succeeded(wrote=raw.total_changes != changes)
        self.commits += 1
        self.write_jobs += len(outcomes)
        # events first: their dispatch is queued on the loop before the writers' futures are settled, so a
        # subscriber on that loop has seen a write's events by the time its writer resumes
        events = [ev for _, _, failure, evs in outcomes if failure is None for ev in evs]
        if events:
            try:
                self._publish(events)
            except Exception:  # noqa: BLE001 - a subscriber must never break the writer
                log.exception("event publication failed")
        _settle(outcomes)

    # -- health ----------------------------------------------------------------------------------
    def _storage_failure(self, exc: sqlite3.Error) -> UrbanosError | None:
        """The 503 naming the cause when ``exc`` is a full disk or read-only storage (remembered for /readyz)."""
        cause = _cause(exc)
        free, mounted_ro = free_space(str(Path(self.path).parent))
        if cause is None and int(getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF == sqlite3.SQLITE_IOERR:
            # the OS refused the write: say why when the file system tells (remounted read-only, no space left)
            cause = READ_ONLY if mounted_ro else DISK_FULL if free is not None and free < (64 << 10) else None
            if cause is None:
                return StorageUnavailable("The database could not write to its disk (an I/O error); retry later.",
                                          retry_after=10.0, log_message=f"SQLite {self.path}: {exc}")
        if cause is None:
            return None
        self.condition.failed(cause, str(exc), free)
        return unavailable(cause, retry_after=10.0, log_message=f"SQLite {self.path}: {exc}")

    def probe(self) -> dict[str, Any]:
        """Readiness, outside the reader pool and the write queue's order (called in a thread of its own): the
        database answers a query, its file system has space and is writable, and the last write did not fail
        for lack of either (or the condition has passed)."""
        with self._probe_lock:
            try:
                if self._probe_raw is None:
                    self._probe_raw = _connect(self.path, readonly=True)
                self._probe_raw.execute("SELECT count(*) FROM sqlite_master").fetchone()
                database: dict[str, Any] = {"status": "ok", "backend": "sqlite"}
            except sqlite3.Error as exc:
                database = {"status": "error", "backend": "sqlite", "reason": "database_down",
                            "message": f"The database does not answer ({exc})."}
        return {"database": database, "storage": self._storage_check()}

    def _storage_check(self) -> dict[str, Any]:
        free, mounted_ro = free_space(str(Path(self.path).parent))
        cond = self.condition
        if cond.cause == DISK_FULL and free is not None and cond.free_bytes is not None and free > cond.free_bytes + (1 << 20):
            cond.succeeded(wrote=True)  # space was freed since the failure
        if cond.cause == READ_ONLY and not mounted_ro:
            self._probe_write()
        cause = READ_ONLY if mounted_ro else DISK_FULL if free is not None and free < (64 << 10) else cond.cause
        out: dict[str, Any] = {"status": "ok" if cause is None else "error", "free_bytes": free}
        if cause is not None:
            out.update(reason=cause, message=MESSAGES[cause])
        return out

    def _probe_write(self) -> None:
        """A write that changes nothing, through the writer: a read-only database refuses it, and one that
        became writable again clears the condition."""
        with contextlib.suppress(Exception):  # still failing (the condition stays), or the writer is busy
            self._submit(lambda c: c.execute("DELETE FROM sqlite_sequence WHERE 0")).result(timeout=0.5)

    def pool_stats(self) -> dict[str, float]:
        return {
            "read_pool_size": float(self.read_connections),
            "read_pool_in_use": float(self._busy_reads),
            "write_queue": float(self._queue.qsize()),
            "commits_total": float(self.commits),
            "write_jobs_total": float(self.write_jobs),
        }


class _LoopFuture:
    """An asyncio future settled from the writer thread, in one loop call per batch."""

    __slots__ = ("fut", "loop")

    def __init__(self, fut: asyncio.Future[Any], loop: asyncio.AbstractEventLoop) -> None:
        self.fut = fut
        self.loop = loop

    def set_running_or_notify_cancel(self) -> bool:
        return not self.fut.cancelled()


def _settle_in_loop(outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for fut, result, failure in outcomes:
        if fut.done():
            continue
        if failure is None:
            fut.set_result(result)
        else:
            fut.set_exception(failure)


def _settle(outcomes: list[tuple[Any, Any, BaseException | None, list[Event]]]) -> None:
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any, BaseException | None]]] = {}
    for fut, result, failure, _ in outcomes:
        if isinstance(fut, _LoopFuture):
            by_loop.setdefault(fut.loop, []).append((fut.fut, result, failure))
        elif failure is None:
            fut.set_result(result)
        else:
            fut.set_exception(failure)
    for loop, items in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle_in_loop, items)
        except RuntimeError:  # the loop has closed; nobody is waiting any more
            pass


def _cause(exc: sqlite3.Error) -> str | None:
    """DISK_FULL, READ_ONLY or None for an SQLite error."""
    code = int(getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
    text = str(exc).lower()
    if code == sqlite3.SQLITE_FULL or "disk is full" in text:
        return DISK_FULL
    if code == sqlite3.SQLITE_READONLY or "readonly database" in text or "read-only file system" in text:
        return READ_ONLY
    return None


def _integrity(exc: sqlite3.IntegrityError) -> UrbanosError:
    return Conflict("The change conflicts with existing data.", log_message=str(exc))


__all__ = ["SQLiteDatabase", "SQLiteConnection", "SQLiteDialect"]
