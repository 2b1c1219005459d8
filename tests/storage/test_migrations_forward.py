"""Migrations run forward from every earlier schema version, on the back end under test.

An installation made before a component's migration *v* existed has every other component's migrations applied
and that component's up to *v - 1*; upgrading applies the missing ones after the others, an order that a fresh
database never sees. For every such earlier version this test builds the older schema with a few rows in it,
upgrades it, and compares the result with a fresh database's schema (tables, columns with their types and
nullability, indexes, triggers), then checks the rows are still there and the platform opens on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import fresh_db_url, settings_for
from urbanos.platform import Platform
from urbanos.plugins import load_components
from urbanos.storage import open_database
from urbanos.storage.base import Connection, Database
from urbanos.storage.migrations import Migration, upgrade

PARTS = 4  # the earlier versions are checked in this many tests, so that the workers share them
TS = "2024-01-01T00:00:00.000000Z"


def _all_migrations(tmp_path: Path) -> list[Migration]:
    probe = Platform.build(settings_for(tmp_path, "sqlite:///" + str(tmp_path / "probe.db")), load_components())
    return probe.migrations()


def _earlier_versions(ms: list[Migration]) -> Iterator[tuple[str, list[Migration]]]:
    """(label, the migrations such an installation has), for every migration that is not a component's first."""
    for m in ms:
        firsts = min(x.version for x in ms if x.component == m.component)
        if m.version == firsts:
            continue
        older = [x for x in ms if not (x.component == m.component and x.version >= m.version)]
        yield f"{m.component}<{m.version}", older


def schema(c: Connection) -> dict[str, Any]:
    """What a migration shapes, independent of the order it ran in."""
    if c.dialect.name == "postgresql":
        cols = c.fetchall(
            "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_schema = current_schema()")
        idx = c.fetchall("SELECT tablename, indexname FROM pg_indexes WHERE schemaname = current_schema()")
        trg = c.fetchall("SELECT DISTINCT event_object_table, trigger_name FROM information_schema.triggers "
                         "WHERE trigger_schema = current_schema()")
        fns = c.fetchall("SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                         "WHERE n.nspname = current_schema()")
        return {"columns": sorted(map(tuple, cols)), "indexes": sorted(map(tuple, idx)),
                "triggers": sorted(map(tuple, trg)), "functions": sorted(r[0] for r in fns)}
    objects = c.fetchall("SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
    cols = []
    for _t, name, _tbl in objects:
        if _t == "table":
            for r in c.fetchall(f"SELECT name, type, \"notnull\", pk FROM pragma_table_info('{name}')"):  # noqa: S608
                cols.append((name, *r))
    return {"objects": sorted(map(tuple, objects)), "columns": sorted(cols)}


def _seed(c: Connection) -> dict[str, int]:
    """A few rows in the tables every version has: an organisation, datasets of each access level, a token."""
    c.execute("INSERT INTO organizations (name, title, created_at) VALUES (?, ?, ?)", ("parks", "Parks", TS))
    for level in ("open", "registered", "internal", "confidential"):
        c.insert("datasets", {"name": f"trees-{level}", "title": "Trees", "owner_org": "parks", "access_level": level,
                              "created_at": TS, "modified_at": TS})
    return _counts(c)


def _counts(c: Connection) -> dict[str, int]:
    return {t: int(c.fetchval(f"SELECT count(*) FROM {t}")) for t in ("organizations", "datasets")}  # noqa: S608


def _upgraded(db_url: str, tmp_path: Path, steps: list[list[Migration]]) -> tuple[dict[str, Any], dict[str, int]]:
    db: Database = open_database(settings_for(tmp_path, db_url))
    db.open()
    try:
        upgrade(db, steps[0])
        seeded = db.write_sync(_seed)
        for later in steps[1:]:
            upgrade(db, later)
        assert db.read_sync(_counts) == seeded, "rows were lost on the way up"
        return db.read_sync(schema), seeded
    finally:
        db.close()


@pytest.fixture(scope="module")
def fresh_schema(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Migration], dict[str, Any]]:
    folder = tmp_path_factory.mktemp("fresh")
    ms = _all_migrations(folder)
    with fresh_db_url(folder, migrated=False) as url:
        return ms, _upgraded(url, folder, [ms])[0]


@pytest.mark.parametrize("part", range(PARTS))
def test_every_earlier_version_upgrades_to_the_fresh_schema(
        tmp_path: Path, fresh_schema: tuple[list[Migration], dict[str, Any]], part: int) -> None:
    ms, fresh = fresh_schema
    earlier = list(_earlier_versions(ms))
    assert len(earlier) >= 10, earlier  # the project has had that many schema changes at least
    for label, older in earlier[part::PARTS]:
        folder = tmp_path / label.replace("<", "-")
        folder.mkdir()
        with fresh_db_url(folder, migrated=False) as url:
            got, _ = _upgraded(url, folder, [older, ms])
        assert got == fresh, f"from {label}: the upgraded schema differs from a fresh one"


def test_the_comparison_sees_a_missing_migration(fresh_schema: tuple[list[Migration], dict[str, Any]],
                                                 tmp_path: Path) -> None:
    ms, fresh = fresh_schema
    with fresh_db_url(tmp_path, migrated=False) as url:
        got, _ = _upgraded(url, tmp_path, [ms[:-1]])
    assert got != fresh


def test_the_platform_opens_on_a_database_upgraded_from_its_first_version(tmp_path: Path) -> None:
    """The oldest schema (each component at its first migration), upgraded by opening the platform itself."""
    ms = _all_migrations(tmp_path)
    firsts = [m for m in ms if m.version == min(x.version for x in ms if x.component == m.component)]
    with fresh_db_url(tmp_path, migrated=False) as url:
        settings = settings_for(tmp_path, url)
        db = open_database(settings)
        db.open()
        try:
            upgrade(db, firsts)
            seeded = db.write_sync(_seed)
        finally:
            db.close()
        platform = Platform.build(settings, load_components())
        platform.open()
        try:
            assert platform.db.read_sync(_counts) == seeded
            names = platform.db.read_sync(lambda c: {r[0] for r in c.fetchall("SELECT name FROM datasets")})
            assert names == {f"trees-{lv}" for lv in ("open", "registered", "internal", "confidential")}
        finally:
            platform.close()
