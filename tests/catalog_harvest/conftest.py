"""Extra empty databases of the back end under test, for second live instances."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.conftest import BACKEND, PG_URL


def _empty_db(tmp_path: Path, name: str) -> Iterator[str]:
    if BACKEND == "sqlite":
        yield f"sqlite:///{tmp_path / f'{name}.db'}"
        return
    import psycopg

    schema = "h_" + secrets.token_hex(6)
    with psycopg.connect(PG_URL, autocommit=True) as c:
        c.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options={quote(f'-csearch_path={schema},public')}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as c:
            c.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture
def second_db(tmp_path: Path) -> Iterator[str]:
    """Another empty database, for the source instance.

    Tests list ``db_url`` and ``second_db`` before ``server_factory`` so that servers stop before their
    databases are dropped."""
    yield from _empty_db(tmp_path, "source")


@pytest.fixture
def third_db(tmp_path: Path) -> Iterator[str]:
    """A third empty database (a second harvesting instance)."""
    yield from _empty_db(tmp_path, "third")
