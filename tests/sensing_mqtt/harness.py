"""A real platform for the broker tests: the app served by uvicorn in a thread (HTTP API, storage, gate), its embedded
broker on a free port, the tokens of a reader, publishers and a steward, and two stations (a Thing with a Datastream
and a FeatureOfInterest), one open and one internal to the organisation "mobility".

A module starts one with a module-scoped fixture (``with staged(tmp_path_factory.mktemp(...)) as stage``) and its
tests share it: each test reads counters as differences and uses its own clients."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client import generate_latest

from tests.conftest import fresh_db_url, settings_for
from tests.sensing_mqtt.served import Served, serve


@dataclass(frozen=True)
class Station:
    thing: int
    ds: int
    foi: int

    @property
    def observations(self) -> str:
        """The topic of the Datastream's Observations."""
        return f"v1.1/Datastreams({self.ds})/Observations"


class Stage:
    def __init__(self, served: Served) -> None:
        self.s = served
        self.platform = served.platform
        self.port = served.mqtt_port
        self.tokens = {"reader": served.token("reader", "mobility"), "publisher": served.token("publisher"),
                       "scoped": served.token("publisher", "mobility"), "steward": served.token("steward")}
        self.open = self.station()
        self.closed = self.station(served.dataset("closed", "internal", org="mobility"))

    @property
    def svc(self) -> Any:
        """The MQTT service (its broker, tasks and counters)."""
        return self.platform.services["mqtt"]

    def subject(self, name: str) -> str:
        """The identity subject of token ``name``."""
        return f"token:{self.tokens[name].split('_')[1]}"

    def station(self, dataset_id: int | None = None) -> Station:
        """A new Thing with a Location and a Datastream; its first Observation (over HTTP) makes the FeatureOfInterest."""
        thing, ds = self.s.station(dataset_id)
        first = self.s.post(f"Datastreams({ds})/Observations", {"result": 0})
        foi = self.s.get(f"v1.1/Observations({first['@iot.id']})/FeatureOfInterest")["@iot.id"]
        return Station(thing, ds, int(foi))

    def observations(self, ds: int) -> int:
        """How many Observations Datastream ``ds`` has (read with the admin token)."""
        return int(self.s.get(f"v1.1/Datastreams({ds})/Observations?$count=true&$top=1")["@iot.count"])

    def patch(self, path: str, body: dict[str, Any]) -> None:
        r = self.s.http.patch(f"/sta/v1.1/{path}", json=body)
        assert r.status_code == 200, r.text

    def metric(self, text: str) -> float:
        for line in generate_latest(self.platform.registry).decode().splitlines():
            if line.startswith(text + " "):
                return float(line.split()[-1])
        return 0.0


@contextmanager
def staged(folder: Path, **overrides: Any) -> Iterator[Stage]:
    """A :class:`Stage` on a fresh database in ``folder``, with settings ``overrides``."""
    with fresh_db_url(folder) as url:
        servers = serve(lambda **o: settings_for(folder, o.pop("db", url), **o))
        start = next(servers)
        try:
            yield Stage(start(**overrides))
        finally:
            next(servers, None)  # stops the server


__all__ = ["Stage", "Station", "staged"]
