"""``datastore_search_sql``: one caller-written SELECT over DataStore tables, and nothing else.

The statement is never run as written. Three layers keep it to the tables the caller may read:

1. **Plan** (:func:`plan`): sqlglot parses it (PostgreSQL syntax) into a tree. Only one query is allowed, with no
   writes, locks, ``INTO``, recursion, table functions, schema-qualified names or functions off a short list.
   Identifiers are normalised as PostgreSQL does (unquoted ones lower-cased), comments are dropped, and every
   table reference is resolved *in its own scope* (sqlglot's scope analysis: a ``WITH`` inside a subquery names
   nothing outside it; a CTE does not see itself or later CTEs). A reference to a CTE is renamed to a generated
   CTE name; every other reference is a DataStore resource and becomes a numbered placeholder.
2. **Build** (:func:`build`): each placeholder becomes a subquery over the data table of the resource, resolved
   and checked against the caller's access in the same read transaction that runs the query. The emitted SQL
   therefore names only data tables chosen here and generated CTE names; it is parsed once more and refused if
   any other table appears (a guard against the generator and the database disagreeing with the parser).
3. **Database guard** (:func:`execute`): on SQLite an authorizer callback (``Connection.read_only_tables``)
   lets the statement read only those data tables and call only the listed functions (no ``sqlite_master``,
   PRAGMA or table-valued functions, ``ATTACH``, ``load_extension``, recursion). On PostgreSQL the statement
   runs in a read-only transaction with a statement timeout, as the role ``urbanos_datastore_sql`` (``SET LOCAL
   ROLE``), which holds SELECT on DataStore tables and nothing else: accounts, tokens, the catalogue, the
   registry and the statistics of those tables are out of its reach whatever the text says, including reads made
   inside functions. The role is created and granted on first use when the database user may do so; otherwise
   a warning names the fix and the statement runs without it. In both cases ``EXPLAIN`` first lists the
   relations the planner will scan, and any relation but the statement's data tables refuses it.

sqlglot is imported when a statement is checked, not with the module: it is large, and the action is off unless
an operator turns it on.

Why a role rather than ``search_path`` tricks: a search path can be bypassed by a qualified name and does not
hide ``pg_catalog`` (``pg_stats`` shows sampled values of every column the current role can read). Why one
role with SELECT on all DataStore tables rather than a grant per query: ``GRANT`` inside the query's transaction
rewrites the table's catalogue row, so concurrent queries on a table would queue behind each other (and the
read-only transaction could not grant at all). Which of the DataStore tables a caller reads is decided by layers
1 and 2 and the ``EXPLAIN`` check.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from urbanos.errors import ValidationFailed
from urbanos.query.limits import sql_problem

if TYPE_CHECKING:
    from urbanos.storage import Connection

log = logging.getLogger("urbanos.features.datastore")

SQL_FUNCTIONS = frozenset({
    "COUNT", "SUM", "AVG", "MIN", "MAX", "LOWER", "UPPER", "LENGTH", "SUBSTRING", "SUBSTR", "TRIM", "LTRIM", "RTRIM",
    "REPLACE", "COALESCE", "NULLIF", "ROUND", "ABS", "CEIL", "FLOOR", "CAST", "TRYCAST", "CONCAT", "DPIPE", "IF",
    "CASE", "GREATEST", "LEAST", "STRPOS", "POSITION", "LEFT", "RIGHT", "SIGN", "MOD", "POWER", "POW", "SQRT",
    "STDDEV", "STDDEV_SAMP", "VARIANCE", "BOOL_AND", "BOOL_OR", "EXTRACT", "STR_POSITION",
})
# the SQLite functions the statements above are written with (sqlglot writes STRPOS as INSTR, IF as IIF, ...)
SQLITE_FUNCTIONS = frozenset({f.lower() for f in SQL_FUNCTIONS} | {"iif", "instr", "like", "substr", "ceiling"})

# plain value types a CAST may name (not object identifiers such as REGCLASS, nor row types of tables)
CAST_TYPES = frozenset({"TEXT", "VARCHAR", "CHAR", "NVARCHAR", "NCHAR", "INT", "BIGINT", "SMALLINT", "TINYINT", "DECIMAL",
                        "DOUBLE", "FLOAT", "BOOLEAN", "DATE", "TIME", "TIMESTAMP", "TIMESTAMPTZ", "DATETIME", "INTERVAL",
                        "JSON", "JSONB"})
PG_ROLE = "urbanos_datastore_sql"
CTE_PREFIX = "datastore_cte_"
RESOURCE_PREFIX = "datastore_resource_"
_TABLE_ARGS = {"this", "alias"}  # a table reference with anything else (ONLY, TABLESAMPLE, joins, ...) is refused
_warned: set[str] = set()


def invalid(message: str) -> ValidationFailed:
    return ValidationFailed(f"sql: {message}", detail={"sql": [message]})


@dataclass
class Plan:
    """A checked statement: ``tree`` with generated CTE names and ``datastore_resource_<i>`` placeholders, where
    ``resources[i]`` is the resource id or collection name the caller wrote."""

    tree: Any
    resources: list[str]
    ctes: set[str] = field(default_factory=set)


def _scoped_tables(tree: Any) -> dict[int, tuple[Any, Any | None]]:
    """Every table reference of ``tree`` by node id: ``(node, CTE node it names or None for a real table)``,
    each resolved in its own scope. Refuses a statement with a reference no scope accounts for."""
    from sqlglot import exp  # lazily, see the module's documentation
    from sqlglot.errors import SqlglotError
    from sqlglot.optimizer.scope import traverse_scope

    found: dict[int, tuple[Any, Any | None]] = {}
    try:
        scopes = traverse_scope(tree)
    except (SqlglotError, RecursionError, KeyError, ValueError) as exc:
        raise invalid(f"the statement cannot be analysed ({str(exc).splitlines()[0][:160]})") from None
    for scope in scopes:
        for t in scope.tables:
            src = scope.cte_sources.get(t.name)
            cte = src.expression.parent if src is not None else None
            if src is not None and not isinstance(cte, exp.CTE):
                raise invalid(f"table {t.name!r} cannot be resolved")
            found[id(t)] = (t, cte)
    for t in tree.find_all(exp.Table):
        if id(t) not in found:
            raise invalid(f"table {t.sql()[:80]} is used where it is not allowed")
    return found


def plan(sql: Any) -> Plan:
    """Parse and check one read-only statement; see the module's documentation."""
    import sqlglot  # lazily, see the module's documentation
    from sqlglot import exp
    from sqlglot.errors import SqlglotError
    from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

    if not isinstance(sql, str) or not sql.strip():
        raise ValidationFailed("sql: Missing value", detail={"sql": ["Missing value"]})
    if (problem := sql_problem(sql)) is not None:  # measured before sqlglot's recursive parser sees it
        raise invalid(problem)
    try:
        trees = [t for t in sqlglot.parse(sql, read="postgres") if t is not None]
    except (SqlglotError, ValueError, RecursionError) as exc:
        raise invalid(f"syntax error: {str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}") from None
    if len(trees) != 1:
        raise invalid("Exactly one statement is allowed")
    tree = trees[0]
    if not isinstance(tree, exp.Query):
        raise invalid("Only SELECT statements are allowed")
    for node in tree.walk():
        if isinstance(node, exp.Into | exp.Lock | exp.Command | exp.Insert | exp.Update | exp.Delete | exp.Create | exp.Drop):
            raise invalid(f"{type(node).__name__.upper()} is not allowed")
        if isinstance(node, exp.With) and node.args.get("recursive"):
            raise invalid("WITH RECURSIVE is not allowed")
        if isinstance(node, exp.Func) and not isinstance(node, exp.Cast | exp.Case | exp.Paren):
            name = node.name.upper() if isinstance(node, exp.Anonymous) else node.sql_name().upper()
            if name not in SQL_FUNCTIONS:
                raise invalid(f"function {name} is not allowed")
        if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Func):
            raise invalid(f"function {node.expression.name.upper()} is not allowed with a schema; write it without one")
        if isinstance(node, exp.Cast):
            to = node.args.get("to")
            kind = to.this.name if isinstance(to, exp.DataType) and hasattr(to.this, "name") else None
            if kind not in CAST_TYPES:
                raise invalid(f"CAST to {to.sql() if isinstance(to, exp.Expression) else to} is not allowed; cast to "
                              "text, numbers, boolean, dates and times or JSON")
        if isinstance(node, exp.Table):
            if node.args.get("db") or node.args.get("catalog"):
                raise invalid(f"table {node.sql()[:80]} is not a DataStore resource: name resources without a schema")
            if not isinstance(node.this, exp.Identifier):
                raise invalid("table functions are not allowed")
            extra = sorted(k for k, v in node.args.items() if v not in (None, [], False) and k not in _TABLE_ARGS)
            if extra:
                raise invalid(f"table {node.name!r}: {', '.join(extra).upper()} is not allowed; write a plain table name")
        node.comments = None
    tree = normalize_identifiers(tree, dialect="postgres")
    refs = _scoped_tables(tree)

    ctes: dict[int, str] = {}
    for i, node in enumerate(tree.find_all(exp.CTE)):
        ctes[id(node)] = f"{CTE_PREFIX}{i}"
    resources: list[str] = []
    for t, named in refs.values():
        alias = t.args.get("alias")
        if alias is None:
            alias = exp.TableAlias(this=t.this.copy())
        if named is not None:
            target = ctes[id(named)]
        else:
            if t.name not in resources:
                resources.append(t.name)
            target = f"{RESOURCE_PREFIX}{resources.index(t.name)}"
        t.replace(exp.Table(this=exp.to_identifier(target), alias=alias))
    for node in tree.find_all(exp.CTE):
        node.args["alias"].set("this", exp.to_identifier(ctes[id(node)]))
    if not resources:
        raise invalid("The statement must read at least one DataStore resource")
    return Plan(tree, resources, set(ctes.values()))


