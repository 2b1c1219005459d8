"""The storage contract: every back end passes the same tests."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from urbanos.errors import Conflict, NotFound
from urbanos.events import Event
from urbanos.storage import Database, Migration, open_database, upgrade
from urbanos.storage.migrations import applied


class Sink:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.lock = threading.Lock()

    def publish(self, events: list[Event]) -> None:
        with self.lock:
            self.events.extend(events)


def _schema(c: Any) -> None:
    c.execute(f"CREATE TABLE items (id {c.dialect.pk}, name TEXT NOT NULL UNIQUE, n INTEGER, doc {c.dialect.json_type})")


@pytest.fixture
def db(settings: Any) -> Any:
    database = open_database(settings)
    database.sink = Sink()
    database.open()
    upgrade(database, [Migration("test", 1, "items", _schema)])
    yield database
    database.close()


def test_insert_returns_id_and_reads_back(db: Database) -> None:
    new_id = db.write_sync(lambda c: c.insert("items", {"name": "a", "n": 1}))
    assert isinstance(new_id, int)
    rows = db.read_sync(lambda c: c.rows("SELECT id, name, n FROM items"))
    assert rows == [{"id": new_id, "name": "a", "n": 1}]


def test_events_only_after_commit(db: Database) -> None:
    sink: Sink = db.sink  # type: ignore[assignment]

    def ok(c: Any) -> None:
        c.insert("items", {"name": "x"})
        c.emit(Event("created", "Item", 1))
        assert sink.events == []  # not before commit

    db.write_sync(ok)
    assert [e.kind for e in sink.events] == ["created"]

    def failing(c: Any) -> None:
        c.insert("items", {"name": "y"})
        c.emit(Event("created", "Item", 2))
        raise NotFound("nope")

    with pytest.raises(NotFound):
        db.write_sync(failing)
    assert len(sink.events) == 1  # a rolled-back write publishes nothing
    assert db.read_sync(lambda c: c.fetchval("SELECT count(*) FROM items")) == 1


def test_failed_write_changes_nothing(db: Database) -> None:
    def tx(c: Any) -> None:
        c.insert("items", {"name": "keep"})

    db.write_sync(tx)

    def bad(c: Any) -> None:
        c.execute("UPDATE items SET n = 5")
        c.insert("items", {"name": "keep"})  # unique violation

    with pytest.raises(Conflict):
        db.write_sync(bad)
    assert db.read_sync(lambda c: c.fetchall("SELECT name, n FROM items")) == [("keep", None)]


def test_concurrent_writers_never_lock(db: Database) -> None:
    async def main() -> None:
        async def one(i: int) -> int:
            return int(await db.write(lambda c: c.insert("items", {"name": f"n{i}", "n": i})))

        ids = await asyncio.gather(*(one(i) for i in range(400)))
        assert len(set(ids)) == 400

    asyncio.run(main())
    assert db.read_sync(lambda c: c.fetchval("SELECT count(*) FROM items")) == 400


def test_threads_writing_and_reading(db: Database) -> None:
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            for i in range(40):
                db.write_sync(lambda c, i=i: c.insert("items", {"name": f"t{k}-{i}"}))
                db.read_sync(lambda c: c.fetchval("SELECT count(*) FROM items"))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert db.read_sync(lambda c: c.fetchval("SELECT count(*) FROM items")) == 320


def test_one_failing_job_does_not_spoil_its_batch(db: Database) -> None:
    async def main() -> list[Any]:
        async def good(i: int) -> Any:
            return await db.write(lambda c: c.insert("items", {"name": f"g{i}"}))

        async def bad() -> Any:
            def tx(c: Any) -> None:
                c.insert("items", {"name": "bad"})
                raise ValueError("boom")

            return await db.write(tx)

        return await asyncio.gather(*(good(i) for i in range(20)), bad(), *(good(i + 100) for i in range(20)), return_exceptions=True)

    results = asyncio.run(main())
    assert sum(isinstance(r, ValueError) for r in results) == 1
    names = {r[0] for r in db.read_sync(lambda c: c.fetchall("SELECT name FROM items"))}
    assert "bad" not in names and len(names) == 40


def test_insert_rows_returns_the_ids_in_order(db: Database) -> None:
    first = db.write_sync(lambda c: c.insert("items", {"name": "before"}))
    rows = [(f"r{i}", i if i % 3 else None) for i in range(50)]
    for types in ((), ("text", "int4")):  # the text and the binary COPY on PostgreSQL
        ids = db.write_sync(lambda c, t=types: c.insert_rows("items", ("name", "n"), [(f"{n}{t}", v) for n, v in rows],
                                                              t))
        assert len(set(ids)) == 50 and min(ids) > first
        got = dict(db.read_sync(lambda c, t=types: c.fetchall("SELECT name, id FROM items WHERE name LIKE ?", (f"%{t}",))))
        assert [got[f"{n}{types}"] for n, _ in rows] == ids
    assert db.write_sync(lambda c: c.insert_rows("items", ("name",), [])) == []
    after = db.write_sync(lambda c: c.insert("items", {"name": "after"}))
    assert after > max(ids)
    with pytest.raises(Conflict):  # the same errors as a plain INSERT; nothing of the failed write stays
        db.write_sync(lambda c: c.insert_rows("items", ("name",), [("x",), ("x",)]))
    assert db.read_sync(lambda c: c.fetchval("SELECT COUNT(*) FROM items WHERE name = 'x'")) == 0


def test_json_columns(db: Database) -> None:
    def tx(c: Any) -> None:
        c.insert("items", {"name": "j", "doc": c.dialect.json_param({"a": {"b": "deep"}, "n": 3})})

    db.write_sync(tx)
    value = db.read_sync(lambda c: c.fetchval(f"SELECT {c.dialect.json_get('doc', 'a', 'b')} FROM items"))
    assert value == "deep"


def test_placeholders_and_percent_signs(db: Database) -> None:
    db.write_sync(lambda c: c.insert("items", {"name": "50% off?"}))
    rows = db.read_sync(lambda c: c.fetchall("SELECT name FROM items WHERE name LIKE '%off%' AND name = ?", ("50% off?",)))
    assert rows == [("50% off?",)]


def test_migrations_are_recorded_and_run_once(db: Database) -> None:
    calls: list[int] = []

    def m2(c: Any) -> None:
        calls.append(1)
        c.execute("ALTER TABLE items ADD COLUMN extra TEXT")

    migs = [Migration("test", 1, "items", _schema), Migration("test", 2, "extra", m2)]
    assert [m.version for m in upgrade(db, migs)] == [2]
    assert upgrade(db, migs) == []
    assert calls == [1]
    assert ("test", 2) in applied(db)
    assert "extra" in db.read_sync(lambda c: c.columns("items"))


def test_failing_migration_is_not_recorded(db: Database) -> None:
    def broken(c: Any) -> None:
        c.execute("CREATE TABLE half (id INTEGER)")
        raise RuntimeError("broken migration")

    with pytest.raises(RuntimeError):
        upgrade(db, [Migration("test", 1, "items", _schema), Migration("test", 9, "broken", broken)])
    assert ("test", 9) not in applied(db)
    assert not db.read_sync(lambda c: c.table_exists("half"))


def test_ping(db: Database) -> None:
    assert asyncio.run(db.ping()) is True


def test_writes_after_close_fail_instead_of_hanging(settings: Any) -> None:
    database = open_database(settings)
    database.open()
    database.close()
    with pytest.raises(Exception, match="closed"):
        database.write_sync(lambda c: c.fetchval("SELECT 1"))
