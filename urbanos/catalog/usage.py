"""Anonymous aggregate usage: views, downloads, searches and API reads per day, dataset, resource, API and
application.

One path counts them all: whoever serves a read (the catalogue's own CKAN actions, DCAT views, portal pages and
downloads of uploads; OGC API Features, downloads, the DataStore, SensorThings and MQTT in the other capabilities)
publishes an :class:`urbanos.events.Usage` on the bus topic ``events.USAGE`` with
``bus.deliver_local([usage.to_event()])``, and the :class:`UsageRecorder` subscribed to that topic counts it.

No IP address, user agent or subject is recorded. ``application`` is the name of the registered API token
(``Identity.application``), empty for anonymous callers. Counts are kept in memory and added to ``catalog_usage``
every ``catalog_usage_flush_seconds`` and at shutdown; each flush also publishes one
``Event(kind="updated", entity="Usage")`` per aggregate row on topic ``events.USAGE_COUNTS`` for live dashboards
(another topic, so the recorder never hears its own flushes).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter
from typing import Any

from urbanos.bus import Bus
from urbanos.core.time import now_stored
from urbanos.events import USAGE, USAGE_COUNTS, Event, Usage, UsageKind
from urbanos.governance import Identity
from urbanos.platform import Platform
from urbanos.storage import Connection

log = logging.getLogger("urbanos.catalog")
Pending = tuple[str, str, int | None, str, str, str, str]
"""day, dataset name, dataset id (only while the name is not known), resource, api, application, kind."""
Row = tuple[str, str, str, str, str, str]
"""A ``catalog_usage`` key: day, dataset, resource, api, application, kind."""


def publish_usage(bus: Bus, identity: Identity, kind: UsageKind, api: str, *, dataset: str = "",
                  dataset_id: int | None = None, resource: str = "") -> None:
    """Publish one read served by this process (counted by the catalogue's :class:`UsageRecorder`)."""
    usage = Usage(kind=kind, api=api, dataset=dataset, dataset_id=dataset_id, resource=resource,
                  application=identity.application or "")
    bus.deliver_local([usage.to_event()])


class UsageRecorder:
    """Counts the :class:`~urbanos.events.Usage` events of this process and writes the counts to ``catalog_usage``."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self._counts: Counter[Pending] = Counter()
        self._lock = threading.Lock()
        self._task: asyncio.Task[Any] | None = None

    def subscribe(self) -> None:
        """Listen to topic ``events.USAGE`` (the catalogue's setup does this once)."""
        self.platform.bus.subscribe(self.on_event, topic=USAGE)

    def on_event(self, ev: Event) -> None:
        usage = Usage.of(ev)
        if usage is not None:
            self.count(usage)

    def count(self, usage: Usage) -> None:
        """Add the reads a usage stands for (``usage.count``, one by default). A read of a collection without a
        resource is counted under the collection's name; a dataset given only by id gets its name when the counts
        are written."""
        if usage.count <= 0:
            return
        key = (now_stored()[:10], usage.dataset, None if usage.dataset else usage.dataset_id,
               usage.resource or usage.collection, usage.api, usage.application, usage.kind)
        with self._lock:
            self._counts[key] += usage.count

    async def flush(self) -> int:
        """Write the counts kept so far (they are put back when the write fails); returns the number of rows."""
        with self._lock:
            counts, self._counts = self._counts, Counter()
        if not counts:
            return 0

        def tx(c: Connection) -> int:
            rows = _rows(c, counts)
            suffix = c.dialect.upsert_suffix(("day", "dataset", "resource", "api", "application", "kind"), ())
            suffix = suffix.replace("DO NOTHING", "DO UPDATE SET count = catalog_usage.count + excluded.count")
            c.executemany(
                "INSERT INTO catalog_usage (day, dataset, resource, api, application, kind, count) VALUES (?, ?, ?, ?, ?, ?, ?) " + suffix,
                [(*k, n) for k, n in rows.items()],
            )
            for k, n in rows.items():
                c.emit(Event("updated", "Usage", f"{k[0]}/{k[1]}/{k[5]}", topic=USAGE_COUNTS,
                             data={"day": k[0], "dataset": k[1], "resource": k[2], "api": k[3], "application": k[4],
                                   "kind": k[5], "count": n}))
            return len(rows)

        try:
            return await self.platform.db.write(tx)
        except Exception:  # noqa: BLE001 - usage counting must never break a request
            log.exception("usage flush failed; counts put back")
            with self._lock:
                self._counts.update(counts)
            return 0

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


def _rows(c: Connection, counts: Counter[Pending]) -> Counter[Row]:
    """The counts keyed by ``catalog_usage`` rows, dataset ids replaced by names."""
    names: dict[int, str] = {}
    rows: Counter[Row] = Counter()
    for (day, dataset, dataset_id, resource, api, application, kind), n in counts.items():
        if not dataset and dataset_id is not None:
            if dataset_id not in names:
                names[dataset_id] = str(c.fetchval("SELECT name FROM datasets WHERE id = ?", (dataset_id,)) or "")
            dataset = names[dataset_id]
        rows[(day, dataset, resource, api, application, kind)] += n
    return rows


async def usage_rows(platform: Platform, dataset: str | None = None, since: str | None = None) -> list[dict[str, Any]]:
    sql, params = "SELECT day, dataset, resource, api, application, kind, count FROM catalog_usage WHERE 1=1", []
    if dataset:
        sql += " AND dataset = ?"
        params.append(dataset)
    if since:
        sql += " AND day >= ?"
        params.append(since)
    return await platform.db.read(lambda c: c.rows(sql + " ORDER BY day, dataset, kind", params))


__all__ = ["UsageRecorder", "publish_usage", "usage_rows"]