def build(p: Plan, tables: list[tuple[str, list[tuple[str, str]]]], dialect: str) -> str:
    """The SQL to run: placeholder ``i`` reads ``tables[i]`` = ``(data table, [(column, field name), ...])``."""
    import sqlglot  # lazily, see the module's documentation
    from sqlglot import exp

    tree = p.tree.copy()
    for t in list(tree.find_all(exp.Table)):
        name = t.name
        if name.startswith(RESOURCE_PREFIX):
            table, columns = tables[int(name[len(RESOURCE_PREFIX):])]
            sub = exp.select(*(exp.alias_(exp.column(col), fname, quoted=True) for col, fname in columns)).from_(table)
            t.replace(exp.Subquery(this=sub, alias=t.args["alias"]))
        elif name not in p.ctes:
            raise invalid(f"table {name!r} is not a DataStore resource")
    out = tree.sql(dialect="sqlite" if dialect == "sqlite" else "postgres", comments=False)
    # the emitted text, read back: only the data tables and the generated CTE names may appear
    allowed = {table for table, _ in tables}
    try:
        again = sqlglot.parse_one(out, read="sqlite" if dialect == "sqlite" else "postgres")
    except sqlglot.errors.SqlglotError:
        raise invalid("the statement cannot be run on this database") from None
    for t, cte in _scoped_tables(again).values():
        if t.args.get("db") or t.args.get("catalog") or (cte is None and t.name not in allowed) or (
                cte is not None and t.name not in p.ctes):
            raise invalid("the statement cannot be run on this database")
    return out


