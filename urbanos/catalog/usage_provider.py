"""What the catalogue answers the cockpit about usage: its implementation of :class:`urbanos.ports.UsagePort`,
registered by the catalogue's component with ``platform.provide(UsagePort, …)``.

It reads ``catalog_usage`` (see :mod:`urbanos.catalog.usage`), limited by the gate to the datasets the caller may
read, and runs the freshness check of :mod:`urbanos.catalog.quality` over the active datasets the caller may read.
"""

from __future__ import annotations

from typing import Any

from urbanos.catalog.quality import freshness
from urbanos.catalog.search_service import CatalogSearch
from urbanos.catalog.usage import UsageRecorder
from urbanos.governance import Identity
from urbanos.platform import Platform
from urbanos.ports import LateDataset, UsagePort, UsageRow
from urbanos.storage import Connection


class UsageProvider:
    """:class:`urbanos.ports.UsagePort` over ``catalog_usage`` and the freshness check."""

    def __init__(self, platform: Platform, recorder: UsageRecorder, search: CatalogSearch) -> None:
        self.platform = platform
        self.recorder = recorder
        self.search = search

    async def usage(self, identity: Identity, since: str, until: str) -> list[UsageRow]:
        await self.recorder.flush()
        where, params = self.platform.gate.dataset_row_filter(identity, "d")
        sql = ("SELECT u.day, u.dataset, d.title, u.resource, u.api, u.application, u.kind, u.count "
               "FROM catalog_usage u LEFT JOIN datasets d ON d.name = u.dataset "
               f"WHERE u.day >= ? AND u.day <= ? AND (u.dataset = '' OR (d.id IS NOT NULL AND {where})) "
               "ORDER BY u.day, u.dataset, u.resource, u.api, u.application, u.kind")  # the key's order: no sort

        def tx(c: Connection) -> list[dict[str, Any]]:
            return c.rows(sql, [since, until, *params])

        return [UsageRow(day=str(r["day"]), dataset=str(r["dataset"] or ""), title=str(r["title"] or ""),
                         resource=str(r["resource"] or ""), api=str(r["api"] or ""),
                         application=str(r["application"] or ""), kind=str(r["kind"] or ""), count=int(r["count"]))
                for r in await self.platform.db.read(tx)]

    async def late_datasets(self, identity: Identity) -> list[LateDataset]:
        where, params = self.platform.gate.dataset_row_filter(identity, "d")

        def tx(c: Connection) -> list[dict[str, Any]]:
            ids = [int(r[0]) for r in c.fetchall(
                f"SELECT d.id FROM datasets d WHERE d.state = 'active' AND {where} ORDER BY d.name", params)]
            return self.search.packages(c, ids)

        out = []
        for pkg in await self.platform.db.read(tx):
            f = freshness(pkg)
            if f["status"] == "stale":
                out.append(LateDataset(name=str(pkg.get("name") or ""), title=str(pkg.get("title") or ""),
                                       frequency=str(f["frequency"] or ""), last_update=f["last_update"],
                                       age_days=f["age_days"], max_age_days=f["max_age_days"]))
        return sorted(out, key=lambda d: -(d.age_days or 0))


def register(platform: Platform, recorder: UsageRecorder, search: CatalogSearch) -> None:
    """Provide :class:`urbanos.ports.UsagePort` (the catalogue component's setup calls this)."""
    provider: UsagePort = UsageProvider(platform, recorder, search)  # checked against the contract by mypy
    platform.provide(UsagePort, provider)


__all__ = ["UsageProvider", "register"]
