"""The audit log: entries are buffered in memory and appended in one transaction per flush, where the chain is
computed (:mod:`urbanos.privacy.audit.chain`).

A flush runs every ``audit_flush_ms`` milliseconds, as soon as ``audit_flush_entries`` entries wait, and at shutdown.
It takes the chain's lock first (SQLite: the write transaction, which the writer opens with ``BEGIN IMMEDIATE``;
PostgreSQL: ``SELECT … FOR UPDATE`` on the head row), so several server processes on one database append to one
chain. What is lost when a process dies without shutting down: the entries of at most one flush interval."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from urbanos.core.time import format_stored, now_stored, parse_instant
from urbanos.errors import BadRequest
from urbanos.privacy.audit.chain import COLUMNS, canonical, entry_hash, row_entry
from urbanos.storage import Connection

if TYPE_CHECKING:
    from urbanos.storage import Database

log = logging.getLogger("urbanos.privacy.audit")
MAX_DETAILS = 8000
"""Longest ``details`` text kept; longer details are cut (and say so)."""


@dataclass(frozen=True)
class AuditQuery:
    """Filters of a read of the log; ``orgs`` None: every organisation (an admin), else only entries of these."""

    dataset: str | None = None
    actor: str | None = None
    action: str | None = None
    since: str | None = None
    until: str | None = None
    before: int | None = None
    limit: int = 100
    orgs: tuple[str, ...] | None = None


def stored_instant(text: str | None, name: str) -> str | None:
    """An ISO 8601 instant of a query parameter in the stored form (400 naming the parameter when malformed)."""
    if text is None or text == "":
        return None
    try:
        return format_stored(parse_instant(text))
    except (ValueError, TypeError):
        raise BadRequest(f"{name}: {text!r} is not an ISO 8601 date or instant.", detail={name: ["an ISO 8601 instant"]}) from None


class AuditLog:
    """Append-only, hash-chained audit trail of one platform (``platform.services["audit"]``)."""

    def __init__(self, db: Database, genesis: str, *, enabled: bool = True, interval: float = 0.2, batch: int = 500) -> None:
        self.db = db
        self.genesis = genesis
        self.enabled = enabled
        self.interval = interval
        self.batch = max(1, batch)
        self._buf: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._flushing = asyncio.Lock()
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[Any] | None = None

    # -- recording ------------------------------------------------------------------------------------
    def record(self, actor: str, action: str, object_kind: str, object_id: Any = "", *, dataset: str | None = None,
               dataset_id: int | None = None, org: str | None = None, path: str | None = None,
               rows: int | None = None, details: dict[str, Any] | None = None) -> None:
        """Add an entry (from any thread; never blocks on the database). ``actor`` is a subject (``token:7``,
        ``admin-token``, ``anonymous``): never a secret. ``dataset_id`` without ``dataset``/``org`` is resolved at the
        flush. ``details``: a small JSON-able dict."""
        if not self.enabled:
            return
        text = canonical(details or {})
        if len(text) > MAX_DETAILS:
            text = canonical({"truncated": True, "text": text[:MAX_DETAILS]})
        entry = {"at": now_stored(), "actor": str(actor or "unknown"), "action": str(action),
                 "object_kind": str(object_kind), "object_id": "" if object_id is None else str(object_id),
                 "dataset": dataset, "dataset_id": dataset_id, "org": org, "path": path,
                 "row_count": None if rows is None else int(rows), "details": text}
        with self._lock:
            self._buf.append(entry)
            full = len(self._buf) >= self.batch
        if full:
            self._poke()

    def pending(self) -> int:
        with self._lock:
            return len(self._buf)

    def _poke(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is None or wake is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(wake.set)
        except RuntimeError:  # the loop is closing
            pass

    # -- flushing -------------------------------------------------------------------------------------
    def _take(self) -> list[dict[str, Any]]:
        with self._lock:
            out, self._buf = self._buf, []
        return out

    def _put_back(self, entries: list[dict[str, Any]]) -> None:
        with self._lock:
            self._buf[:0] = entries

    def append(self, c: Connection, entries: list[dict[str, Any]]) -> int:
        """Chain ``entries`` onto the stored log inside the write transaction ``c`` (holding the chain's lock)."""
        lock = " FOR UPDATE" if c.dialect.name == "postgresql" else ""
        head = c.fetchone(f"SELECT seq, hash FROM privacy_audit_head WHERE id = 1{lock}")
        seq, prev = (int(head[0]), str(head[1])) if head is not None else (0, self.genesis)
        names: dict[int, tuple[str | None, str | None]] = {}
        rows = []
        for e in entries:
            ds_id = e.get("dataset_id")
            if ds_id is not None and (e.get("dataset") is None or e.get("org") is None):
                if ds_id not in names:
                    got = c.fetchone("SELECT name, owner_org FROM datasets WHERE id = ?", (ds_id,))
                    names[ds_id] = (got[0], got[1]) if got is not None else (None, None)
                e["dataset"] = e.get("dataset") or names[ds_id][0]
                e["org"] = e.get("org") or names[ds_id][1]
            seq += 1
            full = {**e, "seq": seq, "prev_hash": prev, "details": json.loads(e["details"])}
            full["hash"] = entry_hash(full, prev)
            rows.append((seq, e["at"], e["actor"], e["action"], e["object_kind"], e["object_id"], e.get("dataset"),
                         e.get("org"), e.get("path"), e.get("row_count"), e["details"], prev, full["hash"]))
            prev = full["hash"]
        c.executemany(f"INSERT INTO privacy_audit_log ({COLUMNS}) VALUES ({', '.join('?' * 13)})", rows)
        c.execute("UPDATE privacy_audit_head SET seq = ?, hash = ? WHERE id = 1", (seq, prev))
        return len(rows)

    async def flush(self) -> int:
        """Append what waits, in one transaction; entries are put back when the write fails."""
        async with self._flushing:
            entries = self._take()
            if not entries:
                return 0
            try:
                return await self.db.write(lambda c: self.append(c, entries))
            except Exception:  # noqa: BLE001 - auditing must not break requests; the entries wait for the next flush
                log.exception("audit flush failed; %d entries kept for the next one", len(entries))
                self._put_back(entries)
                return 0

    def flush_sync(self) -> int:
        """The blocking form of :meth:`flush`, for the command line and demo loading (no event loop running)."""
        entries = self._take()
        if not entries:
            return 0
        try:
            return self.db.write_sync(lambda c: self.append(c, entries))
        except Exception:
            self._put_back(entries)
            raise

    async def run(self) -> None:
        assert self._wake is not None
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self.interval)
            except TimeoutError:
                pass
            self._wake.clear()
            await self.flush()

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        if self._task is None:
            self._task = self._loop.create_task(self.run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
            self._task = None
        await self.flush()
        self._loop = None

    # -- reading --------------------------------------------------------------------------------------
    def entries(self, c: Connection, q: AuditQuery) -> list[dict[str, Any]]:
        """Entries matching ``q``, newest first (at most ``q.limit``; ``q.before``: only entries before that seq)."""
        where, params = ["1=1"], []  # type: tuple[list[str], list[Any]]
        for col, val in (("dataset", q.dataset), ("actor", q.actor), ("action", q.action)):
            if val:
                where.append(f"{col} = ?")
                params.append(val)
        if q.since:
            where.append("at >= ?")
            params.append(q.since)
        if q.until:
            where.append("at < ?")
            params.append(q.until)
        if q.before is not None:
            where.append("seq < ?")
            params.append(q.before)
        if q.orgs is not None:
            if not q.orgs:
                return []
            where.append(f"org IN ({', '.join('?' * len(q.orgs))})")
            params.extend(q.orgs)
        rows = c.fetchall(f"SELECT {COLUMNS} FROM privacy_audit_log WHERE {' AND '.join(where)} ORDER BY seq DESC "
                          "LIMIT ?", (*params, q.limit))
        return [row_entry(r) for r in rows]


__all__ = ["AuditLog", "AuditQuery", "stored_instant", "MAX_DETAILS"]
