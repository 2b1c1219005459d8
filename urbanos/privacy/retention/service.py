"""Retention periods and the purge that applies them.

A steward of the dataset's owning organisation declares, per dataset, a period in days for all its data and shorter
periods for single Datastreams or feature collections of it (``PUT /privacy/retention/{dataset}``). The purge (on a
schedule in the server, and ``urbanos purge [--dry-run]``) deletes, per rule and in one transaction each, the
Observations and features older than the period through :class:`~urbanos.ports.SensingPort` and
:class:`~urbanos.ports.FeaturesPort`, writes a deletion record (what, how many rows, when, under which rule) and an
audit entry. A dry run does the same work and rolls it back, so its counts are exactly what a purge would delete."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from urbanos.core.time import format_stored, now_stored
from urbanos.errors import ValidationFailed
from urbanos.governance import Identity
from urbanos.ports import AuditPort, CatalogPort, Erasure, FeaturesPort, PersonalDataPort, SensingPort
from urbanos.privacy.retention.shared import (
    MAX_NAME,
    body_object,
    integer,
    only_keys,
    text,
    visible_dataset,
    writable_dataset,
)

if TYPE_CHECKING:
    from urbanos.platform import Platform
    from urbanos.storage import Connection

log = logging.getLogger("urbanos.privacy.retention")
MAX_DAYS = 36500
MAX_ITEMS = 500


def clock() -> datetime:
    """Now, in UTC (tests move it)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Rule:
    id: int
    dataset: str
    org: str | None
    scope: str  # dataset | datastream | collection
    ref: str
    days: int
    time_property: str | None

    def describe(self) -> str:
        what = {"dataset": "all data of the dataset", "datastream": f"Datastream {self.ref}",
                "collection": f"collection {self.ref}"}[self.scope]
        return f"{what}: {self.days} days"


class _DryRun(Exception):
    def __init__(self, result: dict[str, Any]) -> None:
        super().__init__("dry run")
        self.result = result


def _rules_of(c: Connection, dataset: str | None = None) -> list[Rule]:
    sql = "SELECT id, dataset, org, scope, ref, days, time_property FROM privacy_retention"
    rows = c.fetchall(sql + (" WHERE dataset = ?" if dataset else "") + " ORDER BY dataset, scope, ref",
                      (dataset,) if dataset else ())
    return [Rule(int(r[0]), r[1], r[2], r[3], r[4], int(r[5]), r[6]) for r in rows]


def rules_json(rules: list[Rule]) -> dict[str, Any]:
    out: dict[str, Any] = {"days": None, "datastreams": [], "collections": []}
    for r in rules:
        if r.scope == "dataset":
            out["days"] = r.days
        elif r.scope == "datastream":
            out["datastreams"].append({"id": int(r.ref), "days": r.days})
        else:
            out["collections"].append({"name": r.ref, "days": r.days, "time_property": r.time_property})
    return out


