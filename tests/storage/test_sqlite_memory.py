"""SQLite's memory stays bounded whatever the database's size: the page caches share ``sqlite_cache_mb`` (the writer
half, the read connections the rest) and no connection maps the file. With a 64 MB cache and a 64 MB map per
connection, six connections reading a 309 MB database held 817 MB (docs/performance.md, Reliability)."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path
from typing import Any

from urbanos.plugins import settings_registry
from urbanos.settings import load
from urbanos.storage import open_database
from urbanos.storage.sqlite import SQLiteDatabase


def _resident_mb() -> float:
    """Resident memory of this process (anonymous and file-backed pages), in MB."""
    total = 0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("RssAnon:", "RssFile:")):
            total += int(line.split()[1])
    return total / 1024


def test_the_caches_share_the_setting_and_nothing_is_mapped(tmp_path: Path) -> None:
    db = SQLiteDatabase(tmp_path / "u.db", read_connections=2, cache_mb=8)
    db.open()
    try:
        assert db._wraw.execute("PRAGMA cache_size").fetchone()[0] == -4096
        assert db._wraw.execute("PRAGMA mmap_size").fetchone()[0] == 0
        assert db.read_sync(lambda c: c.fetchval("PRAGMA cache_size")) == -2048
        assert db.read_sync(lambda c: c.fetchval("PRAGMA mmap_size")) == 0
    finally:
        db.close()


def test_the_setting_reaches_the_database(tmp_path: Path) -> None:
    s = load(settings_registry(), env={"URBANOS_SQLITE_CACHE_MB": "16"},
             overrides={"data_dir": str(tmp_path), "sqlite_read_connections": 2})
    db = open_database(s)
    assert isinstance(db, SQLiteDatabase) and (db.write_cache_kib, db.read_cache_kib) == (8192, 4096)


def test_reading_a_large_database_on_every_connection_keeps_memory_bounded(tmp_path: Path) -> None:
    """A 48 MB table read whole by the writer and two readers, with the default 64 MB of caches: the process grows by
    at most those 64 MB (33 MB here; it grew by 125 MB with a 64 MB cache and a 64 MB map per connection)."""
    db = SQLiteDatabase(tmp_path / "u.db", read_connections=2)
    db.open()
    try:
        db.write_sync(lambda c: c.execute("CREATE TABLE big (id INTEGER PRIMARY KEY, v TEXT)"))
        for _ in range(6):
            db.write_sync(lambda c: c.executemany("INSERT INTO big (v) VALUES (?)", [("x" * 1000,)] * 8_000))
        with contextlib.closing(sqlite3.connect(tmp_path / "u.db")) as raw:  # into the file itself
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert (tmp_path / "u.db").stat().st_size > 48_000_000
        scan = "SELECT count(*), sum(length(v)) FROM big"
        before = _resident_mb()
        db.write_sync(lambda c: c.fetchone(scan))
        seen: list[Any] = []
        threads = [threading.Thread(target=lambda: seen.append(db.read_sync(lambda c: c.fetchone(scan))))
                   for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert [tuple(r) for r in seen] == [(48_000, 48_000_000)] * 2
        grown = _resident_mb() - before
        assert grown < 80, f"the process grew by {grown:.0f} MB reading the table"
    finally:
        db.close()
