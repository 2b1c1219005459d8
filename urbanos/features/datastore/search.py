"""The DataStore's reads: ``datastore_search``, ``datastore_info`` and ``datastore_search_sql``.

Every read goes through the gate (``can_read``, privacy transforms, ``observe``) and publishes a usage event (API
``datastore``).
"""

from __future__ import annotations

import csv
import io
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from urbanos.core.escaping import spreadsheet_value
from urbanos.errors import Forbidden, NotFound, Unauthorized, ValidationFailed
from urbanos.features import store
from urbanos.features.access import check_read, transform_rows
from urbanos.features.datastore import sql as dsql
from urbanos.features.datastore.args import (
    CKAN_TYPES,
    TEXTUAL,
    bool_arg,
    field_map,
    fields_out,
    guess_type,
    int_arg,
    invalid,
    json_arg,
    names_arg,
    resource_id_arg,
    row_id,
    setting,
    sort_arg,
)
from urbanos.features.datastore.resources import require_meta, resolve
from urbanos.features.usage import publish_usage

if TYPE_CHECKING:
    from urbanos.governance import DatasetAccess, Identity
    from urbanos.platform import Platform
    from urbanos.storage import Connection

log = logging.getLogger("urbanos.features.datastore")


def _record_read(platform: Platform, identity: Identity, ds: DatasetAccess | None, meta: store.CollectionMeta, rid: str,
                 action: str) -> None:
    platform.gate.observe(identity, ds, f"{action} {meta.name}")
    publish_usage(platform, identity, "api_read", "datastore", meta, ds, action=action, resource=rid)


# -- filters and q ----------------------------------------------------------------------------------------------

def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filter_conds(meta: store.CollectionMeta, filters: Any, conds: list[str], params: list[Any]) -> None:
    if not isinstance(filters, dict):
        raise invalid("filters", "Must be a JSON object of field names and values")
    cols = field_map(meta)
    types = {f.name: f.type for f in meta.fields}
    for name, value in filters.items():
        if name not in cols:
            raise invalid("filters", f'field "{name}" not in table')
        values = value if isinstance(value, list) else [value]
        try:
            if name == "_id":
                coerced = [None if v is None else row_id(v) for v in values]
                if any(v is not None and f is None for v, f in zip(values, coerced, strict=True)):
                    raise ValueError
            else:
                coerced = [store.coerce(types[name], v) for v in values]
        except (ValueError, TypeError, OverflowError):
            raise invalid("filters", f'invalid value for field "{name}"') from None
        non_null = [v for v in coerced if v is not None]
        part = []
        if non_null:
            part.append(f"{cols[name]} IN ({', '.join('?' * len(non_null))})")
            params.extend(non_null)
        if len(non_null) < len(coerced):
            part.append(f"{cols[name]} IS NULL")
        conds.append("(" + " OR ".join(part) + ")" if part else "1=0")


def _q_conds(c: Connection, meta: store.CollectionMeta, q: Any, conds: list[str], params: list[Any]) -> None:
    like = c.dialect.like_ci
    if isinstance(q, dict):
        items = list(q.items())
    elif isinstance(q, str):
        items = [(None, q)]
    else:
        raise invalid("q", "Must be a string or an object of field names and strings")
    cols = field_map(meta)
    text_fields = [f for f in meta.fields if f.type in TEXTUAL]
    for name, text in items:
        if name is not None and name not in cols:
            raise invalid("q", f'field "{name}" not in table')
        targets = [cols[name]] if name is not None else [f.column for f in text_fields]
        for word in str(text).split():
            if not targets:
                conds.append("1=0")
                continue
            ors = [f"{like(col)} ? ESCAPE '\\'" for col in targets]
            conds.append("(" + " OR ".join(ors) + ")")
            params.extend([f"%{_escape_like(word)}%"] * len(targets))


