"""PostgreSQL schemas for the tests: each test gets a migrated schema that no other test uses meanwhile.

Migrating a new schema (26 migrations, about 80 tables and 160 indexes) and dropping it again cost about a
second of the database's time per test, most of the PostgreSQL run's extra time over SQLite. A worker therefore
keeps the schemas its tests gave back, emptied, and hands them out again:

- the first schema of a worker is migrated into a *template* that no test gets; it is what "freshly migrated"
  means (its tables' rows, its sequences, the catalogue's description of its tables, columns, indexes,
  constraints, triggers, functions, views and privileges);
- a schema given back is emptied and used again only when nothing is connected to it any more (every
  connection of a test's schema carries the schema's name as ``application_name``), its description is still
  the template's once the tables a test added (a feature collection's) are dropped (a test that added a column,
  dropped an index or disabled a trigger leaves a schema that is dropped) and it has not grown beyond
  :data:`MAX_BYTES`; emptying deletes every row (triggers and foreign keys off), copies back the template's
  rows and sets the sequences back to the template's values;
- anything else is dropped, as every schema was before.

A test that needs an empty schema (one about migrations themselves) asks for one (``migrated=False``); it is
new and is dropped afterwards.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

MAX_BYTES = 24 * 1024 * 1024
"""A schema given back whose tables and indexes take more than this (beyond the template's) is dropped."""

# The catalogue's description of a schema (%(s)s; %(rels)s: the oids of its relations, read first so that the
# catalogue's indexes serve each part), its name taken out so that two schemas compare.
_RELATIONS = "SELECT coalesce(array_agg(c.oid), '{}') FROM pg_class c WHERE c.relnamespace = to_regnamespace(%s)"
_DESCRIPTION = """
SELECT replace(coalesce(string_agg(x, E'\\n' ORDER BY x COLLATE "C"), ''), %(s)s || '.', '') FROM (
  SELECT 'schema ' || coalesce(n.nspacl::text, '') AS x FROM pg_namespace n WHERE n.nspname = %(s)s
  UNION ALL SELECT concat_ws(' ', 'rel', r.relname, r.relkind, r.relpersistence, r.relrowsecurity,
                              r.relforcerowsecurity, r.reloptions::text, r.relacl::text)
    FROM pg_class r WHERE r.oid = ANY(%(rels)s)
  UNION ALL SELECT concat_ws(' ', 'col', r.relname, a.attname, a.attnum, format_type(a.atttypid, a.atttypmod),
                              a.attnotnull, a.attidentity, a.attgenerated, a.attacl::text, pg_get_expr(d.adbin, d.adrelid))
    FROM pg_attribute a JOIN pg_class r ON r.oid = a.attrelid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attrelid = ANY(%(rels)s) AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL SELECT concat_ws(' ', 'con', r.relname, co.conname, pg_get_constraintdef(co.oid))
    FROM pg_constraint co JOIN pg_class r ON r.oid = co.conrelid WHERE co.conrelid = ANY(%(rels)s)
  UNION ALL SELECT concat_ws(' ', 'idx', pg_get_indexdef(i.indexrelid), i.indisvalid)
    FROM pg_index i WHERE i.indrelid = ANY(%(rels)s)
  UNION ALL SELECT concat_ws(' ', 'trg', t.tgenabled, pg_get_triggerdef(t.oid))
    FROM pg_trigger t WHERE t.tgrelid = ANY(%(rels)s) AND NOT t.tgisinternal
  UNION ALL SELECT concat_ws(' ', 'pol', r.relname, p.polname, p.polcmd, pg_get_expr(p.polqual, p.polrelid))
    FROM pg_policy p JOIN pg_class r ON r.oid = p.polrelid WHERE p.polrelid = ANY(%(rels)s)
  UNION ALL SELECT concat_ws(' ', 'view', r.relname, pg_get_viewdef(r.oid))
    FROM pg_class r WHERE r.oid = ANY(%(rels)s) AND r.relkind IN ('v', 'm')
  UNION ALL SELECT concat_ws(' ', 'fn', p.proname, pg_get_function_identity_arguments(p.oid), md5(p.prosrc))
    FROM pg_proc p WHERE p.pronamespace = to_regnamespace(%(s)s)
  UNION ALL SELECT concat_ws(' ', 'type', t.typname, t.typtype)
    FROM pg_type t WHERE t.typnamespace = to_regnamespace(%(s)s) AND t.typrelid = 0 AND t.typelem = 0
) parts
"""


def describe(c: Any, schema: str) -> str:
    """What the catalogue says of ``schema``: its tables, columns, indexes, constraints, triggers, policies, views,
    functions, types and privileges, without its name."""
    rels = c.execute(_RELATIONS, (schema,)).fetchone()[0]
    return str(c.execute(_DESCRIPTION, {"s": schema, "rels": rels}).fetchone()[0])

_SIZE = ("SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c JOIN pg_namespace n"
         " ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind IN ('r', 'm')")

_CONNECTED = "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND pid <> pg_backend_pid()"


class _Differs(Exception):
    """A schema given back is not as migrated."""


def schema_url(base: str, schema: str) -> str:
    """The URL of ``schema`` in the database ``base``: its tables first on the search path, its name as the
    connections' ``application_name`` (how :meth:`SchemaPool.give_back` sees that nothing uses it any more)."""
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema},public')}&application_name={schema}"


