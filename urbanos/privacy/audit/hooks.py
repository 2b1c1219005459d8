"""What feeds the audit log: the gate's read observations, and the change events of the bus.

* Reads of non-open data: the gate calls :meth:`ReadAuditor.observe` (``gate.add_observer``) on every read path.
  How many rows a read served is counted by a pass-through transform (``gate.add_transform``): the read paths apply
  the gate's transforms to the rows they serve, then report the read, in the same thread; the count waits in a
  thread-local slot until the observation takes it (at most ``STALE_SECONDS``).
* Changes: tokens created and revoked (topic ``governance``), datasets created, changed (with their access level) or
  deleted, and organisation memberships (topic ``catalog``)."""

from __future__ import annotations

import contextvars
import threading
import time
from typing import TYPE_CHECKING, Any

from urbanos.events import Event

if TYPE_CHECKING:
    from urbanos.governance import DatasetAccess, Identity
    from urbanos.privacy.audit.log import AuditLog

STALE_SECONDS = 5.0
REQUEST_PATH: contextvars.ContextVar[str | None] = contextvars.ContextVar("urbanos_privacy_path", default=None)
"""``METHOD /path`` of the request being served (set by the capability's middleware; seen on the event loop's
thread, not in database threads)."""

_APIS = (("ogcapi.", "ogcapi-features"), ("catalog.", "ckan"), ("datastore_", "datastore"), ("download", "download"),
         ("sensors of", "portal"), ("read", "sta"))
_ONE_RECORD = ("catalog.package_show", "catalog.resource_show")


def api_of(action: str) -> str:
    """The interface a gate action names (``ogcapi.items`` → ``ogcapi-features``); ``other`` when unknown."""
    for prefix, api in _APIS:
        if action.startswith(prefix):
            return api
    return "other"


def actor_of(identity: Identity) -> str:
    """Who, for the log: the identity's subject (``token:7``, ``admin-token``, an OIDC subject), never a secret."""
    return identity.subject or identity.kind


class ReadAuditor:
    """The gate hooks of the audit log (one per platform)."""

    def __init__(self, audit: AuditLog) -> None:
        self.audit = audit
        self._local = threading.local()

    def _pending(self) -> dict[tuple[str, int], tuple[int, float]]:
        slot: dict[tuple[str, int], tuple[int, float]] | None = getattr(self._local, "rows", None)
        if slot is None:
            slot = self._local.rows = {}
        return slot

    def count(self, identity: Identity, ds: DatasetAccess, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The pass-through transform: remembers how many rows of ``ds`` the caller is served, changes nothing."""
        if ds.access_level != "open" and self.audit.enabled:
            slot = self._pending()
            key = (identity.subject, ds.id)
            before = slot.get(key)
            now = time.monotonic()
            n = before[0] if before is not None and now - before[1] < STALE_SECONDS else 0
            slot[key] = (n + len(rows), now)
        return rows

    def observe(self, identity: Identity, ds: DatasetAccess, action: str) -> None:
        """The gate observer: one entry per read of non-open data (the gate calls it for those only)."""
        if not self.audit.enabled:
            return
        got = self._pending().pop((identity.subject, ds.id), None)
        rows = got[0] if got is not None and time.monotonic() - got[1] < STALE_SECONDS else None
        if rows is None and action in _ONE_RECORD:
            rows = 1
        api = api_of(action)
        details: dict[str, Any] = {"api": api, "gate_action": action, "access_level": ds.access_level}
        if identity.application:
            details["application"] = identity.application
        self.audit.record(actor_of(identity), "read", "dataset", ds.id, dataset=ds.name, org=ds.owner_org,
                          path=REQUEST_PATH.get() or api, rows=rows, details=details)


class ChangeAuditor:
    """The bus subscriber of the audit log."""

    def __init__(self, audit: AuditLog) -> None:
        self.audit = audit

    def on_governance(self, ev: Event) -> None:
        if ev.entity != "ApiToken":
            return
        d = ev.data
        action = {"created": "token.created", "deleted": "token.revoked"}.get(ev.kind, f"token.{ev.kind}")
        self.audit.record(str(d.get("actor") or "command line"), action, "token", ev.id, org=d.get("org"),
                          details={"role": d.get("role"), "name": d.get("name"), "org": d.get("org")})

    def on_catalog(self, ev: Event) -> None:
        d = ev.data
        actor = str(d.get("actor") or "unknown")
        if ev.entity == "Dataset" and ("access_level" in d or ev.kind != "updated"):
            details: dict[str, Any] = {k: d[k] for k in ("access_level", "purged") if k in d}
            self.audit.record(actor, f"dataset.{ev.kind}", "dataset", d.get("name") or ev.id, dataset=d.get("name"),
                              dataset_id=ev.dataset_id, details=details)
        elif ev.entity == "Organization" and "member" in d:
            self.audit.record(actor, "membership.changed", "organization", d.get("name") or ev.id, org=d.get("name"),
                              details={"member": d.get("member"), "capacity": d.get("capacity")})


__all__ = ["ReadAuditor", "ChangeAuditor", "REQUEST_PATH", "api_of", "actor_of", "STALE_SECONDS"]
