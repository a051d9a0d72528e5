"""Every error the portal answers has one shape, `{"error", "detail", "field"}`, with a 4xx;
never a 500."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response

from app.core.config import Settings
from tests.support.factories import (
    ERROR_KEYS,
    PDF_BYTES,
    Citizen,
    agency_headers,
    assert_error,
    assert_no_server_errors,
    login,
    move,
    receiving_pair,
    serve,
    submit,
    upload,
)

JSON = {"Content-Type": "application/json"}


@dataclass
class World:
    """What the error scenarios need: a citizen with a new dossier, and its agency."""

    client: AsyncClient
    settings: Settings
    citizen: Citizen
    agency_headers: dict[str, str]
    dossier: dict[str, Any]

    @property
    def code(self) -> str:
        return str(self.dossier["code"])

    @property
    def citizen_headers(self) -> dict[str, str]:
        return self.citizen.headers


@pytest.fixture
async def world(client: AsyncClient, settings: Settings) -> World:
    procedure, agency = await receiving_pair(client)
    citizen = await login(client)
    dossier = await submit(client, citizen, procedure["code"], agency["code"])
    return World(client, settings, citizen, agency_headers(settings, agency["code"]), dossier)


Scenario = Callable[[World], Awaitable[Response]]


async def _malformed_json(w: World) -> Response:
    return await w.client.post(
        "/api/v1/dossiers", content=b'{"procedure_code": ', headers={**w.citizen_headers, **JSON}
    )


async def _wrong_type(w: World) -> Response:
    return await w.client.post(
        f"/api/v1/agency/dossiers/{w.code}/transitions",
        json={"to_status": "accepted"},
        headers=w.agency_headers,
    )


async def _illegal_transition(w: World) -> Response:
    return await w.client.post(
        f"/api/v1/agency/dossiers/{w.code}/transitions",
        json={"to_status": 9},
        headers=w.agency_headers,
    )


async def _oversize(w: World) -> Response:
    async with serve(w.settings.model_copy(update={"document_max_bytes": 8})) as (_, client):
        return await client.post(
            f"/api/v1/dossiers/{w.code}/documents",
            files=[("files", ("big.pdf", PDF_BYTES, "application/pdf"))],
            headers=w.citizen_headers,
        )


async def _wrong_media_type(w: World) -> Response:
    return await w.client.post(
        f"/api/v1/dossiers/{w.code}/documents",
        files=[("files", ("notes.txt", b"hello", "text/plain"))],
        headers=w.citizen_headers,
    )


async def _not_allowed_now(w: World) -> Response:
    return await w.client.post(
        f"/api/v1/dossiers/{w.code}/supplement", data={"note": "n"}, headers=w.citizen_headers
    )


SCENARIOS: list[tuple[str, Scenario, int, str, str | None]] = [
    ("malformed-json", _malformed_json, 422, "malformed_json", "body"),
    ("wrong-type", _wrong_type, 422, "invalid_payload", "to_status"),
    (
        "unknown-procedure",
        lambda w: w.client.post(
            "/api/v1/dossiers",
            json={"procedure_code": "0.000000", "agency_code": w.dossier["agency_code"]},
            headers=w.citizen_headers,
        ),
        422,
        "unknown_procedure",
        "procedure_code",
    ),
    (
        "no-token",
        lambda w: w.client.get("/api/v1/dossiers"),
        401,
        "not_authenticated",
        None,
    ),
    (
        "bad-token",
        lambda w: w.client.get("/api/v1/dossiers", headers={"Authorization": "Bearer x.y.z"}),
        401,
        "invalid_token",
        None,
    ),
    (
        "no-agency-key",
        lambda w: w.client.get("/api/v1/agency/dossiers"),
        401,
        "invalid_agency_key",
        "X-Agency-Key",
    ),
    (
        "unknown-dossier",
        lambda w: w.client.get(f"/api/v1/dossiers/{w.code}0", headers=w.citizen_headers),
        404,
        "dossier_not_found",
        "code",
    ),
    (
        "unknown-procedure-page",
        lambda w: w.client.get("/api/v1/procedures/0.000000"),
        404,
        "procedure_not_found",
        "code",
    ),
    ("unknown-route", lambda w: w.client.get("/api/v1/nothing-here"), 404, "not_found", None),
    (
        "wrong-method",
        lambda w: w.client.delete("/api/v1/procedures"),
        405,
        "method_not_allowed",
        None,
    ),
    ("illegal-transition", _illegal_transition, 409, "illegal_transition", "to_status"),
    ("not-allowed-now", _not_allowed_now, 409, "not_allowed_in_status", "status"),
    ("oversize", _oversize, 413, "payload_too_large", "files"),
    ("wrong-media-type", _wrong_media_type, 415, "unsupported_media_type", "files"),
]


@pytest.mark.parametrize(
    ("scenario", "status_code", "error", "field"),
    [s[1:] for s in SCENARIOS],
    ids=[s[0] for s in SCENARIOS],
)
async def test_every_error_has_the_one_shape(
    world: World,
    app: FastAPI,
    scenario: Scenario,
    status_code: int,
    error: str,
    field: str | None,
) -> None:
    response = await scenario(world)

    body = assert_error(response, status_code, error)
    assert body["field"] == field
    assert_no_server_errors(app)


async def test_malformed_json_is_reported_as_the_body(client: AsyncClient) -> None:
    for content in (b"{", b'{"identifier": "001090000001",}', b"not json", b"{'a': 1}"):
        response = await client.post("/api/v1/auth/citizen-login", content=content, headers=JSON)

        body = assert_error(response, 422, "malformed_json", field="body")
        assert [problem["field"] for problem in body["errors"]] == ["body"]


async def test_body_that_is_not_utf8_is_malformed_json(client: AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/citizen-login", content=b'{"identifier": "\xff\xfe"}', headers=JSON
    )

    assert_error(response, 422, "malformed_json", field="body")


async def test_invalid_payload_lists_every_problem_with_its_field_path(
    client: AsyncClient,
) -> None:
    citizen = await login(client)

    response = await client.post(
        "/api/v1/dossiers",
        json={
            "procedure_code": 1,
            "applicant": {"full_name": "", "email": "not-an-email"},
            "extra": True,
        },
        headers=citizen.headers,
    )

    body = assert_error(response, 422, "invalid_payload")
    fields = {problem["field"] for problem in body["errors"]}
    assert fields == {
        "procedure_code",
        "agency_code",
        "applicant.full_name",
        "applicant.email",
        "extra",
    }
    assert body["field"] == body["errors"][0]["field"]
    for problem in body["errors"]:
        assert set(problem) == {"field", "message", "type"}
        assert problem["message"]


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (b"[1, 2]", "body"),
        (b"null", "body"),
        (b"", "body"),
        (b'"a string"', "body"),
        (b'{"to_status": null}', "to_status"),
        (b'{"to_status": 2.5}', "to_status"),
        (b'{"to_status": 2, "by": "me"}', "by"),
    ],
)
async def test_wrong_shapes_of_body_are_invalid_payloads(
    world: World, content: bytes, field: str
) -> None:
    response = await world.client.post(
        f"/api/v1/agency/dossiers/{world.code}/transitions",
        content=content,
        headers={**world.agency_headers, **JSON},
    )

    assert_error(response, 422, "invalid_payload", field=field)


async def test_query_header_and_path_problems_name_their_parameter(world: World) -> None:
    client, headers = world.client, world.citizen_headers

    too_long_key = await client.post(
        "/api/v1/dossiers",
        json={"procedure_code": "1", "agency_code": "2"},
        headers={**headers, "Idempotency-Key": "k" * 201},
    )
    bad_document_id = await client.get(
        f"/api/v1/dossiers/{world.code}/documents/first", headers=headers
    )
    bad_page = await client.get("/api/v1/dossiers", params={"page": "two"}, headers=headers)

    assert_error(too_long_key, 422, "invalid_payload", field="Idempotency-Key")
    assert_error(bad_document_id, 422, "invalid_payload", field="document_id")
    assert_error(bad_page, 422, "invalid_payload", field="page")


async def test_unknown_route_is_404_with_the_error_body(client: AsyncClient) -> None:
    for url in ("/nope", "/api/v2/procedures", "/api/v1/dossiers/a/b/c/d"):
        response = await client.get(url)

        body = assert_error(response, 404, "not_found")
        assert body == {"error": "not_found", "detail": "Not Found", "field": None}


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("DELETE", "/api/v1/procedures"),
        ("PUT", "/api/v1/me"),
        ("GET", "/api/v1/auth/citizen-login"),
        ("PATCH", "/api/v1/dossiers/000.00.01.H01-260303-0001"),
        ("GET", "/api/v1/agency/dossiers/000.00.01.H01-260303-0001/ack"),
    ],
)
async def test_wrong_method_is_405_with_the_error_body(
    client: AsyncClient, method: str, url: str
) -> None:
    response = await client.request(method, url)

    assert_error(response, 405, "method_not_allowed")
    assert method not in response.headers["allow"]


async def test_405_allow_header_lists_every_method_of_the_resource(
    client: AsyncClient,
) -> None:
    response = await client.delete("/api/v1/dossiers")

    assert_error(response, 405, "method_not_allowed")
    # Both GET (the citizen's listing) and POST (submission) exist on /api/v1/dossiers.
    allowed = {m.strip() for m in response.headers["allow"].split(",")}
    assert {"GET", "POST"} <= allowed


async def test_odd_requests_never_cause_a_server_error(world: World, app: FastAPI) -> None:
    client, citizen, agency = world.client, world.citizen_headers, world.agency_headers
    code = world.code
    weird_codes = ["%00", "..%2F..%2Fetc%2Fpasswd", "x" * 500, "Đăng ký", "' OR 1=1 --"]
    responses = [
        await client.get(f"/api/v1/dossiers/{weird}", headers=citizen) for weird in weird_codes
    ] + [
        await client.post(f"/api/v1/agency/dossiers/{weird}/ack", headers=agency)
        for weird in weird_codes
    ]
    responses += [
        await client.get(f"/api/v1/dossiers/{code}/documents/-1", headers=citizen),
        await client.get(
            f"/api/v1/dossiers/{code}/documents/99999999999999999999", headers=citizen
        ),
        await client.get("/api/v1/procedures", params={"q": "%_\\'\"" * 10}),
        await client.get("/api/v1/procedures", params={"page": 10**9, "size": 200}),
        await client.get("/api/v1/agencies", params={"province": "Hà Nội"}),
        await client.get("/api/v1/agencies", params={"province": 10**30}),
        await client.post("/api/v1/auth/citizen-login", json={"identifier": "1" * 10_000}),
        await client.post(
            "/api/v1/auth/citizen-login",
            content=b"identifier=1",
            headers={"Content-Type": "text/plain"},
        ),
        await client.post(
            "/api/v1/dossiers",
            json={"procedure_code": "x" * 21, "agency_code": "y", "form": {"k" * 101: 1}},
            headers=citizen,
        ),
        await client.post(
            "/api/v1/dossiers",
            json={
                "procedure_code": "1",
                "agency_code": "2",
                "form": {str(i): i for i in range(101)},
            },
            headers=citizen,
        ),
        await client.post(f"/api/v1/dossiers/{code}/documents", content=b"--x--", headers=citizen),
        await client.post(
            f"/api/v1/dossiers/{code}/documents",
            content=b"garbage",
            headers={**citizen, "Content-Type": "multipart/form-data; boundary=zzz"},
        ),
        await client.post(
            f"/api/v1/dossiers/{code}/documents",
            files=[("files", ("a.pdf", PDF_BYTES, "application/pdf"))] * 21,
            headers=citizen,
        ),
        await upload(
            client, world.citizen, code, ("../../../../etc/passwd", PDF_BYTES, "application/pdf")
        ),
        await client.post(f"/api/v1/dossiers/{code}/withdraw", json={"reason": 5}, headers=citizen),
        await client.post(
            f"/api/v1/dossiers/{code}/rating", json={"score": 10**30}, headers=citizen
        ),
        await client.post(
            f"/api/v1/agency/dossiers/{code}/transitions",
            json={"to_status": 10**30},
            headers=agency,
        ),
        await client.get("/api/v1/agency/dossiers", params={"status": "x"}, headers=agency),
    ]

    statuses = [r.status_code for r in responses]
    assert all(s < 500 for s in statuses), statuses
    assert_no_server_errors(app)
    for refused in (r for r in responses if r.status_code >= 400):
        assert refused.json().keys() >= ERROR_KEYS, refused.text
    # The traversal attempt was stored under a plain name inside the document directory.
    stored = [p for p in world.settings.document_dir.rglob("*") if p.is_file()]
    assert all(world.settings.document_dir in p.parents for p in stored)
    listed = await client.get(f"/api/v1/dossiers/{code}/documents", headers=citizen)
    assert "passwd" in [d["filename"] for d in listed.json()]


async def test_refused_transition_body_names_both_statuses(world: World) -> None:
    await move(world.client, world.settings, world.dossier, 3)

    response = await world.client.post(
        f"/api/v1/agency/dossiers/{world.code}/transitions",
        json={"to_status": 2},
        headers=world.agency_headers,
    )

    body = assert_error(response, 409, "illegal_transition", field="to_status")
    assert set(body) == {"error", "detail", "field", "from_status", "to_status"}
    assert (body["from_status"], body["to_status"]) == (3, 2)
