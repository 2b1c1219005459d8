"""Real-format feeds for the connector tests: GBFS v2.3 and v3.0 systems, CSV and JSON files, served by
tests/local_http.py from a dict the test can change between runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson

from tests.local_http import Hit, Reply

T0 = 1_765_000_000  # a fixed POSIX time


def station_info(n: int, version: str, prefix: str = "") -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        text = f"{prefix}Station {i}"
        name: Any = text if version.startswith("2") else [{"text": text, "language": "en"}]
        out.append({"station_id": f"s{i}", "name": name, "lat": round(53.55 + i * 0.001, 6), "lon": round(9.99 + i * 0.001, 6),
                    "capacity": 20})
    return out


def station_status(n: int, version: str, bikes: Callable[[int], int] = lambda i: i % 10) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        key = "num_bikes_available" if version.startswith("2") else "num_vehicles_available"
        reported: Any = T0 if version.startswith("2") else "2025-12-06T06:00:00Z"
        out.append({"station_id": f"s{i}", key: bikes(i), "num_docks_available": 20 - bikes(i), "is_installed": True,
                    "is_renting": True, "is_returning": True, "last_reported": reported})
    return out


def vehicles(n: int, version: str) -> list[dict[str, Any]]:
    key = "bike_id" if version.startswith("2") else "vehicle_id"
    return [{key: f"b{i}", "lat": 53.56 + i * 0.001, "lon": 10.0 + i * 0.001, "is_reserved": False,
             "is_disabled": False, "vehicle_type_id": "bike"} for i in range(n)]


def gbfs(base: str, version: str = "3.0", n: int = 3, nveh: int = 2, ttl: int = 0,
         bikes: Callable[[int], int] = lambda i: i % 10, prefix: str = "") -> dict[str, Any]:
    """The documents of a GBFS system at ``base`` (path -> JSON value)."""
    v2 = version.startswith("2")
    updated: Any = T0 if v2 else "2025-12-06T06:00:00Z"
    veh_file = "free_bike_status" if v2 else "vehicle_status"
    names = ["system_information", "station_information", "station_status", veh_file]
    feeds = [{"name": f, "url": f"{base}/gbfs/{f}.json"} for f in names]
    data = {"en": {"feeds": feeds}} if v2 else {"feeds": feeds}

    def doc(d: dict[str, Any]) -> dict[str, Any]:
        return {"last_updated": updated, "ttl": ttl, "version": version, "data": d}

    return {
        "/gbfs/gbfs.json": doc(data),
        "/gbfs/system_information.json": doc({"system_id": "test", "name": "Test bikes", "language": "en",
                                               "timezone": "Europe/Berlin"}),
        "/gbfs/station_information.json": doc({"stations": station_info(n, version, prefix)}),
        "/gbfs/station_status.json": doc({"stations": station_status(n, version, bikes)}),
        f"/gbfs/{veh_file}.json": doc({"bikes" if v2 else "vehicles": vehicles(nveh, version)}),
    }


class Files:
    """Mutable routes for ``tests.local_http.serve``: ``files[path] = value`` (dict/list → JSON, bytes as they
    are); ``delay[path]`` seconds before answering; ``status[path]`` another status."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.delay: dict[str, float] = {}
        self.status: dict[str, int] = {}

    def reply(self, path: str) -> Callable[[Hit], Reply]:
        def answer(hit: Hit) -> Reply:
            if path in self.delay:
                time.sleep(self.delay[path])
            value = self.values.get(path)
            if value is None:
                return 404, {}, b""
            body = value if isinstance(value, bytes) else orjson.dumps(value)
            ctype = "text/csv" if path.endswith(".csv") else "application/json"
            return self.status.get(path, 200), {"Content-Type": ctype}, body
        return answer

    def routes(self) -> dict[str, Any]:
        return AnyPath(self)


class AnyPath(dict):  # type: ignore[type-arg]
    """Routes answering every path from :class:`Files` (404 for what it does not hold)."""

    def __init__(self, files: Files) -> None:
        super().__init__()
        self.files = files

    def get(self, path: str, default: Any = None) -> Any:  # type: ignore[override]
        return self.files.reply(path)
