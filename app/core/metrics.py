"""Prometheus metrics: requests and latency by route template, and the gauges that domain
packages refresh at scrape time (dossiers by status: app/dossiers/metrics.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import Scope

if TYPE_CHECKING:
    from app.core.db import Database

# Reads what a gauge shows from the database, just before a scrape renders the registry.
ScrapeHook = Callable[["Database"], Awaitable[None]]

UNMATCHED_ROUTE = "<unmatched>"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """One registry per app, so that several apps in one process (tests) keep apart."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "portalsim_http_requests_total",
            "HTTP requests by method, route template and status code",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "portalsim_http_request_duration_seconds",
            "HTTP request latency by method and route template",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._scrape_hooks: list[ScrapeHook] = []
        # Each (method, route template, status) seen: its request counter and latency histogram.
        self._series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe_request(self, scope: Scope, status_code: int, seconds: float) -> None:
        """One answered request, by the template of the route that served it (set in `scope`
        by the router, or by what answered in its place), or UNMATCHED_ROUTE."""
        route: Any = scope.get("route")
        template = getattr(route, "path_format", None) or UNMATCHED_ROUTE
        key = (scope["method"], template, status_code)
        series = self._series.get(key)
        if series is None:  # `labels` validates and locks on each call: once per series
            method = key[0]
            series = self._series[key] = (
                self.requests.labels(method, template, str(status_code)),
                self.latency.labels(method, template),
            )
        series[0].inc()
        series[1].observe(seconds)

    def on_scrape(self, hook: ScrapeHook) -> None:
        self._scrape_hooks.append(hook)

    async def render(self, database: Database) -> bytes:
        """The registry in Prometheus' text format, gauges refreshed first."""
        for hook in self._scrape_hooks:
            await hook(database)
        return generate_latest(self.registry)
