"""Prometheus metrics of one app: requests and latency by route, database pool and bus figures."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.applications import Starlette

from urbanos.platform import Platform


class _PlatformCollector(Collector):
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.load: list[Callable[[], dict[tuple[str, str], float]]] = []

    def collect(self) -> Iterator[Any]:
        stats = self.platform.db.pool_stats() if self.platform.opened else {}
        g = GaugeMetricFamily("urbanos_db_pool", "Database pool figures", labels=["figure", "backend"])
        for key, value in stats.items():
            g.add_metric([key, self.platform.db.dialect.name], value)
        yield g
        b = GaugeMetricFamily("urbanos_bus_events", "Events published on the bus", labels=["figure"])
        b.add_metric(["published"], float(self.platform.bus.published))
        b.add_metric(["handler_errors"], float(self.platform.bus.handler_errors))
        yield b
        if self.load:
            g = GaugeMetricFamily("urbanos_load", "Load shedding by traffic class: limit, active, queued, shed, "
                                  "served, seconds in a slot; requests refused by rate limits", labels=["class", "figure"])
            for figures in self.load:
                for (cls, figure), value in figures().items():
                    g.add_metric([cls, figure], value)
            yield g


METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER = "other"


def _first(path: str) -> str:
    return "/" + path.strip("/").split("/", 1)[0]


class Metrics:
    """Request counters and latency by method, route and status.

    Label values come from requests, so they are bounded here: a method outside :data:`METHODS` counts as
    ``other``; a route is the template of a route the app serves, or for paths no route matched, the first path
    segment when some route starts with it (``/sta/…``) and ``other`` otherwise. Random paths and methods add no
    series."""

    def __init__(self, platform: Platform, app: Starlette | None = None) -> None:
        self.app = app
        self._learned_from = -1
        self._routes: frozenset[str] = frozenset()
        self._prefixes: frozenset[str] = frozenset()
        self.registry: CollectorRegistry = platform.registry
        self.requests = Counter(
            "urbanos_http_requests", "HTTP requests by method, route and status", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "urbanos_http_request_duration_seconds",
            "HTTP request latency by route",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self._collector = _PlatformCollector(platform)
        self.registry.register(self._collector)

    def watch_load(self, figures: Callable[[], dict[tuple[str, str], float]]) -> None:
        """Report the shedding figures ``figures()`` gives (the middleware's) with every scrape."""
        self._collector.load.append(figures)

    def _learn(self) -> None:
        """The templates of the app's routes (mounted routers included) and their first segments."""
        routes: set[str] = set()
        pending: list[tuple[str, Any]] = [("", r) for r in getattr(self.app, "routes", None) or ()]
        while pending:
            prefix, route = pending.pop()
            path = getattr(route, "path", None)
            if not isinstance(path, str):
                continue
            routes.update({path, prefix + path})
            pending.extend((prefix + path, r) for r in getattr(route, "routes", None) or ())
        self._routes = frozenset(routes)
        self._prefixes = frozenset(_first(p) for p in routes if p.startswith("/") and "{" not in _first(p))
        self._learned_from = len(getattr(self.app, "routes", None) or ())

    def route_label(self, route: str) -> str:
        if self._learned_from != len(getattr(self.app, "routes", None) or ()):
            self._learn()
        if route in self._routes:
            return route
        first = _first(route)
        if first in self._prefixes and route in (first, first + "/…"):
            return route
        return OTHER

    @staticmethod
    def method_label(method: str) -> str:
        return method if method in METHODS else OTHER

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        m, r = self.method_label(method), self.route_label(route)
        code = str(status) if isinstance(status, int) and 100 <= status <= 599 else OTHER
        self.requests.labels(m, r, code).inc()
        self.latency.labels(m, r).observe(seconds)

    def render(self) -> bytes:
        return bytes(generate_latest(self.registry))


__all__ = ["Metrics"]
