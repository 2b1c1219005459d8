"""Anonymous aggregate usage: views, downloads and API reads per day, dataset, resource, API and application.

No IP address, user agent or subject is recorded. ``application`` is the name of the registered API
token (``Identity.application``), empty for anonymous callers. Counts are kept in memory and added to
``catalog_usage`` every ``catalog_usage_flush_seconds`` and at shutdown; each flush also publishes one
``Event(kind="updated", entity="Usage", topic="usage")`` per aggregate row for live dashboards.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from urbanos.events import Event
from urbanos.storage import Connection

if TYPE_CHECKING:
    from urbanos.platform import Platform

log = logging.getLogger("urbanos.catalog")
Key = tuple[str, str, str, str, str, str]


class UsageRecorder:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self._counts: Counter[Key] = Counter()
        self._lock = threading.Lock()
        self._task: asyncio.Task[Any] | None = None

    def record(self, kind: str, *, dataset: str = "", resource: str = "", api: str = "", application: str = "") -> None:
        day = datetime.now(UTC).strftime("%Y-%m-%d")
        with self._lock:
            self._counts[(day, dataset or "", resource or "", api or "", application or "", kind)] += 1

    def pending(self) -> dict[Key, int]:
        with self._lock:
            return dict(self._counts)

    async def flush(self) -> int:
        with self._lock:
            counts, self._counts = self._counts, Counter()
        if not counts:
            return 0

        def tx(c: Connection) -> None:
            suffix = c.dialect.upsert_suffix(("day", "dataset", "resource", "api", "application", "kind"), ())
            suffix = suffix.replace("DO NOTHING", "DO UPDATE SET count = catalog_usage.count + excluded.count")
            c.executemany(
                "INSERT INTO catalog_usage (day, dataset, resource, api, application, kind, count) VALUES (?, ?, ?, ?, ?, ?, ?) " + suffix,
                [(*k, n) for k, n in counts.items()],
            )
            for k, n in counts.items():
                c.emit(Event("updated", "Usage", f"{k[0]}/{k[1]}/{k[5]}", topic="usage",
                             data={"day": k[0], "dataset": k[1], "resource": k[2], "api": k[3], "application": k[4],
                                   "kind": k[5], "count": n}))

        try:
            await self.platform.db.write(tx)
        except Exception:  # noqa: BLE001 - usage counting must never break a request
            log.exception("usage flush failed; counts put back")
            with self._lock:
                self._counts.update(counts)
            return 0
        return len(counts)

    async def run(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            await self.flush()

    def start(self, interval: float) -> None:
        if self._task is None and interval > 0:
            self._task = asyncio.get_running_loop().create_task(self.run(interval))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
            self._task = None
        await self.flush()


async def usage_rows(platform: Platform, dataset: str | None = None, since: str | None = None) -> list[dict[str, Any]]:
    sql, params = "SELECT day, dataset, resource, api, application, kind, count FROM catalog_usage WHERE 1=1", []
    if dataset:
        sql += " AND dataset = ?"
        params.append(dataset)
    if since:
        sql += " AND day >= ?"
        params.append(since)
    return await platform.db.read(lambda c: c.rows(sql + " ORDER BY day, dataset, kind", params))


__all__ = ["UsageRecorder", "usage_rows"]
