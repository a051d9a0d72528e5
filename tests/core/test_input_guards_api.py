"""Input that once reached the database or the disk and failed there with a 500: each now gets a
4xx with the error body, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from httpx import AsyncClient

from app.core.config import Settings
from tests.support.factories import (
    PDF_BYTES,
    assert_error,
    login,
    new_pin,
    receiving_pair,
    serve,
)


async def test_an_empty_idempotency_key_is_refused(client: AsyncClient) -> None:
    procedure, agency = await receiving_pair(client)
    citizen = await login(client)
    body = {"procedure_code": procedure["code"], "agency_code": agency["code"]}
    headers = {**citizen.headers, "Idempotency-Key": ""}
    for _ in range(2):
        response = await client.post("/api/v1/dossiers", json=body, headers=headers)
        assert_error(response, 422, "invalid_payload", field="Idempotency-Key")


async def test_a_non_ascii_agency_key_is_refused(client: AsyncClient) -> None:
    response = await client.get(
        "/api/v1/agency/dossiers", headers=[(b"X-Agency-Key", "é:abc".encode())]
    )
    assert_error(response, 401, "invalid_agency_key")


async def test_a_lone_surrogate_in_a_form_value_is_refused(client: AsyncClient) -> None:
    procedure, agency = await receiving_pair(client)
    citizen = await login(client)
    body = {"procedure_code": procedure["code"], "agency_code": agency["code"]}
    # json.dumps would refuse to write a lone surrogate; JSON text may carry one escaped.
    raw = json.dumps(body)[:-1] + ', "form": {"ho_ten": "\\ud800"}}'
    response = await client.post(
        "/api/v1/dossiers",
        content=raw,
        headers={**citizen.headers, "Content-Type": "application/json"},
    )
    assert_error(response, 422, "invalid_payload")


async def test_an_email_longer_than_the_column_is_refused(client: AsyncClient) -> None:
    email = "a" * 64 + "@" + ".".join(["b" * 60] * 3) + ".vn"
    response = await client.post(
        "/api/v1/auth/citizen-login",
        json={"identifier": new_pin(), "full_name": "Lê Thị Hoa", "email": email},
    )
    assert_error(response, 422, "invalid_payload", field="email")


async def test_identifiers_take_ascii_digits_only(client: AsyncClient) -> None:
    arabic_indic = "٠١٢٣٤٥٦٧٨٩"
    for kind, identifier in (("business", arabic_indic), ("citizen", "001" + arabic_indic[:9])):
        response = await client.post(
            "/api/v1/auth/citizen-login",
            json={"identifier": identifier, "kind": kind, "full_name": "Công ty A"},
        )
        assert_error(response, 422, "invalid_identifier", field="identifier")


async def test_search_treats_like_wildcards_as_text(client: AsyncClient) -> None:
    for query in ("%", "_", "100%"):
        response = await client.get("/api/v1/procedures", params={"q": query})
        assert response.status_code == 200
        assert response.json()["total"] == 0, query


SMALL_LIMIT = {"request_max_bytes": 2048}


async def test_a_body_over_the_limit_is_refused_before_it_is_read(settings: Settings) -> None:
    async with serve(settings.model_copy(update=SMALL_LIMIT)) as (_app, http):
        citizen = await login(http)
        big = {"procedure_code": "1.000001", "agency_code": "x", "form": {"a": "x" * 4096}}
        response = await http.post("/api/v1/dossiers", json=big, headers=citizen.headers)
        assert_error(response, 413, "payload_too_large", field="body")


async def test_a_streamed_body_over_the_limit_is_refused(settings: Settings) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(8):
            yield PDF_BYTES * 20  # no Content-Length: the body is counted as it arrives

    async with serve(settings.model_copy(update=SMALL_LIMIT)) as (_app, http):
        citizen = await login(http)
        response = await http.post(
            "/api/v1/dossiers",
            content=chunks(),
            headers={**citizen.headers, "Content-Type": "application/json"},
        )
        assert_error(response, 413, "payload_too_large", field="body")
