"""Grouped writes (:meth:`Database.write_grouped`, group commit on PostgreSQL): writes that arrive together share
a transaction, and each still gets its own answer: a refused one changes nothing and publishes nothing, one that
spoils the transaction costs the others nothing (they are written again alone), deferred work runs once per key
before the commit. The same tests on both back ends (SQLite writes them as it writes everything)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.storage.test_contract import Sink, db  # noqa: F401 - the contract's database fixture
from urbanos.errors import BadRequest
from urbanos.events import Event
from urbanos.storage import Database


def _insert(name: str, n: int = 0) -> Any:
    def job(c: Any) -> int:
        new = int(c.insert("items", {"name": name, "n": n}))
        c.emit(Event("created", "Item", new))
        c.defer(("total",), n, lambda a, b: a + b,
                lambda cc, v: cc.execute("UPDATE items SET n = n + ? WHERE name = 'total'", (v,)))
        return new
    return job


def _refused(c: Any) -> None:
    c.fetchval("SELECT count(*) FROM items")
    raise BadRequest("refused before writing")


def _wrote_then_failed(c: Any) -> None:
    c.insert("items", {"name": "half"})
    raise BadRequest("refused after writing")


def _spoils(c: Any) -> None:
    c.fetchval("SELECT no_such_column FROM items")


def _grouped(db: Database, jobs: list[Any]) -> list[Any]:  # noqa: F811
    async def main() -> list[Any]:
        return await asyncio.gather(*(db.write_grouped(j) for j in jobs), return_exceptions=True)
    return asyncio.run(main())


def _names(db: Database) -> set[str]:  # noqa: F811
    return {r[0] for r in db.read_sync(lambda c: c.fetchall("SELECT name FROM items"))}


def _total(db: Database) -> int:  # noqa: F811
    return int(db.read_sync(lambda c: c.fetchval("SELECT n FROM items WHERE name = 'total'")))


def test_grouped_writes_each_get_their_answer(db: Database) -> None:  # noqa: F811
    db.write_sync(lambda c: c.insert("items", {"name": "total", "n": 0}))
    jobs = [_insert(f"g{i}", i) for i in range(20)]
    jobs[7] = _refused
    jobs[12] = _refused
    out = _grouped(db, jobs)
    assert [type(o) for o in out].count(BadRequest) == 2
    ids = [o for o in out if isinstance(o, int)]
    assert len(set(ids)) == 18
    assert _names(db) == {"total"} | {f"g{i}" for i in range(20) if i not in (7, 12)}
    assert _total(db) == sum(i for i in range(20) if i not in (7, 12))  # deferred work: every written job's share
    sink: Sink = db.sink  # type: ignore[assignment]
    assert sorted(e.id for e in sink.events) == sorted(ids)  # a refused job publishes nothing


@pytest.mark.parametrize("spoiler", [_wrote_then_failed, _spoils], ids=["wrote-then-failed", "failed-statement"])
def test_a_job_that_spoils_the_group_costs_the_others_nothing(db: Database, spoiler: Any) -> None:  # noqa: F811
    db.write_sync(lambda c: c.insert("items", {"name": "total", "n": 0}))
    jobs = [_insert(f"s{i}", 1) for i in range(12)]
    jobs[5] = spoiler
    out = _grouped(db, jobs)
    assert sum(isinstance(o, Exception) for o in out) == 1 and isinstance(out[5], Exception)
    assert _names(db) == {"total"} | {f"s{i}" for i in range(12) if i != 5}  # "half" is not kept
    assert _total(db) == 11
    sink: Sink = db.sink  # type: ignore[assignment]
    assert len(sink.events) == 11


def test_writes_that_arrive_together_share_a_commit(db: Database) -> None:  # noqa: F811
    grouper = getattr(db, "grouper", None)
    if grouper is None:
        pytest.skip("this back end groups every write in its writer thread (see test_contract)")
    db.write_sync(lambda c: c.insert("items", {"name": "total", "n": 0}))
    groups = grouper.groups
    _grouped(db, [_insert(f"t{i}", 1) for i in range(40)])
    # the first `concurrency` writes go at once; the others wait for a group in flight and leave together
    assert grouper.groups - groups <= grouper.concurrency + 1
    assert _total(db) == 40
