"""datastore_search_sql reads the DataStore tables the caller may read and nothing else: the scope-aware check,
the rewrite of every table reference, and the database guard (SQLite authorizer, PostgreSQL role and plan check)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import ADMIN_TOKEN, BACKEND
from urbanos.core.time import now_stored
from urbanos.features import store

ADMIN = {"Authorization": ADMIN_TOKEN}
FIELDS = [{"name": "name", "type": "string"}, {"name": "n", "type": "integer"}, {"name": "Mixed Case", "type": "string"}]


def _call(client: Any, headers: dict[str, str] | None = None, **data: Any) -> Any:
    return client.post("/api/3/action/datastore_search_sql", json=data, headers=headers or {})


def _ok(r: Any) -> Any:
    assert r.status_code == 200, r.text
    return r.json()["result"]


def _dataset(platform: Any, name: str, level: str) -> int:
    now = now_stored()
    return int(platform.db.write_sync(lambda c: c.insert("datasets", {
        "name": name, "title": name, "owner_org": "city", "access_level": level, "created_at": now, "modified_at": now})))


@pytest.fixture
def sql(make_settings: Callable[..., Any]) -> Iterator[Any]:
    """A site with SQL on: an open table, a confidential one, and a token whose hash must never come out."""
    from starlette.testclient import TestClient

    from urbanos.web.app import create_app

    app = create_app(make_settings(datastore_sql_enabled=True))
    with TestClient(app, raise_server_exceptions=False) as client:
        platform = app.state.platform
        rows = [({"name": f"place {i}", "n": i, "Mixed Case": "x" * i}, None) for i in range(1, 4)]
        open_ds, secret_ds = _dataset(platform, "open-ds", "open"), _dataset(platform, "secret-ds", "confidential")
        platform.db.write_sync(lambda c: store.replace_collection(c, "open", FIELDS, rows, dataset_id=open_ds))
        secret = [({"name": "classified", "n": 99, "Mixed Case": "hidden"}, None)]
        platform.db.write_sync(lambda c: store.replace_collection(c, "secret", FIELDS, secret, dataset_id=secret_ds))
        r = client.post("/admin/tokens", json={"role": "reader", "name": "someone"}, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        assert r.status_code == 201
        yield client


def _hashes(client: Any) -> list[str]:
    platform = client.app.state.platform
    return [str(r[0]) for r in platform.db.read_sync(lambda c: c.fetchall("SELECT secret_hash FROM api_tokens"))]


def test_legitimate_statements_still_work(sql: Any) -> None:
    res = _ok(_call(sql, sql='SELECT name, n FROM "open" WHERE n > 1 ORDER BY n'))
    assert res["records"] == [{"name": "place 2", "n": 2}, {"name": "place 3", "n": 3}]
    res = _ok(_call(sql, sql='WITH a AS (SELECT * FROM "open"), b AS (SELECT n FROM a WHERE n < 3) '
                             'SELECT COUNT(*) AS k FROM b'))
    assert res["records"] == [{"k": 2}]
    res = _ok(_call(sql, sql='SELECT x.n, y.n AS m FROM "open" x JOIN "open" AS y ON y.n = x.n + 1 ORDER BY x.n'))
    assert res["records"] == [{"n": 1, "m": 2}, {"n": 2, "m": 3}]
    res = _ok(_call(sql, sql='SELECT "Mixed Case", "_id" FROM "open" WHERE "open".n = (SELECT MAX(n) FROM "open")'))
    assert res["records"] == [{"Mixed Case": "xxx", "_id": 3}]
    # a CTE named like a resource is the CTE where it is visible (PostgreSQL's rule)
    res = _ok(_call(sql, sql='WITH "secret" AS (SELECT n FROM "open") SELECT COUNT(*) AS k FROM "secret"'))
    assert res["records"] == [{"k": 3}]
    # comments are dropped, never passed on
    res = _ok(_call(sql, sql='SELECT COUNT(*) AS k /* , (SELECT 1) */ FROM "open" -- , api_tokens'))
    assert res["records"] == [{"k": 3}]
    with_admin = _ok(_call(sql, ADMIN, sql='SELECT o.name, s.name AS s FROM "open" o, "secret" s WHERE o.n = 1'))
    assert with_admin["records"] == [{"name": "place 1", "s": "classified"}]


BYPASSES = [
    # a CTE inside a subquery is local to it: the outer api_tokens is the real table
    'SELECT t.* FROM "open", (WITH api_tokens AS (SELECT 1) SELECT 1) z, api_tokens t',
    'SELECT * FROM "open", (WITH "api_tokens" AS (SELECT 1 AS x) SELECT x FROM "api_tokens") z, "api_tokens"',
    'WITH x AS (WITH api_tokens AS (SELECT 1) SELECT * FROM api_tokens) SELECT * FROM x, api_tokens, "open"',
    'SELECT * FROM "open" WHERE EXISTS (WITH api_tokens AS (SELECT 1) SELECT 1) AND n IN (SELECT id FROM api_tokens)',
    # a CTE does not see itself (without RECURSIVE) nor the CTEs after it
    'WITH api_tokens AS (SELECT * FROM api_tokens) SELECT * FROM api_tokens, "open"',
    'WITH a AS (SELECT * FROM api_tokens), api_tokens AS (SELECT 1) SELECT * FROM a, "open"',
    'WITH r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT * FROM r, "open"',
    'WITH RECURSIVE api_tokens(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM api_tokens) SELECT * FROM api_tokens, "open"',
    # schemas, catalogues and the database's own tables
    'SELECT * FROM "open", main.api_tokens',
    'SELECT * FROM "open", "main"."api_tokens"',
    'SELECT * FROM "open", public.api_tokens',
    'SELECT * FROM "open", "main.api_tokens"',
    'SELECT * FROM "open", sqlite_master',
    'SELECT * FROM "open", sqlite_schema',
    'SELECT * FROM "open", temp.sqlite_master',
    'SELECT * FROM "open", pg_catalog.pg_class',
    'SELECT * FROM "open", pg_class',
    'SELECT * FROM "open", pg_stats',
    'SELECT * FROM "open", information_schema.tables',
    # table-valued and other functions
    "SELECT * FROM \"open\", pragma_table_info('api_tokens')",
    'SELECT * FROM "open", json_each((SELECT group_concat(secret_hash) FROM api_tokens))',
    "SELECT * FROM \"open\", generate_series(1, 3)",
    "SELECT load_extension('/tmp/x') FROM \"open\"",
    "SELECT query_to_xml('select * from api_tokens', true, true, '') FROM \"open\"",
    "SELECT pg_read_file('/etc/passwd') FROM \"open\"",
    "SELECT current_setting('is_superuser') FROM \"open\"",
    "SELECT sqlite_version() FROM \"open\"",
    'SELECT pg_catalog.lower(name) FROM "open"',
    "SELECT 'api_tokens'::regclass FROM \"open\"",
    'SELECT CAST(n AS api_tokens) FROM "open"',
    # other statements and table syntax
    "ATTACH DATABASE '/tmp/x.db' AS x",
    "PRAGMA table_info(api_tokens)",
    'SELECT * FROM ONLY "open", api_tokens',
    'TABLE api_tokens',
    'SELECT * FROM "open" UNION ALL SELECT id, name, 1, secret_hash FROM api_tokens',
    'SELECT * FROM "open" ORDER BY (SELECT MAX(secret_hash) FROM api_tokens)',
    # quoting and case: real tables are lower case
    'SELECT * FROM "open", "API_TOKENS"',
    'SELECT * FROM "open", API_Tokens',
    'WITH "API_TOKENS" AS (SELECT 1) SELECT * FROM "open", api_tokens',
    'WITH "Api_Tokens" AS (SELECT 1) SELECT * FROM "open", "api_tokens"',
    # comments cannot hide or smuggle a table
    'SELECT * FROM "open" /* */ , api_tokens',
    'SELECT 1 AS a -- */ , (SELECT secret_hash FROM api_tokens)\nFROM "open", api_tokens',
    # a non-open resource behind a CTE of an open name
    'WITH "open" AS (SELECT * FROM "secret") SELECT * FROM "open"',
    'SELECT * FROM "open" WHERE n IN (SELECT n FROM "secret")',
]


@pytest.mark.parametrize("statement", BYPASSES)
def test_bypasses_are_refused(sql: Any, statement: str) -> None:
    hashes = _hashes(sql)
    r = _call(sql, sql=statement)
    assert r.status_code in (401, 403, 404, 409), (statement, r.text)
    assert r.json()["success"] is False
    assert "classified" not in r.text and "argon2" not in r.text and not any(h in r.text for h in hashes)


def test_a_scoped_cte_that_is_visible_is_the_cte(sql: Any) -> None:
    """Case folds as in PostgreSQL: the CTE Api_Tokens is what API_TOKENS names, not the token table."""
    res = _ok(_call(sql, sql='WITH Api_Tokens AS (SELECT 7 AS secret_hash) SELECT t.secret_hash FROM "open", API_TOKENS t '
                             'WHERE "open".n = 1'))
    assert res["records"] == [{"secret_hash": 7}]


def _open_table(client: Any) -> str:
    platform = client.app.state.platform
    meta = platform.db.read_sync(lambda c: store.get_collection(c, "open"))
    return str(meta.table_name)


DIRECT = [
    "SELECT * FROM api_tokens",
    "SELECT secret_hash FROM api_tokens",
    "SELECT COUNT(*) FROM api_tokens",
    "SELECT * FROM datasets",
    "SELECT * FROM feature_collections",
    "SELECT (SELECT MAX(secret_hash) FROM api_tokens) FROM {t}",
    "SELECT * FROM {t} WHERE EXISTS (SELECT 1 FROM api_tokens)",
]


@pytest.mark.parametrize("statement", DIRECT)
def test_database_guard_alone_refuses_other_tables(sql: Any, statement: str) -> None:
    """The guard under the checker: a statement that never went through the check still reads nothing else."""
    from urbanos.features.datastore import sql as dsql

    platform = sql.app.state.platform
    table = _open_table(sql)
    text = statement.format(t=table)
    if BACKEND == "postgresql":
        platform.db.write_sync(lambda c: dsql.pg_guard_setup(c, [table]))

    def run(role: bool) -> Any:
        def fn(c: Any) -> Any:
            return dsql.execute(c, text, [table], limit=10, timeout_ms=2000, role=role)

        return platform.db.read_sync(fn)

    for role in ((True, False) if BACKEND == "postgresql" else (False,)):
        with pytest.raises(Exception) as exc:  # noqa: PT011 - the database's own error, whatever its class
            run(role)
        assert "argon2" not in str(exc.value)
    # the data table itself is readable (with and without the role), and the guard is gone afterwards
    for role in ((True, False) if BACKEND == "postgresql" else (False,)):
        cols, rows = platform.db.read_sync(lambda c, r=role: dsql.execute(c, f"SELECT COUNT(*) AS k FROM {table}", [table],
                                                                          limit=10, timeout_ms=2000, role=r))
        assert rows == [(3,)]
    assert platform.db.read_sync(lambda c: c.fetchval("SELECT COUNT(*) FROM api_tokens")) == 1


@pytest.mark.skipif(BACKEND != "sqlite", reason="the SQLite authorizer")
@pytest.mark.parametrize("statement", [
    "SELECT * FROM sqlite_master", "SELECT * FROM main.sqlite_schema", "SELECT * FROM pragma_table_info('api_tokens')",
    "SELECT * FROM json_each('[1, 2]')", "SELECT load_extension('x')", "SELECT randomblob(8)", "PRAGMA table_info(api_tokens)",
    "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 3) SELECT * FROM r",
    "ATTACH DATABASE ':memory:' AS other", "SELECT * FROM temp.sqlite_master",
])
def test_sqlite_authorizer(sql: Any, statement: str) -> None:
    from urbanos.features.datastore import sql as dsql

    platform = sql.app.state.platform
    table = _open_table(sql)
    platform.db.read_sync(lambda c: c.fetchall("SELECT * FROM api_tokens"))  # prepared and cached outside the guard

    def fn(c: Any) -> Any:
        with c.read_only_tables([table], dsql.SQLITE_FUNCTIONS):
            return c.fetchall(statement)

    with pytest.raises(Exception, match="not authorized|prohibited|vtable constructor failed"):
        platform.db.read_sync(fn)

    def cached(c: Any) -> Any:
        with c.read_only_tables([table], dsql.SQLITE_FUNCTIONS):
            return c.fetchall("SELECT * FROM api_tokens")

    with pytest.raises(Exception, match="prohibited"):
        platform.db.read_sync(cached)


@pytest.mark.postgres
@pytest.mark.skipif(BACKEND != "postgresql", reason="the PostgreSQL role")
def test_postgresql_role_reads_datastore_tables_only(sql: Any) -> None:
    from urbanos.features.datastore import sql as dsql

    platform = sql.app.state.platform
    _ok(_call(sql, sql='SELECT COUNT(*) AS k FROM "open"'))  # the first statement sets the role up
    table = _open_table(sql)

    def privileges(c: Any) -> Any:
        return [bool(c.fetchval("SELECT has_table_privilege(?, ?, 'SELECT')", (dsql.PG_ROLE, t)))
                for t in (table, "api_tokens", "datasets", "feature_collections", "catalog_resources")]

    assert platform.db.read_sync(privileges) == [True, False, False, False, False]

    def as_role(statement: str) -> Any:
        def fn(c: Any) -> Any:
            c.execute(f"SET LOCAL ROLE {dsql.PG_ROLE}")
            return c.fetchall(statement)

        return platform.db.read_sync(fn)

    assert as_role(f"SELECT COUNT(*) FROM {table}") == [(3,)]
    for statement in ("SELECT * FROM api_tokens", "SELECT query_to_xml('select * from api_tokens', true, true, '')",
                      "SELECT * FROM feature_collections"):
        with pytest.raises(Exception, match="permission denied"):
            as_role(statement)
    # statistics of the tables it cannot read are hidden from it too
    assert as_role("SELECT COUNT(*) FROM pg_stats WHERE tablename = 'api_tokens'") == [(0,)]


def test_ids_of_resources_in_sql_are_names(sql: Any) -> None:
    r = _call(sql, sql='SELECT * FROM "²"')
    assert r.status_code == 404 and r.json()["error"]["__type"] == "Not Found Error"
