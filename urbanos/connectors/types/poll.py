"""``csv`` and ``json`` pollers: fetch a file from a URL and write what the declared mapping finds in it
(:mod:`urbanos.connectors.mapping`), for city systems that only publish a file."""

from __future__ import annotations

from typing import Any

from urbanos.connectors import mapping as mappings
from urbanos.connectors.fetch import FeedError
from urbanos.connectors.types.base import ConnectorType, Job, Writes
from urbanos.connectors.writes import mapped_writes
from urbanos.errors import ValidationFailed


class Poller(ConnectorType):
    kind = ""

    def check(self, url: str, mapping: Any) -> dict[str, Any]:
        return mappings.parse(mapping).to_json()

    async def collect(self, job: Job) -> Writes:
        assert job.fetcher is not None
        m = mappings.parse(job.connector.mapping)
        body = await job.fetcher.get(job.connector.url)
        try:
            records = mappings.records_of(body, self.kind, m, job.connector.url)
        except ValidationFailed as exc:
            raise FeedError(exc.message) from None
        job.tick(len(records), len(records))
        return await mapped_writes(job, m, records)


class CsvType(Poller):
    name = "csv"
    kind = "csv"


class JsonType(Poller):
    name = "json"
    kind = "json"


__all__ = ["CsvType", "JsonType"]
