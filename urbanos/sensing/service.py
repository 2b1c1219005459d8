"""The SensorThings service: what HTTP, MQTT and batch requests call.

Other capabilities (and the MQTT sub-package) reach it as :class:`urbanos.ports.SensingPort`
(``platform.require(SensingPort)``); the capability's own modules that run inside its transactions (batch
requests) take the typed service from :func:`sensing_service`.

* ``async read_path(version, path, query, identity, base_url) -> dict`` — exactly what HTTP GET of
  ``/sta/{version}/{path}?{query}`` returns as JSON (raises NotFound, BadRequest … like GET).
* ``async create_at_path(version, path, body, identity, base_url) -> dict`` — exactly what HTTP POST to
  that path does; returns the created entity's JSON.
* ``async entity_json(version, entity_set, id, identity, base_url, select=None) -> dict | None`` — one
  entity as GET would serve it; None when missing or not visible to ``identity``; ``entities_json`` many at once.
* Every create/update/delete emits ``Event(kind, entity="<EntityType>", id=<id>, topic="sensing",
  dataset_id=<dataset id or None>, data={"links": {"Datastream": 5, "FeatureOfInterest": 3, "Thing": 2,
  "MultiDatastream": None, ...}}, changed=(<changed property names on update>))`` through ``conn.emit``.
* Every GET of the HTTP API (and of a ``$batch``) publishes one :class:`urbanos.events.Usage` (``api="sta"``) per
  catalogue dataset whose data it served; reads through the port are the caller's to count.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import jsonpatch  # type: ignore[import-untyped]

from urbanos.core.ids import parse_id
from urbanos.core.text import nul_field, nul_problem
from urbanos.errors import BadRequest, ConfigError, Forbidden, MethodNotAllowed, NotFound
from urbanos.events import Usage
from urbanos.governance import ADMIN, Gate
from urbanos.ports import DatastreamOwner, SensingPort, SensorRef
from urbanos.query.ast import QueryOptions
from urbanos.query.jsonpatch_guard import check_json_patch
from urbanos.sensing import bulk, dataarray, purge, release
from urbanos.sensing import options as qopts
from urbanos.sensing.datasets import dataset_sensors
from urbanos.sensing.formats import reformat
from urbanos.sensing.model import BY_SET, DATASET_OWNERS, ENTITIES, SET_ORDER, EntityType, Rel
from urbanos.sensing.ownership import owner_sql
from urbanos.sensing.paths import Target, parse_path, resolve_path
from urbanos.sensing.query import Ctx, fetch, next_link, serialize
from urbanos.sensing.release import dataset_of
from urbanos.sensing.serialize import observation_json, prop_value, self_link, with_dataset
from urbanos.sensing.update import delete, update
from urbanos.sensing.write import Writer, single_observation

if TYPE_CHECKING:
    from urbanos.governance import Identity
    from urbanos.platform import Platform
    from urbanos.storage import Connection

CONFORMANCE = [
    "http://www.opengis.net/spec/iot_sensing/1.1/req/datamodel",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/resource-path/resource-path-to-entities",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/request-data",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/create-update-delete",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/batch-request/batch-request",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/multi-datastream",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/data-array/data-array",
]
# The MQTT classes are added by urbanos.sensing.mqtt through platform.services["sta_server_settings"].

Read = tuple[str, Any]
"""What a read answers: ``("json", body)``, ``("geojson", body)``, ``("csv", text)`` or ``("value", raw value)``
(None: a property whose value is null, 204 No Content)."""


class SensingService:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.db = platform.db
        self.gate = platform.gate
        s = platform.settings
        self.max_top = int(getattr(s, "sta_max_top", 1000))
        self.default_top = int(getattr(s, "sta_default_top", 100))
        self.count_mode = str(getattr(s, "sta_count_mode", "exact"))
        self.count_cap = int(getattr(s, "sta_count_cap", 0))
        self.conformance = list(CONFORMANCE)

    # -- helpers -------------------------------------------------------------------------------
    def ctx(self, version: str, identity: Identity, base_url: str) -> Ctx:
        if version not in ("v1.0", "v1.1"):
            raise NotFound(f"SensorThings version {version!r} is not served; use v1.0 or v1.1.")
        ctx = Ctx(version=version, base=base_url.rstrip("/"), identity=identity, gate=self.gate,
                  dialect=self.db.dialect, max_top=self.max_top, default_top=self.default_top,
                  count_mode=self.count_mode, count_cap=self.count_cap)
        ctx.scrub = lambda conn, e, rows, outs: release.scrub(self.gate, conn, ctx, e, rows, outs)
        return ctx

    def options(self, query: dict[str, str]) -> QueryOptions:
        return qopts.parse(query, max_top=self.max_top, default_top=self.default_top)

    def root(self, version: str, base_url: str) -> dict[str, Any]:
        base = f"{base_url.rstrip('/')}/sta/{version}"
        value = [{"name": n, "url": f"{base}/{n}"} for n in SET_ORDER]
        out: dict[str, Any] = {"value": value}
        if version == "v1.1":
            conf = list(self.conformance)
            extra = self.platform.services.get("sta_server_settings") or {}
            conf += [k for k in extra if k not in conf]
            out["serverSettings"] = {"conformance": conf, **{k: v for k, v in extra.items()}}
        return out

    def observe(self, conn: Connection, ctx: Ctx) -> None:
        """Report reads of non-open datasets to the gate's audit hooks (and remember each dataset read)."""
        for ds_id in ctx.datasets:
            ds, _grants = self.gate.dataset_access(conn, ds_id)
            ctx.datasets[ds_id] = ds
            self.gate.observe(ctx.identity, ds, "read")

    def transform(self, conn: Connection, ctx: Ctx, e: EntityType, rows: list[dict[str, Any]],
                  outs: list[dict[str, Any]], stream: bool = False) -> list[dict[str, Any]]:
        """Apply the gate's privacy transforms per dataset to the entities served (:func:`release.transform`)."""
        return release.transform(self.gate, conn, ctx, e, rows, outs, stream)

    def _publish_usage(self, ctx: Ctx) -> None:
        """One usage per catalogue dataset whose data a GET served (read by :meth:`observe`)."""
        app = ctx.identity.application or ""
        self.platform.bus.deliver_local([
            Usage(kind="api_read", api="sta", dataset=ds.name if ds is not None else "", dataset_id=ds_id,
                  application=app).to_event()
            for ds_id, ds in ctx.datasets.items()])

    # -- reads ---------------------------------------------------------------------------------
    def _read(self, conn: Connection, ctx: Ctx, path: str, query: dict[str, str]) -> Read:
        steps, tail = parse_path(path)
        t = resolve_path(conn, steps, tail, self.gate, ctx.identity, ctx.extensions)
        opts = self.options(query)
        if t.prop is not None:
            return self._property(conn, ctx, t)
        if t.single:
            return self._read_one(conn, ctx, t, opts)
        url = f"{ctx.base}/sta/{ctx.version}/{path.strip('/')}"
        rows, more, last, total = fetch(conn, t.e, (t.cond, t.params), opts, ctx, query.get("$skiptoken"))
        body: dict[str, Any] = {}
        if total is not None:
            body["@iot.count"] = total
        if t.ref:
            outs = [{"@iot.selfLink": self_link(ctx.base, ctx.version, t.e, r["id"])} for r in rows]
        else:
            outs = self.transform(conn, ctx, t.e, rows, serialize(conn, t.e, rows, opts, ctx))
        if more and last is not None:
            body["@iot.nextLink"] = next_link(url, query, last)
        body["value"] = outs
        fmt = (opts.result_format or "").lower()
        if fmt and ctx.aggregated:
            raise Forbidden("Observations released as aggregates by a privacy rule are served as JSON only; "
                            "$resultFormat is not served for them.", code="privacy_rule")
        if ctx.aggregated:
            body.pop("@iot.count", None)  # the count of raw rows is not released
        self.observe(conn, ctx)
        if fmt and not t.ref:
            return reformat(fmt, t.e, rows, body, ctx, conn, opts.select)
        return "json", body

    def _read_one(self, conn: Connection, ctx: Ctx, t: Target, opts: QueryOptions) -> Read:
        rows, _more, _last, _n = fetch(conn, t.e, (t.cond, t.params), QueryOptions(top=1), ctx)
        if not rows:
            raise NotFound(f"{t.e.name} {t.id} does not exist.")
        if t.ref:
            return "json", {"@iot.selfLink": self_link(ctx.base, ctx.version, t.e, rows[0]["id"])}
        single_opts = QueryOptions(select=opts.select, expand=opts.expand)
        outs = self.transform(conn, ctx, t.e, rows, serialize(conn, t.e, rows, single_opts, ctx))
        if not outs:
            raise NotFound(f"{t.e.name} {t.id} does not exist.")
        self.observe(conn, ctx)
        return "json", outs[0]

    def _property(self, conn: Connection, ctx: Ctx, t: Target) -> Read:
        e, name = t.e, t.prop
        assert name is not None and t.id is not None
        if name == "id":
            return ("value", t.id) if t.value else ("json", {"@iot.id": t.id})
        p = e.prop_map[name]
        if p not in e.props_for(ctx.version):
            raise NotFound(f"{e.name} has no property {name!r} in SensorThings {ctx.version}.")
        ruled = self.gate.ruled(ctx.identity, dataset_of(conn, self.gate, e.name, t.id))
        if ruled:
            raise Forbidden(f"This {e.name} is under privacy rules ({', '.join(ruled)}); its properties are not served "
                            "one by one. Read the entity set.", code="privacy_rule", detail={"rule": ruled})
        cols = [f"{p.column}_start", f"{p.column}_end"] if p.kind == "interval" else [p.column]
        with_ds = name == "properties" and e.name in DATASET_OWNERS
        if with_ds:
            cols.append("(SELECT dn.name FROM datasets dn WHERE dn.id = dataset_id) AS _ds_name")
        row = conn.rows(f"SELECT {', '.join(cols)} FROM {e.table} WHERE id = ?", (t.id,))
        if not row:
            raise NotFound(f"{e.name} {t.id} does not exist.")
        v = with_dataset(row[0][p.column], row[0]["_ds_name"]) if with_ds else prop_value(p, row[0])
        if t.value or v is None:  # a property whose value is null answers 204 No Content (the route's empty value)
            return "value", v
        return "json", {name: v}

    async def read(self, version: str, path: str, query: dict[str, str], identity: Identity, base_url: str) -> Read:
        """A GET of the HTTP API (also inside ``$batch``): its answer, and one usage per dataset served."""
        ctx = self.ctx(version, identity, base_url)
        out = await self.db.read(lambda c: self._read(c, ctx, path, query))
        if ctx.datasets:
            self._publish_usage(ctx)
        return out

    async def read_path(self, version: str, path: str, query: dict[str, str], identity: Identity,
                        base_url: str) -> dict[str, Any]:
        ctx = self.ctx(version, identity, base_url)
        kind, body = await self.db.read(lambda c: self._read(c, ctx, path, query))
        if kind == "value":
            return {"value": body}
        if kind != "json":
            raise BadRequest("This result format is not JSON.")
        return body

    def entity_sync(self, conn: Connection, ctx: Ctx, e: EntityType, id_: int,
                    select: list[str] | None = None) -> dict[str, Any] | None:
        sel = tuple((s,) for s in select) if select else None
        rows, _m, _l, _n = fetch(conn, e, ("a.id = ?", [id_]), QueryOptions(top=1), ctx)
        if not rows:
            return None
        outs = self.transform(conn, ctx, e, rows, serialize(conn, e, rows, QueryOptions(select=sel), ctx), stream=True)
        return outs[0] if outs else None

    async def entity_json(self, version: str, entity_set: str, id: Any, identity: Identity, base_url: str,
                          select: list[str] | None = None) -> dict[str, Any] | None:
        e = BY_SET.get(entity_set) or ENTITIES.get(entity_set)
        if e is None:
            return None
        id_ = id if isinstance(id, int) and not isinstance(id, bool) else parse_id(id) if isinstance(id, str) else None
        if id_ is None:
            return None
        ctx = self.ctx(version, identity, base_url)
        return await self.db.read(lambda c: self.entity_sync(c, ctx, e, id_, select))

    async def entities_json(self, version: str, entity_set: str, ids: list[int], identity: Identity, base_url: str,
                            select: list[str] | None = None) -> list[dict[str, Any] | None]:
        """The entities ``ids`` of ``entity_set`` as a GET serves them (the gate's filter, privacy transforms and read
        audit), in one read transaction; None for each one missing or not visible to ``identity``."""
        e = BY_SET[entity_set]
        ctx = self.ctx(version, identity, base_url)
        uniq = sorted(set(ids))
        sel = tuple((s,) for s in select) if select else None

        def read(c: Connection) -> list[dict[str, Any] | None]:
            cond = (f"a.id IN ({', '.join('?' * len(uniq))})", list(uniq))
            rows = fetch(c, e, cond, QueryOptions(top=len(uniq)), ctx)[0]
            outs = self.transform(c, ctx, e, rows, serialize(c, e, rows, QueryOptions(select=sel), ctx), stream=True)
            self.observe(c, ctx)
            by_id = {int(r["id"]): o for r, o in zip(rows, outs, strict=True)}
            return [by_id.get(i) for i in ids]

        return await self.db.read(read)

    async def dataset_sensors(self, identity: Identity, dataset: str, limit: int) -> list[SensorRef]:
        """The Things of dataset ``dataset`` with their locations and Datastreams (:mod:`urbanos.sensing.datasets`)."""
        return await self.db.read(lambda c: dataset_sensors(c, self.gate, identity, dataset, limit))

    def datastream_owner(self, c: Connection, datastream_id: int) -> DatastreamOwner | None:
        """The dataset and effective owner of Datastream ``datastream_id`` (:func:`owner_sql`), or None."""
        row = c.fetchone(f"SELECT d.name, d.dataset_id, (SELECT n.name FROM datasets n WHERE n.id = d.dataset_id),"
                         f" {owner_sql(ENTITIES['Datastream'], 'd')} FROM sta_datastreams d WHERE d.id = ?",
                         (datastream_id,))
        if row is None:
            return None
        return DatastreamOwner(datastream_id, str(row[0] or ""), None if row[1] is None else int(row[1]), row[2], row[3])

    # -- writes --------------------------------------------------------------------------------
    def _write_target(self, conn: Connection, ctx: Ctx, path: str) -> tuple[Target, Writer]:
        """The path a write addresses, resolved through the rows the caller may read or change (a publisher
        feeds its organisation's confidential Datastreams without a grant to read them), and its writer."""
        steps, tail = parse_path(path)
        w = Writer(conn, ctx.version, ctx.identity, self.gate)
        return resolve_path(conn, steps, tail, self.gate, ctx.identity, ctx.extensions, reach=w.own.reach), w

    @staticmethod
    def _single(conn: Connection, t: Target) -> int:
        """The id of the one entity a write path addresses (404 when the path leads nowhere)."""
        row = conn.fetchone(f"SELECT a.id FROM {t.e.table} a WHERE {t.cond}", t.params)
        if row is None:
            raise NotFound(f"{t.e.name} {t.id} does not exist.")
        return int(row[0])

    def create_sync(self, conn: Connection, ctx: Ctx, path: str, body: Any) -> dict[str, Any]:
        refuse_nul(body)
        t, w = self._write_target(conn, ctx, path)
        if t.prop is not None or (t.single and not t.ref):
            raise BadRequest("POST goes to an entity set or a navigation collection.")
        if not isinstance(body, dict):
            raise BadRequest(f"The body must be a JSON object describing a {t.e.name}.")
        if t.parent is None:
            if t.ref:
                raise BadRequest("$ref can only be posted to a navigation collection.")
            new_id = w.create(t.e, {k: v for k, v in body.items() if k != "@iot.id"})
            if t.e.name == "Observation" and w.last_row is not None:
                return observation_json(w.last_row, ctx.version, ctx.base, ctx.extensions)
        else:
            new_id = self._create_under(w, t, body)
            if t.ref:
                return {}
        out = self.entity_sync(conn, ctx, t.e, new_id)
        if out is None:  # created but not visible to the caller (dataset rules)
            out = {"@iot.id": new_id, "@iot.selfLink": self_link(ctx.base, ctx.version, t.e, new_id)}
        return out

    @staticmethod
    def _create_under(w: Writer, t: Target, body: dict[str, Any]) -> int:
        """Create (or link, for ``$ref`` and ``@iot.id``) at a navigation path; the new entity's id."""
        assert t.parent is not None
        pe, pid, rel = t.parent
        # what is created or linked under a navigation path changes its parent too, and takes the parent's owner
        # (a new Observation: its parent query checks the (Multi)Datastream, with no query more)
        new_obs = t.e.name == "Observation" and rel.kind == "rev" and not (t.ref or "@iot.id" in body)
        owner = None if new_obs else w.own.check(pe, pid, NotFound(f"{pe.name} {pid} does not exist."))
        if rel.kind == "rev":
            if t.ref or "@iot.id" in body:
                new_id = w.exists(t.e, body.get("@iot.id"))
                update(w, t.e, new_id, {rel.fk and _rel_back(t.e, rel): {"@iot.id": pid}})
                return new_id
            return w.create(t.e, body, {rel.fk: pid}, owner)
        new_id = w.exists(t.e, body.get("@iot.id")) if t.ref else w.create_or_link(t.e, body, parent=owner)
        w.link(rel, pid, new_id)
        if pe.name == "Thing" and rel.name == "Locations":
            w.historical(pid, [new_id])
        elif pe.name == "Location" and rel.name == "Things":
            w.historical(new_id, [pid])
        return new_id

    def write_entities(self, c: Connection, identity: Identity, ops: list[tuple[str, str, dict[str, Any]]]) -> list[int]:
        """POSTs and PATCHes as the v1.1 HTTP API does them, in the caller's transaction; the ids written."""
        Gate.require_somewhere(identity, "publisher")
        ctx = self.ctx("v1.1", identity, "")
        out: list[int] = []
        for method, path, body in ops:
            refuse_nul(body)
            t, w = self._write_target(c, ctx, path)
            if method == "PATCH" and t.single and t.prop is None and not t.ref:
                out.append(self._single(c, t))
                update(w, t.e, out[-1], body)
            elif method == "POST" and isinstance(body, dict) and t.prop is None and not t.single and not t.ref:
                top = {k: v for k, v in body.items() if k != "@iot.id"}
                out.append(w.create(t.e, top) if t.parent is None else self._create_under(w, t, body))
            else:
                raise BadRequest(f"{method} {path}: write_entities takes POST to a collection or PATCH of one entity.")
        return out

    def create_observations(self, c: Connection, identity: Identity, body: list[dict[str, Any]]) -> list[str]:
        """``POST /CreateObservations`` (the dataArray extension) in the caller's transaction."""
        Gate.require_somewhere(identity, "publisher")
        return dataarray.create_sync(c, "v1.1", "", body, identity, self.gate)

    async def create_at_path(self, version: str, path: str, body: dict[str, Any], identity: Identity,
                             base_url: str) -> dict[str, Any]:
        Gate.require_somewhere(identity, "publisher")
        ctx = self.ctx(version, identity, base_url)
        write = self.db.write_grouped if single_observation(path, body) else self.db.write
        return await write(lambda c: self.create_sync(c, ctx, path, body))

    def update_sync(self, conn: Connection, ctx: Ctx, path: str, body: Any, mode: str) -> dict[str, Any]:
        refuse_nul(body)
        t, w = self._write_target(conn, ctx, path)
        if not t.single or t.prop is not None or t.ref:
            raise _not_allowed(t, "Updating a collection, a property or a reference is not supported; PATCH or PUT one "
                                  "entity.")
        id_ = self._single(conn, t)
        if mode == "json-patch":
            w.own.check(t.e, id_, NotFound(f"{t.e.name} {t.id} does not exist."))
            update(w, t.e, id_, self._patched(conn, ctx, t, id_, body))
        else:
            update(w, t.e, id_, body, replace=(mode == "replace"))
        return self.entity_sync(conn, ctx, t.e, id_) or {}

    def _patched(self, conn: Connection, ctx: Ctx, t: Target, id_: int, body: Any) -> dict[str, Any]:
        """The changes a JSON-Patch document makes to entity ``id_`` (removed members become null)."""
        # the document the patch applies to, as stored: the caller may change this entity (a publisher of its
        # organisation), though the dataset's rules may not let it read the entity back
        current = self.entity_sync(conn, ctx, t.e, id_) or self.entity_sync(conn, replace(ctx, identity=ADMIN), t.e, id_) or {}
        doc = {k: v for k, v in current.items() if not k.startswith("@iot.") and "@iot." not in k}
        if not isinstance(body, list):
            raise BadRequest("A JSON-Patch document is a JSON array of operations.")
        check_json_patch(body, doc)  # bounded before it runs: `copy` doubles a document per operation
        try:
            patched = jsonpatch.JsonPatch(body).apply(doc)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError, ValueError, KeyError) as exc:
            raise BadRequest(f"The JSON-Patch cannot be applied: {exc}.") from None
        if not isinstance(patched, dict):
            raise BadRequest("The JSON-Patch must leave an object.")
        changes = {k: v for k, v in patched.items() if doc.get(k, object()) != v}
        for k in doc:
            if k not in patched:
                changes[k] = None
        return changes

    async def update_at_path(self, version: str, path: str, body: Any, identity: Identity, base_url: str,
                             mode: str = "merge") -> dict[str, Any]:
        Gate.require_somewhere(identity, "publisher")
        ctx = self.ctx(version, identity, base_url)
        return await self.db.write(lambda c: self.update_sync(c, ctx, path, body, mode))

    def delete_sync(self, conn: Connection, ctx: Ctx, path: str) -> None:
        t, w = self._write_target(conn, ctx, path)
        if t.ref and t.parent is not None and t.single:
            pe, pid, rel = t.parent
            if rel.kind == "link":
                assert t.id is not None
                # both ends change: the caller must be allowed to change each
                own = w.own
                own.check(pe, pid, NotFound(f"{pe.name} {pid} does not exist."))
                missing = NotFound(f"{t.e.name} {t.id} does not exist.")
                if conn.fetchone(f"SELECT 1 FROM {rel.table} WHERE {rel.src} = ? AND {rel.dst} = ?", (pid, t.id)) is None:
                    raise missing
                own.check(t.e, t.id, missing)
                conn.execute(f"DELETE FROM {rel.table} WHERE {rel.src} = ? AND {rel.dst} = ?", (pid, t.id))
                return
            raise BadRequest("This relation cannot be removed; the entity needs it.")
        if not t.single or t.prop is not None or t.ref:
            raise _not_allowed(t, "Deleting a collection or a property is not supported; DELETE one entity.")
        delete(w, t.e, self._single(conn, t))

    async def delete_at_path(self, version: str, path: str, identity: Identity, base_url: str) -> None:
        Gate.require_somewhere(identity, "publisher")
        ctx = self.ctx(version, identity, base_url)
        await self.db.write(lambda c: self.delete_sync(c, ctx, path))

    # -- retention and assessments (privacy, through the port) -------------------------------------------------
    def purge_observations(self, c: Connection, dataset_id: int, before: str,
                           datastream_ids: list[int] | None = None) -> int:
        return purge.purge_observations(c, dataset_id, before, datastream_ids)

    def observed_property(self, c: Connection, observed_property_id: int) -> tuple[str, str | None] | None:
        return purge.observed_property(c, observed_property_id)

    # -- bulk writes for machine feeds (urbanos.sensing.bulk) ------------------------------------------------
    def create_things_bulk(self, c: Connection, identity: Identity, things: list[dict[str, Any]]) -> list[dict[str, Any]]:
        Gate.require_somewhere(identity, "publisher")
        return bulk.create_things(c, identity, self.gate, things)

    def create_observations_bulk(self, c: Connection, identity: Identity,
                                 rows: list[tuple[Any, ...]]) -> list[int | None]:
        Gate.require_somewhere(identity, "publisher")
        return bulk.create_observations(c, identity, self.gate, rows)


