"""Load shedding: a concurrency budget per kind of traffic with a queue bounded by its expected wait, per-token
and per-address rate limits, each refusal in the format of the path's standard with Retry-After."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from urbanos.web.app import create_app
from urbanos.web.middleware import HEAVY, MQTT, OTHER, WRITES, Budget, Pacer, TokenBuckets, traffic_class

ADMIN = {"Authorization": "Bearer test-admin-token-0123456789"}


def test_traffic_classes() -> None:
    assert traffic_class("GET", "/sta/v1.1/Observations") == HEAVY
    assert traffic_class("GET", "/ogcapi/collections/x/items") == HEAVY
    assert traffic_class("GET", "/api/3/action/package_search") == HEAVY
    assert traffic_class("POST", "/api/3/action/package_search") == HEAVY  # a CKAN read sent as POST
    assert traffic_class("POST", "/api/3/action/package_create") == WRITES
    assert traffic_class("POST", "/sta/v1.1/Observations") == WRITES
    assert traffic_class("DELETE", "/ogcapi/collections/x/items/1") == WRITES
    assert traffic_class("GET", "/") == OTHER and traffic_class("GET", "/static/site.css") == OTHER
    assert traffic_class("GET", "/mqtt", "websocket") == MQTT


def test_budget_queues_in_order_and_hands_slots_over() -> None:
    async def run() -> list[str]:
        b = Budget("t", 1, max_wait=60.0)
        order: list[str] = []
        assert await b.acquire() == 0.0

        async def waiter(name: str) -> None:
            assert await b.acquire() == 0.0
            order.append(name)
            b.release(0.01)

        tasks = [asyncio.create_task(waiter(n)) for n in ("a", "b", "c")]
        await asyncio.sleep(0)
        assert len(b.waiters) == 3 and b.active == 1
        b.release(0.01)
        await asyncio.gather(*tasks)
        assert b.active == 0 and not b.waiters and b.shed == 0
        return order

    assert asyncio.run(run()) == ["a", "b", "c"]


def test_budget_sheds_when_the_expected_wait_is_too_long() -> None:
    async def run() -> None:
        b = Budget("t", 2, max_wait=1.0)
        b.service = 1.5  # seconds in a slot: one request ahead means 0.75 s, two mean 1.5 s
        assert await b.acquire() == 0.0 and await b.acquire() == 0.0
        first = asyncio.create_task(b.acquire())
        await asyncio.sleep(0)
        assert len(b.waiters) == 1
        wait = await b.acquire()  # 1.5 s x 2 / 2 > 1 s: refused at once
        assert wait == pytest.approx(1.5) and b.shed == 1
        b.release(1.5)
        assert await first == 0.0
        for _ in range(2):
            b.release(1.5)
        assert b.active == 0

    asyncio.run(run())


def test_a_waiter_that_goes_away_leaves_no_slot_behind() -> None:
    async def run() -> None:
        b = Budget("t", 1, max_wait=60.0)
        assert await b.acquire() == 0.0
        gone = asyncio.create_task(b.acquire())
        await asyncio.sleep(0)
        gone.cancel()
        with pytest.raises(asyncio.CancelledError):
            await gone
        assert not b.waiters
        b.release(0.01)
        assert b.active == 0

    asyncio.run(run())


def test_token_buckets() -> None:
    buckets = TokenBuckets(0.01)  # one request, then one every 100 s
    assert buckets.take("a") == 0.0
    assert buckets.take("a") > 90
    assert buckets.take("b") == 0.0
    assert buckets.refused == 1
    small = TokenBuckets(1.0, size=2)
    for key in ("x", "y", "z"):
        small.take(key)
    assert list(small.buckets) == ["y", "z"]  # the least recently seen is forgotten


def test_pacer_holds_only_connections_that_come_back_too_soon() -> None:
    async def run() -> None:
        pacer = Pacer(rate=1000.0, max_hold=0.05)
        conn = ("127.0.0.1", 5000)
        await pacer.hold(conn, 1.0)  # a first refusal leaves at once
        assert pacer.held == 0
        again = asyncio.create_task(pacer.hold(conn, 1.0))  # back before its Retry-After: held
        await asyncio.sleep(0)
        assert pacer.held == 1
        await asyncio.create_task(pacer.hold(("127.0.0.1", 5001), 1.0))  # another connection's first: at once
        await again
        assert pacer.held == 0
        await Pacer(rate=0.0, max_hold=1.0).hold(conn, 1.0)  # 0: never held

    asyncio.run(run())


# -- the middleware in front of the real app --------------------------------------------------------------------

@pytest.fixture
def held(make_settings: Any) -> Iterator[tuple[TestClient, threading.Event]]:
    """An app whose classes have one slot each and no queue, with a route under /sta/ (a heavy read) and one
    elsewhere (other) that hold their slot until released."""
    app = create_app(make_settings(budget_heavy_reads=1, budget_other=1, budget_writes=1, shed_max_wait=0))
    release = threading.Event()
    entered: list[threading.Event] = []

    async def hold() -> dict[str, str]:
        entered[-1].set()
        while not release.is_set():
            await asyncio.sleep(0.01)
        return {}

    app.add_api_route("/sta/hold-test", hold)
    app.add_api_route("/hold-test", hold)
    # the hold routes must come before the capabilities' catch-all routes
    app.router.routes.insert(0, app.router.routes.pop())
    app.router.routes.insert(0, app.router.routes.pop())
    threads: list[threading.Thread] = []
    with TestClient(app, raise_server_exceptions=False) as c:
        for path in ("/sta/hold-test", "/hold-test"):
            entered.append(threading.Event())
            t = threading.Thread(target=lambda p=path: c.get(p))
            t.start()
            threads.append(t)
            assert entered[-1].wait(30)
        try:
            yield c, release
        finally:
            release.set()
            for t in threads:
                t.join()
    app.state.platform.close()


def test_full_budget_sheds_in_each_standards_format(held: tuple[TestClient, threading.Event]) -> None:
    c, _ = held
    sta = c.get("/sta/v1.1/Things")
    assert sta.status_code == 503 and int(sta.headers["retry-after"]) >= 1
    assert sta.json()["code"] == 503 and sta.json()["type"] == "error" and "shed_max_wait" in sta.json()["message"]
    ogc = c.get("/ogcapi/collections")
    assert ogc.status_code == 503 and ogc.headers["retry-after"] and ogc.json()["code"] == "ServiceUnavailable"
    ckan = c.get("/api/3/action/package_search")
    assert ckan.status_code == 503 and ckan.headers["retry-after"] and ckan.json()["success"] is False
    page = c.get("/docs")
    assert page.status_code == 503 and page.headers["content-type"] == "application/problem+json"
    assert page.json()["code"] == "overloaded" and page.headers["retry-after"]


def test_one_class_cannot_starve_another(held: tuple[TestClient, threading.Event]) -> None:
    c, _ = held
    assert c.get("/sta/v1.1/Things").status_code == 503  # reads are full
    r = c.post("/sta/v1.1/Things", json={"name": "w", "description": "d"}, headers=ADMIN)
    assert r.status_code == 201, r.text  # writes have their own budget
    assert c.get("/healthz").status_code == 200 and c.get("/readyz").status_code == 200
    text = c.get("/metrics").text
    assert 'urbanos_load{class="heavy_reads",figure="shed"}' in text
    assert 'urbanos_load{class="heavy_reads",figure="active"} 1.0' in text


def test_per_token_rate_limit(make_settings: Any) -> None:
    app = create_app(make_settings(rate_limit_per_token=0.01))  # a burst of one, then one per 100 s
    with TestClient(app, raise_server_exceptions=False) as c:
        other = {"Authorization": "Bearer another-token-that-is-not-valid"}
        assert c.get("/sta/v1.1/Things", headers=ADMIN).status_code == 200
        r = c.get("/sta/v1.1/Things", headers=ADMIN)
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 60
        assert r.json()["code"] == 429 and "rate_limit_per_token" in r.json()["message"]
        problem = c.get("/admin/whoami", headers=ADMIN)
        assert problem.status_code == 429 and problem.json()["code"] == "rate_limited"
        assert c.get("/sta/v1.1/Things", headers=other).status_code == 401  # its own bucket
        for _ in range(3):
            assert c.get("/sta/v1.1/Things").status_code == 200  # anonymous: not limited by this setting
            assert c.get("/healthz", headers=ADMIN).status_code == 200  # probes never are
    app.state.platform.close()


def test_per_address_rate_limit_for_anonymous_callers(make_settings: Any) -> None:
    app = create_app(make_settings(rate_limit_per_address=0.01))
    with TestClient(app, raise_server_exceptions=False) as c:
        assert c.get("/ogcapi/collections").status_code == 200
        r = c.get("/ogcapi/collections")
        assert r.status_code == 429 and r.headers["retry-after"] and r.json()["code"] == "TooManyRequests"
        assert c.get("/ogcapi/collections", headers=ADMIN).status_code == 200  # a token is limited per token
    app.state.platform.close()


def test_budgets_of_zero_leave_only_the_overall_limit(make_settings: Any) -> None:
    app = create_app(make_settings(budget_heavy_reads=0, budget_writes=0, budget_mqtt=0, budget_other=0))
    with TestClient(app, raise_server_exceptions=False) as c:
        assert c.get("/sta/v1.1/Things").status_code == 200
        assert "urbanos_load" in c.get("/metrics").text
    app.state.platform.close()


def test_mqtt_over_websockets_has_a_connection_budget(make_settings: Any) -> None:
    from starlette.websockets import WebSocketDisconnect

    app = create_app(make_settings(budget_mqtt=1))
    with TestClient(app, raise_server_exceptions=False) as c:
        with c.websocket_connect("/mqtt", subprotocols=["mqtt"]):
            with pytest.raises(WebSocketDisconnect) as refused:
                with c.websocket_connect("/mqtt", subprotocols=["mqtt"]):
                    pass
            assert refused.value.code == 1013  # try again later
            assert c.get("/sta/v1.1/Things").status_code == 200  # other classes are not touched
        with c.websocket_connect("/mqtt", subprotocols=["mqtt"]):  # the slot is free again
            pass
    app.state.platform.close()
