"""Update (PATCH merge, JSON-Patch, PUT replace) and delete with the specification's cascades.

Both check the caller's rights (:mod:`urbanos.sensing.ownership`) before they write: the entity itself, every entity
an update newly links, and every row of another owner a delete's cascade would remove."""

from __future__ import annotations

from typing import Any

from urbanos.errors import BadRequest, NotFound
from urbanos.sensing.envelope import retrack
from urbanos.sensing.model import ENTITIES, EntityType, Rel
from urbanos.sensing.serialize import load_json
from urbanos.sensing.values import GEO_TYPES, check_keys, column_values, link_id
from urbanos.sensing.write import Writer


def update(w: Writer, e: EntityType, id_: int, body: Any, *, replace: bool = False) -> None:
    if not isinstance(body, dict):
        raise BadRequest(f"The update of a {e.name} must be a JSON object.")
    check_keys(e, body, w.version)
    body, ds_ref, ds_given = w.dataset_ref(e, body)
    # the caller must be allowed to change the entity (Forbidden otherwise); its owner is what new entities created
    # inside it take
    owner = w.own.check(e, id_, NotFound(f"{e.name} {id_} does not exist."))
    links, dataset_id = w.links_of(e, id_)
    if "@iot.id" in body and str(body["@iot.id"]) != str(id_):
        raise BadRequest("@iot.id cannot be changed.")
    if replace:
        for p in e.props_for(w.version):
            if p.required and p.name not in body:
                raise BadRequest(f"PUT replaces the whole {e.name}: {p.name} is mandatory.")
    vals = column_values(e, body, w.version, w.d, replace=replace)
    if e.name in ("Location", "FeatureOfInterest") and "encodingType" in body:
        if body["encodingType"] not in GEO_TYPES:
            raise BadRequest(f"{e.name}.encodingType {body['encodingType']!r} is not supported.")
    if e.name == "Observation" and vals.get("phen_start", "x") is None:
        raise BadRequest("Observation.phenomenonTime cannot be null.")
    if ds_given:  # an absent key leaves the link as it is (also for PUT); null removes it
        ds_id, ds_org = w.dataset_row(ds_ref)
        vals["dataset_id"] = ds_id
        if ds_id is not None:
            vals["owner_org"] = owner = ds_org  # removing the link later leaves the row with this organisation
        else:  # the row's own organisation again
            owner = w.c.fetchval(f"SELECT owner_org FROM {e.table} WHERE id = ?", (id_,))
    old_parent = _own_relations(w, e, id_, body, vals, links, owner)
    before = _location_of(w, id_) if e.name == "Location" and "location" in body else None
    w.update_row(e.table, id_, vals)
    if before is not None and _location_of(w, id_) != before:
        # The FeatureOfInterest generated from this Location describes where it was: Observations made so far
        # keep it, and the next Observation without a FeatureOfInterest gets a new one generated from the
        # Location as it is now (as FROST-Server and istSOS do).
        w.c.execute("UPDATE sta_features SET location_id = NULL WHERE location_id = ?", (id_,))
    _collections(w, e, id_, body, links, owner)
    if e.name == "Observation":
        _observation_moved(w, id_, vals, old_parent)
    changed = tuple(k for k in body if k in e.prop_map or k in e.rel_map)
    w.emit("updated", e, id_, vals.get("dataset_id", dataset_id), links, changed)


def _own_relations(w: Writer, e: EntityType, id_: int, body: dict[str, Any], vals: dict[str, Any],
                   links: dict[str, Any], owner: Any) -> tuple[str, Any] | None:
    """The single-valued relations ``body`` changes, as column values; returns the (Multi)Datastream an Observation
    leaves (its relation name and id), if it moves."""
    old_parent: tuple[str, Any] | None = None
    for r in e.rels:
        if r.kind == "own" and r.name in body:
            ref = body[r.name]
            if ref is None:
                if r.required:
                    raise BadRequest(f"{e.name}.{r.name} cannot be removed.")
                vals[r.fk] = None
            elif isinstance(ref, dict) and "@iot.id" in ref and links.get(r.target) is not None \
                    and link_id(ENTITIES[r.target], ref["@iot.id"]) == links[r.target]:
                vals[r.fk] = links[r.target]  # linked already: not a new link
            else:
                vals[r.fk] = w.create_or_link(ENTITIES[r.target], ref, parent=owner)
            if e.name == "Observation" and r.name in ("Datastream", "MultiDatastream"):
                old_parent = (r.name, links.get(r.name))
    return old_parent


def _collections(w: Writer, e: EntityType, id_: int, body: dict[str, Any], links: dict[str, Any], owner: Any) -> None:
    """The collection relations ``body`` gives: an entity equal to one related already stays, others are created
    or linked; a Thing placed at other Locations gets a HistoricalLocation."""
    for r in e.rels:
        if r.kind == "own" or r.name not in body:
            continue
        items = body[r.name]
        if not isinstance(items, list):
            raise BadRequest(f"{e.name}.{r.name} must be a JSON array.")
        t = ENTITIES[r.target]
        ids: list[int] = []
        current = _related(w, r, id_)
        for item in items:
            same = _same_as(w, t, item, current)
            if same is None and isinstance(item, dict) and "@iot.id" in item and link_id(t, item["@iot.id"]) in current:
                same = link_id(t, item["@iot.id"])  # linked already: not a new link
            if same is not None:
                ids.append(same)
                continue
            if r.kind == "rev":
                cid = w.attach_child(t, r, item, id_, owner)
            else:
                cid = w.create_or_link(t, item, parent=owner)
            ids.append(cid)
        if r.kind == "link":
            if e.name == "Thing" and r.name == "Locations" and sorted(ids) == sorted(current):
                links[r.name] = ids
                continue
            if e.name == "Thing" and r.name == "Locations":
                w.c.execute("DELETE FROM sta_thing_locations WHERE thing_id = ?", (id_,))
            for rank, cid in enumerate(ids):
                w.link(r, id_, cid, rank)
            if e.name == "Thing" and r.name == "Locations" and ids:
                w.historical(id_, ids)
        links[r.name] = ids


