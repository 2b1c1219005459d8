"""``webhook``: a city system pushes to ``POST /ingest/{connector}``; the body (JSON, or CSV sent as ``text/csv``) is
mapped as a poller maps a file. The signature check and the size limit are the route's
(:mod:`urbanos.connectors.webhooks`); this type only reads an accepted body."""

from __future__ import annotations

from typing import Any

from urbanos.connectors import mapping as mappings
from urbanos.connectors.types.base import ConnectorType, Job, Writes
from urbanos.connectors.writes import mapped_writes
from urbanos.errors import BadRequest, ValidationFailed


class WebhookType(ConnectorType):
    name = "webhook"
    pulls = False

    def check(self, url: str, mapping: Any) -> dict[str, Any]:
        return mappings.parse(mapping).to_json()

    async def collect_body(self, job: Job, body: bytes, content_type: str) -> Writes:
        m = mappings.parse(job.connector.mapping)
        kind = "csv" if "csv" in content_type.lower() else "json"
        try:
            records = mappings.records_of(body, kind, m, "the request body")
        except ValidationFailed as exc:
            raise BadRequest(exc.message) from None
        return await mapped_writes(job, m, records)


__all__ = ["WebhookType"]
