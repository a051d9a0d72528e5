"""Fault injection in the portal, as pure ASGI middleware in front of the routes.

With PORTAL_FAULTS_ENABLED, `FaultInjectionMiddleware` applies PORTAL_FAULTS and each request's
`X-Portal-Faults` header (which overrides the setting knob by knob): `latency` sleeps before the
route runs, `error` answers 503 without running it, so nothing is written. Without it, the app
only carries `RefuseFaultHeaderMiddleware`, which looks for the header and refuses it, so that a
tester never takes a fault-free answer for a faulted one. Both sit inside MetricsMiddleware, and
set the route of what they answer themselves, so that their responses are counted by route
template like any other.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

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

_HEADER = PORTAL_FAULT_HEADER.lower().encode("latin-1")


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


def _header(scope: Scope) -> str | None:
    """The X-Portal-Faults header (several are joined as rules), or None if absent or blank."""
    values = [value for name, value in scope["headers"] if name == _HEADER]
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


async def _answer(
    scope: Scope,
    receive: Receive,
    send: Send,
    route: FaultRoute | None,
    status_code: int,
    body: dict[str, Any],
) -> None:
    if route is not None:
        scope["route"] = route.route  # what MetricsMiddleware labels the response with
    await JSONResponse(body, status_code=status_code)(scope, receive, send)


class FaultInjectionMiddleware:
    """Rolls each request's knobs with one seeded generator per process, at arrival (both knobs
    before any wait, so that the sequence of draws follows the order in which requests arrive)."""

    def __init__(
        self, app: ASGIApp, *, routes: Sequence[FaultRoute], rules: Rules, seed: int
    ) -> None:
        self.app = app
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
        logger.warning(
            "fault injection is on (PORTAL_FAULTS_SEED=%d): %s",
            seed,
            format_rules(rules) or f"only by the {PORTAL_FAULT_HEADER} header",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = _header(scope)
        if header is None and not self.configured:
            await self.app(scope, receive, send)
            return
        route = _match(self.routes, scope)
        method: str = scope["method"]
        faults = self.configured.get((method, route.template), {}) if route else {}
        if header is not None:
            try:
                rules = parse_rules(header, self.keys)
            except FaultSyntaxError as exc:
                detail = f"{PORTAL_FAULT_HEADER}: {exc}"
                body = error_body("bad_fault_header", detail, PORTAL_FAULT_HEADER)
                await _answer(scope, receive, send, route, 400, body)
                return
            if route is not None:
                asked = faults_for(rules, method, route.template, operational=route.operational)
                faults = merge(faults, asked)
        if not faults:
            await self.app(scope, receive, send)
            return
        latency = self.roller.fires(faults, "latency")
        error = self.roller.fires(faults, "error")
        if latency is not None:
            await asyncio.sleep(latency.number / 1000)
        if error is not None:
            detail = "injected fault: the portal answered 503 without running the route"
            await _answer(scope, receive, send, route, 503, error_body("injected_fault", detail))
            return
        await self.app(scope, receive, send)


class RefuseFaultHeaderMiddleware:
    """With fault injection off: 403 for a request that carries X-Portal-Faults. Costs one pass
    over the request's header names."""

    def __init__(self, app: ASGIApp, *, routes: Sequence[FaultRoute]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _header(scope) is not None:
            detail = (
                f"fault injection is off on this portal: {PORTAL_FAULT_HEADER} needs "
                "PORTAL_FAULTS_ENABLED=true"
            )
            body = error_body("faults_disabled", detail, PORTAL_FAULT_HEADER)
            await _answer(scope, receive, send, _match(self.routes, scope), 403, body)
            return
        await self.app(scope, receive, send)