class SchemaPool:
    """The schemas of one test process (an xdist worker) in the database ``url``; ``migrate(url)`` applies the
    platform's migrations to the schema of that URL."""

    def __init__(self, url: str, migrate: Callable[[str], None]) -> None:
        self.url = url
        self.migrate = migrate
        self.free: list[str] = []
        self.template = ""
        self.description = ""
        self.template_bytes = 0
        self.reset_sql = ""
        self.tables: frozenset[str] = frozenset()
        self.counts = {"new": 0, "reused": 0, "dropped": 0}  # what the pool saved, for a look from a plugin

    def _connect(self) -> Any:
        import psycopg

        return psycopg.connect(self.url, autocommit=True)

    def _new(self) -> str:
        schema = "t_" + secrets.token_hex(6)
        with self._connect() as c:
            c.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            c.execute(f"CREATE SCHEMA {schema}")
        self.counts["new"] += 1
        return schema

    def _prepare_template(self) -> None:
        template = self._new()
        self.migrate(schema_url(self.url, template))
        with self._connect() as c:
            self.description = describe(c, template)
            self.template_bytes = int(c.execute(_SIZE, (template,)).fetchone()[0])
            tables = [r[0] for r in c.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY 1",
                                              (template,))]
            seeded = [t for t in tables if c.execute(f'SELECT EXISTS (SELECT 1 FROM {template}."{t}")').fetchone()[0]]
            sequences = c.execute("SELECT sequencename, coalesce(last_value, start_value), last_value IS NOT NULL"
                                  " FROM pg_sequences WHERE schemaname = %s", (template,)).fetchall()
        # {s} is the schema to empty: run as one statement list, in one transaction
        self.reset_sql = "".join(
            ["SET LOCAL session_replication_role = replica;"]
            + [f'DELETE FROM {{s}}."{t}";' for t in tables]
            + [f'INSERT INTO {{s}}."{t}" SELECT * FROM {template}."{t}";' for t in seeded]
            + [f"SELECT setval('{{s}}.\"{name}\"', {value}, {called});" for name, value, called in sequences])
        self.tables = frozenset(tables)
        self.template = template

    def take(self, *, migrated: bool = True) -> str:
        """A schema for one test: migrated (a reused one when there is one) or, with ``migrated=False``, empty."""
        if not migrated:
            return self._new()
        if not self.template:
            self._prepare_template()
        if self.free:
            self.counts["reused"] += 1
            return self.free.pop()
        schema = self._new()
        self.migrate(schema_url(self.url, schema))
        return schema

    def give_back(self, schema: str) -> None:
        """Empty ``schema`` for the next test if it is as migrated and unused, else drop it."""
        if self.template and self._reset(schema):
            self.free.append(schema)
        else:
            self.drop(schema)

    def _reset(self, schema: str) -> bool:
        import psycopg

        try:
            with self._connect() as c:
                for _ in range(20):  # a closed pool's or a stopped server's sessions end a moment later
                    if not c.execute(_CONNECTED, (schema,)).fetchone()[0]:
                        break
                    time.sleep(0.05)
                else:
                    return False  # a server or a thread of the test still works in it
                if int(c.execute(_SIZE, (schema,)).fetchone()[0]) > self.template_bytes + MAX_BYTES:
                    return False
                with c.transaction():
                    # tables a test added (a feature collection's, say) go first; what is left must be the template
                    extra = [r[0] for r in c.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,))
                             if r[0] not in self.tables]
                    if extra:
                        c.execute("DROP TABLE " + ", ".join(f'{schema}."{t}"' for t in extra) + " CASCADE")
                    if describe(c, schema) != self.description:
                        raise _Differs
                    c.execute(self.reset_sql.replace("{s}", schema))
        except (_Differs, psycopg.Error):
            return False  # changed beyond added tables, or not allowed to turn triggers off: drop it as before
        return True

    def drop(self, schema: str) -> None:
        import psycopg

        self.counts["dropped"] += 1
        # work a test started in the background (an upload's import, say) may still be creating tables in
        # the schema: PostgreSQL then resolves the lock cycle by failing one side, so try again
        for attempt in range(5):
            try:
                with self._connect() as c:
                    c.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
                return
            except psycopg.errors.DeadlockDetected:
                time.sleep(0.2 * (attempt + 1))

    def close(self) -> None:
        """Drop every schema this process kept (at the end of the session)."""
        for schema in [*self.free, *([self.template] if self.template else [])]:
            self.drop(schema)
        self.free.clear()
        self.template = ""
