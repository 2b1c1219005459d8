"""The privacy rules at read time: the gate's rules hook (:meth:`urbanos.governance.Gate.set_rules`).

For each dataset with rules and a caller below a rule's role: redaction and pseudonymisation change each row;
k-threshold withholds rows whose count is below k; aggregation replaces rows by complete aggregates where the path
offers a window over the dataset (SensorThings Observations), and refuses with 403 naming the rule everywhere else
(features, records, SQL, exports, MQTT deliveries). Rules narrowed to Datastreams or collections touch only the rows
the path says belong to them; rows the path says nothing about are treated as covered (fail closed). What was
withheld or aggregated is noted in :data:`urbanos.governance.RELEASE_NOTES` (response headers)."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from urbanos.errors import Forbidden, ServiceUnavailable
from urbanos.governance import RELEASE_NOTES, DatasetAccess, Identity, Release
from urbanos.privacy.rules.aggregate import Areas, aggregate, h3_areas
from urbanos.privacy.rules.keys import KeyStore, period_id
from urbanos.privacy.rules.model import Rule, RuleSet, boundaries_reach

if TYPE_CHECKING:
    from urbanos.privacy.rules.store import RuleStore

log = logging.getLogger("urbanos.privacy")

_PATHS = {"feature": "OGC API Features items and previews", "datastore": "DataStore records",
          "datastore:sql": "DataStore SQL", "download": "downloads and exports", "rows": "this path"}


_SENSORS = ("sta:Thing", "sta:Datastream", "sta:MultiDatastream", "sta:Sensor")


def _note(note: dict[str, Any]) -> None:
    notes = RELEASE_NOTES.get()
    if notes is not None:
        notes.append(note)


def _containers(row: dict[str, Any]) -> list[dict[str, Any]]:
    out = [row]
    for k in ("properties", "parameters"):
        v = row.get(k)
        if isinstance(v, dict):
            out.append(v)
    return out


def _get(row: dict[str, Any], name: str) -> Any:
    for c in _containers(row):
        if name in c:
            return c[name]
    return None


class RulesEngine:
    def __init__(self, store: RuleStore, keys: KeyStore, boundaries: Any,
                 access_of: Callable[[Any], tuple[str | None, str] | None] = lambda _id: None) -> None:
        self.store = store
        self.keys = keys
        self.boundaries = boundaries
        """Polygons of boundary collections (:class:`urbanos.privacy.rules.store.Boundaries`)."""
        self.access_of = access_of
        """A dataset's (owner, access level) as the gate last saw them (``VisibilityCache.access_of``)."""

    # the gate's hook
    def __call__(self, identity: Identity, ds: DatasetAccess, rows: list[dict[str, Any]],
                 release: Release) -> list[dict[str, Any]]:
        rs = self.store.current(ds.id)
        if rs is None or not rs.rules:
            return rows
        rules = [r for r in rs.rules if not self.exempt(identity, ds, r)]
        if not rules:
            return rows
        self.check(identity, ds, release)
        return self.apply(ds, rs, rules, rows, release)

    def check(self, identity: Identity, ds: DatasetAccess, release: Release) -> None:
        """Refuse (403 naming the rule) before any row is read where the path cannot release under a rule: any rule
        on DataStore SQL (its columns may be renamed or computed, so fields cannot be told), an aggregate rule
        wherever no window over the dataset is offered (features, records, exports, MQTT)."""
        rs = self.store.current(ds.id)
        if rs is None:
            return
        for rule in rs.rules:
            if self.exempt(identity, ds, rule):
                continue
            if release.shape == "datastore:sql":
                raise Forbidden(f"Dataset {ds.name!r} is under privacy {rule.label}; DataStore SQL cannot apply it "
                                "(its columns may be renamed or computed), so it is not served there. Use "
                                "datastore_search.", code="privacy_rule", detail={"rule": [rule.label]})
            if rule.kind in ("aggregate", "dp") and release.shape in _SENSORS:
                continue  # sensors' metadata: aggregation concerns their Observations
            if rule.kind == "dp":
                raise Forbidden(f"Dataset {ds.name!r} is released only as differentially private counts and sums "
                                f"(privacy {rule.label}): ask /privacy/dp/{ds.name}.", code="privacy_rule",
                                detail={"rule": [rule.label]})
            if rule.kind == "aggregate" and (release.shape != "sta:Observation" or release.stream) and (
                    not rule.narrowed() or release.shape in ("datastore:sql", "download", "feature", "datastore")):
                where = "MQTT deliveries" if release.stream else _PATHS.get(release.shape, release.shape)
                raise Forbidden(f"Dataset {ds.name!r} is released only as aggregates per {rule.bucket_minutes} minutes "
                                f"(privacy {rule.label}); {where} cannot serve aggregates. Read its Observations "
                                "through SensorThings, where they are aggregated.", code="privacy_rule",
                                detail={"rule": [rule.label]})

    def applying(self, identity: Identity, ds: DatasetAccess) -> list[str]:
        rs = self.store.current(ds.id)
        return [r.label for r in rs.rules if not self.exempt(identity, ds, r)] if rs is not None else []

    @staticmethod
    def exempt(identity: Identity, ds: DatasetAccess, rule: Rule) -> bool:
        return identity.is_admin or (not identity.is_anonymous and identity.has_role(rule.role, ds.owner_org))

    def apply(self, ds: DatasetAccess, rs: RuleSet, rules: list[Rule], rows: list[dict[str, Any]],
              release: Release) -> list[dict[str, Any]]:
        if release.shape in _SENSORS:
            # metadata of sensors: only field rules concern them
            rules = [r for r in rules if r.kind in ("redact", "pseudonymise")]
        if not rules or not rows:
            return rows
        found = release.rows_meta() if any(r.narrowed() or r.kind == "aggregate" for r in rules) else None
        meta = found if found is not None and len(found) == len(rows) else None
        out = list(rows)  # the path's rows are never changed in place: field rules copy the rows they change
        for rule in rules:
            if rule.kind == "aggregate":
                out, meta = self._aggregate(ds, rule, out, meta, release)
        for rule in rules:
            if rule.kind in ("redact", "pseudonymise"):
                self._fields(rule, out, meta)
        for rule in rules:
            if rule.kind == "k-threshold":
                out, meta = self._threshold(ds, rule, out, meta)
        return out

    def _fields(self, rule: Rule, rows: list[dict[str, Any]], meta: list[dict[str, Any]] | None) -> None:
        period = period_id(rule.period) if rule.kind == "pseudonymise" else ""
        for i in range(len(rows)):
            if not rule.covers(meta[i] if meta is not None else None):
                continue
            row = rows[i] = copy.deepcopy(rows[i])
            for c in _containers(row):
                for f in rule.fields:
                    if f not in c:
                        continue
                    if rule.kind == "redact":
                        del c[f]
                    elif c[f] is not None:
                        c[f] = self.keys.pseudonym(rule.purpose, period, c[f])

    def _threshold(self, ds: DatasetAccess, rule: Rule, rows: list[dict[str, Any]],
                   meta: list[dict[str, Any]] | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]] | None]:
        keep: list[int] = []
        for i, row in enumerate(rows):
            params = row.get("parameters")
            if not rule.covers(meta[i] if meta is not None else None) or (
                    isinstance(params, dict) and params.get("urbanos:rule") is not None):
                keep.append(i)
                continue
            v = _get(row, rule.field)
            if isinstance(v, (int, float)) and not isinstance(v, bool) and v >= rule.k:
                keep.append(i)
        withheld = len(rows) - len(keep)
        if withheld:
            _note({"dataset": ds.name, "rule": rule.label, "suppressed": withheld})
        return [rows[i] for i in keep], ([meta[i] for i in keep] if meta is not None else None)

    def _areas(self, ds: DatasetAccess, rule: Rule) -> Areas:
        if rule.h3_resolution is not None:
            return h3_areas(rule.h3_resolution)
        assert rule.boundaries is not None
        found: Areas | None = self.boundaries.areas(rule.boundaries)
        if found is None:
            raise ServiceUnavailable(f"The polygons of boundary collection {rule.boundaries!r} are not loaded; the "
                                     "aggregates cannot be made, so nothing is served.", code="privacy_rule_unavailable")
        b_id = self.boundaries.dataset_of(rule.boundaries)
        b = self.access_of(b_id) if b_id is not None else None
        if b is not None and not boundaries_reach(ds.id, ds.owner_org, ds.access_level, b_id, b[0], b[1]):
            # declared when everyone could read them; the boundaries' dataset was closed since: their area names
            # would reach callers who may not read them
            raise ServiceUnavailable(f"Boundary collection {rule.boundaries!r} is no longer readable by everyone who may "
                                     f"read dataset {ds.name!r}, and its aggregates would show its area names; nothing "
                                     "is served until the dataset's stewards choose other boundaries or the "
                                     "collection is opened again.", code="privacy_rule_unavailable")
        return found

    def _aggregate(self, ds: DatasetAccess, rule: Rule, rows: list[dict[str, Any]], meta: list[dict[str, Any]] | None,
                   release: Release) -> tuple[list[dict[str, Any]], list[dict[str, Any]] | None]:
        covered = [i for i in range(len(rows)) if rule.covers(meta[i] if meta is not None else None)]
        if not covered:
            return rows, meta
        if release.shape != "sta:Observation" or release.stream or release.window is None or meta is None:
            where = "MQTT deliveries" if release.stream else _PATHS.get(release.shape, release.shape)
            raise Forbidden(f"Dataset {ds.name!r} is released only as aggregates per {rule.bucket_minutes} minutes "
                            f"(privacy {rule.label}); {where} cannot serve aggregates. Read its Observations "
                            "through SensorThings, where they are aggregated.", code="privacy_rule",
                            detail={"rule": [rule.label]})
        cells, withheld = aggregate(rule, [meta[i] for i in covered], release.window, self._areas(ds, rule))
        _note({"dataset": ds.name, "rule": rule.label, "aggregated": len(covered), "suppressed": withheld})
        taken = set(covered)
        rest = [i for i in range(len(rows)) if i not in taken]
        return [*cells, *(rows[i] for i in rest)], [*({} for _ in cells), *(meta[i] for i in rest)]


__all__ = ["RulesEngine"]
