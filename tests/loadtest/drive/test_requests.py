"""The harness's table of requests (loadtest/drive/requests.py) says, for every kind of request an
actor sends, the statuses that count as answered. It must be the servers' own word: each route and
method exists in the portal's (or the gateway's) /openapi.json, its success statuses are exactly
the route's documented 2xx, and the refusals an actor handles are documented ones. Anything else
counts as a failed request."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient

from app.core.config import Settings
from app.gateway.main import create_gateway_app
from loadtest.drive.requests import REQUESTS, RequestKind


async def _openapi(client: AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _documented(document: dict[str, Any], kind: RequestKind) -> set[int]:
    operation = document["paths"].get(kind.route, {}).get(kind.method.lower())
    assert operation is not None, f"{kind.method} {kind.route} is not in the {kind.server} API"
    return {int(status) for status in operation["responses"]}


async def test_every_request_expects_what_its_server_documents(
    client: AsyncClient, settings: Settings
) -> None:
    gateway = create_gateway_app(settings)
    async with AsyncClient(transport=ASGITransport(app=gateway), base_url="http://gw") as other:
        documents = {"portal": await _openapi(client), "gateway": await _openapi(other)}
    for name, kind in REQUESTS.items():
        documented = _documented(documents[kind.server], kind)
        success = {status for status in documented if 200 <= status < 300}
        assert set(kind.ok) == success, f"{name}: expects {kind.ok}, documented {success}"
        assert set(kind.handled) <= documented - success, f"{name}: {kind.handled} undocumented"


def test_a_name_reports_its_method_and_route() -> None:
    """A request's name starts with its method and reads as its route (brackets for braces)."""
    for name, kind in REQUESTS.items():
        method, route = name.split(" ")[:2]
        assert method == kind.method, name
        assert route.split("?")[0].replace("[", "{").replace("]", "}") == kind.route, name


@pytest.mark.parametrize(
    ("name", "status", "problem"),
    [
        ("POST /api/v1/dossiers/[code]/complaints", 201, None),  # documented: created
        ("POST /api/v1/dossiers/[code]/complaints", 200, "HTTP 200"),  # not what it documents
        ("POST /api/v1/dossiers", 200, None),  # an Idempotency-Key replayed
        ("POST /api/v1/dossiers/[code]/documents", 200, "HTTP 200"),
        ("POST /api/v1/sync DongBoHoSoMC", 401, None),  # an expired session, renewed
        ("POST /api/v1/sync/login", 401, "HTTP 401"),
        ("POST /api/simulate/[transaction_no]", 409, None),  # already settled
        ("GET /api/v1/dossiers/[code]", 0, "HTTP 0"),  # no answer at all
        ("GET /api/v1/dossiers/[code]", 500, "HTTP 500"),
    ],
)
def test_a_status_the_route_does_not_document_counts_as_a_failure(
    name: str, status: int, problem: str | None
) -> None:
    assert REQUESTS[name].problem_with(status) == problem