def filter_where(c: Connection, meta: store.CollectionMeta, filters: Any, q: Any) -> tuple[str, list[Any]]:
    """SQL over the data table for CKAN's ``filters`` (field → value or values) and ``q`` (words, in every text field
    or by field): ``(condition, params)``; an empty condition matches every row."""
    conds: list[str] = []
    params: list[Any] = []
    if filters not in (None, "", {}):
        _filter_conds(meta, filters, conds, params)
    if q not in (None, "", {}):
        _q_conds(c, meta, q, conds, params)
    return " AND ".join(conds), params


# -- datastore_search -------------------------------------------------------------------------------------------

@dataclass
class _Search:
    """The checked arguments of one datastore_search call."""

    rid: str
    limit: int
    offset: int
    distinct: bool
    include_total: bool
    fmt: str
    filters: Any
    q: Any
    wanted: list[str] | None
    sort: Any

    @classmethod
    def of(cls, platform: Platform, data: dict[str, Any]) -> _Search:
        rid = resource_id_arg(data)
        rows_max = int(setting(platform, "datastore_rows_max", 32000))
        limit = int_arg(data, "limit", 100, rows_max)
        offset = int_arg(data, "offset", 0)
        distinct = bool_arg(data, "distinct", False)
        include_total = bool_arg(data, "include_total", True)
        fmt = data.get("records_format") or "objects"
        if fmt not in ("objects", "lists", "csv", "tsv"):
            raise invalid("records_format", "Must be one of objects, lists, csv, tsv")
        filters, q = json_arg(data, "filters"), data.get("q")
        if isinstance(q, str) and q.strip()[:1] == "{":
            try:
                q = orjson.loads(q)
            except orjson.JSONDecodeError:
                pass
        wanted = names_arg(json_arg(data, "fields"), "fields")
        return cls(rid, limit, offset, distinct, include_total, fmt, filters, q, wanted, data.get("sort"))

    def run(self, platform: Platform, identity: Identity, c: Connection) -> tuple[Any, ...]:
        """Read the page (and the total) in one read transaction."""
        meta, _ref = require_meta(platform, c, self.rid)
        ds = check_read(platform, c, identity, meta)
        cols = field_map(meta)
        names = self.wanted if self.wanted is not None else (["_id"] if not self.distinct else []) + [f.name for f in meta.fields]
        for n in names:
            if n not in cols:
                raise invalid("fields", f'field "{n}" not in table')
        order = sort_arg(self.sort, cols)
        where, params = filter_where(c, meta, self.filters, self.q)
        select = ", ".join(cols[n] for n in names) or "fid"
        sql = f"SELECT {'DISTINCT ' if self.distinct else ''}{select} FROM {meta.table_name}"
        if where:
            sql += f" WHERE {where}"
        keys = [f"{col} {'ASC' if asc else 'DESC'}" for col, asc in order]
        if not self.distinct and not any(k.startswith("fid ") for k in keys):
            keys.append("fid ASC")
        if keys:
            sql += " ORDER BY " + ", ".join(keys)
        sql += " LIMIT ? OFFSET ?"
        rows = c.fetchall(sql, [*params, self.limit, self.offset])
        total = None
        if self.include_total:
            inner = f"SELECT {'DISTINCT ' if self.distinct else ''}{select} FROM {meta.table_name}" + (f" WHERE {where}" if where else "")
            total = int(c.fetchval(f"SELECT COUNT(*) FROM ({inner}) AS t", params) or 0)
        return meta, ds, names, rows, total


def _records(platform: Platform, identity: Identity, ds: DatasetAccess | None, meta: store.CollectionMeta,
             names: list[str], rows: list[Any]) -> list[dict[str, Any]]:
    """Rows as records, decoded and passed through the privacy transforms."""
    types = {f.name: f.type for f in meta.fields}
    decoded = [{n: (int(v) if n == "_id" and v is not None else store.decode(types[n], v)) if n != "_id" or v is not None else None
                for n, v in zip(names, r, strict=True)} for r in rows]
    feats = [store.FeatureRow(int(d.get("_id") or 0), {k: v for k, v in d.items() if k != "_id"}, None) for d in decoded]
    feats = transform_rows(platform, identity, ds, feats, "datastore", meta.name)
    return [{**({"_id": f.fid} if "_id" in names else {}), **{n: f.properties.get(n) for n in names if n != "_id"}}
            for f in feats]


