"""SensorThings test helpers: entity bodies (``thing``, ``datastream``, ``location``) and ``Sta``, requests through
the in-process client (the ``sta`` fixture of tests/conftest.py gives one with the admin token)."""

from __future__ import annotations

from typing import Any

OBS_COUNT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_CountObservation"
OBS_MEAS = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"
OBS_COMPLEX = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_ComplexObservation"
V = "/sta/v1.1"


def location(name: str = "Corner", lon: float = 144.96, lat: float = -37.81) -> dict[str, Any]:
    return {"name": name, "description": f"{name} location", "encodingType": "application/geo+json",
            "location": {"type": "Point", "coordinates": [lon, lat]}}


def datastream(name: str = "Count", **extra: Any) -> dict[str, Any]:
    body = {
        "name": name, "description": f"{name} datastream",
        "unitOfMeasurement": {"name": "persons per hour", "symbol": "1/h", "definition": "http://qudt.org/vocab/unit/PER-HR"},
        "observationType": OBS_COUNT,
        "Sensor": {"name": "Counter", "description": "A pedestrian counter", "encodingType": "text/html",
                   "metadata": "https://example.org/counter"},
        "ObservedProperty": {"name": "Pedestrians", "definition": "https://example.org/pedestrians",
                             "description": "People passing"},
    }
    body.update(extra)
    return body


def thing(name: str = "Sensor 1", **extra: Any) -> dict[str, Any]:
    body = {"name": name, "description": f"{name} thing", "properties": {"kind": "counter"},
            "Locations": [location(name + " place")], "Datastreams": [datastream(name + " count")]}
    body.update(extra)
    return body


class Sta:
    """A small helper over the TestClient: admin writes, JSON reads."""

    def __init__(self, client: Any, headers: dict[str, str]) -> None:
        self.c = client
        self.h = headers

    def get(self, path: str, **kw: Any) -> Any:
        return self.c.get(V + path, **kw)

    def ok(self, path: str, headers: dict[str, str] | None = None) -> Any:
        r = self.get(path, headers=headers or {})
        assert r.status_code == 200, r.text
        return r.json()

    def post(self, path: str, body: Any, **kw: Any) -> Any:
        return self.c.post(V + path, json=body, headers={**self.h, **kw.pop("headers", {})}, **kw)

    def create(self, path: str, body: Any) -> dict[str, Any]:
        r = self.post(path, body)
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]

    def patch(self, path: str, body: Any, ctype: str = "application/json") -> Any:
        import orjson

        return self.c.patch(V + path, content=orjson.dumps(body), headers={**self.h, "Content-Type": ctype})

    def put(self, path: str, body: Any) -> Any:
        return self.c.put(V + path, json=body, headers=self.h)

    def delete(self, path: str) -> Any:
        return self.c.delete(V + path, headers=self.h)

    def observe(self, ds: int, result: Any, time: str | None = None, **extra: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"result": result, "Datastream": {"@iot.id": ds}, **extra}
        if time:
            body["phenomenonTime"] = time
        return self.create("/Observations", body)

