"""The storage interface that every capability uses.

Capability code never imports ``sqlite3`` or a PostgreSQL driver. It receives a
:class:`Connection` inside ``await db.read(fn)`` or ``await db.write(fn)`` and
writes SQL with ``?`` placeholders; the :class:`Dialect` supplies the few pieces
that differ between back ends (types, JSON, geometry, full text).
"""

from __future__ import annotations

import asyncio
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, TypeVar

from urbanos.errors import NotImplementedFeature
from urbanos.events import Event, EventSink

if TYPE_CHECKING:
    from urbanos.storage.spatial import Spatial

T = TypeVar("T")


class Dialect:
    """SQL pieces that differ between back ends. Subclassed per back end."""

    name: str = "generic"
    pk: str = "INTEGER PRIMARY KEY"
    bigint: str = "BIGINT"
    json_type: str = "TEXT"
    blob_type: str = "BLOB"
    bool_true: str = "1"
    bool_false: str = "0"
    supports_rtree: bool = False

    def json_get(self, expr: str, *path: str) -> str:
        """SQL that extracts a JSON value (as text) from ``expr`` at ``path``."""
        raise NotImplementedError

    def json_param(self, value: Any) -> Any:
        raise NotImplementedError

    def like_ci(self, expr: str) -> str:
        """Case-insensitive LIKE: ``like_ci(col)`` + ``' ?'``."""
        raise NotImplementedError

    def upsert_suffix(self, conflict_cols: Sequence[str], update_cols: Sequence[str]) -> str:
        sets = ", ".join(f"{c} = excluded.{c}" for c in update_cols)
        cols = ", ".join(conflict_cols)
        return f"ON CONFLICT ({cols}) DO UPDATE SET {sets}" if sets else f"ON CONFLICT ({cols}) DO NOTHING"


class Connection(ABC):
    """One connection inside a read or a write. Not shared between threads."""

    dialect: Dialect

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.memo: dict[Any, Any] | None = None
        """Rows read once per group of writes (see :meth:`Database.write_grouped`); None outside one."""
        self.deferred: dict[Any, tuple[Any, Callable[[Any, Any], Any], Callable[[Connection, Any], None]]] | None = None

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement; returns a DB-API cursor (``fetchone``, ``fetchall``, ``rowcount``, ``description``)."""

    @abstractmethod
    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self.execute(sql, params).fetchall())

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        row = self.execute(sql, params).fetchone()
        return tuple(row) if row is not None else None

    def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cur = self.execute(sql, params)
        names = [d[0] for d in cur.description or ()]
        return [dict(zip(names, r, strict=False)) for r in cur.fetchall()]

    def insert(self, table: str, values: dict[str, Any], returning: str = "id") -> Any:
        """INSERT one row and return the ``returning`` column (the new id by default)."""
        cols = ", ".join(values)
        marks = ", ".join(["?"] * len(values))
        sql = f"INSERT INTO {table} ({cols}) VALUES ({marks}) RETURNING {returning}"
        return self.execute(sql, list(values.values())).fetchone()[0]

    def insert_rows(self, table: str, cols: Sequence[str], rows: Sequence[Sequence[Any]],
                    types: Sequence[str] = ()) -> list[int]:
        """INSERT ``rows`` (values in the order of ``cols``) into ``table`` (keyed by ``id``), the fastest way the
        back end has (one ``executemany`` on SQLite, ``COPY`` on PostgreSQL); their new ids, in order. ``types``: each
        column's PostgreSQL type (``text``, ``float8``, ``int8``), for the binary format; none: the text format."""
        marks = ", ".join("?" * len(cols))
        return [int(self.execute(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks}) RETURNING id",
                                 list(r)).fetchone()[0]) for r in rows]

    def emit(self, event: Event) -> None:
        """Queue an event; it is published only if and after this write commits."""
        self.events.append(event)

    def defer(self, key: Any, value: Any, merge: Callable[[Any, Any], Any], flush: Callable[[Connection, Any], None]) -> None:
        """Work that may wait until the end of the transaction: ``flush(self, value)`` at once, except inside a group
        of writes (:meth:`Database.write_grouped`), where the values of one ``key`` are combined with
        ``merge(old, new)`` and flushed once, just before the commit (one row update for many inserts)."""
        if self.deferred is None:
            flush(self, value)
            return
        held = self.deferred.get(key)
        self.deferred[key] = (value if held is None else merge(held[0], value), merge, flush)

    def run_deferred(self) -> None:
        """Flush what :meth:`defer` holds (the group runs this before its commit), in the order of the keys, so that
        two groups touching the same rows lock them in the same order."""
        held, self.deferred = self.deferred or {}, None
        for key in sorted(held, key=repr):
            value, _merge, flush = held[key]
            flush(self, value)

    @abstractmethod
    def table_exists(self, name: str) -> bool: ...

    @abstractmethod
    def columns(self, table: str) -> list[str]: ...

    def read_only_tables(self, tables: Iterable[str], functions: Iterable[str] | None = None) -> AbstractContextManager[None]:
        """A database-level guard for statements built from a caller's text: inside the ``with`` block, statements
        prepared on this connection may only read ``tables`` (and call only ``functions``, when given); anything
        else fails to prepare. Back ends that cannot enforce this raise NotImplementedFeature (PostgreSQL: see
        the DataStore's role guard)."""
        raise NotImplementedFeature(f"read_only_tables is not available on {self.dialect.name}.")

    @property
    def spatial(self) -> Spatial:
        """The back end's :class:`urbanos.storage.spatial.Spatial` helper."""
        return self._spatial  # type: ignore[attr-defined]


