"""The real app served by uvicorn in a thread, with the embedded broker on a free port (the ``serve`` fixture of
tests/conftest.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from tests.conftest import ADMIN_TOKEN, free_port


class Served:
    def __init__(self, app: Any, port: int, mqtt_port: int) -> None:
        self.app = app
        self.platform = app.state.platform
        self.url = f"http://127.0.0.1:{port}"
        self.port = port
        self.mqtt_port = mqtt_port
        self.http = httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30)
        self.stopper: tuple[Any, threading.Thread] | None = None

    def stop(self) -> None:
        """Stop the server now (the app's shutdown runs), rather than when the test ends."""
        if self.stopper is not None:
            server, th = self.stopper
            server.should_exit = True
            th.join(15)

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        r = self.http.post("/sta/v1.1/" + path, json=body)
        assert r.status_code == 201, r.text
        loc = r.headers.get("Location")
        out = r.json() if r.content else {}
        if not out and loc:
            out = self.http.get(loc).json()
        return out  # type: ignore[no-any-return]

    def get(self, path: str) -> dict[str, Any]:
        r = self.http.get("/sta/" + path)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    def dataset(self, name: str, access: str, org: str | None = None) -> int:
        now = "2024-01-01T00:00:00.000000Z"
        return int(self.platform.db.write_sync(lambda c: c.insert("datasets", {
            "name": name, "title": name, "owner_org": org, "access_level": access, "created_at": now,
            "modified_at": now})))

    def token(self, role: str, org: str | None = None) -> str:
        from urbanos.governance.tokens import create_token

        return str(self.platform.db.write_sync(lambda c: create_token(c, role, org, name="t")))

    def station(self, dataset_id: int | None = None) -> tuple[int, int]:
        """A Thing with one Datastream: (thing id, datastream id)."""
        thing: dict[str, Any] = {"name": "counter", "description": "pedestrian counter", "properties": {"zone": "a"},
                                 "Locations": [{"name": "corner", "description": "corner", "encodingType":
                                                "application/geo+json", "location": {"type": "Point",
                                                                                     "coordinates": [144.96, -37.81]}}]}
        if dataset_id is not None:
            thing["dataset_id"] = dataset_id
        t = self.post("Things", thing)
        ds = self.post("Datastreams", {
            "name": "count", "description": "people per hour", "observationType":
            "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_CountObservation",
            "unitOfMeasurement": {"name": "count", "symbol": "{people}", "definition": "http://unitsofmeasure.org/ucum.html"},
            "Thing": {"@iot.id": t["@iot.id"]},
            "Sensor": {"name": "s", "description": "s", "encodingType": "application/pdf", "metadata": "x"},
            "ObservedProperty": {"name": "p", "definition": "http://example.org/p", "description": "p"},
        })
        return int(t["@iot.id"]), int(ds["@iot.id"])


def serve(make_settings: Callable[..., Any]) -> Iterator[Callable[..., Served]]:
    import uvicorn

    from urbanos.web.app import create_app

    started: list[tuple[Any, threading.Thread]] = []

    def start(**overrides: Any) -> Served:
        port, mqtt_port = free_port(), overrides.pop("mqtt_port", None) or free_port()
        settings = make_settings(port=port, mqtt_port=mqtt_port, **overrides)
        app = create_app(settings)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on",
                                               ws="websockets-sansio" if _has_sansio() else "auto"))
        th = threading.Thread(target=server.run, daemon=True)
        th.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if time.monotonic() > deadline or not th.is_alive():
                raise RuntimeError("server did not start")
            time.sleep(0.05)
        started.append((server, th))
        served = Served(app, port, mqtt_port)
        served.stopper = (server, th)
        return served

    yield start
    for server, th in started:
        server.should_exit = True
        th.join(15)


def _has_sansio() -> bool:
    try:
        import uvicorn.protocols.websockets.websockets_sansio_impl  # noqa: F401
    except ImportError:
        return False
    return True
