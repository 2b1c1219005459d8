"""Who may change which SensorThings row: the ownership model that every sensing write checks.

**The owner of a row** (its *effective owner*: an organisation's name, or none):

=========================================================  ============================================================
Thing, Datastream, MultiDatastream                          the ``owner_org`` of its catalogue dataset when it has one
                                                            (a dataset without ``owner_org``: no organisation);
                                                            otherwise its own ``owner_org`` column
Observation                                                 its (Multi)Datastream's owner
HistoricalLocation                                          its Thing's owner
Location, Sensor, ObservedProperty, FeatureOfInterest       its ``owner_org`` column (a FeatureOfInterest generated
                                                            from a Location takes the Location's)
=========================================================  ============================================================

**Recorded at create** (``owner_org``): the organisation of the entity's dataset when it names one; else, for an
entity created inside another (deep insert) or under a navigation path (``Things(1)/Datastreams``), the owner of
that parent; else the caller's home organisation (:meth:`Identity.home_org`: none for a global publisher). Trusted
writers (no identity: importers, the demo) record none unless a dataset gives one. Rows from before the column
existed have none.

**Who may change a row**: :meth:`Gate.can_write` for its owner: the publisher role (or a higher one) for that
organisation, or a role without organisation (which passes every row). A row owned by no organisation needs a role
without organisation. The admin token passes everything.

**What a write checks** (all inside the write's one transaction, so a refusal changes nothing):

* create: the new entity's dataset (publisher for its organisation), and every existing entity it links to by
  ``@iot.id`` (single and collection relations, a child re-pointed at the new parent, ``$ref`` posts) and the
  parent of a navigation path it is created under;
* update: the entity, every entity newly linked, and a new dataset; moving an Observation needs both
  (Multi)Datastreams;
* delete: the entity, and every row its cascade would remove that belongs to another owner (a Sensor's
  (Multi)Datastreams, an ObservedProperty's, a FeatureOfInterest's Observations, a Thing's (Multi)Datastreams, the
  HistoricalLocations a Location takes with it); ``DELETE …/$ref`` needs both ends.

**Refusals**: a caller that may change a row passes, whether or not it may read it (a publisher of an organisation
feeds that organisation's confidential Datastreams without a grant to read them back). Otherwise a row the caller
may not even read (:func:`urbanos.sensing.access.visibility`) gets exactly the answer of an id that does not exist
(a 400 for a link, a 404 for a path), so answers never tell that a hidden id exists, and a row it may read but not
change gets 403 naming the owner. A refused cascade names no organisation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from urbanos.errors import BadRequest, Forbidden, UrbanosError
from urbanos.governance import Gate
from urbanos.governance.gate import DatasetAccess
from urbanos.sensing.access import visibility
from urbanos.sensing.model import DATASET_OWNERS, ENTITIES, EntityType

if TYPE_CHECKING:
    from urbanos.governance import Identity
    from urbanos.storage import Connection


def owner_sql(e: EntityType, a: str) -> str:
    """SQL for the effective owner of the row ``a`` of ``e`` (NULL: no organisation)."""
    n = e.name
    if n in DATASET_OWNERS:
        return (f"(CASE WHEN {a}.dataset_id IS NOT NULL THEN (SELECT od.owner_org FROM datasets od"
                f" WHERE od.id = {a}.dataset_id) ELSE {a}.owner_org END)")
    if n == "Observation":
        d = owner_sql(ENTITIES["Datastream"], "ow_d")
        m = owner_sql(ENTITIES["MultiDatastream"], "ow_m")
        return (f"(CASE WHEN {a}.datastream_id IS NOT NULL"
                f" THEN (SELECT {d} FROM sta_datastreams ow_d WHERE ow_d.id = {a}.datastream_id)"
                f" ELSE (SELECT {m} FROM sta_multi_datastreams ow_m WHERE ow_m.id = {a}.multi_datastream_id) END)")
    if n == "HistoricalLocation":
        t = owner_sql(ENTITIES["Thing"], "ow_t")
        return f"(SELECT {t} FROM sta_things ow_t WHERE ow_t.id = {a}.thing_id)"
    return f"{a}.owner_org"


# What a delete takes with it that may belong to another owner (a Datastream's Observations always share its owner):
# (entity type checked, condition on its alias ``x`` with the deleted id for every ``?``, what the answer calls it).
_CASCADES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "Thing": (("Datastream", "x.thing_id = ?", "Datastreams"), ("MultiDatastream", "x.thing_id = ?", "MultiDatastreams")),
    "Sensor": (("Datastream", "x.sensor_id = ?", "Datastreams"), ("MultiDatastream", "x.sensor_id = ?", "MultiDatastreams")),
    "ObservedProperty": (
        ("Datastream", "x.observed_property_id = ?", "Datastreams"),
        ("MultiDatastream", "x.id IN (SELECT cp.multi_datastream_id FROM sta_mds_properties cp"
                            " WHERE cp.observed_property_id = ?)", "MultiDatastreams"),
    ),
    # an Observation belongs to its (Multi)Datastream's owner: check each parent once, not each Observation
    "FeatureOfInterest": (
        ("Datastream", "x.id IN (SELECT co.datastream_id FROM sta_observations co WHERE co.feature_id = ?)",
         "Observations"),
        ("MultiDatastream", "x.id IN (SELECT co.multi_datastream_id FROM sta_observations co WHERE co.feature_id = ?)",
         "Observations"),
    ),
    # the HistoricalLocations that a Location's delete removes: those left without any Location
    "Location": (
        ("Thing", "x.id IN (SELECT ch.thing_id FROM sta_historical_locations ch WHERE ch.id IN"
                  " (SELECT cl.historical_location_id FROM sta_hist_locations cl WHERE cl.location_id = ?)"
                  " AND NOT EXISTS (SELECT 1 FROM sta_hist_locations c2 WHERE c2.historical_location_id = ch.id"
                  " AND c2.location_id <> ?))", "HistoricalLocations"),
        # the link to each Thing it is a current Location of (the Thing's rows change: its Locations)
        ("Thing", "x.id IN (SELECT ct.thing_id FROM sta_thing_locations ct WHERE ct.location_id = ?)",
         "the current Locations of Things"),
    ),
}


def forbidden(e: EntityType, id_: int, owner: str | None) -> Forbidden:
    if owner:
        return Forbidden(f"{e.name} {id_} belongs to organisation {owner!r}; changing or linking it needs the publisher "
                         f"role for {owner!r}.")
    return Forbidden(f"{e.name} {id_} belongs to no organisation; changing or linking it needs a publisher role for "
                     "the whole platform (not limited to an organisation).")


def observed_properties(c: Connection, kind: str, id_: int) -> list[int]:
    """The ObservedProperties whose Observations (Multi)Datastream ``id_`` receives."""
    if kind == "Datastream":
        return [int(r[0]) for r in c.fetchall("SELECT observed_property_id FROM sta_datastreams WHERE id = ?", (id_,))]
    return [int(r[0]) for r in c.fetchall("SELECT observed_property_id FROM sta_mds_properties"
                                          " WHERE multi_datastream_id = ?", (id_,))]


class Ownership:
    """The checks of one write, for ``identity`` (None: a trusted writer, which passes every check)."""

    def __init__(self, conn: Connection, gate: Gate | None, identity: Identity | None) -> None:
        if identity is not None and gate is None:
            raise TypeError("Ownership checks for a caller need the gate.")
        self.c = conn
        self.gate = gate
        self.identity = identity
        self.trusted = identity is None
        self._allowed: dict[tuple[str, int], str | None] = {}  # rows checked in this write, and their owners
        self._admin: bool | None = None
        self._global: bool | None = None

    @property
    def admin(self) -> bool:
        if self._admin is None:
            self._admin = self.identity is not None and bool(self.identity.is_admin)
        return self._admin

    @property
    def global_writer(self) -> bool:
        """A role without organisation may change every row (it still sees only what it may read)."""
        if self._global is None:
            self._global = self.identity is not None and Gate.can_write(self.identity, None)
        return self._global

    # -- the caller ----------------------------------------------------------------------------
    def home_org(self) -> str | None:
        """The organisation that owns what the caller creates without dataset or parent."""
        return None if self.identity is None else self.identity.home_org()

    def may_write(self, owner: str | None) -> bool:
        return self.identity is None or Gate.can_write(self.identity, owner)

    def _visibility(self, e: EntityType) -> tuple[str, list[Any]] | None:
        """What the caller may read of one row of ``e`` (alias ``a``); None when it reads everything."""
        if self.identity is None or self.gate is None or self.admin:
            return None
        return visibility(e, "a", self.gate, self.identity, bounded=True)

    # -- one row -------------------------------------------------------------------------------
    def facts(self, e: EntityType, id_: int) -> tuple[bool, str | None] | None:
        """``(visible, owner)`` of row ``id_`` of ``e`` in one query, or None when it does not exist."""
        vis = self._visibility(e)
        vsql, params = (f"CASE WHEN {vis[0]} THEN 1 ELSE 0 END", list(vis[1])) if vis else ("1", [])
        row = self.c.fetchone(f"SELECT {owner_sql(e, 'a')}, {vsql} FROM {e.table} a WHERE a.id = ?", [*params, id_])
        if row is None:
            return None
        return bool(row[1]), row[0]

    def check(self, e: EntityType, id_: int, missing: UrbanosError) -> str | None:
        """Row ``id_`` of ``e`` exists and the caller may change it; returns its owner. Raises ``missing``
        (exactly what a missing id answers) when it does not exist, or when the caller may neither change nor
        read it; Forbidden when the caller may read it but not change it."""
        key = (e.name, id_)
        if key in self._allowed:
            return self._allowed[key]
        f = self.facts(e, id_)
        if f is None:
            raise missing
        if not self.global_writer and not self.may_write(f[1]):
            if not f[0]:
                raise missing
            raise forbidden(e, id_, f[1])
        self._allowed[key] = f[1]
        return f[1]

    def linkable(self, e: EntityType, ids: list[int]) -> set[int]:
        """Of ``ids`` (of ``e``), those that exist and that the caller may change (the others it may not read are
        left out, as if missing); raises Forbidden when the caller may read one but not change it. One query."""
        if not ids:
            return set()
        vis = self._visibility(e)
        vsql, params = (f"CASE WHEN {vis[0]} THEN 1 ELSE 0 END", list(vis[1])) if vis else ("1", [])
        rows = self.c.fetchall(f"SELECT a.id, {owner_sql(e, 'a')}, {vsql} FROM {e.table} a"
                               f" WHERE a.id IN ({', '.join('?' * len(ids))})", [*params, *ids])
        out: set[int] = set()
        for id_, owner, visible in rows:
            if not self.global_writer and not self.may_write(owner):
                if not visible:
                    continue
                raise forbidden(e, int(id_), owner)
            out.add(int(id_))
        return out

    def check_dataset_parent(self, kind: str, id_: int, dataset_id: Any, own_org: Any, ds_org: Any, ds_level: Any,
                             ds_name: Any) -> str | None:
        """The check of :meth:`check` for a (Multi)Datastream whose row (with its dataset's, joined by primary key)
        the caller has already read: no further query unless the answer is a refusal (grants are read then).
        Returns the effective owner."""
        owner = ds_org if dataset_id is not None else own_org
        ident = self.identity
        if ident is None or Gate.can_write(ident, owner):  # (a role without organisation passes every owner)
            self.check_observations(kind, id_, dataset_id)
            self._allowed[(kind, id_)] = owner
            return owner
        if dataset_id is not None and ds_level != "open":  # (the gate lets an admin read everything)
            assert self.gate is not None  # (a caller's checks have the gate: see __init__)
            ds = DatasetAccess(int(dataset_id), ds_name, ds_org, ds_level)
            if not self.gate.can_read(ident, ds):
                grants = [r[0] for r in self.c.fetchall("SELECT subject FROM dataset_grants WHERE dataset_id = ?",
                                                        (dataset_id,))]
                if not self.gate.can_read(ident, ds, grants):
                    raise BadRequest(f"{kind} {id_} does not exist.")
        raise forbidden(ENTITIES[kind], id_, owner)

    def check_observations(self, kind: str, id_: int, dataset_id: Any) -> None:
        """The gate's write checks of kind ``observation`` (a person-related ObservedProperty without an approved
        assessment, say) before Observations are added to (Multi)Datastream ``id_``."""
        if self.gate is not None:
            self.gate.check_write(self.c, "observation", self.identity, {
                "kind": kind, "id": id_, "dataset_id": dataset_id,
                "observed_properties": lambda: observed_properties(self.c, kind, id_)})

    def reach(self, e: EntityType, a: str) -> tuple[str, list[Any]] | None:
        """SQL (with params) true for the rows of ``e`` (alias ``a``) a write may pass through: those the caller
        may read or change (None: every row). Resource paths of writes are resolved with it."""
        if self.identity is None or self.gate is None or self.admin or self.global_writer:
            return None
        vis = visibility(e, a, self.gate, self.identity, bounded=True)
        if vis is None:
            return None
        w = self.writable_sql(owner_sql(e, a))
        assert w is not None
        return f"({vis[0]} OR {w[0]})", [*vis[1], *w[1]]

    # -- what a delete takes with it -----------------------------------------------------------
    def writable_sql(self, owner: str) -> tuple[str, list[Any]] | None:
        """SQL true when the owner expression ``owner`` is one the caller may change; None: every owner."""
        if self.identity is None or self.global_writer:
            return None
        scopes = [s for s in self.identity.orgs_with("publisher") if s is not None]
        if not scopes:
            return "1=0", []
        return f"({owner} IS NOT NULL AND {owner} IN ({', '.join('?' * len(scopes))}))", scopes

    def check_cascade(self, e: EntityType, id_: int) -> None:
        """Refuse (403, naming no organisation) the delete of ``id_`` when its cascade would remove rows of an
        owner the caller may not change."""
        if self.trusted or self.global_writer:
            return
        for target, cond, what in _CASCADES.get(e.name, ()):
            t = ENTITIES[target]
            w = self.writable_sql(owner_sql(t, "x"))
            assert w is not None
            sql = f"SELECT x.id FROM {t.table} x WHERE {cond} AND NOT {w[0]} LIMIT 1"
            if self.c.fetchone(sql, [id_] * cond.count("?") + w[1]) is not None:
                raise Forbidden(f"Deleting {e.name} {id_} would also delete {what} that this token may not change. "
                                "Ask a publisher of their organisation to delete or relink them first, or delete with "
                                "a publisher role for the whole platform.")


__all__ = ["Ownership", "owner_sql", "forbidden"]
