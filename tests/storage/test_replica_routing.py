"""The read replica's settings and routing rules that need no second cluster (the real standby is exercised in
tests/faults/test_read_replica.py): configuration errors, LSN parsing, and the decisions of the router."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import settings_for
from urbanos.errors import ConfigError
from urbanos.storage import open_database
from urbanos.storage.replica import MISS, Replica, State, lsn


def test_db_read_needs_postgresql(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="DB_READ.*needs PostgreSQL"):
        open_database(settings_for(tmp_path, "", db_read="postgresql://postgres@127.0.0.1:1/x"))
    with pytest.raises(ConfigError, match="DB_READ.*not a PostgreSQL URL"):
        open_database(settings_for(tmp_path, "postgresql://postgres@127.0.0.1:1/x", db_read="mysql://x"))
    db = open_database(settings_for(tmp_path, "postgresql://postgres@127.0.0.1:1/x"))
    assert getattr(db, "replica", None) is None  # empty db_read: nothing changes


def test_lsn_order() -> None:
    assert lsn(None) == 0 and lsn("0/0") == 0
    assert lsn("16/B374D848") == (0x16 << 32) | 0xB374D848
    assert lsn("1/0") > lsn("0/FFFFFFFF")


class _Raw:
    """A stand-in connection whose replica state query answers ``state``."""

    def __init__(self, state: tuple[Any, ...]) -> None:
        self.state = state

    def execute(self, sql: str, *_: Any) -> _Raw:
        return self

    def fetchone(self) -> tuple[Any, ...]:
        return self.state


class _Pool:
    def __init__(self, raw: _Raw) -> None:
        self.raw = raw

    def getconn(self, timeout: float = 0) -> _Raw:
        return self.raw

    def putconn(self, raw: _Raw) -> None:
        pass


def _replica(state: tuple[Any, ...], max_lag: float = 5.0) -> Replica:
    r = Replica("postgresql://standby/x", max_lag=max_lag, min_size=1, max_size=2, configure=lambda c: None,
                refresh=0.0)
    r.pool = _Pool(_Raw(state))  # type: ignore[assignment]
    return r


def test_routing_decisions() -> None:
    body = lambda raw: "standby"  # noqa: E731
    assert _replica((True, "0/100", 0.0)).run(body) == "standby"
    not_standby = _replica((False, None, None))
    assert not_standby.run(body) is MISS and not_standby.reason == "not_standby"
    lagging = _replica((True, "0/100", 9.0), max_lag=5.0)
    assert lagging.run(body) is MISS and lagging.stats()["replica_fallbacks"] == 1
    behind = _replica((True, "0/100", 0.0))
    behind.last_write = lsn("0/200")  # this process wrote past what the standby replayed
    assert behind.run(body) is MISS and behind.stats()["replica_own_write_reads"] == 1
    behind.pool.raw.state = (True, "0/200", 0.0)  # type: ignore[union-attr]
    assert behind.run(body) == "standby"  # replayed: the standby serves again
    down = _replica((True, "0/100", 0.0))
    down.down_until = time.monotonic() + 60
    assert down.run(body) is MISS and down.stats()["replica_serving"] == 0


def test_state_is_cached_between_refreshes() -> None:
    r = _replica((True, "0/100", 0.0))
    r.refresh = 60.0
    r.state = State(time.monotonic(), True, lsn("0/100"), 0.0)
    r.pool.raw.state = (False, None, None)  # type: ignore[union-attr]  # not asked: the cached state holds
    assert r.run(lambda raw: 1) == 1
