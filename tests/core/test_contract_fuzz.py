"""Schemathesis against the live app (in process, over ASGI, on the suite's database): for every
operation of the published schema, generated requests, valid and invalid, must never get a
5xx, and every answer must conform to the schema (status, media type, headers, body), invalid
input must be refused and declared credentials must be enforced.

Bounded so that CI stays in budget: a fixed number of cases per operation and mode, no
shrinking, derandomized (the same cases every run, so a failure is reproducible). A failing case
is reported with a curl line. FUZZ_EXAMPLES raises the number, FUZZ_SEED draws other cases, for a
longer hunt."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from jsonschema import Draft202012Validator
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.parameters import ParameterLocation
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.core.config import Settings
from app.main import create_app
from tests.support.factories import agency_headers, login, receiving_pair, serve, submit
from tests.support.sync import back_office

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
# Set, another draw of cases (a longer hunt); unset, the same cases every run.
SEED = os.environ.get("FUZZ_SEED")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    ignored_auth,
]
# Not fuzzed: the metrics page renders text for Prometheus; the VNPay callbacks take the
# gateway's signed query strings, which no generated request can carry (tests/payments has
# them).
SKIPPED = {"GET /metrics", "GET /api/v1/payments/vnpay/ipn", "GET /api/v1/payments/vnpay/return"}
SYNC = "POST /api/v1/sync"
ITEM_MODELS = {
    "DongBoHoSoMC": "DossierRecord",
    "CapNhatTienDoHoSoMC": "ProgressStep",
    "TraCuuHoSo": "LookUp",
}


@dataclass
class World:
    """Real credentials and a real dossier, so that generated requests get past the doors."""

    citizen: dict[str, str]
    agency: dict[str, str]
    agency_code: str
    procedure_code: str
    code: str
    sync_session: str


@dataclass
class Tally:
    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: dict[str, str] = field(default_factory=dict)


@pytest.fixture
async def world(settings: Settings) -> World:
    async with serve(settings) as (_, client):
        procedure, agency = await receiving_pair(client)
        citizen = await login(client)
        dossier = await submit(client, citizen, procedure["code"], agency["code"])
        office = await back_office(client, settings, agency["code"])
    return World(
        citizen=citizen.headers,
        agency=agency_headers(settings, agency["code"]),
        agency_code=agency["code"],
        procedure_code=procedure["code"],
        code=dossier["code"],
        sync_session=office.session,
    )


def _with_real_values(case: Case[Any], world: World) -> dict[str, str]:
    """Point a case at the world's dossier and session; the headers to send. A case made
    invalid in its headers (e.g. without its credentials) keeps them as generated."""
    path = case.operation.path
    if case.path_parameters and "code" in case.path_parameters:
        case.path_parameters["code"] = world.code if "/dossiers/" in path else world.procedure_code
    if path == "/api/v1/sync" and isinstance(case.body, dict):
        case.body.update(session=world.sync_session, madonvi=world.agency_code)
    if path == "/api/v1/dossiers" and case.method == "POST" and isinstance(case.body, dict):
        case.body.update(procedure_code=world.procedure_code, agency_code=world.agency_code)
    if case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER):
        return {}
    if path.startswith("/api/v1/agency/"):
        return world.agency
    if path.startswith(("/api/v1/dossiers", "/api/v1/me")):
        return world.citizen
    return {}


def _sync_items_refused_one_by_one(
    components: dict[str, Any], case: Case[Any], response: Any
) -> str | None:
    """The sync contract's own negative-data rule. A call is answered 200 with one result per
    item, and an item that breaks its service's item schema is refused on its own (10), never
    accepted; an envelope that breaks the schema is refused whole (4xx)."""
    body = case.body
    if response.status_code != 200 or not isinstance(body, dict):
        return None
    request = components["schemas"]["SyncRequest"]
    envelope = {**request, "properties": {**request["properties"], "data": {"type": "array"}}}
    if not Draft202012Validator({**envelope, "components": components}).is_valid(body):
        return f"an envelope off the schema was accepted: {body!r:.300}"
    service, items = body["service"], body["data"]
    # The envelope is valid, so these are what it says.
    assert isinstance(service, str)
    assert isinstance(items, list)
    model = ITEM_MODELS.get(service)
    if model is None:
        return f"unknown service {service!r} accepted"
    item_schema = {"$ref": f"#/components/schemas/{model}", "components": components}
    validator = Draft202012Validator(item_schema)
    results = response.json()["results"]
    for item, result in zip(items, results, strict=True):
        if not validator.is_valid(item) and result["error_code"] != 10:
            return (
                f"an item off the {model} schema was not refused with 10: {result}, {item!r:.300}"
            )
    return None


def _fuzz(case_strategy: st.SearchStrategy[Case[Any]], world: World, tally: Tally) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=SEED is None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    # Mostly with real credentials and codes, so that requests reach the rules behind the
    # doors; ignored_auth probes the doors themselves.
    @given(case=case_strategy, real=st.sampled_from([True, True, True, False]))
    def run(case: Case[Any], real: bool) -> None:
        headers = _with_real_values(case, world) if real else {}
        response = case.call(headers=headers)
        tally.cases += 1
        tally.statuses[response.status_code] += 1
        label = case.operation.label
        try:
            if label == SYNC:
                problem = _sync_items_refused_one_by_one(
                    case.operation.schema.raw_schema["components"], case, response
                )
                assert problem is None, problem
            checks = [c for c in CHECKS if label != SYNC or c is not negative_data_rejection]
            case.validate_response(response, checks=checks, headers=headers)
        except (AssertionError, FailureGroup) as exc:  # every finding is kept, the run goes on
            curl = case.as_curl_command(headers)
            found = f"{exc}"[:1500] + "\n    " + (curl if len(curl) < 1500 else curl[:1500] + "...")
            tally.failures.setdefault(label, found)

    if SEED is not None:
        run = seed(int(SEED))(run)
    run()


def test_the_live_app_keeps_its_published_contract(settings: Settings, world: World) -> None:
    app = create_app(settings)
    # Unknown query parameters are ignored, as by most web servers: not a case to refuse.
    config = schemathesis.Config.from_dict({"generation": {"allow-extra-parameters": False}})
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    tally, started = Tally(), time.monotonic()
    modes: list[Callable[[Any], st.SearchStrategy[Case[Any]]]] = [
        lambda op: op.as_strategy(generation_mode=GenerationMode.POSITIVE),
        lambda op: op.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    ]
    try:
        for result in schema.get_all_operations():
            operation = result.ok()  # type: ignore[union-attr]  # an Err would be a bad schema
            if operation.label in SKIPPED:
                continue
            for mode in modes:
                # No invalid request exists for an operation that takes nothing.
                with suppress(Unsatisfiable):
                    _fuzz(mode(operation), world, tally)
    finally:
        asgi.shutdown_lifespans()
    elapsed = time.monotonic() - started

    print(  # the figures, for the CI log (pytest -s or -rA)
        f"schemathesis: {tally.cases} cases in {elapsed:.1f} s, statuses {dict(tally.statuses)}"
    )
    assert tally.cases >= 200, tally
    assert not tally.failures, "\n\n".join(f"{k}: {v}" for k, v in tally.failures.items())
