"""Prometheus metrics of one app: requests and latency by route, database pool and bus figures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from urbanos.platform import Platform


class _PlatformCollector(Collector):
    def __init__(self, platform: Platform) -> None:
        self.platform = platform

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


class Metrics:
    def __init__(self, platform: Platform) -> None:
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
        self.registry.register(_PlatformCollector(platform))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def render(self) -> bytes:
        return bytes(generate_latest(self.registry))


__all__ = ["Metrics"]
