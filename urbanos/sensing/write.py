"""Create (deep insert, links by @iot.id) and the pieces updates and deletes share (:mod:`urbanos.sensing.update`).

All functions run inside one ``db.write`` transaction, so a failure anywhere leaves nothing changed.
Every change emits an :class:`~urbanos.events.Event` (topic ``sensing``) with the entity's links.
Every row a write touches or links is checked against the caller's rights by :mod:`urbanos.sensing.ownership`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from urbanos.core.time import now_stored
from urbanos.errors import BadRequest, NotFound
from urbanos.events import Event, Kind
from urbanos.governance import Gate
from urbanos.sensing.envelope import retrack, track
from urbanos.sensing.model import DATASET_KEY, DATASET_OWNERS, ENTITIES, EntityType, Rel
from urbanos.sensing.ownership import Ownership
from urbanos.sensing.schema import OWNED_TABLES
from urbanos.sensing.serialize import load_json
from urbanos.sensing.values import GEO_TYPES, GEOM, check_keys, column_values, link_id

if TYPE_CHECKING:
    from urbanos.governance import Identity
    from urbanos.storage import Connection

NO_PARENT: Any = object()
"""``parent`` of an entity created on its own (not inside another, nor under a navigation path)."""


class Writer:
    def __init__(self, conn: Connection, version: str, identity: Identity | None = None, gate: Gate | None = None) -> None:
        """``identity``: the caller, whose rights are checked for every row the write touches or links (see
        :mod:`urbanos.sensing.ownership`; ``gate`` is then needed too). None for trusted callers such as
        importers."""
        self.c = conn
        self.version = version
        self.identity = identity
        self.own = Ownership(conn, gate, identity)
        self.sp = conn.spatial
        self.d = conn.dialect
        self.last_row: dict[str, Any] | None = None

    # -- rows ----------------------------------------------------------------------------------
    def exists(self, e: EntityType, id_: Any) -> int:
        """The id of an existing ``e`` linked by ``@iot.id``, after checking that the caller may read and change
        it (a hidden one answers like a missing one)."""
        i = link_id(e, id_)
        self.own.check(e, i, BadRequest(f"{e.name} {i} (linked by @iot.id) does not exist."))
        return i

    def insert(self, table: str, vals: dict[str, Any]) -> int:
        """INSERT one row of column values (``(GEOM, wkb)`` for a geometry); returns its id."""
        cols, marks, params = [], [], []
        for k, v in vals.items():
            cols.append(k)
            if isinstance(v, tuple) and v and v[0] == GEOM:
                marks.append(self.sp.param())
                params.append(v[1])
            else:
                marks.append("?")
                params.append(v)
        sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(marks)}) RETURNING id"
        return int(self.c.execute(sql, params).fetchone()[0])

    def update_row(self, table: str, id_: int, vals: dict[str, Any]) -> None:
        """UPDATE row ``id_`` with column values (``(GEOM, wkb)`` for a geometry)."""
        if not vals:
            return
        sets, params = [], []
        for k, v in vals.items():
            if isinstance(v, tuple) and v and v[0] == GEOM:
                sets.append(f"{k} = {self.sp.param()}")
                params.append(v[1])
            else:
                sets.append(f"{k} = ?")
                params.append(v)
        self.c.execute(f"UPDATE {table} SET {', '.join(sets)} WHERE id = ?", [*params, id_])

    def link(self, r: Rel, src: int, dst: int, rank: int = 0) -> None:
        if self.c.fetchone(f"SELECT 1 FROM {r.table} WHERE {r.src} = ? AND {r.dst} = ?", (src, dst)):
            return
        if r.table == "sta_mds_properties":
            mds, op = (src, dst) if r.src == "multi_datastream_id" else (dst, src)
            self.c.execute("INSERT INTO sta_mds_properties (multi_datastream_id, observed_property_id, rank) VALUES (?, ?, ?)",
                           (mds, op, rank))
        else:
            self.c.execute(f"INSERT INTO {r.table} ({r.src}, {r.dst}) VALUES (?, ?)", (src, dst))

    def historical(self, thing_id: int, location_ids: list[int]) -> None:
        """A HistoricalLocation of Thing ``thing_id`` now, at ``location_ids``."""
        hl = self.insert("sta_historical_locations", {"loc_time": now_stored(), "thing_id": thing_id})
        for lid in location_ids:
            self.c.execute("INSERT INTO sta_hist_locations (historical_location_id, location_id) VALUES (?, ?)", (hl, lid))
        self.emit("created", ENTITIES["HistoricalLocation"], hl, None, {"Thing": thing_id, "Locations": location_ids})

    # -- create --------------------------------------------------------------------------------
    def attach_child(self, t: EntityType, r: Rel, item: Any, parent_id: int, parent: Any = NO_PARENT) -> int:
        """A child on a reverse relation: an ``@iot.id`` re-points that entity at the parent (the caller must be
        allowed to change it), anything else is created under it (owned like ``parent``, the parent's owner)."""
        if isinstance(item, dict) and "@iot.id" in item:
            cid = self.exists(t, item["@iot.id"])
            old = self.c.fetchval(f"SELECT {r.fk} FROM {t.table} WHERE id = ?", (cid,))
            if old != parent_id:
                self.c.execute(f"UPDATE {t.table} SET {r.fk} = ? WHERE id = ?", (parent_id, cid))
                if t.name == "Observation":  # both (Multi)Datastreams keep their envelope and latest pointer right
                    table = "sta_datastreams" if r.fk == "datastream_id" else "sta_multi_datastreams"
                    retrack(self.c, table, old)
                    retrack(self.c, table, parent_id)
            return int(cid)
        return int(self.create(t, item, {r.fk: parent_id}, parent))

    def create_or_link(self, e: EntityType, body: Any, preset: dict[str, Any] | None = None,
                       parent: Any = NO_PARENT) -> int:
        if not isinstance(body, dict):
            raise BadRequest(f"A {e.name} must be a JSON object.")
        if "@iot.id" in body:
            return self.exists(e, body["@iot.id"])
        return self.create(e, body, preset, parent)

    def _own_ref(self, e: EntityType, r: Rel, body: dict[str, Any], preset: dict[str, Any]) -> tuple[bool, Any]:
        """How the single-valued relation ``r`` is given: ``(True, reference in the body)``, ``(False, preset id)``
        or ``(False, None)``. A body that names another parent than the navigation path it is posted to is a 400."""
        if r.name not in body:
            return False, preset.get(r.fk)
        if r.fk not in preset:
            return True, body[r.name]
        ref = body[r.name]
        if isinstance(ref, dict) and set(ref) == {"@iot.id"} and isinstance(ref["@iot.id"], int | str) \
                and not isinstance(ref["@iot.id"], bool) and link_id(ENTITIES[r.target], ref["@iot.id"]) == preset[r.fk]:
            return False, preset[r.fk]
        raise BadRequest(f"This {e.name} is created under {r.target} {preset[r.fk]}; its body names another "
                         f"{r.name}. Leave {r.name} out of the body, or post to the {e.set_name} entity set.")

    def create(self, e: EntityType, body: Any, preset: dict[str, Any] | None = None, parent: Any = NO_PARENT) -> int:
        """Create ``e`` from ``body``. ``preset``: column values given by the navigation path or the enclosing
        entity; ``parent``: the owner of the entity it is created inside or under (:data:`NO_PARENT` when none)."""
        if not isinstance(body, dict):
            raise BadRequest(f"A {e.name} must be a JSON object.")
        check_keys(e, body, self.version)
        body, ds_ref, ds_given = self.dataset_ref(e, body)
        preset = dict(preset or {})
        self._check_mandatory(e, body)
        vals = column_values(e, body, self.version, self.d, replace=False)
        if e.name == "HistoricalLocation" and "loc_time" not in vals:
            vals["loc_time"] = now_stored()
        if e.name == "Observation":
            return self.create_observation(body, vals, preset)
        # the organisation that owns the new row: its dataset's, else its parent's, else the caller's
        ds_id, ds_org = self.dataset_row(ds_ref) if ds_given else (None, None)
        if ds_id is not None:
            org = ds_org
        elif parent is not NO_PARENT:
            org = parent
        else:
            org = self.own.home_org()
        # single-valued relations first: their ids are columns of this row
        ds_id, eff = self._own_relations(e, body, vals, preset, ds_id, org)
        if e.name in DATASET_OWNERS:
            vals["dataset_id"] = ds_id
        if "owner_org" not in vals and e.table in OWNED_TABLES:
            vals["owner_org"] = org
        if e.name == "MultiDatastream":
            _check_mds(body)
        new_id = self.insert(e.table, vals)
        links: dict[str, Any] = {r.target: vals.get(r.fk) for r in e.rels if r.kind == "own"}
        self._collections(e, body, new_id, eff, links)
        self._created_with(e, body, new_id, preset, links)
        self.emit("created", e, new_id, vals.get("dataset_id"), links)
        return new_id

    def _check_mandatory(self, e: EntityType, body: dict[str, Any]) -> None:
        for p in e.props_for(self.version):
            if p.required and p.name not in body and not (e.name == "Observation" and p.name == "result"):
                raise BadRequest(f"{e.name}.{p.name} is mandatory.")
        if e.name == "Observation" and "result" not in body:
            raise BadRequest("Observation.result is mandatory.")
        if self.version == "v1.0" and e.name not in ("HistoricalLocation", "Observation") and "description" not in body:
            raise BadRequest(f"{e.name}.description is mandatory in SensorThings v1.0.")
        if e.name in ("Location", "FeatureOfInterest"):
            enc = body.get("encodingType")
            if enc not in GEO_TYPES:
                raise BadRequest(f"{e.name}.encodingType {enc!r} is not supported; use application/geo+json.")

    def _own_relations(self, e: EntityType, body: dict[str, Any], vals: dict[str, Any], preset: dict[str, Any],
                       ds_id: int | None, org: Any) -> tuple[int | None, Any]:
        """The foreign keys of the new row (entities created inside it take ``org``). Returns its dataset and its
        effective owner, which entities created inside it take: a (Multi)Datastream without a dataset of its own
        takes its Thing's."""
        eff = org
        for r in e.rels:
            if r.kind != "own":
                continue
            given, ref = self._own_ref(e, r, body, preset)
            vals[r.fk] = self.create_or_link(ENTITIES[r.target], ref, parent=eff) if given else ref
            if r.name == "Thing" and e.name in DATASET_OWNERS and ds_id is None and vals[r.fk] is not None:
                row = self.c.fetchone("SELECT t.dataset_id, d.owner_org FROM sta_things t LEFT JOIN datasets d"
                                      " ON d.id = t.dataset_id WHERE t.id = ?", (vals[r.fk],))
                if row is not None and row[0] is not None:
                    ds_id, eff = row[0], row[1]
        for r in e.rels:
            if r.kind == "own" and r.required and vals.get(r.fk) is None:
                raise BadRequest(f"{e.name} needs its {r.name}.")
        return ds_id, eff

    def _collections(self, e: EntityType, body: dict[str, Any], new_id: int, eff: Any, links: dict[str, Any]) -> None:
        """The collection relations of the new row given in ``body``: created inside it or linked by ``@iot.id``."""
        for r in e.rels:
            if r.kind == "own" or r.name not in body:
                continue
            items = body[r.name]
            if not isinstance(items, list):
                raise BadRequest(f"{e.name}.{r.name} must be a JSON array.")
            t = ENTITIES[r.target]
            ids = []
            for rank, item in enumerate(items):
                if r.kind == "rev":
                    cid = self.attach_child(t, r, item, new_id, eff)
                else:
                    cid = self.create_or_link(t, item, parent=eff)
                    self.link(r, new_id, cid, rank)
                ids.append(cid)
            links[r.name] = ids

    def _created_with(self, e: EntityType, body: dict[str, Any], new_id: int, preset: dict[str, Any],
                      links: dict[str, Any]) -> None:
        """What a new row brings with it: HistoricalLocations of Things placed at Locations, the checks of a
        MultiDatastream's ObservedProperties, the Thing a Location is created under."""
        if e.name == "Thing" and links.get("Locations"):
            self.historical(new_id, links["Locations"])
        if e.name == "Location" and links.get("Things"):
            for tid in links["Things"]:
                self.historical(tid, [new_id])
        if e.name == "MultiDatastream" and not links.get("ObservedProperties"):
            raise BadRequest("A MultiDatastream needs its ObservedProperties.")
        if e.name == "MultiDatastream":
            n = len(links["ObservedProperties"])
            if n != len(body["multiObservationDataTypes"]) or n != len(body["unitOfMeasurements"]):
                raise BadRequest("A MultiDatastream needs one ObservedProperty, unitOfMeasurement and "
                                 "multiObservationDataType per result element.")
        if e.name == "Location" and "Things" not in body and preset.get("_thing"):
            self.link(ENTITIES["Location"].rel_map["Things"], new_id, preset["_thing"], 0)
            self.historical(preset["_thing"], [new_id])
            links["Thing"] = preset["_thing"]

    # -- datasets ------------------------------------------------------------------------------
    def dataset_ref(self, e: EntityType, body: dict[str, Any]) -> tuple[dict[str, Any], Any, bool]:
        """The catalogue dataset named in ``body``: ``properties["urbanos:dataset"]`` (the dataset's name) or
        the older ``dataset_id`` key (its id). Returns the body without the reserved key (it is not stored
        in ``properties``: GET adds it from the link), the reference, and whether one was given at all."""
        given, ref = "dataset_id" in body, body.get("dataset_id")
        props = body.get("properties")
        if isinstance(props, dict) and DATASET_KEY in props:
            given, ref = True, props[DATASET_KEY]
            body = {**body, "properties": {k: v for k, v in props.items() if k != DATASET_KEY}}
        if given and e.name not in DATASET_OWNERS:
            raise BadRequest(f"{e.name} does not belong to a dataset directly; link its Thing or Datastream.")
        return body, ref, given

    def dataset_row(self, v: Any) -> tuple[int | None, str | None]:
        """``(id, owner_org)`` of the dataset named by ``v`` (its name, or its id; ``(None, None)`` for None), after
        checking that it exists and that the caller may publish to it. A dataset the caller may not read answers
        like one that does not exist."""
        if v is None:
            return None, None
        if isinstance(v, str) and v.strip():
            row = self.c.fetchone("SELECT id, owner_org FROM datasets WHERE name = ?", (v.strip(),))
        elif isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**63:
            row = self.c.fetchone("SELECT id, owner_org FROM datasets WHERE id = ?", (v,))
        else:
            raise BadRequest(f"{DATASET_KEY} must be the name of a catalogue dataset (or dataset_id its id).")
        missing = BadRequest(f"The catalogue has no dataset {v!r}.")
        if row is None:
            raise missing
        if self.identity is not None and not Gate.can_write(self.identity, row[1]):
            if self.own.gate is not None:
                ds, grants = self.own.gate.dataset_access(self.c, int(row[0]))
                if not self.own.gate.can_read(self.identity, ds, grants):
                    raise missing
            Gate.require(self.identity, "publisher", org=row[1])
        return int(row[0]), row[1]

    # -- observations --------------------------------------------------------------------------
    def feature_for(self, thing_id: int) -> int:
        """The FeatureOfInterest generated from the current Location of Thing ``thing_id`` (made when missing)."""
        row = self.c.fetchone("SELECT location_id FROM sta_thing_locations WHERE thing_id = ? ORDER BY location_id DESC LIMIT 1",
                              (thing_id,))
        if row is None:
            raise BadRequest(f"The Observation has no FeatureOfInterest and its Thing {thing_id} has no Location to "
                             "derive one from.")
        lid = row[0]
        fid = self.c.fetchval("SELECT id FROM sta_features WHERE location_id = ? ORDER BY id LIMIT 1", (lid,))
        if fid is not None:
            return int(fid)
        loc = self.c.fetchone(f"SELECT name, description, encoding_type, location, {self.sp.select('geom')}, owner_org"
                              " FROM sta_locations WHERE id = ?", (lid,))
        assert loc is not None
        fid = self.insert("sta_features", {
            "name": loc[0], "description": loc[1], "encoding_type": loc[2] or "application/geo+json",
            "feature": self.d.json_param(load_json(loc[3])), "location_id": lid,
            "geom": (GEOM, bytes(loc[4])) if loc[4] is not None else None, "owner_org": loc[5],
        })
        self.emit("created", ENTITIES["FeatureOfInterest"], fid, None, {})
        return fid

    def _observation_parent(self, body: dict[str, Any], vals: dict[str, Any], preset: dict[str, Any]) -> None:
        """The (Multi)Datastream column of a new Observation (an ``@iot.id`` is checked by the parent query)."""
        ref = body.get("Datastream")
        if not preset and type(ref) is dict and len(ref) == 1 and type(ref.get("@iot.id")) is int \
                and 0 <= ref["@iot.id"] < 2**63 and "MultiDatastream" not in body:
            vals["datastream_id"] = ref["@iot.id"]  # the common form, checked by the parent query
            return
        e = ENTITIES["Observation"]
        for r in e.rels[:2]:  # Datastream, MultiDatastream
            given, ref = self._own_ref(e, r, body, preset)
            if given and isinstance(ref, dict) and len(ref) == 1 and isinstance(ref.get("@iot.id"), int) \
                    and not isinstance(ref["@iot.id"], bool) and 0 <= ref["@iot.id"] < 2**63:
                vals[r.fk] = ref["@iot.id"]  # checked by the parent query
            elif given:
                vals[r.fk] = self.create_or_link(ENTITIES[r.target], ref)
            elif ref is not None:
                vals[r.fk] = ref

    def create_observation(self, body: dict[str, Any], vals: dict[str, Any], preset: dict[str, Any]) -> int:
        """Insert an Observation whose column values ``vals`` are read from ``body`` (see :meth:`create`)."""
        self._observation_parent(body, vals, preset)
        ds, mds = vals.get("datastream_id"), vals.get("multi_datastream_id")
        if (ds is None) == (mds is None):
            raise BadRequest("An Observation belongs to exactly one Datastream or MultiDatastream.")
        table = "sta_datastreams" if ds is not None else "sta_multi_datastreams"
        kind = "Datastream" if ds is not None else "MultiDatastream"
        parent: int = vals["datastream_id"] if ds is not None else vals["multi_datastream_id"]
        # one query: the parent's Thing, dataset and owner (its dataset joined by primary key), and the
        # FeatureOfInterest made from the Thing's Location
        # (read once for a group of single Observations: :meth:`~urbanos.storage.Database.write_grouped`)
        memo, key = self.c.memo, (table, parent)
        row = memo.get(key) if memo is not None else None
        if row is None:
            row = self.c.fetchone(
                f"SELECT p.thing_id, p.dataset_id, (SELECT f.id FROM sta_features f WHERE f.location_id ="
                f" (SELECT MAX(tl.location_id) FROM sta_thing_locations tl WHERE tl.thing_id = p.thing_id)"
                f" ORDER BY f.id LIMIT 1), p.owner_org, d.owner_org, d.access_level, d.name"
                f" FROM {table} p LEFT JOIN datasets d ON d.id = p.dataset_id WHERE p.id = ?", (parent,))
            if memo is not None and row is not None and row[2] is not None:
                memo[key] = row
        if row is None:
            raise BadRequest(f"{kind} {parent} does not exist.")
        thing_id, dataset_id, foi = row[0], row[1], row[2]
        owner = self.own.check_dataset_parent(kind, parent, dataset_id, row[3], row[4], row[5], row[6])
        if "FeatureOfInterest" in body:
            vals["feature_id"] = self.create_or_link(ENTITIES["FeatureOfInterest"], body["FeatureOfInterest"],
                                                     parent=owner)
        if vals.get("feature_id") is None and foi is not None:
            vals["feature_id"] = foi
        if mds is not None:
            n = self.c.fetchval("SELECT COUNT(*) FROM sta_mds_properties WHERE multi_datastream_id = ?", (mds,))
            res = body.get("result")
            if not isinstance(res, list) or len(res) != n:
                raise BadRequest(f"The result of a MultiDatastream Observation must be an array of {n} values.")
        if vals.get("feature_id") is None:
            vals["feature_id"] = self.feature_for(thing_id)
        if "phen_start" not in vals or vals["phen_start"] is None:
            vals["phen_start"], vals["phen_end"] = now_stored(), None
        new_id = self.insert("sta_observations", vals)
        self.last_row = {**vals, "id": new_id}
        track(self.c, table, parent, new_id, vals["phen_start"], vals.get("phen_end"), vals.get("result_time"))
        self.emit("created", ENTITIES["Observation"], new_id, dataset_id, {
            "Datastream": ds, "MultiDatastream": mds, "FeatureOfInterest": vals["feature_id"], "Thing": thing_id},
            row=self.last_row)
        return new_id

    # -- events --------------------------------------------------------------------------------
    def emit(self, kind: Kind, e: EntityType, id_: int, dataset_id: int | None, links: dict[str, Any],
             changed: tuple[str, ...] = (), row: dict[str, Any] | None = None) -> None:
        # ``row``: the values written, so that subscribers (MQTT) can render the entity without reading it back
        data = {"links": links, "row": row} if row is not None else {"links": links}
        self.c.emit(Event(kind, e.name, id_, topic="sensing", dataset_id=dataset_id, data=data, changed=changed))

    def links_of(self, e: EntityType, id_: int) -> tuple[dict[str, Any], Any]:
        """The links of row ``id_`` of ``e`` (as its events carry them) and its dataset."""
        cols = [r.fk for r in e.rels if r.kind == "own"]
        has_ds = e.name in ("Thing", "Datastream", "MultiDatastream")
        sel = ", ".join([*cols, "dataset_id"] if has_ds else cols) or "id"
        row = self.c.fetchone(f"SELECT {sel} FROM {e.table} WHERE id = ?", (id_,))
        if row is None:
            raise NotFound(f"{e.name} {id_} does not exist.")
        links = {r.target: row[i] for i, r in enumerate(r for r in e.rels if r.kind == "own")}
        ds = row[len(cols)] if has_ds else None
        if e.name == "Observation":
            src = ("sta_datastreams", links.get("Datastream")) if links.get("Datastream") else (
                "sta_multi_datastreams", links.get("MultiDatastream"))
            r2 = self.c.fetchone(f"SELECT thing_id, dataset_id FROM {src[0]} WHERE id = ?", (src[1],))
            if r2:
                links["Thing"], ds = r2[0], r2[1]
        if e.name == "Location":
            links["Things"] = [r[0] for r in self.c.fetchall("SELECT thing_id FROM sta_thing_locations WHERE location_id = ?",
                                                              (id_,))]
        return links, ds


_SINGLE_PATH = re.compile(r"/?(?:(?:Multi)?Datastreams\(\d{1,18}\)/)?Observations")
_SINGLE_KEYS = frozenset({"result", "phenomenonTime", "resultTime", "resultQuality", "validTime", "parameters"})
_SINGLE_LINKS = frozenset({"Datastream", "MultiDatastream", "FeatureOfInterest"})


def single_observation(path: str, body: Any) -> bool:
    """Whether a POST adds one Observation that only links existing entities (by ``@iot.id``): it reads its
    parent and writes one row (and the parent's envelope), so it may share a transaction with others like it
    (:meth:`~urbanos.storage.Database.write_grouped`)."""
    if type(body) is not dict or not _SINGLE_PATH.fullmatch(path):
        return False
    for k, v in body.items():
        if k in _SINGLE_LINKS:
            if type(v) is not dict or len(v) != 1 or "@iot.id" not in v:
                return False
        elif k not in _SINGLE_KEYS:
            return False
    return True


def _check_mds(body: dict[str, Any]) -> None:
    if body.get("observationType", "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_ComplexObservation") \
            != "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_ComplexObservation":
        raise BadRequest("MultiDatastream.observationType must be OM_ComplexObservation.")


__all__ = ["Writer", "NO_PARENT", "single_observation"]
