"""PostgreSQL specifics: PostGIS is created when missing, and its absence gives a clear error."""

from __future__ import annotations

import secrets

import pytest

from tests.conftest import BACKEND, PG_URL
from urbanos.errors import ConfigError
from urbanos.storage.postgres import PostgresDatabase, translate

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(BACKEND != "postgresql", reason="PostgreSQL back end only (URBANOS_TEST_DB)")]


def test_placeholder_translation_leaves_literals_alone() -> None:
    assert translate("SELECT ? , '?' , '%' , \"a?\" WHERE x LIKE '%a%' AND y = ?") == (
        "SELECT %s , '?' , '%%' , \"a?\" WHERE x LIKE '%%a%%' AND y = %s"
    )


def test_missing_postgis_that_cannot_be_created_is_a_clear_error() -> None:
    import psycopg

    role = "u_" + secrets.token_hex(4)
    dbname = "nopostgis_" + secrets.token_hex(4)
    with psycopg.connect(PG_URL, autocommit=True) as c:
        c.execute(f"CREATE ROLE {role} LOGIN")
        c.execute(f"CREATE DATABASE {dbname} OWNER {role}")
    try:
        base = PG_URL.rsplit("/", 1)[0].replace("postgres@", f"{role}@")
        db = PostgresDatabase(f"{base}/{dbname}")
        with pytest.raises(ConfigError) as err:
            db.open()
        assert "PostGIS" in err.value.message and "Fix:" in err.value.message
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as c:
            c.execute(f"DROP DATABASE IF EXISTS {dbname}")
            c.execute(f"DROP ROLE IF EXISTS {role}")


def test_postgis_is_created_when_missing() -> None:
    import psycopg

    dbname = "withpostgis_" + secrets.token_hex(4)
    with psycopg.connect(PG_URL, autocommit=True) as c:
        c.execute(f"CREATE DATABASE {dbname}")
    try:
        db = PostgresDatabase(PG_URL.rsplit("/", 1)[0] + f"/{dbname}")
        db.open()
        try:
            assert db.read_sync(lambda c: c.fetchval("SELECT extname FROM pg_extension WHERE extname = 'postgis'")) == "postgis"
        finally:
            db.close()
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as c:
            c.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