class Retention:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.db = platform.db

    def _audit(self) -> AuditPort | None:
        return self.platform.optional(AuditPort)

    # -- the rules ---------------------------------------------------------------------------------------------
    async def get(self, identity: Identity, dataset: str) -> dict[str, Any]:
        def read(c: Connection) -> dict[str, Any]:
            ref = visible_dataset(self.platform, c, identity, dataset)
            return {"dataset": ref.name, "organization": ref.owner_org, **rules_json(_rules_of(c, ref.name))}
        return await self.db.read(read)

    async def put(self, identity: Identity, dataset: str, body: Any) -> dict[str, Any]:
        def write(c: Connection) -> dict[str, Any]:
            ref = writable_dataset(self.platform, c, identity, dataset)
            rows = self._validate(c, ref.id, body_object(body))
            c.execute("DELETE FROM privacy_retention WHERE dataset = ?", (ref.name,))
            now = now_stored()
            for scope, key, days, tprop, note in rows:
                c.insert("privacy_retention", {"dataset": ref.name, "org": ref.owner_org, "scope": scope, "ref": key,
                                               "days": days, "time_property": tprop, "note": note, "changed_at": now,
                                               "changed_by": identity.subject})
            return {"dataset": ref.name, "organization": ref.owner_org, **rules_json(_rules_of(c, ref.name))}
        out = await self.db.write(write)
        if (audit := self._audit()) is not None:
            audit.record(identity.subject, "retention.changed", "dataset", out["dataset"], dataset=out["dataset"],
                         org=out["organization"], details={k: out[k] for k in ("days", "datastreams", "collections")})
        return out

    async def delete(self, identity: Identity, dataset: str) -> None:
        def write(c: Connection) -> tuple[str, str | None]:
            ref = writable_dataset(self.platform, c, identity, dataset)
            c.execute("DELETE FROM privacy_retention WHERE dataset = ?", (ref.name,))
            return ref.name, ref.owner_org
        name, org = await self.db.write(write)
        if (audit := self._audit()) is not None:
            audit.record(identity.subject, "retention.removed", "dataset", name, dataset=name, org=org)

    def _validate(self, c: Connection, ds_id: int, body: dict[str, Any]) -> list[tuple[str, str, int, str | None, str]]:
        only_keys(body, {"days", "datastreams", "collections", "note"})
        note = text(body, "note", required=False, limit=1000) or ""
        out: list[tuple[str, str, int, str | None, str]] = []
        top: int | None = None
        if body.get("days") is not None:
            top = integer(body, "days", lo=1, hi=MAX_DAYS)
            out.append(("dataset", "", top, None, note))
        sensing, features = self.platform.optional(SensingPort), self.platform.optional(FeaturesPort)
        for key in ("datastreams", "collections"):
            items = body.get(key, [])
            if not isinstance(items, list) or len(items) > MAX_ITEMS:
                raise ValidationFailed(f"{key} must be a list of at most {MAX_ITEMS} objects.", detail={"field": key})
            seen: set[str] = set()
            for i, item in enumerate(items):
                where = f"{key}[{i}]"
                if not isinstance(item, dict):
                    raise ValidationFailed(f"{where} must be an object.", detail={"field": where})
                try:
                    only_keys(item, {"id", "days"} if key == "datastreams" else {"name", "days", "time_property"})
                    days = integer(item, "days", lo=1, hi=MAX_DAYS)
                except ValidationFailed as exc:
                    raise ValidationFailed(f"{where}: {exc.message}", detail={"field": f"{where}.{exc.detail['field']}"}) from None
                if top is not None and days > top:
                    raise ValidationFailed(f"{where}.days ({days}) is longer than the dataset's period ({top}); a "
                                           "Datastream or collection may only narrow it.", detail={"field": f"{where}.days"})
                if key == "datastreams":
                    did = item.get("id")
                    owner = sensing.datastream_owner(c, did) if sensing is not None and isinstance(did, int) \
                        and not isinstance(did, bool) and 0 < did < 2**63 else None
                    if owner is None or owner.dataset_id != ds_id:
                        raise ValidationFailed(f"{where}.id is not a Datastream of this dataset.",
                                               detail={"field": f"{where}.id"})
                    ref, tprop = str(did), None
                else:
                    name = item.get("name")
                    found = features.collection_dataset(c, name) if features is not None and isinstance(name, str) \
                        and 0 < len(name) <= MAX_NAME else (False, None)
                    if found != (True, ds_id):
                        raise ValidationFailed(f"{where}.name is not a feature collection of this dataset.",
                                               detail={"field": f"{where}.name"})
                    tprop = text(item, "time_property", required=False, limit=MAX_NAME)
                    ref = str(name)
                if ref in seen:
                    raise ValidationFailed(f"{where} is named twice.", detail={"field": where})
                seen.add(ref)
                out.append((key[:-1], ref, days, tprop, note))
        return out

    async def all_rules(self) -> list[Rule]:
        return await self.db.read(_rules_of)

    # -- the purge ---------------------------------------------------------------------------------------------
    def _apply(self, c: Connection, rule: Rule, before: str) -> tuple[int, str]:
        ref = self.platform.require(CatalogPort).dataset(c, rule.dataset)
        if ref is None:
            return 0, "dataset missing"
        sensing, features = self.platform.optional(SensingPort), self.platform.optional(FeaturesPort)
        obs = feats = 0
        if rule.scope in ("dataset", "datastream") and sensing is not None:
            obs = sensing.purge_observations(c, ref.id, before, None if rule.scope == "dataset" else [int(rule.ref)])
        if rule.scope == "dataset" and features is not None:
            for coll in features.dataset_collections(c, ref.id):
                feats += features.purge_features(c, coll, before)
        if rule.scope == "collection" and features is not None:
            found = features.collection_dataset(c, rule.ref)
            if found == (True, ref.id):
                feats = features.purge_features(c, rule.ref, before, rule.time_property)
        return obs + feats, f"{obs} Observations, {feats} features"

    def purge_rule(self, rule: Rule, now: datetime, *, dry_run: bool, actor: str) -> dict[str, Any]:
        """Apply one rule (blocking; one transaction). Returns ``{dataset, scope, ref, days, before, rows, what}``."""
        before = format_stored(now - timedelta(days=rule.days))

        def tx(c: Connection) -> dict[str, Any]:
            n, what = self._apply(c, rule, before)
            result = {"dataset": rule.dataset, "organization": rule.org, "scope": rule.scope, "ref": rule.ref,
                      "days": rule.days, "before": before, "rows": n, "what": what, "rule": rule.describe()}
            if dry_run:
                raise _DryRun(result)
            if n:
                self._record(c, Erasure(rule.dataset, rule.org, rule.scope, rule.ref, rule.days, n, what),
                             format_stored(now), before, actor)
            return result
        try:
            result: dict[str, Any] = self.db.write_sync(tx)
        except _DryRun as dry:
            return dry.result
        if result["rows"] and (audit := self._audit()) is not None:
            audit.record(actor, "retention.purged", "dataset", rule.dataset, dataset=rule.dataset, org=rule.org,
                         rows=result["rows"], details={"rule": rule.describe(), "before": before, "what": result["what"]})
        return result

    def _record(self, c: Connection, e: Erasure, at: str, before: str, actor: str) -> None:
        c.insert("privacy_deletions", {"at": at, "dataset": e.dataset, "org": e.org, "scope": e.scope, "ref": e.ref,
                                       "days": e.days, "before_time": before, "row_count": e.rows, "what": e.what,
                                       "actor": actor})

    def erase_personal(self, port: PersonalDataPort, now: datetime, *, dry_run: bool,
                       actor: str) -> list[dict[str, Any]]:
        """What a capability erases of its own personal data (one transaction; rolled back for a dry run), with a
        deletion record and an audit entry for each kind erased."""
        def tx(c: Connection) -> list[dict[str, Any]]:
            results = []
            for e in port.erase_expired(c, now):
                before = format_stored(now - timedelta(days=e.days))
                results.append({"dataset": e.dataset, "organization": e.org, "scope": e.scope, "ref": e.ref,
                                "days": e.days, "before": before, "rows": e.rows, "what": e.what,
                                "rule": f"{e.what}: {e.days} days", "personal": True})
                if e.rows and not dry_run:
                    self._record(c, e, format_stored(now), before, actor)
            if dry_run:
                raise _DryRun({"results": results})
            return results
        try:
            results: list[dict[str, Any]] = self.db.write_sync(tx)
        except _DryRun as dry:
            return list(dry.result["results"])
        audit = self._audit()
        for r in results:
            if r["rows"] and audit is not None:
                audit.record(actor, "retention.purged", r["scope"], r["ref"], dataset=r["dataset"],
                             org=r["organization"], rows=r["rows"], details={"rule": r["rule"], "before": r["before"]})
        return results

    def purge_sync(self, *, now: datetime | None = None, dry_run: bool = False, actor: str = "system:retention",
                   progress: Callable[[Rule], None] | None = None) -> list[dict[str, Any]]:
        """Apply every rule (dataset-wide rules first; ``progress(rule)`` after each), then let every capability
        erase its own personal data that is past its period (:class:`~urbanos.ports.PersonalDataPort`; a result,
        marked ``personal``, for each kind that had rows due)."""
        at = now or clock()
        out = []
        for rule in self.db.read_sync(_rules_of):
            out.append(self.purge_rule(rule, at, dry_run=dry_run, actor=actor))
            if progress is not None:
                progress(rule)
        for port in self.platform.contributions(PersonalDataPort):
            out.extend(r for r in self.erase_personal(port, at, dry_run=dry_run, actor=actor) if r["rows"])
        return out

    async def deletions(self, limit: int = 200) -> list[dict[str, Any]]:
        rows = await self.db.read(lambda c: c.rows(
            "SELECT id, at, dataset, org, scope, ref, days, before_time, row_count, what FROM privacy_deletions"
            " ORDER BY id DESC LIMIT ?", (limit,)))
        return rows


__all__ = ["Retention", "Rule", "clock", "rules_json"]
