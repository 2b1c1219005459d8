"""An MQTT service on a stand-in SensorThings service, for broker, topic and access tests without HTTP."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import CollectorRegistry

from urbanos.bus import MemoryBus
from urbanos.errors import BadRequest, Forbidden, NotFound, Unauthorized
from urbanos.events import Event
from urbanos.governance.identity import ANONYMOUS, Identity, Membership
from urbanos.sensing.mqtt import SETTINGS
from urbanos.sensing.mqtt.topics import SETS
from urbanos.settings import CORE_SETTINGS, build_registry, load

READER = Identity(subject="token:1", kind="token", memberships=frozenset({Membership("reader", "mobility")}), name="r")
PUBLISHER = Identity(subject="token:2", kind="token", memberships=frozenset({Membership("publisher")}), name="p")
TOKENS = {"reader-token": READER, "publisher-token": PUBLISHER}


class FakeGate:
    def record_failure(self, client: str | None) -> None:
        """The real gate counts failures per address; the broker tests do not exercise that limit."""

    async def authenticate(self, token: str | None, *, client: str | None = None) -> Identity:
        if not token:
            return ANONYMOUS
        if token not in TOKENS:
            raise Unauthorized("The token is invalid, expired or revoked.")
        return TOKENS[token]


class FakeSensing:
    """Entities in memory. Dataset 1 is open, dataset 2 is internal to 'mobility'."""

    def __init__(self, bus: MemoryBus) -> None:
        self.bus = bus
        self.rows: dict[tuple[str, int], dict[str, Any]] = {}
        self.dataset: dict[tuple[str, int], int] = {}
        self.next_id = 100
        self.add("Things", 1, {"name": "counter", "description": "d", "properties": {"a": 1}}, 1)
        self.add("Datastreams", 1, {"name": "open ds", "unitOfMeasurement": {}}, 1)
        self.add("Things", 2, {"name": "closed", "description": "d", "properties": {}}, 2)
        self.add("Datastreams", 2, {"name": "closed ds", "unitOfMeasurement": {}}, 2)

    def add(self, eset: str, eid: int, props: dict[str, Any], ds: int) -> None:
        self.rows[(eset, eid)] = {"@iot.id": eid, **props}
        self.dataset[(eset, eid)] = ds

    def visible(self, ident: Identity, key: tuple[str, int]) -> bool:
        ds = self.dataset.get(key)
        return ds == 1 or ident.is_admin or "mobility" in ident.orgs() or ident is PUBLISHER

    async def entity_json(self, version: str, entity_set: str, id: Any, identity: Identity, base_url: str,
                          select: list[str] | None = None) -> dict[str, Any] | None:
        key = (entity_set, int(id))
        row = self.rows.get(key)
        if row is None or not self.visible(identity, key):
            return None
        out = dict(row, **{"@iot.selfLink": f"{base_url}/sta/{version}/{entity_set}({id})"})
        if select:
            out = {k: v for k, v in out.items() if k in select or (k == "@iot.id" and "id" in select)}
        return out

    async def create_at_path(self, version: str, path: str, body: dict[str, Any], identity: Identity,
                             base_url: str) -> dict[str, Any]:
        if identity.is_anonymous:
            raise Unauthorized("needs a token")
        parts = path.split("/")
        if parts[-1] != "Observations":
            raise BadRequest("only Observations in this stand-in")
        ds = None
        if len(parts) == 2:
            ds = int(parts[0].split("(")[1].rstrip(")"))
        elif isinstance(body.get("Datastream"), dict):
            ds = body["Datastream"].get("@iot.id")
        if ds is None:
            raise BadRequest("Datastream missing")
        if ("Datastreams", ds) not in self.rows:
            raise NotFound(f"Datastreams({ds}) not found")
        if not self.visible(identity, ("Datastreams", ds)):
            raise Forbidden("no")
        if "result" not in body:
            raise BadRequest("result is required")
        self.next_id += 1
        oid = self.next_id
        self.add("Observations", oid, {"result": body["result"], "phenomenonTime": body.get("phenomenonTime", "2024-01-01T00:00:00Z"),
                                       "resultTime": None}, self.dataset[("Datastreams", ds)])
        self.bus.publish([Event("created", "Observation", oid, topic="sensing", dataset_id=self.dataset[("Datastreams", ds)],
                                data={"links": {"Datastream": ds, "FeatureOfInterest": 3}})])
        return await self.entity_json(version, "Observations", oid, identity, base_url) or {}

    def update(self, eset: str, eid: int, changes: dict[str, Any]) -> None:
        self.rows[(eset, eid)].update(changes)
        self.bus.publish([Event("updated", SETS[eset], eid, topic="sensing", dataset_id=self.dataset[(eset, eid)],
                                changed=tuple(changes))])


class FakePlatform:
    def __init__(self, **overrides: Any) -> None:
        reg = build_registry(list(CORE_SETTINGS) + list(SETTINGS))
        self.settings = load(reg, env={}, overrides=overrides)
        self.registry = CollectorRegistry()
        self.bus = MemoryBus()
        self.gate = FakeGate()
        self.services: dict[str, Any] = {}
        self.services["sensing"] = FakeSensing(self.bus)


@contextmanager
def running(**overrides: Any) -> Iterator[tuple[FakePlatform, Any, asyncio.AbstractEventLoop]]:
    """Start the MQTT service of a FakePlatform in a thread; yields (platform, service, loop)."""
    from urbanos.sensing.mqtt.service import MqttService

    platform = FakePlatform(**overrides)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, Any] = {}

    async def main() -> None:
        await platform.bus.start()
        svc = MqttService(platform)
        platform.services["mqtt"] = svc
        await svc.start()
        holder["svc"] = svc
        ready.set()

    t = threading.Thread(target=loop.run_forever, daemon=True)
    t.start()
    asyncio.run_coroutine_threadsafe(main(), loop).result(10)
    ready.wait(10)
    try:
        yield platform, holder["svc"], loop
    finally:
        asyncio.run_coroutine_threadsafe(holder["svc"].stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        t.join(5)
        loop.close()


def call(loop: asyncio.AbstractEventLoop, fn: Any, *args: Any) -> Any:
    """Run a plain function on the service's loop (the bus and broker are not thread-safe)."""
    async def run() -> Any:
        return fn(*args)

    return asyncio.run_coroutine_threadsafe(run(), loop).result(10)
