"""Every kind of request the harness's actors send, by the name it is reported under: its route
as the server's /openapi.json names it, its route group, and the statuses that count as
answered. `ok` is the route's documented success status(es) (a 201 is not a failure where the
portal documents 201); `handled` is a documented refusal the actor reads and acts on (an
expired sync session, a payment already settled). Any other status counts as a failure.
tests/loadtest/drive/test_requests.py checks this table against both servers' OpenAPI documents."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Server = Literal["portal", "gateway"]


@dataclass(frozen=True)
class RequestKind:
    method: str
    route: str
    group: str
    ok: tuple[int, ...] = (200,)
    handled: tuple[int, ...] = ()
    server: Server = "portal"

    def problem_with(self, status: int) -> str | None:
        """Why an answer with this status counts as a failure, or None if it does not."""
        if status in self.ok or status in self.handled:
            return None
        return f"HTTP {status}"


SYNC_SERVICES = ("DongBoHoSoMC", "CapNhatTienDoHoSoMC")

REQUESTS: dict[str, RequestKind] = {
    # citizens browsing the catalogue
    "GET /api/v1/procedures?q": RequestKind("GET", "/api/v1/procedures", "catalogue"),
    "GET /api/v1/procedures/[code]": RequestKind("GET", "/api/v1/procedures/{code}", "catalogue"),
    "GET /api/v1/agencies?procedure": RequestKind("GET", "/api/v1/agencies", "catalogue"),
    # citizens and payers
    "POST /api/v1/auth/citizen-login": RequestKind("POST", "/api/v1/auth/citizen-login", "login"),
    # 201 created, 200 the same Idempotency-Key replayed
    "POST /api/v1/dossiers": RequestKind("POST", "/api/v1/dossiers", "submit", ok=(200, 201)),
    "POST /api/v1/dossiers/[code]/documents": RequestKind(
        "POST", "/api/v1/dossiers/{code}/documents", "upload", ok=(201,)
    ),
    "GET /api/v1/dossiers/[code]": RequestKind("GET", "/api/v1/dossiers/{code}", "dossier"),
    "POST /api/v1/dossiers/[code]/withdraw": RequestKind(
        "POST", "/api/v1/dossiers/{code}/withdraw", "citizen"
    ),
    "POST /api/v1/dossiers/[code]/supplement": RequestKind(
        "POST", "/api/v1/dossiers/{code}/supplement", "citizen"
    ),
    "POST /api/v1/dossiers/[code]/rating": RequestKind(
        "POST", "/api/v1/dossiers/{code}/rating", "citizen"
    ),
    "POST /api/v1/dossiers/[code]/complaints": RequestKind(
        "POST", "/api/v1/dossiers/{code}/complaints", "citizen", ok=(201,)
    ),
    "POST /api/v1/dossiers/[code]/payments": RequestKind(
        "POST", "/api/v1/dossiers/{code}/payments", "payment", ok=(200, 201)
    ),
    "GET /api/v1/dossiers/[code]/payments": RequestKind(
        "GET", "/api/v1/dossiers/{code}/payments", "payment"
    ),
    # back offices, online dossiers
    "GET /api/v1/agency/dossiers": RequestKind("GET", "/api/v1/agency/dossiers", "agency"),
    "GET /api/v1/agency/dossiers/[code]": RequestKind(
        "GET", "/api/v1/agency/dossiers/{code}", "agency"
    ),
    "POST /api/v1/agency/dossiers/[code]/ack": RequestKind(
        "POST", "/api/v1/agency/dossiers/{code}/ack", "agency"
    ),
    "POST /api/v1/agency/dossiers/[code]/transitions": RequestKind(
        "POST", "/api/v1/agency/dossiers/{code}/transitions", "agency"
    ),
    # back offices, counter dossiers on the sync contract (401: the session expired, renewed)
    "POST /api/v1/sync/login": RequestKind("POST", "/api/v1/sync/login", "sync"),
    **{
        f"POST /api/v1/sync {service}": RequestKind("POST", "/api/v1/sync", "sync", handled=(401,))
        for service in SYNC_SERVICES
    },
    # reviewers
    "GET /api/v1/sync/stats": RequestKind("GET", "/api/v1/sync/stats", "reviewer"),
    "GET /metrics": RequestKind("GET", "/metrics", "reviewer"),
    "GET /api/v1/clock": RequestKind("GET", "/api/v1/clock", "reviewer"),
    "GET /api/v1/indicators": RequestKind("GET", "/api/v1/indicators", "reviewer"),
    "GET /api/v1/indicators/ranking": RequestKind("GET", "/api/v1/indicators/ranking", "reviewer"),
    # payers on the gateway (409: the transaction was already settled, by a fault or an IPN)
    "GET /paymentv2/vpcpay.html": RequestKind(
        "GET", "/paymentv2/vpcpay.html", "gateway", server="gateway"
    ),
    "POST /api/simulate/[transaction_no]": RequestKind(
        "POST", "/api/simulate/{transaction_no}", "gateway", handled=(409,), server="gateway"
    ),
}
