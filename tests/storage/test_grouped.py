"""Grouped writes (:meth:`Database.write_grouped`, group commit on PostgreSQL): writes that arrive together share
a transaction, and each still gets its own answer: a refused one changes nothing and publishes nothing, one that
spoils the transaction costs the others nothing (they are written again alone), deferred work runs once per key
before the commit. The same tests on both back ends (SQLite writes them as it writes everything)."""

from __future__ import annotations

import asyncio
import threading
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


def test_the_grouper_keeps_writing_while_writes_wait() -> None:
    """The grouper alone (no database): a worker thread takes the next group itself while writes wait, every job
    gets its own outcome in order, a job's error is its own, and a writer that went away leaves the others' answers
    untouched."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    from urbanos.storage.grouped import Grouper

    sizes: list[int] = []
    threads: set[int] = set()

    def run(jobs: list[Any]) -> list[tuple[Any, BaseException | None]]:
        sizes.append(len(jobs))
        threads.add(threading.get_ident())
        time.sleep(0.02)  # a commit: what arrives meanwhile waits for the next group
        out: list[tuple[Any, BaseException | None]] = []
        for job in jobs:
            try:
                out.append((job(None), None))
            except Exception as exc:  # noqa: BLE001 - its own answer
                out.append((None, exc))
        return out

    def fails(_c: Any) -> int:
        raise BadRequest("refused")

    async def main() -> list[Any]:
        with ThreadPoolExecutor(max_workers=4) as pool:
            g = Grouper(run, lambda: pool, size=8, concurrency=1)
            tasks = [asyncio.create_task(g.submit(lambda _c, i=i: i)) for i in range(40)]
            tasks.append(asyncio.create_task(g.submit(fails)))
            gone = asyncio.create_task(g.submit(lambda _c: -1))
            await asyncio.sleep(0)
            gone.cancel()
            got = await asyncio.gather(*tasks, return_exceptions=True)
            for _ in range(200):  # the cancelled writer's job is still written (it may be a group of its own)
                if g.jobs == 42 and not g._running:
                    break
                await asyncio.sleep(0.01)
            assert g.jobs == 42 and not g._running and not g._queued
            return got

    got = asyncio.run(main())
    assert got[:40] == list(range(40)) and isinstance(got[40], BadRequest)
    assert sizes[0] == 1 and max(sizes) == 8 and sum(sizes) == 42  # the first went at once, then groups of up to 8
    assert len(threads) == 1  # one worker wrote every group


@pytest.mark.postgres
@pytest.mark.parametrize("grouped", [False, True], ids=["alone", "in a group"])
def test_a_deadlock_victim_is_written_again(db: Database, grouped: bool) -> None:  # noqa: F811
    """Two writes that take two rows in opposite orders deadlock; PostgreSQL rolls one back, which is then written
    again (alone) instead of failing."""
    if db.dialect.name != "postgresql":
        pytest.skip("SQLite writes one transaction at a time")
    db.write_sync(lambda c: [c.insert("items", {"name": n, "n": 0}) for n in ("x", "y")])
    held = {"x": threading.Event(), "y": threading.Event()}

    def cross(first: str, second: str) -> Any:
        def job(c: Any) -> None:
            c.execute("UPDATE items SET n = n + 1 WHERE name = ?", (first,))
            held[first].set()
            assert held[second].wait(30)
            c.execute("UPDATE items SET n = n + 1 WHERE name = ?", (second,))
        return job

    errors: list[BaseException | None] = []

    def run(job: Any) -> None:
        try:
            errors.append(_grouped(db, [job])[0] if grouped else db.write_sync(job))
        except Exception as exc:  # noqa: BLE001 - the answer under test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(cross(a, b),)) for a, b in (("x", "y"), ("y", "x"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [None, None], [getattr(e, "log_message", e) for e in errors]
    assert {r[0]: r[1] for r in db.read_sync(lambda c: c.fetchall(
        "SELECT name, n FROM items WHERE name IN ('x', 'y')"))} == {"x": 2, "y": 2}