# -- the database guard ----------------------------------------------------------------------------------------

def _warn_once(key: str, message: str, *args: Any) -> None:
    if key not in _warned:
        _warned.add(key)
        log.warning(message, *args)


def pg_guard_ready(c: Connection, tables: list[str]) -> bool:
    """Whether the role guard can run a statement over ``tables`` now (PostgreSQL)."""
    row = c.fetchone("SELECT pg_has_role(current_user, oid, 'MEMBER'), has_schema_privilege(oid, current_schema(), 'USAGE')"
                     " FROM pg_roles WHERE rolname = ?", (PG_ROLE,))
    if row is None or not row[0] or not row[1]:
        return False
    return all(c.fetchval("SELECT has_table_privilege(?, ?, 'SELECT')", (PG_ROLE, t)) for t in tables)


def pg_guard_setup(c: Connection, tables: list[str]) -> None:
    """Create the role (no login, no rights), let this database user switch to it, and let it read ``tables``:
    DataStore tables only. Runs in a write of its own; fails when the database user may not create roles."""
    if c.fetchone("SELECT 1 FROM pg_roles WHERE rolname = ?", (PG_ROLE,)) is None:
        c.execute(f"CREATE ROLE {PG_ROLE} NOLOGIN NOINHERIT")
    if not c.fetchval("SELECT pg_has_role(current_user, ?, 'MEMBER')", (PG_ROLE,)):
        c.execute(f"GRANT {PG_ROLE} TO CURRENT_USER")
    if not c.fetchval("SELECT has_schema_privilege(?, current_schema(), 'USAGE')", (PG_ROLE,)):
        schema = str(c.fetchval("SELECT current_schema()"))
        c.execute(f'GRANT USAGE ON SCHEMA "{schema.replace(chr(34), chr(34) * 2)}" TO {PG_ROLE}')
    for t in tables:
        if not c.fetchval("SELECT has_table_privilege(?, ?, 'SELECT')", (PG_ROLE, t)):
            c.execute(f"GRANT SELECT ON {t} TO {PG_ROLE}")


