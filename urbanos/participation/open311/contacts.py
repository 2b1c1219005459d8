"""The contact details of service requests under a retention period: erased
``participation_contact_retention_days`` after a request is closed (any closing state), by the privacy
capability's scheduled purge and ``urbanos purge`` (this is their :class:`~urbanos.ports.PersonalDataPort`). The
request itself stays, and so does its public history; a reopened request keeps its contact details."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from urbanos.core.time import format_stored
from urbanos.participation.open311.opendata import NAME
from urbanos.ports import Erasure

if TYPE_CHECKING:
    from urbanos.platform import Platform
    from urbanos.storage import Connection

WHAT = "contact details of closed Open311 service requests"
_DUE = ("FROM participation_contacts WHERE request_id IN (SELECT id FROM participation_requests"
        " WHERE status = 'closed' AND state_at < ?)")


class ContactRetention:
    """:class:`~urbanos.ports.PersonalDataPort` of Open311."""

    def __init__(self, platform: Platform) -> None:
        self.days = int(platform.settings.participation_contact_retention_days)
        self.org = str(platform.settings.participation_open_data_org or "") or None

    def erase_expired(self, c: Connection, now: datetime) -> list[Erasure]:
        before = format_stored(now - timedelta(days=self.days))
        n = int(c.fetchval(f"SELECT COUNT(*) {_DUE}", (before,)) or 0)  # nosec B608 - constant SQL
        if n:
            c.execute(f"DELETE {_DUE}", (before,))  # nosec B608 - constant SQL
        return [Erasure(NAME, self.org, "contacts", "open311", self.days, n, WHAT)]


__all__ = ["ContactRetention", "WHAT"]
