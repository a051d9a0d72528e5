"""Fault injection in the portal, end to end through HTTP: PORTAL_FAULTS and X-Portal-Faults,
latency on the named route only, injected 503s that write nothing and are counted in the
metrics, refusals while disabled, malformed syntax, and seeded reproducibility."""

from __future__ import annotations

import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from pydantic import ValidationError

from app.core.config import Settings
from app.core.edge import Edge
from app.core.fault_injection import FaultInjection, FaultRefusal
from app.core.faults import FaultSyntaxError
from app.core.guards import MAX_HEADER_BYTES, MAX_HEADERS
from app.main import create_app
from tests.core.test_ops_api import scrape
from tests.support.clock import ManualClock
from tests.support.factories import assert_error, login, receiving_pair, serve, server_errors

DOSSIERS = "/api/v1/dossiers"
PROCEDURES = "/api/v1/procedures"
FIELDS = "/api/v1/fields"
HEADER = "X-Portal-Faults"

Portal = Callable[..., Awaitable[tuple[FastAPI, AsyncClient]]]


@pytest.fixture
async def portal(settings: Settings, clock: ManualClock) -> AsyncIterator[Portal]:
    """Build a portal with fault injection on and PORTAL_FAULTS (and other settings) given by
    keyword; it is shut down after the test."""
    async with AsyncExitStack() as stack:

        async def build(faults: str = "", **overrides: Any) -> tuple[FastAPI, AsyncClient]:
            changed = {"portal_faults_enabled": True, "portal_faults": faults, **overrides}
            return await stack.enter_async_context(
                serve(settings.model_copy(update=changed), clock)
            )

        yield build


def middlewares(app: FastAPI) -> list[object]:
    """The classes of the app's middlewares, outermost first."""
    return [middleware.cls for middleware in app.user_middleware]


def faults_in_front(app: FastAPI) -> object:
    """What the layer in front of the routes applies as faults."""
    (edge,) = app.user_middleware
    return edge.kwargs["faults"]


async def timed(request: Awaitable[Response]) -> tuple[Response, float]:
    started = time.perf_counter()
    response = await request
    return response, time.perf_counter() - started


async def test_latency_delays_the_named_route_only(portal: Portal) -> None:
    _, client = await portal(f"GET {PROCEDURES}: latency=1:300")
    await client.get(FIELDS)  # warm up: the first request of an app pays for imports and caches
    faulted: list[float] = []
    unfaulted: list[float] = []
    for _ in range(3):
        response, seconds = await timed(client.get(PROCEDURES, params={"size": 1}))
        assert response.status_code == 200, response.text
        faulted.append(seconds)
        response, seconds = await timed(client.get(FIELDS))
        assert response.status_code == 200, response.text
        unfaulted.append(seconds)
        # The same path with another method is another route: not delayed either.
        response, seconds = await timed(client.post(PROCEDURES))
        assert response.status_code == 405
        unfaulted.append(seconds)
    assert min(faulted) >= 0.3
    # A generous ratio rather than an absolute bound: the machine may be slow, but a request
    # that did not sleep does not take most of 300 ms three times out of three.
    assert min(unfaulted) < min(faulted) / 2
    assert statistics.median(unfaulted) < min(faulted) / 2


async def test_error_answers_503_and_writes_nothing(portal: Portal) -> None:
    app, client = await portal(f"POST {DOSSIERS}: error=1")
    procedure, agency = await receiving_pair(client)
    citizen = await login(client)
    body = {"procedure_code": procedure["code"], "agency_code": agency["code"]}
    headers = {**citizen.headers, "Idempotency-Key": "faulted-1"}
    for _ in range(2):
        response = await client.post(DOSSIERS, json=body, headers=headers)
        error = assert_error(response, 503, "injected_fault")
        assert error["field"] is None
    listed = await client.get(DOSSIERS, headers=citizen.headers)
    assert listed.status_code == 200
    assert listed.json()["total"] == 0
    # Counted like any other response, by route template.
    assert server_errors(app) == [f"POST {DOSSIERS} 503"]
    samples = await scrape(client)
    labels = frozenset({"method": "POST", "route": DOSSIERS, "status": "503"}.items())
    assert samples["portalsim_http_requests_total", labels] == 2
    # Without the fault (the header turns the configured knob off), the same key submits.
    response = await client.post(
        DOSSIERS, json=body, headers={**headers, HEADER: f"POST {DOSSIERS}: error=0"}
    )
    assert response.status_code == 201, response.text


