"""Converting an existing plain Observation table (PostgreSQL): the sensing migration 3 does it for a small table,
rows, ids and the id sequence kept; a large one is left to ``urbanos observations partition``, which does the same."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.conftest import fresh_db_url, settings_for
from urbanos.cli.main import cli
from urbanos.platform import Platform
from urbanos.plugins import load_components
from urbanos.sensing import partitions as P
from urbanos.storage import open_database
from urbanos.storage.base import Connection
from urbanos.storage.migrations import upgrade

pytestmark = pytest.mark.postgres


def _seed(c: Connection) -> list[int]:
    t = c.insert("sta_things", {"name": "T", "description": "x"})
    s = c.insert("sta_sensors", {"name": "s", "description": "x", "encoding_type": "text/html", "metadata": "x"})
    op = c.insert("sta_observed_properties", {"name": "p", "definition": "x", "description": "x"})
    f = c.insert("sta_features", {"name": "f", "encoding_type": "application/geo+json", "feature": "{}"})
    ds = c.insert("sta_datastreams", {"name": "d", "description": "x", "observation_type": "x", "unit": "{}",
                                      "thing_id": t, "sensor_id": s, "observed_property_id": op})
    return [int(c.insert("sta_observations", {"phen_start": when, "result": "1", "result_num": 1.0,
                                              "datastream_id": ds, "feature_id": f}))
            for when in ("2019-05-01T00:00:00.000000Z", "2024-02-01T00:00:00.000000Z", "2999-01-01T00:00:00.000000Z")]


def _rows(c: Connection) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in c.fetchall("SELECT id, phen_start, tableoid::regclass::text FROM sta_observations"
                                         " ORDER BY id")]


def _older(tmp_path: Path, url: str, mark_applied: bool) -> Any:
    ms = Platform.build(settings_for(tmp_path, url), load_components()).migrations()
    db = open_database(settings_for(tmp_path, url))
    db.open()
    upgrade(db, [m for m in ms if not (m.component == "sensing" and m.version >= 3)])
    ids = db.write_sync(_seed)
    if mark_applied:  # as after a migration that found the table too large to convert
        db.write_sync(lambda c: c.execute("INSERT INTO urbanos_migrations (component, version, name, applied_at)"
                                          " VALUES ('sensing', 3, 'x', 'x')"))
    return db, ms, ids


def test_the_migration_converts_a_small_table(tmp_path: Path) -> None:
    with fresh_db_url(tmp_path, migrated=False) as url:
        db, ms, ids = _older(tmp_path, url, mark_applied=False)
        try:
            assert not db.read_sync(P.partitioned)
            upgrade(db, ms)
            assert db.read_sync(P.partitioned)
            rows = db.read_sync(_rows)
            assert [r[0] for r in rows] == ids
            assert [r[2] for r in rows] == [P.PREFIX + "20190101", P.PREFIX + "20240101", P.DEFAULT]
            new = db.write_sync(lambda c: c.insert("sta_observations", {
                "phen_start": "2024-02-02T00:00:00.000000Z", "feature_id": c.fetchval("SELECT id FROM sta_features"),
                "datastream_id": c.fetchval("SELECT id FROM sta_datastreams")}))
            assert int(new) > max(ids)  # the sequence goes on from the copied rows
            assert db.read_sync(lambda c: c.fetchval("SELECT to_regclass('sta_observations_unpartitioned')")) is None
        finally:
            db.close()


def test_urbanos_observations_partition_converts_what_the_migration_left(tmp_path: Path) -> None:
    with fresh_db_url(tmp_path, migrated=False) as url:
        db, _ms, ids = _older(tmp_path, url, mark_applied=True)
        try:
            before = [r[:2] for r in db.read_sync(_rows)]
            out = CliRunner().invoke(cli, ["observations", "partition", "--db", url, "--data-dir",
                                           str(tmp_path / "d"), "--batch", "1000"])
            assert out.exit_code == 0, out.output
            assert "3 rows copied" in out.output
            assert db.read_sync(P.partitioned)
            assert [r[:2] for r in db.read_sync(_rows)] == before and [r[0] for r in before] == ids
            again = CliRunner().invoke(cli, ["observations", "partition", "--db", url, "--data-dir", str(tmp_path / "d")])
            assert again.exit_code == 0 and "already partitioned" in again.output
        finally:
            db.close()