class Database(ABC):
    """A database: reads run in a pool, writes in transactions, events after commit."""

    dialect: Dialect
    url: str

    def __init__(self) -> None:
        self.sink: EventSink | None = None

    @abstractmethod
    def open(self) -> None:
        """Connect (and create what is missing). Raises ConfigError with a fix on failure."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def read_sync(self, fn: Callable[[Connection], T]) -> T: ...

    @abstractmethod
    def write_sync(self, fn: Callable[[Connection], T]) -> T: ...

    @abstractmethod
    async def read(self, fn: Callable[[Connection], T]) -> T: ...

    @abstractmethod
    async def write(self, fn: Callable[[Connection], T]) -> T: ...

    async def write_grouped(self, fn: Callable[[Connection], T]) -> T:
        """:meth:`write` for small writes that arrive together (single Observations): a back end may run several in
        one transaction. ``fn`` must raise before it writes anything, or leave the transaction failed, so that a
        refused write can be told apart from the others; it must not change rows other grouped writes read."""
        return await self.write(fn)

    async def read_one(self, fn: Callable[[Connection], T]) -> T:
        """A short read made of index lookups (rows by key), whose statements need not see one snapshot: no
        transaction is opened around them, and a back end may run them on the calling thread. By default the
        same as :meth:`read`."""
        return await self.read(fn)

    def pool_stats(self) -> dict[str, float]:
        """Figures for /metrics: pool size, in use, waiting."""
        return {}

    def _publish(self, events: list[Event]) -> None:
        if events and self.sink is not None:
            self.sink.publish(events)

    async def ping(self) -> bool:
        return bool(await self.read(lambda c: c.fetchval("SELECT 1")) == 1)


async def run_in(executor: Any, fn: Callable[[], T]) -> T:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(executor, fn)


_QUOTED = re.compile(r"""('[^']*'?|"[^"]*"?)""")


def split_quoted(sql: str) -> list[str]:
    """``sql`` cut at its quoted text: the even items are outside quotes, the odd ones are quoted text with its
    quotes (``'it''s'`` is two quoted items with nothing between; a quote that is never closed runs to the
    end)."""
    return _QUOTED.split(sql)


__all__ = ["Dialect", "Connection", "Database", "run_in", "split_quoted"]