async def test_a_rule_without_a_route_spares_the_operations_routes(portal: Portal) -> None:
    _, client = await portal("error=1")
    assert_error(await client.get(FIELDS), 503, "injected_fault")
    assert_error(await client.get(f"{PROCEDURES}/nothing"), 503, "injected_fault")
    for path in ("/healthz", "/readyz", "/metrics", "/api/v1/clock"):
        assert (await client.get(path)).status_code == 200, path
    response = await client.get("/healthz", headers={HEADER: "GET /healthz: error=1"})
    assert_error(response, 503, "injected_fault")
    # A path no route serves gets its 404, not a fault.
    assert_error(await client.get("/api/v1/nowhere"), 404, "not_found")


async def test_the_header_applies_to_its_request_and_overrides_the_setting(
    portal: Portal,
) -> None:
    _, client = await portal(f"GET {FIELDS}: error=1")
    assert (await client.get(PROCEDURES)).status_code == 200
    assert_error(await client.get(PROCEDURES, headers={HEADER: "error=1"}), 503, "injected_fault")
    scoped = {HEADER: f"GET {PROCEDURES}/{{code}}: error=1"}
    assert (await client.get(PROCEDURES, headers=scoped)).status_code == 200
    assert (await client.get(FIELDS, headers={HEADER: "error=0"})).status_code == 200
    assert (await client.get(FIELDS, headers={HEADER: "  "})).status_code == 503  # blank: none


async def test_a_malformed_header_gets_400_naming_the_problem(portal: Portal) -> None:
    app, client = await portal()
    cases = {
        "error=2": "at character 7: error: probability 2.0 is outside [0, 1]",
        "latency=1:50; boom=1": "at character 15: unknown fault knob 'boom'",
        f"PATCH {DOSSIERS}: error=1": f"no route PATCH {DOSSIERS} (it answers GET, POST)",
        "GET /api/v1/dossier: error=1": "did you mean /api/v1/dossiers?",
    }
    for header, problem in cases.items():
        response = await client.get(PROCEDURES, headers={HEADER: header})
        body = assert_error(response, 400, "bad_fault_header", field=HEADER)
        assert body["detail"].startswith(f"{HEADER}: "), body
        assert problem in body["detail"], body
    assert server_errors(app) == []


async def test_the_header_is_refused_while_faults_are_disabled(
    app: FastAPI, client: AsyncClient
) -> None:
    assert not isinstance(faults_in_front(app), FaultInjection)
    procedure, agency = await receiving_pair(client)
    citizen = await login(client)
    body = {"procedure_code": procedure["code"], "agency_code": agency["code"]}
    response = await client.post(DOSSIERS, json=body, headers={**citizen.headers, HEADER: "x"})
    error = assert_error(response, 403, "faults_disabled", field=HEADER)
    assert "PORTAL_FAULTS_ENABLED=true" in error["detail"]
    assert (await client.get(DOSSIERS, headers=citizen.headers)).json()["total"] == 0
    # A blank header asks for nothing, and is not refused.
    response = await client.post(DOSSIERS, json=body, headers={**citizen.headers, HEADER: ""})
    assert response.status_code == 201, response.text
    samples = await scrape(client)
    labels = frozenset({"method": "POST", "route": DOSSIERS, "status": "403"}.items())
    assert samples["portalsim_http_requests_total", labels] == 1