def _observation_moved(w: Writer, id_: int, vals: dict[str, Any], old_parent: tuple[str, Any] | None) -> None:
    """An updated Observation still belongs to exactly one (Multi)Datastream, and the envelopes of the ones it
    belongs to (and left) follow a new time or a move."""
    ds, mds = w.c.fetchone("SELECT datastream_id, multi_datastream_id FROM sta_observations WHERE id = ?", (id_,)) or (None, None)
    if (ds is None) == (mds is None):
        raise BadRequest("An Observation belongs to exactly one Datastream or MultiDatastream.")
    if {"phen_start", "phen_end", "result_time"} & vals.keys() or old_parent is not None:
        retrack(w.c, "sta_datastreams", ds)
        retrack(w.c, "sta_multi_datastreams", mds)
        if old_parent and old_parent[1] is not None:
            retrack(w.c, "sta_datastreams" if old_parent[0] == "Datastream" else "sta_multi_datastreams", old_parent[1])


def _location_of(w: Writer, location_id: int) -> Any:
    """A Location's GeoJSON and encoding, as stored, for comparison."""
    row = w.c.fetchone("SELECT location, encoding_type FROM sta_locations WHERE id = ?", (location_id,))
    return None if row is None else (load_json(row[0]), row[1])


def _related(w: Writer, r: Rel, id_: int) -> list[int]:
    t = ENTITIES[r.target]
    if r.kind == "rev":
        return [int(x[0]) for x in w.c.fetchall(f"SELECT id FROM {t.table} WHERE {r.fk} = ?", (id_,))]
    return [int(x[0]) for x in w.c.fetchall(f"SELECT {r.dst} FROM {r.table} WHERE {r.src} = ?", (id_,))]


def _same_as(w: Writer, t: EntityType, item: Any, candidates: list[int]) -> int | None:
    """A nested entity without @iot.id that equals one already related is that entity, not a new copy
    (clients such as frost-sta-client send the whole entity graph back on update)."""
    if not isinstance(item, dict) or "@iot.id" in item or not candidates:
        return None
    if any(k in t.rel_map for k in item):
        return None
    try:
        vals = column_values(t, item, w.version, w.d, replace=False)
    except BadRequest:
        return None
    vals.pop("geom", None)
    if not vals:
        return None
    cols = list(vals)
    marks = ", ".join("?" * len(candidates))
    for row in w.c.fetchall(f"SELECT id, {', '.join(cols)} FROM {t.table} WHERE id IN ({marks})", candidates):
        if all(load_json(v) == load_json(vals[c]) for c, v in zip(cols, row[1:], strict=True)):
            return int(row[0])
    return None


def delete(w: Writer, e: EntityType, id_: int) -> None:
    w.own.check(e, id_, NotFound(f"{e.name} {id_} does not exist."))
    w.own.check_cascade(e, id_)
    links, dataset_id = w.links_of(e, id_)
    c = w.c
    if e.name == "Location":
        c.execute("DELETE FROM sta_historical_locations WHERE id IN (SELECT historical_location_id FROM sta_hist_locations"
                  " WHERE location_id = ?) AND NOT EXISTS (SELECT 1 FROM sta_hist_locations h2 WHERE"
                  " h2.historical_location_id = sta_historical_locations.id AND h2.location_id <> ?)", (id_, id_))
    if e.name == "ObservedProperty":
        c.execute("DELETE FROM sta_multi_datastreams WHERE id IN (SELECT multi_datastream_id FROM sta_mds_properties"
                  " WHERE observed_property_id = ?)", (id_,))
    parents: list[tuple[str, int]] = []
    if e.name == "FeatureOfInterest":
        parents = [("sta_datastreams", r[0]) for r in c.fetchall(
            "SELECT DISTINCT datastream_id FROM sta_observations WHERE feature_id = ? AND datastream_id IS NOT NULL", (id_,))]
        parents += [("sta_multi_datastreams", r[0]) for r in c.fetchall(
            "SELECT DISTINCT multi_datastream_id FROM sta_observations WHERE feature_id = ? AND multi_datastream_id IS NOT NULL",
            (id_,))]
    c.execute(f"DELETE FROM {e.table} WHERE id = ?", (id_,))
    if e.name == "Observation":
        retrack(c, "sta_datastreams", links.get("Datastream"))
        retrack(c, "sta_multi_datastreams", links.get("MultiDatastream"))
    for table, pid in parents:
        retrack(c, table, pid)
    w.emit("deleted", e, id_, dataset_id, links)


__all__ = ["update", "delete"]