def _formatted(fmt: str, names: list[str], records: list[dict[str, Any]]) -> Any:
    if fmt == "objects":
        return records
    if fmt == "lists":
        return [[r[n] for n in names] for r in records]
    buf = io.StringIO()
    sep = "," if fmt == "csv" else "\t"
    w = csv.writer(buf, delimiter=sep, lineterminator="\n")
    # the csv module quotes a field holding the line terminator's characters only: a lone CR would end the row for a
    # reader, so a row with one is written with every field quoted
    quoted = csv.writer(buf, delimiter=sep, lineterminator="\n", quoting=csv.QUOTE_ALL)
    for r in records:
        # text a spreadsheet would run as a formula gets a leading ' (as every CSV the platform writes)
        row = ["" if r[n] is None else spreadsheet_value(orjson.dumps(r[n]).decode() if isinstance(r[n], dict | list)
                                                         else r[n]) for n in names]
        (quoted if any(isinstance(v, str) and "\r" in v for v in row) else w).writerow(row)
    return buf.getvalue()


async def datastore_search(platform: Platform, identity: Identity, data: dict[str, Any]) -> dict[str, Any]:
    s = _Search.of(platform, data)
    meta, ds, names, rows, total = await platform.db.read(lambda c: s.run(platform, identity, c))
    records = _records(platform, identity, ds, meta, names, rows)
    _record_read(platform, identity, ds, meta, s.rid, "datastore_search")
    rid, limit, offset = s.rid, s.limit, s.offset
    result: dict[str, Any] = {
        "include_total": s.include_total, "resource_id": rid, "fields": fields_out(meta, names),
        "records_format": s.fmt, "limit": limit,
        "_links": {"start": f"/api/3/action/datastore_search?resource_id={rid}",
                   "next": f"/api/3/action/datastore_search?offset={offset + limit}&resource_id={rid}"},
    }
    if offset:
        result["offset"] = offset
    for key in ("filters", "q", "sort", "distinct"):
        if data.get(key) not in (None, "", {}, []):
            result[key] = data[key]
    result["records"] = _formatted(s.fmt, names, records)
    if total is not None:
        result["total"] = total
        result["total_was_estimated"] = False
    return result


async def datastore_info(platform: Platform, identity: Identity, data: dict[str, Any]) -> dict[str, Any]:
    rid = resource_id_arg(data)

    def run(c: Connection) -> tuple[store.CollectionMeta, DatasetAccess | None]:
        meta, _ = require_meta(platform, c, rid)
        return meta, check_read(platform, c, identity, meta)

    meta, ds = await platform.db.read(run)
    _record_read(platform, identity, ds, meta, rid, "datastore_info")
    return {"meta": {"id": rid, "count": meta.item_count, "table_type": "BASE TABLE", "collection": meta.name},
            "fields": [{"id": f.name, "type": CKAN_TYPES[f.type], "schema": {"native_type": CKAN_TYPES[f.type]}}
                       for f in meta.fields]}


# -- datastore_search_sql (the checks and the database guard: urbanos/features/datastore/sql.py) ------------------

Read = tuple[store.CollectionMeta, "DatasetAccess | None", str]
SqlResult = tuple[list[str], list[tuple[Any, ...]], list[Read]]