def _plan_relations(node: Any, out: list[tuple[str, str]]) -> None:
    if isinstance(node, dict):
        if "Relation Name" in node:
            out.append((str(node.get("Schema") or ""), str(node["Relation Name"])))
        if "Function Name" in node:
            out.append(("function", str(node["Function Name"])))
        for v in node.values():
            _plan_relations(v, out)
    elif isinstance(node, list):
        for v in node:
            _plan_relations(v, out)


def _pg_check_plan(c: Connection, sql: str, tables: list[str], schema: str) -> None:
    raw = c.fetchval(f"EXPLAIN (FORMAT JSON, VERBOSE) {sql}")
    found: list[tuple[str, str]] = []
    _plan_relations(orjson.loads(raw) if isinstance(raw, str | bytes) else raw, found)
    for where, name in found:
        if where != schema or name not in tables:
            raise invalid("the statement reads something other than the DataStore resources it names")


def execute(c: Connection, sql: str, tables: list[str], *, limit: int, timeout_ms: int, role: bool) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run the built statement under the database guard; returns column names and at most ``limit`` rows.
    ``role``: on PostgreSQL, run as the guard role (see :func:`pg_guard_ready`)."""
    final = f"SELECT * FROM ({sql}) AS datastore_q LIMIT {int(limit)}"
    if c.dialect.name == "sqlite":
        with c.read_only_tables(tables, SQLITE_FUNCTIONS):
            cur = c.execute(final)
            return [d[0] for d in cur.description or ()], [tuple(r) for r in cur.fetchall()]
    c.execute(f"SET LOCAL statement_timeout = {int(timeout_ms)}")
    schema = str(c.fetchval("SELECT current_schema()"))
    if role:
        c.execute(f"SET LOCAL ROLE {PG_ROLE}")
    else:
        _warn_once("role", "datastore_search_sql runs without its database role: the database user cannot create or use "
                   "the role %s. Fix: as a superuser, run CREATE ROLE %s NOLOGIN; GRANT %s TO <urbanos database user>; "
                   "and give the urbanos user CREATEROLE or let it own the DataStore tables", PG_ROLE, PG_ROLE, PG_ROLE)
    _pg_check_plan(c, final, tables, schema)
    cur = c.execute(final)
    out = [d[0] for d in cur.description or ()], [tuple(r) for r in cur.fetchall()]
    if role:
        c.execute("RESET ROLE")  # (a failed statement ends the transaction, which ends SET LOCAL too)
    return out


__all__ = ["Plan", "plan", "build", "execute", "pg_guard_ready", "pg_guard_setup", "SQL_FUNCTIONS", "SQLITE_FUNCTIONS",
           "PG_ROLE"]
