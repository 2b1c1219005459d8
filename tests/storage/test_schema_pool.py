"""The suite's PostgreSQL schemas (tests/pg_schemas.py): a schema a test gives back comes to the next test as
freshly migrated, or not at all."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import PG_URL, migrate_url
from tests.pg_schemas import SchemaPool, schema_url

pytestmark = pytest.mark.postgres

TS = "2026-01-01T00:00:00Z"


@pytest.fixture(scope="module")
def pool() -> Iterator[SchemaPool]:
    schemas = SchemaPool(PG_URL, migrate_url)
    yield schemas
    schemas.close()


def sql(schema: str, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(schema_url(PG_URL, schema), autocommit=True) as c:
        cur = c.execute(statement, params)
        return cur.fetchall() if cur.description else []


def exists(schema: str) -> bool:
    return bool(sql("public", "SELECT count(*) FROM pg_namespace WHERE nspname = %s", (schema,))[0][0])


def test_a_schema_given_back_comes_again_as_freshly_migrated(pool: SchemaPool) -> None:
    schema = pool.take()
    seeded = sql(schema, "SELECT * FROM privacy_audit_head")
    migrations = sql(schema, "SELECT component, version FROM urbanos_migrations ORDER BY 1, 2")
    first = sql(schema, "INSERT INTO organizations (name, title, created_at) VALUES ('parks', 'Parks', %s) RETURNING id",
                (TS,))
    sql(schema, "INSERT INTO organizations (name, title, created_at) VALUES ('roads', 'Roads', %s)", (TS,))
    sql(schema, "UPDATE privacy_audit_head SET seq = seq + 7")
    sql(schema, "DELETE FROM urbanos_migrations WHERE component = 'catalog'")
    sql(schema, "CREATE TABLE fc99_v1 (fid INTEGER PRIMARY KEY)")  # as a feature collection's table
    pool.give_back(schema)
    assert pool.free[-1] == schema

    assert pool.take() == schema
    assert sql(schema, "SELECT count(*) FROM organizations") == [(0,)]
    assert sql(schema, "SELECT count(*) FROM catalog_org_ids") == [(0,)]  # rows the trigger added are gone too
    assert sql(schema, "SELECT * FROM privacy_audit_head") == seeded
    assert sql(schema, "SELECT component, version FROM urbanos_migrations ORDER BY 1, 2") == migrations
    assert sql(schema, "SELECT to_regclass('fc99_v1') IS NULL") == [(True,)]
    again = sql(schema, "INSERT INTO organizations (name, title, created_at) VALUES ('parks', 'Parks', %s) RETURNING id",
                (TS,))
    assert again == first  # the identity starts again
    assert sql(schema, "SELECT count(*) FROM catalog_org_ids") == [(1,)]  # the triggers work again


@pytest.mark.parametrize("change", [
    "ALTER TABLE organizations ADD COLUMN extra INTEGER",
    "ALTER TABLE organizations ALTER COLUMN title DROP DEFAULT",
    "ALTER TABLE organizations DISABLE TRIGGER catalog_org_ids_new",
    "DROP TRIGGER catalog_org_ids_new ON organizations",
    "CREATE INDEX organizations_title ON organizations (title)",
    "CREATE VIEW orgs AS SELECT name FROM organizations",
    "CREATE SEQUENCE extra_seq",
])
def test_a_schema_changed_beyond_added_tables_is_dropped(pool: SchemaPool, change: str) -> None:
    schema = pool.take()
    sql(schema, change)
    pool.give_back(schema)
    assert schema not in pool.free and not exists(schema)


def test_a_schema_something_is_still_connected_to_is_dropped(pool: SchemaPool) -> None:
    import psycopg

    schema = pool.take()
    with psycopg.connect(schema_url(PG_URL, schema), autocommit=True):  # a server the test did not stop, say
        pool.give_back(schema)
        assert schema not in pool.free and not exists(schema)


def test_an_empty_schema_when_asked_for(pool: SchemaPool) -> None:
    schema = pool.take(migrated=False)
    assert sql(schema, "SELECT count(*) FROM pg_tables WHERE schemaname = %s", (schema,)) == [(0,)]
    pool.drop(schema)
    assert not exists(schema)


@pytest.mark.empty_db
def test_the_marker_gives_the_fixture_an_empty_schema(db_url: str) -> None:
    schema = db_url.rsplit("application_name=", 1)[1]
    assert sql(schema, "SELECT count(*) FROM pg_tables WHERE schemaname = %s", (schema,)) == [(0,)]
