"""Fault injection in the portal, applied by the layer in front of the routes (app/core/edge.py).

With PORTAL_FAULTS_ENABLED, `FaultInjection` applies PORTAL_FAULTS and each request's
`X-Portal-Faults` header (which overrides the setting knob by knob): `latency` sleeps before the
route runs, `error` answers 503 without running it, so nothing is written. Without it, the app
only carries `FaultRefusal`, which refuses the header, so that a tester never takes a fault-free
answer for a faulted one. What either answers names the route that would have served the
request, so that the metrics count it by route template like any other.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

from app.core.errors import error_body
from app.core.faults import (
    PORTAL_FAULT_HEADER,
    FaultRoller,
    Faults,
    FaultSyntaxError,
    Rules,
    faults_for,
    format_rules,
    merge,
    parse_rules,
)

logger = logging.getLogger(__name__)

# The header's name as ASGI gives it (lower case).
FAULT_HEADER = PORTAL_FAULT_HEADER.lower().encode("latin-1")


@dataclass(frozen=True)
class FaultRoute:
    """A route of the app, and whether it is an operations route (left alone by rules that do
    not name it)."""

    route: APIRoute
    operational: bool

    @property
    def template(self) -> str:
        return self.route.path_format


def fault_routes(routes: Iterable[BaseRoute], operational: Collection[Any]) -> list[FaultRoute]:
    """The app's API routes in routing order; `operational` holds the operations endpoints."""
    return [
        FaultRoute(route, route.endpoint in operational)
        for route in routes
        if isinstance(route, APIRoute)
    ]


def route_keys(routes: Iterable[FaultRoute]) -> set[tuple[str, str]]:
    """(method, route template) of each route, to validate the routes rules name."""
    return {(method, r.template) for r in routes for method in r.route.methods or ()}


def fault_header(values: Sequence[bytes]) -> str | None:
    """The X-Portal-Faults header from its values (several are joined as rules), or None if
    absent or blank."""
    text = ";".join(value.decode("latin-1") for value in values)
    return text if text.strip() else None


def _match(routes: Sequence[FaultRoute], scope: Scope) -> FaultRoute | None:
    """The route that will serve the request, found the way the router finds it (the first full
    match), since this runs before the router has set `scope["route"]`."""
    for candidate in routes:
        match, _ = candidate.route.matches(scope)
        if match is Match.FULL:
            return candidate
    return None


@dataclass(frozen=True)
class FaultAnswer:
    """What answers a request in place of its route, and the route it names for the metrics."""

    route: FaultRoute | None
    status_code: int
    body: dict[str, Any]


class FaultInjection:
    """Rolls each request's knobs with one seeded generator per process, at arrival (both knobs
    before any wait, so that the sequence of draws follows the order in which requests arrive)."""

    def __init__(self, *, routes: Sequence[FaultRoute], rules: Rules, seed: int) -> None:
        self.routes = routes
        self.keys = route_keys(routes)
        self.roller = FaultRoller(seed)
        # The setting's knobs per (method, template), resolved once: a request looks them up.
        self.configured: dict[tuple[str, str], Faults] = {}
        for method, template in self.keys:
            route = next(r for r in routes if r.template == template)
            faults = faults_for(rules, method, template, operational=route.operational)
            if faults:
                self.configured[method, template] = faults
        # Without rules, only a request carrying the header is looked at.
        self.idle = not self.configured
        logger.warning(
            "fault injection is on (PORTAL_FAULTS_SEED=%d): %s",
            seed,
            format_rules(rules) or f"only by the {PORTAL_FAULT_HEADER} header",
        )

    async def apply(self, scope: Scope, header: str | None) -> FaultAnswer | None:
        """Sleeps the request's latency, if it rolled one; what answers in place of the route
        (an injected 503, or 400 for a malformed header), or None to run the route."""
        route = _match(self.routes, scope)
        method: str = scope["method"]
        faults = self.configured.get((method, route.template), {}) if route else {}
        if header is not None:
            try:
                rules = parse_rules(header, self.keys)
            except FaultSyntaxError as exc:
                detail = f"{PORTAL_FAULT_HEADER}: {exc}"
                body = error_body("bad_fault_header", detail, PORTAL_FAULT_HEADER)
                return FaultAnswer(route, 400, body)
            if route is not None:
                asked = faults_for(rules, method, route.template, operational=route.operational)
                faults = merge(faults, asked)
        if not faults:
            return None
        latency = self.roller.fires(faults, "latency")
        error = self.roller.fires(faults, "error")
        if latency is not None:
            await asyncio.sleep(latency.number / 1000)
        if error is not None:
            detail = "injected fault: the portal answered 503 without running the route"
            return FaultAnswer(route, 503, error_body("injected_fault", detail))
        return None


class FaultRefusal:
    """With fault injection off: 403 for a request that carries X-Portal-Faults."""

    idle = True  # a request without the header is not looked at

    def __init__(self, routes: Sequence[FaultRoute]) -> None:
        self.routes = routes

    async def apply(self, scope: Scope, header: str | None) -> FaultAnswer | None:
        if header is None:
            return None
        detail = (
            f"fault injection is off on this portal: {PORTAL_FAULT_HEADER} needs "
            "PORTAL_FAULTS_ENABLED=true"
        )
        body = error_body("faults_disabled", detail, PORTAL_FAULT_HEADER)
        return FaultAnswer(_match(self.routes, scope), 403, body)
