"""Reading: collections and entities with $filter, $expand, $select, $orderby, $top, $skip, $count,
server-driven paging (@iot.nextLink with key-set tokens) and the gate on every path."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import orjson

from urbanos.errors import BadRequest
from urbanos.query.ast import Expand, OrderBy, Property, QueryOptions
from urbanos.query.odata.unparse import orderby_text, to_text
from urbanos.sensing.access import visibility, visible_to
from urbanos.sensing.filtering import compile_filter, compile_value
from urbanos.sensing.model import DATASET_OWNERS, ENTITIES, EXTENSIONS, EntityType, Rel
from urbanos.sensing.resolve import Col, resolve
from urbanos.sensing.serialize import column_names, columns, entities, self_link

if TYPE_CHECKING:
    from collections.abc import Callable

    from urbanos.governance import DatasetAccess, Gate, Identity
    from urbanos.governance.visibility import Visibility
    from urbanos.storage import Connection, Dialect


@dataclass
class Ctx:
    """One request's reading context: who reads, under which base URL and version, within which limits; and what it
    read (``datasets``: the catalogue datasets whose data it served, with their access once observed)."""

    version: str
    base: str
    identity: Identity
    gate: Gate
    dialect: Dialect
    max_top: int = 1000
    default_top: int = 100
    count_mode: str = "exact"
    count_cap: int = 0
    extensions: frozenset[str] = EXTENSIONS
    datasets: dict[int, DatasetAccess | None] = field(default_factory=dict)
    aggregated: bool = False  # the privacy rules released Observations of this read as aggregates
    # the privacy rules on expanded entities: (conn, entity, rows, outs) -> outs, None where one is withheld
    scrub: Callable[[Connection, EntityType, list[dict[str, Any]], list[dict[str, Any]]],
                    list[dict[str, Any] | None]] | None = None
    # $expand budget of one request (None: the settings sta_expand_max_entities / sta_expand_max_queries)
    expand_max_entities: int | None = None
    expand_max_queries: int | None = None
    expanded_entities: int = 0
    expand_queries: int = 0
    # the datasets the caller may read, as the gate's cache had them for the read ``view_conn`` (one per request)
    view: Visibility | None = None
    view_conn: Connection | None = None


def view_of(ctx: Ctx, conn: Connection) -> Visibility | None:
    """The caller's :class:`~urbanos.governance.visibility.Visibility` for the read ``conn``: looked up once per
    transaction (one primary-key read of the stamp), however many statements the request runs."""
    if ctx.identity.is_admin:
        return None
    if ctx.view_conn is not conn:
        ctx.view = ctx.gate.visibility(conn, ctx.identity)
        ctx.view_conn = conn
    return ctx.view


# -- filter and order compilation -------------------------------------------------------------------

def order_keys(e: EntityType, a: str, orderby: tuple[OrderBy, ...], ctx: Ctx) -> list[tuple[str, bool, bool]]:
    """(sql, descending, nullable) for each key, always ending with the id as a tie-breaker."""
    keys: list[tuple[str, bool, bool]] = []
    for ob in orderby:
        expr = ob.expr
        if isinstance(expr, Property) and e.name == "Observation" and expr.path == ("result",):
            keys += [(f"{a}.result_num", ob.descending, True), (f"{a}.result", ob.descending, True)]
        elif isinstance(expr, Property):
            col: Col = resolve(e, a, expr.path, ctx.dialect, visible_to(ctx))
            if col.type == "geometry":
                raise BadRequest("Geometries cannot be ordered.")
            if col.type == "json":
                if not col.json_path:
                    raise BadRequest(f"{'/'.join(expr.path)!r} is an object; order by one of its members.")
                sql = ctx.dialect.json_get(col.sql, *col.json_path)
            else:
                sql = col.start if col.type == "interval" else col.sql
            keys.append((sql, ob.descending, col.nullable))
        else:
            sql, params = compile_value(e, a, expr, ctx)
            if not _has_property(expr):
                continue  # a constant orders nothing (and a bare number would name a column position in SQL)
            if params:
                raise BadRequest("$orderby expressions with literals are not supported.")
            keys.append((sql, ob.descending, True))
    # The id breaks ties against the direction of the last key: with the Observation index
    # (datastream_id, phen_start DESC, id) both "phenomenonTime desc" and "asc" are pure index scans.
    last_desc = keys[-1][1] if keys else True
    keys.append((f"{a}.id", not last_desc, False))
    return keys


def _has_property(node: Any) -> bool:
    if isinstance(node, Property):
        return True
    for v in getattr(node, "__dict__", {}).values():
        items = v if isinstance(v, tuple) else (v,)
        if any(hasattr(x, "__dataclass_fields__") and _has_property(x) for x in items):
            return True
    return False


def _order_sql(keys: list[tuple[str, bool, bool]], ctx: Ctx) -> str:
    parts = []
    pg = ctx.dialect.name == "postgresql"
    for sql, desc, nullable in keys:
        s = f"{sql} {'DESC' if desc else 'ASC'}"
        if pg and nullable:
            s += " NULLS LAST" if desc else " NULLS FIRST"
        parts.append(s)
    return ", ".join(parts)


def _keyset(keys: list[tuple[str, bool, bool]], values: list[Any]) -> tuple[str, list[Any]]:
    """Rows strictly after ``values`` in the order of ``keys`` (ascending: nulls first; descending: nulls last)."""
    ors: list[str] = []
    params: list[Any] = []
    eqs: list[str] = []
    eq_params: list[Any] = []
    for (sql, desc, _nullable), v in zip(keys, values, strict=True):
        after: str | None
        ap: list[Any] = []
        if v is None:
            after = None if desc else f"{sql} IS NOT NULL"
            if desc:
                after = None
        elif desc:
            after, ap = f"({sql} < ? OR {sql} IS NULL)", [v]
        else:
            after, ap = f"{sql} > ?", [v]
        if after is not None:
            ors.append("(" + " AND ".join([*eqs, after]) + ")")
            params += eq_params + ap
        if v is None:
            eqs.append(f"{sql} IS NULL")
        else:
            eqs.append(f"{sql} = ?")
            eq_params.append(v)
    if not ors:
        return "1=0", []
    return "(" + " OR ".join(ors) + ")", params


def encode_token(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode().rstrip("=")


def decode_token(token: str, n: int) -> list[Any]:
    try:
        vals = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except Exception:
        raise BadRequest("$skiptoken is not valid.") from None
    if not isinstance(vals, list) or len(vals) != n:
        raise BadRequest("$skiptoken does not match the query.")
    return vals


# -- the collection query ---------------------------------------------------------------------------

def _where(e: EntityType, a: str, base: tuple[str, list[Any]], opts: QueryOptions, ctx: Ctx, conn: Connection
           ) -> tuple[str, list[Any]]:
    parts, params = [base[0]], list(base[1])
    vis = visibility(e, a, ctx.gate, ctx.identity, bounded=base[0] != "1=1", c=conn, view=view_of(ctx, conn),
                     parent=_parent(e, a, base))
    if vis:
        parts.append(vis[0])
        params += vis[1]
    if opts.filter is not None:
        fs, fp = compile_filter(e, a, opts.filter, ctx, conn)
        parts.append(f"({fs})")
        params += fp
    return " AND ".join(parts), params


def _parent(e: EntityType, a: str, base: tuple[str, list[Any]]) -> tuple[str, Any] | None:
    """``(column, id)`` when ``base`` keeps the Observations of one (Multi)Datastream (a navigation path or an
    expanded Datastream's Observations)."""
    if e.name != "Observation" or len(base[1]) != 1:
        return None
    for col in ("datastream_id", "multi_datastream_id"):
        if base[0] == f"{a}.{col} = ?":
            return col, base[1][0]
    return None


_SELECT_COLS: dict[tuple[str, str], str] = {}


def _select_cols(e: EntityType, a: str) -> str:
    """The SELECT list of ``e`` under alias ``a``. Observations also carry ``_ds``, the dataset of their
    (Multi)Datastream, looked up per row by primary key in the same statement (for the gate); Things and
    (Multi)Datastreams carry ``_ds_name``, the name of their own dataset."""
    key = (e.name, a)
    sql = _SELECT_COLS.get(key)
    if sql is None:
        cols = columns(e, a)
        if e.name == "Observation":
            cols.append(f"COALESCE((SELECT vd.dataset_id FROM sta_datastreams vd WHERE vd.id = {a}.datastream_id),"
                        f" (SELECT vm.dataset_id FROM sta_multi_datastreams vm WHERE vm.id = {a}.multi_datastream_id))"
                        " AS _ds")
        elif e.name in DATASET_OWNERS:  # the dataset's name, shown in properties["urbanos:dataset"]
            cols.append(f"(SELECT dn.name FROM datasets dn WHERE dn.id = {a}.dataset_id) AS _ds_name")
        sql = _SELECT_COLS[key] = ", ".join(cols)
    return sql


def count(conn: Connection, e: EntityType, where: str, params: list[Any], ctx: Ctx) -> int:
    cap = ctx.count_cap
    if cap <= 0:
        return int(conn.fetchval(f"SELECT COUNT(*) FROM {e.table} a WHERE {where}", params))
    n = int(conn.fetchval(f"SELECT COUNT(*) FROM (SELECT 1 FROM {e.table} a WHERE {where} LIMIT {cap + 1}) c", params))
    if n <= cap or ctx.count_mode != "estimate":
        return min(n, cap) if n > cap else n
    if ctx.dialect.name == "postgresql":
        plan = conn.fetchval(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {e.table} a WHERE {where}", params)
        plan = orjson.loads(plan) if isinstance(plan, str | bytes) else plan
        try:
            return max(cap, int(plan[0]["Plan"]["Plan Rows"]))
        except (KeyError, IndexError, TypeError):
            return cap
    return cap


def validate_select(e: EntityType, opts: QueryOptions, ctx: Ctx) -> set[str] | None:
    if opts.select is None:
        return None
    out: set[str] = set()
    for path in opts.select:
        name = path[0]
        if len(path) > 1:
            raise BadRequest(f"$select {'/'.join(path)!r}: only top-level properties can be selected.")
        if name not in ("id", "@iot.id", "@iot.selfLink", "selfLink") and name not in e.prop_map and name not in e.rel_map:
            raise BadRequest(f"$select: {name!r} is not a property of {e.name}.")
        out.add(name)
    return out


def fetch(conn: Connection, e: EntityType, base: tuple[str, list[Any]], opts: QueryOptions, ctx: Ctx,
          token: str | None = None) -> tuple[list[dict[str, Any]], bool, list[Any] | None, int | None]:
    """Rows (raw dicts) of a collection, whether there are more, the key of the last row, the count."""
    a = "a"
    where, params = _where(e, a, base, opts, ctx, conn)
    keys = order_keys(e, a, opts.orderby, ctx)
    total = count(conn, e, where, params, ctx) if opts.count else None
    if token:
        ks, kp = _keyset(keys, decode_token(token, len(keys)))
        where, params = f"{where} AND {ks}", params + kp
    top = ctx.default_top if opts.top is None else opts.top
    top = min(top, ctx.max_top)
    key_cols = ", ".join(f"{k[0]} AS _k{i}" for i, k in enumerate(keys))
    sql = (f"SELECT {_select_cols(e, a)}, {key_cols} FROM {e.table} {a} WHERE {where}"
           f" ORDER BY {_order_sql(keys, ctx)} LIMIT {top + 1}")
    if opts.skip and not token:
        sql += f" OFFSET {int(opts.skip)}"
    rows = conn.rows(sql, params)
    more = len(rows) > top
    rows = rows[:top]
    last = [rows[-1][f"_k{i}"] for i in range(len(keys))] if rows and more else None
    return rows, more, last, total


def next_link(url_base: str, params: dict[str, str], last: list[Any]) -> str:
    q = {k: v for k, v in params.items() if k.lower() not in ("$skip", "$skiptoken")}
    q["$skiptoken"] = encode_token(last)
    return url_base + "?" + urlencode(q, safe="$(),/:;='")


# -- $expand ----------------------------------------------------------------------------------------

def _normalise(expands: tuple[Expand, ...]) -> list[tuple[str, QueryOptions]]:
    out: list[tuple[str, QueryOptions]] = []
    for ex in expands:
        if len(ex.path) == 1:
            out.append((ex.path[0], ex.options))
        else:
            inner = Expand(ex.path[1:], ex.options)
            merged = False
            for i, (name, o) in enumerate(out):
                if name == ex.path[0]:
                    out[i] = (name, QueryOptions(filter=o.filter, orderby=o.orderby, select=o.select,
                                                 expand=(*o.expand, inner), top=o.top, skip=o.skip, count=o.count))
                    merged = True
            if not merged:
                out.append((ex.path[0], QueryOptions(expand=(inner,))))
    return out


def _is_latest(rel: Rel, opts: QueryOptions) -> bool:
    if rel.target != "Observation" or rel.kind != "rev" or opts.filter is not None or opts.skip or opts.count:
        return False
    if opts.top != 1 or len(opts.orderby) != 1:
        return False
    ob = opts.orderby[0]
    return isinstance(ob.expr, Property) and ob.expr.path == ("phenomenonTime",) and ob.descending


EXPAND_MAX_ENTITIES = 20_000
EXPAND_MAX_QUERIES = 2_000
_TOP_HINT = ("ask for fewer with $top inside $expand, e.g. $expand=Datastreams($top=10;$expand=Observations($top=1)), "
             "or use a smaller $top on the collection")


def _expand_limit(ctx: Ctx, name: str, given: int | None, default: int) -> int:
    if given is not None:
        return given
    value = ctx.gate.settings.get(name, default)
    return int(value) if isinstance(value, int) else default


def _spend(ctx: Ctx, *, queries: int = 0, entities: int = 0) -> None:
    """Count what one request's $expand reads; past the budget it is a 400 (before the queries run)."""
    if queries:
        limit = _expand_limit(ctx, "sta_expand_max_queries", ctx.expand_max_queries, EXPAND_MAX_QUERIES)
        ctx.expand_queries += queries
        if ctx.expand_queries > limit:
            raise BadRequest(f"$expand would run more than {limit} queries in one request (setting "
                             f"sta_expand_max_queries): each expanded parent costs one; {_TOP_HINT}.")
    if entities:
        limit = _expand_limit(ctx, "sta_expand_max_entities", ctx.expand_max_entities, EXPAND_MAX_ENTITIES)
        ctx.expanded_entities += entities
        if ctx.expanded_entities > limit:
            raise BadRequest(f"$expand would read more than {limit} entities in one request (setting "
                             f"sta_expand_max_entities); {_TOP_HINT}.")


def expand(conn: Connection, e: EntityType, rows: list[dict[str, Any]], outs: list[dict[str, Any]],
           expands: tuple[Expand, ...], ctx: Ctx, depth: int = 0) -> None:
    if not expands or not rows:
        return
    if depth > 5:
        raise BadRequest("$expand is nested too deeply.")
    for name, opts in _normalise(expands):
        rel = e.rel_map.get(name)
        if rel is None or (rel.extension and rel.extension not in ctx.extensions):
            raise BadRequest(f"$expand: {name!r} is not a navigation property of {e.name}.")
        t = ENTITIES[rel.target]
        sel = validate_select(t, opts, ctx)
        if rel.kind == "own":
            ids = sorted({r[rel.fk] for r in rows if r.get(rel.fk) is not None})
            found: dict[Any, dict[str, Any]] = {}
            if ids:
                _spend(ctx, queries=1)
                marks = ", ".join("?" * len(ids))
                where, params = _where(t, "a", (f"a.id IN ({marks})", list(ids)), opts, ctx, conn)
                crow = conn.rows(f"SELECT {_select_cols(t, 'a')} FROM {t.table} a WHERE {where}", params)
                _spend(ctx, entities=len(crow))
                couts = entities(t, crow, ctx.version, ctx.base, sel, ctx.extensions)
                expand(conn, t, crow, couts, opts.expand, ctx, depth + 1)
                note(ctx, t, crow)
                kept = ctx.scrub(conn, t, crow, couts) if ctx.scrub is not None else couts
                found = {r["id"]: o for r, o in zip(crow, kept, strict=True) if o is not None}
            for r, o in zip(rows, outs, strict=True):
                child = found.get(r.get(rel.fk))
                if child is not None:
                    o[name] = child
            continue
        top = min(ctx.default_top if opts.top is None else opts.top, ctx.max_top)
        groups: dict[Any, list[dict[str, Any]]] = {}
        counts: dict[Any, int] = {}
        more: dict[Any, list[Any]] = {}  # parent id -> key of its last child, when there are more
        pids = [r["id"] for r in rows]
        if _is_latest(rel, opts) and e.name in ("Datastream", "MultiDatastream"):
            _spend(ctx, queries=1)
            marks = ", ".join("?" * len(pids))
            # on (parent, time, id) rather than id alone: on PostgreSQL the time prunes the partitions probed
            latest_in = (f"(a.{rel.fk}, a.phen_start, a.id) IN"
                         f" (SELECT id, last_phen, last_obs_id FROM {e.table} WHERE id IN ({marks}))")
            where, params = _where(t, "a", (latest_in, pids), opts, ctx, conn)
            latest_rows = conn.rows(f"SELECT {_select_cols(t, 'a')} FROM {t.table} a WHERE {where}", params)
            _spend(ctx, entities=len(latest_rows))
            for r in latest_rows:
                groups.setdefault(r[rel.fk], []).append(r)
        else:
            _spend(ctx, queries=len(pids) * (2 if opts.count else 1))  # one (and a count) per parent
            for pid in pids:
                base = (f"a.{rel.fk} = ?", [pid]) if rel.kind == "rev" else (
                    f"a.id IN (SELECT {rel.dst} FROM {rel.table} WHERE {rel.src} = ?)", [pid])
                sub = QueryOptions(filter=opts.filter, orderby=opts.orderby, top=top, skip=opts.skip, count=opts.count)
                crow, m, last, total = fetch(conn, t, base, sub, ctx)
                _spend(ctx, entities=len(crow))
                groups[pid] = crow
                if m and last is not None:
                    more[pid] = last
                if total is not None:
                    counts[pid] = total
        # serialise (and expand further) all children at once, then hand them to their parents
        all_rows = [c for r in rows for c in groups.get(r["id"], [])]
        all_outs = entities(t, all_rows, ctx.version, ctx.base, sel, ctx.extensions)
        expand(conn, t, all_rows, all_outs, opts.expand, ctx, depth + 1)
        note(ctx, t, all_rows)
        scrubbed = ctx.scrub(conn, t, all_rows, all_outs) if ctx.scrub is not None else all_outs
        pos = 0
        for r, o in zip(rows, outs, strict=True):
            n_children = len(groups.get(r["id"], []))
            couts = [c for c in scrubbed[pos : pos + n_children] if c is not None]
            pos += n_children
            if r["id"] in counts:
                o[f"{name}@iot.count"] = counts[r["id"]]
            o[name] = couts
            if r["id"] in more:
                link = f"{self_link(ctx.base, ctx.version, e, r['id'])}/{name}"
                o[f"{name}@iot.nextLink"] = next_link(link, _options_query(opts, top), more[r["id"]])


def _options_query(opts: QueryOptions, top: int) -> dict[str, str]:
    """The query string that asks a navigation collection for what ``opts`` asked of it inside ``$expand``
    (the next page of an expanded collection is a key-set page of that collection)."""
    q = {"$top": str(top)}
    if opts.filter is not None:
        q["$filter"] = to_text(opts.filter)
    if opts.orderby:
        q["$orderby"] = orderby_text(opts.orderby)
    if opts.select is not None:
        q["$select"] = ",".join("/".join(p) for p in opts.select)
    if opts.expand:
        q["$expand"] = _expand_text(opts.expand)
    return q


def _expand_text(expands: tuple[Expand, ...]) -> str:
    items = []
    for ex in expands:
        o = ex.options
        inner = [f"{k}={v}" for k, v in _options_query(o, o.top).items()] if o.top is not None else \
            [f"{k}={v}" for k, v in _options_query(o, 0).items() if k != "$top"]
        if o.skip:
            inner.append(f"$skip={o.skip}")
        if o.count is not None:
            inner.append(f"$count={'true' if o.count else 'false'}")
        items.append("/".join(ex.path) + (f"({';'.join(inner)})" if inner else ""))
    return ",".join(items)


def note(ctx: Ctx, e: EntityType, rows: list[dict[str, Any]]) -> None:
    """Remember which datasets were read (for the gate's observe/transform)."""
    key = "_ds" if e.name == "Observation" else ("dataset_id" if e.name in ("Thing", "Datastream", "MultiDatastream") else "")
    if not key:
        return
    for r in rows:
        ds = r.get(key)
        if ds is not None:
            ctx.datasets.setdefault(int(ds), None)


def serialize(conn: Connection, e: EntityType, rows: list[dict[str, Any]], opts: QueryOptions, ctx: Ctx) -> list[dict[str, Any]]:
    sel = validate_select(e, opts, ctx)
    outs = entities(e, rows, ctx.version, ctx.base, sel, ctx.extensions)
    expand(conn, e, rows, outs, opts.expand, ctx)
    note(ctx, e, rows)
    return outs


__all__ = ["Ctx", "view_of", "fetch", "serialize", "expand", "next_link", "count", "validate_select", "column_names"]
