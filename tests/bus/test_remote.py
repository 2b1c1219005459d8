"""Cross-process buses: two bus instances stand for two workers."""

from __future__ import annotations

import asyncio
import os
import secrets
from typing import Any

import pytest

from urbanos.bus.remote import PostgresBus, RedisBus, make_remote_bus
from urbanos.errors import ConfigError
from urbanos.events import Event

PG = os.environ.get("URBANOS_TEST_DB") or "postgresql://postgres@127.0.0.1/test"
REDIS = "redis://127.0.0.1:6379/0"


def _pg_ok() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG, connect_timeout=3):
            return True
    except Exception:  # noqa: BLE001
        return False


def _redis_ok() -> bool:
    try:
        import redis

        return bool(redis.from_url(REDIS, socket_connect_timeout=2).ping())
    except Exception:  # noqa: BLE001
        return False


def _need(ok: bool, what: str) -> None:
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(f"{what} is not reachable in CI")
        pytest.skip(f"{what} is not reachable")


async def _pair(make: Any) -> None:
    channel = "urbanos_test_" + secrets.token_hex(6)
    a, b = make(channel), make(channel)
    got_a: list[Event] = []
    got_b: list[Event] = []
    a.subscribe(got_a.append, topic="sensing")
    b.subscribe(got_b.append, topic="sensing")
    await a.start()
    await b.start()
    try:
        for _ in range(100):
            if a.connected and b.connected:
                break
            await asyncio.sleep(0.05)
        big = {"blob": "é" * 9000}  # larger than a NOTIFY payload: sent in chunks
        a.publish([Event("created", "Observation", 1, topic="sensing", data={"links": {"Datastream": 5}}),
                   Event("created", "Thing", 2, topic="catalog")])
        a.publish([Event("updated", "Thing", 3, topic="sensing", data=big, changed=("name",))])
        for _ in range(200):
            if len(got_b) >= 2:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
        # local delivery once, no echo; remote delivery once; topic filter applies on both sides
        assert [(e.entity, e.id) for e in got_a] == [("Observation", 1), ("Thing", 3)]
        assert [(e.entity, e.id) for e in got_b] == [("Observation", 1), ("Thing", 3)]
        assert got_b[0].data == {"links": {"Datastream": 5}}
        assert got_b[1].data == big and got_b[1].changed == ("name",)
        assert b.received == 3 and a.received == 0
    finally:
        await a.stop()
        await b.stop()


def test_postgres_bus_between_two_instances() -> None:
    _need(_pg_ok(), "PostgreSQL")
    asyncio.run(_pair(lambda ch: PostgresBus(PG, ch)))


def test_redis_bus_between_two_instances() -> None:
    _need(_redis_ok(), "Redis")
    asyncio.run(_pair(lambda ch: RedisBus(REDIS, ch)))


def test_chunks_reassemble_in_any_order() -> None:
    bus = PostgresBus(PG, "x")
    other = PostgresBus(PG, "x")
    seen: list[Event] = []
    other.subscribe(seen.append)
    import orjson

    msg = orjson.dumps({"o": bus.origin, "e": [Event("created", "Thing", 1, data={"x": "y" * 30000}).to_dict()]}).decode()
    parts = bus.chunks(msg, 7900)
    assert len(parts) > 3 and all(len(p.encode()) < 8000 for p in parts)
    for p in reversed(parts):
        other.on_message(p)
    other.on_message("not json")
    other.on_message('{"o": "z", "c": "x", "i": 5, "n": 2}')
    assert len(seen) == 1 and seen[0].data["x"] == "y" * 30000


def test_sender_queue_is_bounded_without_a_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    bus = RedisBus("redis://127.0.0.1:1/0", "x")  # nothing listens there
    bus.queue_size = 3
    sent: list[list[str]] = []
    monkeypatch.setattr(bus, "send_sync", lambda msgs: sent.append(msgs))
    bus.publish([Event("created", "Thing", 1)])
    assert len(sent) == 1 and bus.outbox == type(bus.outbox)()


def test_make_remote_bus_checks_settings(make_settings: Any) -> None:
    s = make_settings()
    if not str(s.db).startswith("postgres"):
        with pytest.raises(ConfigError):
            make_remote_bus(s.replace(bus="postgres"), None)
    assert isinstance(make_remote_bus(s.replace(bus="redis://127.0.0.1:6379/0"), None), RedisBus)


async def _restart() -> None:
    import psycopg

    channel = "urbanos_test_" + secrets.token_hex(6)
    a, b = PostgresBus(PG, channel), PostgresBus(PG, channel)
    got: list[Event] = []
    b.subscribe(got.append)
    await a.start()
    await b.start()
    try:
        for _ in range(100):
            if b.connected and b._listen_conn is not None:
                break
            await asyncio.sleep(0.05)
        pid = b._listen_conn.info.backend_pid
        with psycopg.connect(PG, autocommit=True) as c:  # the database drops the listener's connection
            c.execute("SELECT pg_terminate_backend(%s)", (pid,))
        for _ in range(200):
            await asyncio.sleep(0.05)
            if b._listen_conn is not None and b._listen_conn.info.backend_pid != pid and b.connected:
                break
        a.publish([Event("created", "Thing", 9)])
        for _ in range(200):
            if got:
                break
            await asyncio.sleep(0.05)
        assert [e.id for e in got] == [9]
    finally:
        await a.stop()
        await b.stop()


def test_postgres_listener_reconnects() -> None:
    _need(_pg_ok(), "PostgreSQL")
    asyncio.run(_restart())
