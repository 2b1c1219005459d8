"""What the alerts' API does for a caller: who may read and write which rule, and the reads and writes themselves.

* Every call needs an authenticated caller (401 otherwise).
* **Write** (create, change, delete a rule): the publisher role (or steward, admin) for the organisation that owns
  the rule's Datastream, as the sensing capability answers it (:meth:`urbanos.ports.SensingPort.datastream_owner`:
  its dataset's organisation, else the organisation recorded when it was created). A caller that may not even read
  the Datastream's dataset gets the answer of a Datastream that does not exist (404); one that may read it gets 403
  naming the organisation (:meth:`urbanos.governance.Gate.require`). A change checks the rule's Datastream and, when
  it moves the rule, the new one.
* **Read** (rules, episodes): the gate's dataset filter on the rule's dataset; a rule the caller may not read is
  answered as missing. Webhook URLs, e-mail addresses and delivery targets are shown only to callers who may change
  the rule.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from urbanos.cockpit.alerts import store
from urbanos.cockpit.alerts.rules import bad, parse_rule
from urbanos.core.time import format_stored, parse_utc
from urbanos.errors import BadRequest, Conflict, NotFound, Unauthorized
from urbanos.ports import DatastreamOwner, SensingPort

if TYPE_CHECKING:
    from urbanos.cockpit.alerts.service import AlertService
    from urbanos.governance import Identity
    from urbanos.platform import Platform
    from urbanos.storage import Connection

MAX_LIMIT = 1000


def require_signed_in(identity: Identity) -> None:
    if identity.is_anonymous:
        raise Unauthorized("The alerts API needs a bearer token.")


def _missing_rule(rule_id: int) -> NotFound:
    return NotFound(f"Alert rule {rule_id} does not exist.")


class AlertsApi:
    def __init__(self, platform: Platform, service: AlertService) -> None:
        self.platform = platform
        self.gate = platform.gate
        self.service = service
        self.max_rules = int(platform.settings.get("alerts_max_rules", 10000))

    def _now(self) -> float:
        return self.service.engine.clock()

    def may_edit(self, identity: Identity, owner_org: str | None) -> bool:
        return not identity.is_anonymous and identity.has_role("publisher", owner_org)

    def _writable(self, c: Connection, identity: Identity, datastream_id: int,
                  missing: NotFound | None = None) -> DatastreamOwner:
        """The Datastream's owner when ``identity`` may put rules on it; else ``missing`` (it may not read it: the
        answer of a Datastream that does not exist) or 401/403."""
        owner = self.platform.require(SensingPort).datastream_owner(c, datastream_id)
        missing = missing or NotFound(f"Datastream {datastream_id} does not exist.", detail={"field": "datastream"})
        if owner is None:
            raise missing
        if self.may_edit(identity, owner.owner_org):
            return owner
        ds, grants = self.gate.dataset_access(c, owner.dataset_id) if owner.dataset_id is not None else (None, [])
        if not self.gate.can_read(identity, ds, grants):
            raise missing
        self.gate.require(identity, "publisher", owner.owner_org)
        return owner  # not reached: require raised

    # -- rules ----------------------------------------------------------------------------------------------
    async def create(self, identity: Identity, body: Any) -> dict[str, Any]:
        require_signed_in(identity)
        values = parse_rule(body)
        secret = secrets.token_urlsafe(32)
        now = self._now()

        def tx(c: Connection) -> dict[str, Any]:
            owner = self._writable(c, identity, values["datastream"])
            if store.count_rules(c) >= self.max_rules:
                raise Conflict(f"The platform keeps at most {self.max_rules} alert rules (setting alerts_max_rules).")
            rid = store.insert_rule(c, values, owner, secret, identity.subject, now)
            row = store.rule_row(c, rid)
            assert row is not None
            return row

        row = await self.platform.db.write(tx)
        self.service.reload(row, int(row["id"]))
        out = store.rule_json(row, editable=True)
        out["secret"] = secret
        return out

    async def update(self, identity: Identity, rule_id: int, body: Any) -> dict[str, Any]:
        require_signed_in(identity)
        if not isinstance(body, dict):
            raise BadRequest("The request body must be a JSON object.", code="invalid_rule")
        now = self._now()
        new_secret = secrets.token_urlsafe(32) if body.get("rotate_secret") is True else None

        def tx(c: Connection) -> dict[str, Any]:
            row = store.rule_row(c, rule_id)  # the write rule decides: the owner's publishers may change it unread
            if row is None:
                raise _missing_rule(rule_id)
            current = values_of(row)
            self._writable_rule(c, identity, row)
            values = parse_rule(body, current)
            owner = self._writable(c, identity, values["datastream"])
            store.update_rule(c, rule_id, values, owner, new_secret, now)
            fresh = store.rule_row(c, rule_id)
            assert fresh is not None
            return fresh

        row = await self.platform.db.write(tx)
        self.service.reload(row, rule_id)
        out = store.rule_json(row, editable=True)
        if new_secret is not None:
            out["secret"] = new_secret
        return out

    def _writable_rule(self, c: Connection, identity: Identity, row: dict[str, Any]) -> None:
        """The caller may change the rule: it may put rules on its Datastream now (or, when the Datastream is gone,
        it holds the publisher role for the rule's recorded organisation)."""
        owner = self.platform.require(SensingPort).datastream_owner(c, int(row["datastream_id"]))
        if owner is None:
            if not self.may_edit(identity, row["owner_org"]):
                raise _missing_rule(int(row["id"]))
            return
        self._writable(c, identity, owner.datastream_id, _missing_rule(int(row["id"])))

    async def delete(self, identity: Identity, rule_id: int) -> None:
        require_signed_in(identity)

        def tx(c: Connection) -> None:
            row = store.rule_row(c, rule_id)
            if row is None:
                raise _missing_rule(rule_id)
            self._writable_rule(c, identity, row)
            store.delete_rule(c, rule_id)

        await self.platform.db.write(tx)
        self.service.reload(None, rule_id)

    async def rule(self, identity: Identity, rule_id: int) -> dict[str, Any]:
        require_signed_in(identity)
        visible = self.gate.dataset_filter(identity, "r.dataset_id")
        row = await self.platform.db.read(lambda c: store.rule_row(c, rule_id, visible))
        if row is None:
            raise _missing_rule(rule_id)
        return store.rule_json(row, editable=self.may_edit(identity, row["owner_org"]))

    async def rules(self, identity: Identity, query: dict[str, str]) -> dict[str, Any]:
        require_signed_in(identity)
        limit, offset = paging(query)
        ds = query.get("datastream")
        datastream = int_param("datastream", ds) if ds is not None else None
        visible = self.gate.dataset_filter(identity, "r.dataset_id")
        rows = await self.platform.db.read(lambda c: store.rule_rows(c, visible, datastream=datastream, limit=limit,
                                                                      offset=offset))
        return {"rules": [store.rule_json(r, editable=self.may_edit(identity, r["owner_org"])) for r in rows],
                "limit": limit, "offset": offset}

    # -- episodes -------------------------------------------------------------------------------------------
    async def episodes(self, identity: Identity, query: dict[str, str], *, episode: int | None = None
                       ) -> list[dict[str, Any]]:
        require_signed_in(identity)
        filters = episode_filters(query) if episode is None else {"limit": 1, "offset": 0}
        visible = self.gate.dataset_filter(identity, "r.dataset_id")

        def read(c: Connection) -> list[dict[str, Any]]:
            rows = store.episode_rows(c, visible, episode=episode, **filters)
            deliveries = store.deliveries_of(c, [int(r["id"]) for r in rows])
            return [store.episode_json(r, deliveries[int(r["id"])], editable=self.may_edit(identity, r["owner_org"]))
                    for r in rows]

        return await self.platform.db.read(read)

    async def episode(self, identity: Identity, episode_id: int) -> dict[str, Any]:
        found = await self.episodes(identity, {}, episode=episode_id)
        if not found:
            raise NotFound(f"Alert episode {episode_id} does not exist.")
        return found[0]


def values_of(row: dict[str, Any]) -> dict[str, Any]:
    """A stored rule as :func:`parse_rule` returns its values (the base a PATCH is merged onto)."""
    j = store.rule_json(row, editable=True)
    return {"name": j["name"], "datastream": j["datastream"], "threshold": j["threshold"],
            "pending_seconds": j["pending_seconds"], "staleness_minutes": j["staleness_minutes"],
            "channels": j["channels"], "enabled": j["enabled"]}


def int_param(name: str, raw: str) -> int:
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise bad(name, "must be a non-negative integer.")
    return int(raw)


def paging(query: dict[str, str]) -> tuple[int, int]:
    limit = int_param("limit", query["limit"]) if "limit" in query else 100
    offset = int_param("offset", query["offset"]) if "offset" in query else 0
    if not 1 <= limit <= MAX_LIMIT:
        raise bad("limit", f"must be between 1 and {MAX_LIMIT}.")
    return limit, offset


def episode_filters(query: dict[str, str]) -> dict[str, Any]:
    unknown = sorted(set(query) - {"rule", "state", "kind", "since", "limit", "offset", "lang"})
    if unknown:
        raise bad(unknown[0], "is not a filter of episodes (rule, state, kind, since, limit, offset).")
    limit, offset = paging(query)
    out: dict[str, Any] = {"limit": limit, "offset": offset}
    if "rule" in query:
        out["rule"] = int_param("rule", query["rule"])
    if "state" in query:
        if query["state"] not in ("firing", "resolved"):
            raise bad("state", "must be firing or resolved.")
        out["state"] = query["state"]
    if "kind" in query:
        if query["kind"] not in ("threshold", "nodata"):
            raise bad("kind", "must be threshold or nodata.")
        out["kind"] = query["kind"]
    if "since" in query:
        try:
            out["since"] = format_stored(parse_utc(query["since"]))
        except (ValueError, OverflowError):
            raise bad("since", "must be an ISO 8601 instant such as 2024-05-01T00:00:00Z.") from None
    return out


__all__ = ["AlertsApi", "require_signed_in", "values_of", "paging", "episode_filters", "int_param"]
