"""Declaring and reading the privacy rules of a dataset (the ``/privacy/rules/{dataset}`` API and the command line).

A declaration is written by a steward of the dataset's organisation (an admin too): every name in it is checked
before anything is stored (the Datastreams and collections it narrows to belong to the dataset, the boundary
collection exists, the fields of a narrowed collection are among its features' properties); each accepted
declaration is a new version, recorded in the audit trail."""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING, Any

from urbanos.errors import NotFound, UrbanosError, ValidationFailed
from urbanos.governance import ADMIN, ANONYMOUS, Gate, Identity
from urbanos.ports import AuditPort, CatalogPort, DatastreamOwner, FeaturesPort, SensingPort
from urbanos.privacy.retention.shared import settings_readable
from urbanos.privacy.rules.model import Rule, RuleSet, boundaries_reach, describe, parse_declaration

if TYPE_CHECKING:
    from urbanos.governance import DatasetAccess
    from urbanos.platform import Platform
    from urbanos.privacy.rules.store import Boundaries, RuleStore
    from urbanos.storage import Connection

log = logging.getLogger("urbanos.privacy")


def _bad(name: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{name}: {message}", status=422, code="invalid_privacy_rule", detail={name: [message]})


class RulesService:
    def __init__(self, platform: Platform, store: RuleStore, boundaries: Boundaries) -> None:
        self.platform = platform
        self.gate: Gate = platform.gate
        self.db = platform.db
        self.store = store
        self.boundaries = boundaries

    def dataset_for(self, c: Connection, identity: Identity, key: str) -> DatasetAccess:
        """Dataset ``key`` (name or UUID) as ``identity`` may see it; NotFound otherwise."""
        return self._dataset(c, identity, key)

    def audit(self, identity: Identity, action: str, ds: DatasetAccess, details: dict[str, Any]) -> None:
        port = self.platform.optional(AuditPort)
        if port is not None:
            port.record(identity.subject, action, "dataset", ds.name, dataset=ds.name, org=ds.owner_org, details=details)

    def _dataset(self, c: Connection, identity: Identity, key: str, *, write: bool = False) -> DatasetAccess:
        """Dataset ``key`` when ``identity`` may read it, or (``write``) declare its rules: the gate's rule for
        writes, a steward of its organisation whatever the access level; for reads, whoever may read its data and
        its organisation's stewards. NotFound for one it may not read."""
        catalog = self.platform.optional(CatalogPort)
        ref = catalog.dataset(c, key) if catalog is not None else None
        ds, grants = self.gate.dataset_access(c, ref.id) if ref is not None and ref.state != "deleted" else (None, [])
        missing = NotFound(f"There is no dataset {key!r}.")
        if ds is not None and write:
            self.gate.authorize_write(identity, ds, grants, missing, role="steward")
        elif ds is None or not settings_readable(self.gate, identity, ds, grants):
            raise missing
        return ds

    # -- reads ---------------------------------------------------------------------------------------
    async def get(self, identity: Identity, key: str) -> dict[str, Any]:
        ds = await self.db.read(lambda c: self._dataset(c, identity, key))
        return self.as_json(ds, self.store.current(ds.id))

    @staticmethod
    def as_json(ds: DatasetAccess, rs: RuleSet | None) -> dict[str, Any]:
        rules = list(rs.rules) if rs is not None else []
        return {"dataset": ds.name, "version": rs.version if rs else 0, "modified": rs.at if rs else None,
                "rules": [r.to_json() for r in rules],
                "description": {"en": [describe(r, "en") for r in rules], "de": [describe(r, "de") for r in rules]}}

    async def history(self, identity: Identity, key: str) -> dict[str, Any]:
        def read(c: Connection) -> dict[str, Any]:
            ds = self._dataset(c, identity, key)
            Gate.require(identity, "steward", ds.owner_org)
            return {"dataset": ds.name, "versions": self.store.history(c, ds.id)}

        return await self.db.read(read)

    async def summary(self, name: str, lang: str = "en") -> list[str]:
        """The rules of dataset ``name`` in plain language (for the dataset page and DCAT)."""
        catalog = self.platform.optional(CatalogPort)
        if catalog is None:
            return []
        ref = await self.db.read(lambda c: catalog.dataset(c, name))
        if ref is None:
            return []
        rs = self.store.current(ref.id)
        return [describe(r, lang) for r in rs.rules] if rs is not None else []

    # -- declaring -----------------------------------------------------------------------------------
    async def _reaches_every_reader(self, ds: DatasetAccess, boundary_dataset: int | None) -> bool:
        """May everyone who may read ``ds`` read the boundary collection's dataset too (:func:`boundaries_reach`)?"""
        if boundary_dataset is None:
            return True
        bd, _grants = await self.db.read(partial(self.gate.dataset_access, dataset_id=boundary_dataset))
        return bd is None or boundaries_reach(ds.id, ds.owner_org, ds.access_level, bd.id, bd.owner_org,
                                              bd.access_level)

    async def _check_names(self, identity: Identity, ds: DatasetAccess, rules: list[Rule]) -> None:
        features = self.platform.optional(FeaturesPort)
        sensing = self.platform.optional(SensingPort)

        async def readable(name: str, who: Identity = identity) -> bool:
            """A boundary collection whose area names the aggregates publish: one the declaring steward may read
            (one it may not is answered as one that does not exist)."""
            if features is None:
                return False
            try:
                await features.preview(who, name, 1)
            except NotFound:
                return False
            except UrbanosError:  # readable, though its own rules keep rows back: the areas are loaded as the admin
                return True
            return True

        async def collection(name: str) -> tuple[bool, int | None]:
            if features is None:
                return False, None
            return await self.db.read(partial(features.collection_dataset, name=name))

        async def owner(sid: int) -> DatastreamOwner | None:
            if sensing is None:
                return None
            return await self.db.read(partial(sensing.datastream_owner, datastream_id=sid))

        for r in rules:
            where = f"rules[{r.index}]"
            exists, of = await collection(r.boundaries) if r.boundaries is not None else (False, None)
            if r.boundaries is not None and not (exists and await readable(r.boundaries)):
                raise _bad(f"{where}.boundaries", f"there is no feature collection {r.boundaries!r}")
            if r.boundaries is not None and ds.access_level == "open" and not await readable(r.boundaries, ANONYMOUS):
                raise _bad(f"{where}.boundaries", f"the aggregates of open dataset {ds.name!r} publish the names of "
                           f"their areas: use a boundary collection of open data, not {r.boundaries!r}")
            if r.boundaries is not None and not await self._reaches_every_reader(ds, of):
                raise _bad(f"{where}.boundaries", f"the aggregates of {ds.access_level} dataset {ds.name!r} show the "
                           f"names of their areas to everyone who may read it, and some of them may not read "
                           f"{r.boundaries!r}: use a boundary collection at least as widely readable (open or "
                           f"registered data, or internal data of {ds.owner_org or 'the same organisation'!s})")
            for coll in r.collections:
                exists, of = await collection(coll)
                if not exists or of != ds.id:
                    raise _bad(f"{where}.collections", f"dataset {ds.name!r} has no feature collection {coll!r}")
                names = [*r.fields, *([r.field] if r.kind == "k-threshold" else [])]
                if names and features is not None:
                    sample = await features.preview(ADMIN, coll, 50)
                    known = {k for f in sample.get("features", []) for k in (f.get("properties") or {})}
                    missing = [n for n in names if known and n not in known]
                    if missing:
                        key = "fields" if missing[0] in r.fields else "field"
                        raise _bad(f"{where}.{key}", f"collection {coll!r} has no field {missing[0]!r}")
            for sid in r.datastreams:
                found = await owner(sid)
                if found is None or found.dataset_id != ds.id:
                    raise _bad(f"{where}.datastreams", f"dataset {ds.name!r} has no Datastream {sid}")

    async def declare(self, identity: Identity, key: str, body: Any) -> dict[str, Any]:
        """Replace the rules of dataset ``key`` (a new version); 422 naming the field, nothing stored."""
        Gate.require_somewhere(identity, "steward")
        ds = await self.db.read(lambda c: self._dataset(c, identity, key, write=True))
        rules = parse_declaration(body)
        await self._check_names(identity, ds, rules)
        for r in rules:
            if r.boundaries is not None and self.boundaries.areas(r.boundaries) is None:
                await self.boundaries.load(self.platform.optional(FeaturesPort), r.boundaries, self.db)
        rs = await self.db.write(lambda c: self.store.save(c, ds.id, ds.name, rules, identity.subject))
        self.store.remember(rs)
        audit = self.platform.optional(AuditPort)
        if audit is not None:
            audit.record(identity.subject, "rules.changed", "privacy_rules", ds.name, dataset=ds.name, org=ds.owner_org,
                         details={"version": rs.version, "rules": [r.to_json() for r in rules]})
        return self.as_json(ds, rs)

    async def load(self) -> None:
        """Load the rules and the polygons of the boundary collections they name (at startup and after a change
        made by another process)."""
        await self.store.refresh()
        features = self.platform.optional(FeaturesPort)
        for rs in self.store.all():
            for r in rs.rules:
                if r.boundaries is not None and self.boundaries.areas(r.boundaries) is None:
                    try:
                        await self.boundaries.load(features, r.boundaries, self.db)
                    except Exception:  # noqa: BLE001 - the rule then refuses reads (fail closed) until loaded
                        log.warning("could not load boundary collection %s", r.boundaries, exc_info=True)


__all__ = ["RulesService"]