async def test_the_guards_answer_before_the_faults(client: AsyncClient, portal: Portal) -> None:
    """Nothing reads a request whose headers are past the limits or whose URL holds a NUL, the
    fault header included: such a request gets the guard's answer, faults on or off."""
    many = [(f"x-extra-{n}", "1") for n in range(MAX_HEADERS)]
    response = await client.get(FIELDS, headers=[*many, (HEADER, "error=1")])
    assert_error(response, 431, "headers_too_large", field="headers")
    huge = {HEADER: "error=0" + ", error=0" * (MAX_HEADER_BYTES // 9)}
    assert_error(await client.get(FIELDS, headers=huge), 431, "headers_too_large")
    response = await client.get(f"{PROCEDURES}/%00", headers={HEADER: "x"})
    assert_error(response, 400, "invalid_characters")
    # With injection on, the guards still come first: no fault is rolled for such a request.
    _, faulted = await portal(f"GET {PROCEDURES}/{{code}}: error=1")
    assert_error(await faulted.get(f"{PROCEDURES}/%00"), 400, "invalid_characters")
    assert_error(await faulted.get(f"{PROCEDURES}/x", headers=huge), 431, "headers_too_large")
    assert_error(await faulted.get(f"{PROCEDURES}/x"), 503, "injected_fault")


def test_settings_refuse_faults_that_are_not_enabled(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    refusal = "PORTAL_FAULTS is set but fault injection is off: set PORTAL_FAULTS_ENABLED=true"
    with pytest.raises(ValidationError, match=refusal) as caught:
        Settings(_env_file=None, portal_faults="error=1")
    assert caught.value.error_count() == 1
    monkeypatch.setenv("PORTAL_FAULTS", f"POST {DOSSIERS}: error=1")
    with pytest.raises(ValidationError, match=refusal):
        Settings(_env_file=None)
    monkeypatch.setenv("PORTAL_FAULTS_ENABLED", "true")
    assert Settings(_env_file=None).portal_faults_enabled
    # Settings copied past validation are refused when the app is built.
    with pytest.raises(ValueError, match=refusal):
        create_app(settings.model_copy(update={"portal_faults": "error=1"}))
    assert Settings(_env_file=None, portal_faults=" ").portal_faults == " "  # blank: nothing


def test_demo_secrets_copied_into_shared_settings_are_refused(settings: Settings) -> None:
    shared = settings.model_copy(update={"deployment": "shared"})
    with pytest.raises(ValueError, match="the public demo value and DEPLOYMENT=shared"):
        create_app(shared)


def test_a_malformed_setting_fails_when_the_app_is_built(settings: Settings) -> None:
    enabled = settings.model_copy(update={"portal_faults_enabled": True})
    for text, problem in (
        ("latency=1:50, error=1.5", "at character 21: error: probability 1.5 is outside"),
        (f"POST {DOSSIERS}/{{id}}: error=1", f"no route {DOSSIERS}/{{id}}"),
    ):
        with pytest.raises(FaultSyntaxError, match=problem.replace("{", r"\{").replace("}", r"\}")):
            create_app(enabled.model_copy(update={"portal_faults": text}))
    app = create_app(enabled)
    # In the one layer that also keeps the metrics, so that what it answers is counted; the
    # refusal is gone.
    assert middlewares(app) == [Edge]
    assert isinstance(faults_in_front(app), FaultInjection)
    assert not isinstance(faults_in_front(app), FaultRefusal)


async def test_the_same_seed_faults_the_same_requests(portal: Portal) -> None:
    async def statuses(seed: int) -> list[int]:
        _, client = await portal(f"GET {FIELDS}: error=0.5", portal_faults_seed=seed)
        return [(await client.get(FIELDS)).status_code for _ in range(40)]

    first = await statuses(11)
    assert set(first) == {200, 503}
    assert await statuses(11) == first
    assert await statuses(12) != first