def _run_sql(platform: Platform, identity: Identity, plan: dsql.Plan, c: Connection, *, rows_max: int, timeout_ms: int,
             setup_tried: bool) -> SqlResult | list[str]:
    """Resolve and check every resource the statement names, then run it under the database guard. On PostgreSQL,
    when the guard's role cannot read the tables yet (and its setup was not tried), the table names instead."""
    if c.dialect.name == "postgresql":
        c.execute("SET TRANSACTION READ ONLY")
    reads: list[Read] = []
    tables = []
    for name in plan.resources:
        meta, _ = resolve(platform, c, name)
        if meta is None:
            raise NotFound(f'Resource "{name}" was not found.')
        ds = check_read(platform, c, identity, meta)
        reads.append((meta, ds, name))
        tables.append((meta.table_name, [("fid", "_id")] + [(f.column, f.name) for f in meta.fields]))
    final = dsql.build(plan, tables, c.dialect.name)
    names = sorted({t for t, _ in tables})
    role = False
    if c.dialect.name == "postgresql":
        role = dsql.pg_guard_ready(c, names)
        if not role and not setup_tried:
            return names  # the role cannot read these tables yet: grant (a write of its own), then run again
    cols, rows = dsql.execute(c, final, names, limit=rows_max + 1, timeout_ms=timeout_ms, role=role)
    return cols, rows, reads


async def _attempt(platform: Platform, run: Callable[[Connection], SqlResult | list[str]]) -> SqlResult | list[str]:
    try:
        return await platform.db.read(run)
    except (ValidationFailed, NotFound, Forbidden, Unauthorized):
        raise
    except Exception as exc:  # noqa: BLE001 - database errors on user SQL are the caller's error
        status = getattr(exc, "status", 400)
        if status == 503 or "cancel" in str(exc).lower() or "took too long" in str(exc):
            raise invalid("sql", "The query took too long and was stopped") from None
        text = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise invalid("sql", f"query failed: {text}") from None


async def _set_up_guard(platform: Platform, tables: list[str]) -> None:
    state = platform.services.setdefault("datastore_sql_guard", {})
    if time.monotonic() - state.get("failed_at", float("-inf")) > 60:  # a database user that may not: once a minute
        try:
            await platform.db.write(lambda c: dsql.pg_guard_setup(c, tables))
        except Exception as exc:  # noqa: BLE001 - without the role the other layers still hold; warned once
            state["failed_at"] = time.monotonic()
            log.debug("the datastore_search_sql role could not be set up: %s", exc)


async def datastore_search_sql(platform: Platform, identity: Identity, data: dict[str, Any]) -> dict[str, Any]:
    if not setting(platform, "datastore_sql_enabled", False):
        raise Forbidden("datastore_search_sql is turned off on this site (an operator turns it on with "
                        "URBANOS_DATASTORE_SQL_ENABLED=true).")
    sql = data.get("sql")
    plan = dsql.plan(sql)
    limits = {"rows_max": int(setting(platform, "datastore_rows_max", 32000)),
              "timeout_ms": int(float(setting(platform, "datastore_sql_timeout", 5.0)) * 1000)}
    got = await _attempt(platform, lambda c: _run_sql(platform, identity, plan, c, **limits, setup_tried=False))
    if not isinstance(got, tuple):
        await _set_up_guard(platform, got)
        got = await _attempt(platform, lambda c: _run_sql(platform, identity, plan, c, **limits, setup_tried=True))
    assert isinstance(got, tuple)
    names, rows, reads = got
    rows_max = limits["rows_max"]
    truncated = len(rows) > rows_max
    records = [dict(zip(names, r, strict=True)) for r in rows[:rows_max]]
    for meta, ds, name in reads:
        if ds is not None:
            feats = transform_rows(platform, identity, ds, [store.FeatureRow(0, rec, None) for rec in records],
                                   "datastore:sql", meta.name)
            records = [f.properties for f in feats]
        _record_read(platform, identity, ds, meta, name, "datastore_search_sql")
    fields = [{"id": n, "type": CKAN_TYPES.get(guess_type([r.get(n) for r in records[:100]]), "text")} for n in names]
    out: dict[str, Any] = {"sql": sql, "records": records, "fields": fields}
    if truncated:
        out["records_truncated"] = True
    return out


__all__ = ["datastore_search", "datastore_info", "datastore_search_sql", "filter_where"]
