"""Rate limits shared by several server processes (urbanos/governance/counters.py): the sliding window's
arithmetic; two counters on one store (two processes) admit the limit together, not each; a refused post counts
for nothing. The store: the UNLOGGED table on PostgreSQL (and the same SQL on SQLite), Redis when it runs. Two
real workers: tests/cli/test_workers.py."""

from __future__ import annotations

import asyncio
import secrets
import socket
from typing import Any

import pytest

from tests.conftest import BACKEND
from urbanos.governance.counters import (
    Counter,
    MemoryCounter,
    PostgresCounter,
    RedisCounter,
    admitted,
    make_counter,
    wait_seconds,
)

REDIS = "redis://127.0.0.1:6379/0"


def _redis() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=2):
            return True
    except OSError:
        return False


def test_the_sliding_window_arithmetic() -> None:
    assert admitted(0, 3, 0.0, 3) and not admitted(0, 4, 0.0, 3)
    assert admitted(4, 1, 0.9, 3)  # 0.4 of the previous window's 4 still counts
    assert not admitted(4, 1, 0.25, 3)  # 3 of them do
    assert wait_seconds(0, 3, 0.5, 3, 60) == pytest.approx(30 + 20)  # the window's end, then a third of the next
    assert wait_seconds(4, 1, 0.25, 3, 60) == pytest.approx(30)  # until the previous window's share is 1
    assert wait_seconds(0, 0, 0.5, 3, 60) == 0


def _two_processes(a: Counter, b: Counter) -> None:
    """Two counters on one store: 3 posts a window for one token, whichever process counts them."""
    tok, addr = "tok-" + secrets.token_hex(4), "192.0.2." + str(secrets.randbelow(250))

    async def run() -> list[int]:
        got = []
        for i in range(5):
            got.append(await (a if i % 2 else b).take([("posts", tok, 3), ("address", addr, 100)]))
        got.append(await a.take([("address", addr, 4)]))  # the 2 refused posts did not count against the address
        got.append(await b.take([("posts", None, 1), ("address", None, 1)]))  # nothing to count: admitted
        await a.close()
        await b.close()
        return got

    got = asyncio.run(run())
    assert got[:3] == [0, 0, 0] and all(w >= 1 for w in got[3:5]), got
    assert got[5:] == [0, 0], got


def test_two_counters_on_the_database_share_one_limit(platform: Any) -> None:
    _two_processes(PostgresCounter(platform.db), PostgresCounter(platform.db))
    rows = platform.db.read_sync(lambda c: c.fetchval("SELECT count(*) FROM rate_counts"))
    assert rows >= 2


@pytest.mark.skipif(BACKEND != "sqlite", reason="Redis does not depend on the back end: the SQLite pass runs it")
def test_two_counters_on_redis_share_one_limit() -> None:
    if not _redis():
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    prefix = "urbanos_test_" + secrets.token_hex(4)
    _two_processes(RedisCounter(REDIS, prefix), RedisCounter(REDIS, prefix))


def test_redis_away_counts_in_this_process(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        away = RedisCounter(f"redis://127.0.0.1:{s.getsockname()[1]}/0", "urbanos_test")
        got = asyncio.run(_takes(away, 3))
    assert got[:2] == [0, 0] and got[2] >= 1, got  # the limit still holds, per process
    assert "Redis does not answer" in caplog.text


async def _takes(counter: Counter, n: int) -> list[int]:
    try:
        return [await counter.take([("posts", "t", 2)]) for _ in range(n)]
    finally:
        await counter.close()


def test_one_process_counts_in_memory_and_several_in_the_shared_store(platform: Any) -> None:
    settings = platform.settings
    assert isinstance(make_counter(settings, platform.db, "p"), MemoryCounter)
    assert isinstance(make_counter(settings.replace(bus=REDIS), platform.db, "p"), RedisCounter)
    shared = make_counter(settings.replace(bus="postgres"), platform.db, "p")
    assert isinstance(shared, PostgresCounter if BACKEND == "postgresql" else MemoryCounter)
    mem = MemoryCounter()  # the token buckets: a burst of the limit
    assert [asyncio.run(mem.take([("posts", "t", 2)])) for _ in range(3)][:2] == [0, 0]