def _not_allowed(t: Target, message: str) -> MethodNotAllowed:
    """405 for a change of what is read only: a property, a top-level $ref list (GET), a collection (GET, POST)."""
    allow = "GET" if t.prop is not None or (t.ref and t.parent is None) else "GET, POST"
    return MethodNotAllowed(message, headers={"Allow": allow})


def refuse_nul(body: Any) -> None:
    """A write whose text holds a NUL is refused, naming the field (HTTP bodies are checked as they are parsed;
    this covers $batch parts and MQTT publishes, which reach the service without that parser)."""
    if (nul := nul_problem(body)) is not None:
        raise BadRequest(nul, detail={"field": nul_field(body)})


def _rel_back(e: EntityType, rel: Rel) -> str:
    for r in e.rels:
        if r.kind == "own" and r.fk == rel.fk:
            return r.name
    raise BadRequest("This relation cannot be set here.")


def sensing_service(platform: Platform) -> SensingService:
    """The platform's SensorThings service with its in-transaction methods, for the capability's own modules (routes,
    batch requests); other capabilities ask ``platform.require(SensingPort)``."""
    svc = platform.require(SensingPort)
    if not isinstance(svc, SensingService):
        raise ConfigError(f"SensingPort is provided by {type(svc).__name__}, not by the sensing capability's "
                          "SensingService; the SensorThings routes need the latter.")
    return svc


__all__ = ["SensingService", "CONFORMANCE", "Read", "sensing_service"]
