"""The published contract tells the truth: every error an operation can answer is declared with
the body the portal really sends, the sync contract's items are typed, operations have
summaries and examples, and the documentation pages need no network."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from httpx import AsyncClient, Response
from jsonschema import Draft202012Validator

from app.core.config import Settings
from app.core.openapi import domain_errors
from tests.support.factories import (
    PDF_BYTES,
    agency_headers,
    login,
    receiving_pair,
    serve,
    submit,
)
from tests.support.sync import back_office

JSON = {"Content-Type": "application/json"}


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    ]


def response_schema(spec: dict[str, Any], method: str, path: str, status: int) -> dict[str, Any]:
    responses = spec["paths"][path][method]["responses"]
    assert str(status) in responses, f"{method.upper()} {path} does not declare {status}"
    schema: dict[str, Any] = responses[str(status)]["content"]["application/json"]["schema"]
    return schema


def assert_conforms(
    spec: dict[str, Any], method: str, path: str, response: Response
) -> dict[str, Any]:
    """The response's body is valid against what the spec declares for its status."""
    schema = response_schema(spec, method, path, response.status_code)
    validator = Draft202012Validator({**schema, "components": spec["components"]})
    body: dict[str, Any] = response.json()
    problems = [error.message for error in validator.iter_errors(body)]
    assert problems == [], (method, path, response.status_code, body)
    return body


async def test_no_operation_publishes_fastapis_default_validation_body(app: FastAPI) -> None:
    spec = app.openapi()

    assert "HTTPValidationError" not in str(spec)
    for method, path, operation in operations(spec):
        if operation.get("parameters") or operation.get("requestBody"):
            schema = response_schema(spec, method, path, 422)
            refs = [schema.get("$ref")] + [s.get("$ref") for s in schema.get("anyOf", [])]
            assert "#/components/schemas/ErrorBody" in refs, (method, path, schema)


@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        ("get", "/api/v1/me", {401}),
        ("get", "/api/v1/dossiers/{code}", {400, 401, 404, 422}),
        ("post", "/api/v1/dossiers", {400, 401, 409, 413, 415, 422}),
        ("post", "/api/v1/dossiers/{code}/documents", {400, 401, 404, 409, 413, 415, 422}),
        ("post", "/api/v1/agency/dossiers/{code}/transitions", {401, 404, 409, 422}),
        ("get", "/api/v1/procedures/{code}", {400, 404, 422}),
        # An unknown `procedure` filter is a 404 (found by the fuzzer: it was undeclared).
        ("get", "/api/v1/agencies", {400, 404, 422}),
        ("post", "/api/v1/sync", {400, 401, 403, 413, 415, 422}),
        ("get", "/api/v1/fields", set()),
    ],
)
async def test_an_operation_declares_the_errors_of_what_it_takes(
    app: FastAPI, method: str, path: str, statuses: set[int]
) -> None:
    declared = {int(s) for s in app.openapi()["paths"][path][method]["responses"]}

    assert statuses <= declared
    errors = {s for s in declared if s >= 400} - {431, 503}
    if not statuses:
        assert errors == set()


async def test_each_declared_status_lists_the_codes_of_its_error_classes(app: FastAPI) -> None:
    spec = app.openapi()
    declared = [
        (int(status), response["description"])
        for _, _, operation in operations(spec)
        for status, response in operation["responses"].items()
        # The portal's error body alone: a contract's own (sync) describes its own codes.
        if "ErrorBody" in str(response.get("content")) and "anyOf" not in str(response)
    ]

    classes = list(domain_errors())
    assert {c.code for c in classes} >= {"illegal_transition", "dossier_not_found", "invalid_token"}
    for error in classes:
        descriptions = [text for status, text in declared if status == error.status_code]
        if descriptions:
            assert all(f"`{error.code}`" in text for text in descriptions), error


async def test_real_error_bodies_conform_to_the_published_schema(
    app: FastAPI, client: AsyncClient, settings: Settings
) -> None:
    spec = app.openapi()
    procedure, agency = await receiving_pair(client)
    citizen = await login(client)
    dossier = await submit(client, citizen, procedure["code"], agency["code"])
    code, key = dossier["code"], agency_headers(settings, agency["code"])
    dossier_path = "/api/v1/dossiers/{code}"
    transitions = "/api/v1/agency/dossiers/{code}/transitions"
    documents = "/api/v1/dossiers/{code}/documents"
    calls = [
        ("get", "/api/v1/me", await client.get("/api/v1/me")),
        ("get", dossier_path, await client.get("/api/v1/dossiers/X-1", headers=citizen.headers)),
        (
            "post",
            "/api/v1/dossiers",
            await client.post(
                "/api/v1/dossiers", content=b'{"procedure_code": ', headers=citizen.headers | JSON
            ),
        ),
        (
            "post",
            "/api/v1/dossiers",
            await client.post("/api/v1/dossiers", json={"form": 1}, headers=citizen.headers),
        ),
        (
            "post",
            transitions,
            await client.post(
                f"/api/v1/agency/dossiers/{code}/transitions", json={"to_status": 9}, headers=key
            ),
        ),
        (
            "post",
            documents,
            await client.post(
                f"/api/v1/dossiers/{code}/documents",
                files=[("files", ("notes.txt", b"hello", "text/plain"))],
                headers=citizen.headers,
            ),
        ),
        ("get", "/api/v1/agencies", await client.get("/api/v1/agencies?province=0")),
    ]
    async with serve(settings.model_copy(update={"document_max_bytes": 8})) as (_, small):
        oversize = await small.post(
            f"/api/v1/dossiers/{code}/documents",
            files=[("files", ("big.pdf", PDF_BYTES, "application/pdf"))],
            headers=citizen.headers,
        )
    calls.append(("post", documents, oversize))

    statuses = [response.status_code for _, _, response in calls]
    assert statuses == [401, 404, 422, 422, 409, 415, 422, 413]
    for method, path, response in calls:
        body = assert_conforms(spec, method, path, response)
        assert body["error"] in response_schema_description(spec, method, path, response)


def response_schema_description(
    spec: dict[str, Any], method: str, path: str, response: Response
) -> str:
    text: str = spec["paths"][path][method]["responses"][str(response.status_code)]["description"]
    return text


async def test_sync_refusals_and_replies_conform_to_the_published_schema(
    app: FastAPI, client: AsyncClient, settings: Settings
) -> None:
    spec = app.openapi()
    _, agency = await receiving_pair(client)
    office = await back_office(client, settings, agency["code"])
    look_up = {
        "session": office.session,
        "madonvi": agency["code"],
        "service": "TraCuuHoSo",
        "data": [{"MaHoSo": "A-1"}, 7],
    }
    calls = [
        await client.post("/api/v1/sync", json=look_up | {"session": "forged"}),
        await client.post("/api/v1/sync", json=look_up | {"madonvi": "other"}),
        await client.post("/api/v1/sync", json=look_up | {"data": []}),
        await client.post("/api/v1/sync", json=look_up | {"service": "X"}),
        await client.post("/api/v1/sync", json={"session": office.session}),
        await client.post("/api/v1/sync", json=look_up),
    ]
    login = await client.post("/api/v1/sync/login", json={"username": "x", "password": "y"})

    assert [r.status_code for r in calls] == [401, 403, 413, 422, 422, 200]
    assert [r.json().get("error_code") for r in calls] == [2, 4, 7, 5, None, 0]
    assert login.status_code == 401
    assert_conforms(spec, "post", "/api/v1/sync/login", login)
    for response in calls:
        assert_conforms(spec, "post", "/api/v1/sync", response)


async def test_sync_items_and_look_up_records_are_typed(app: FastAPI) -> None:
    spec = app.openapi()
    schemas = spec["components"]["schemas"]

    items = schemas["SyncRequest"]["properties"]["data"]["items"]
    assert [s["$ref"].rsplit("/", 1)[-1] for s in items["anyOf"]] == [
        "DossierRecord",
        "ProgressStep",
        "LookUp",
    ]
    assert schemas["SyncRequest"]["properties"]["service"]["enum"] == [
        "DongBoHoSoMC",
        "CapNhatTienDoHoSoMC",
        "TraCuuHoSo",
    ]
    record = schemas["DossierRecord"]["properties"]
    # A date is its text, or (as the parser reads it) the same digits as a number.
    text, number = record["NgayNopHoSo"]["anyOf"]
    assert text["type"] == "string"
    assert re.fullmatch(text["pattern"], "20260302081500")
    assert number["type"] == "integer"
    assert "TrangThaiHoSo" in schemas["DossierRecord"]["required"]
    assert "TrangThai" in schemas["ProgressStep"]["required"]
    data = schemas["SyncReply"]["properties"]["data"]["items"]
    assert data == {"$ref": "#/components/schemas/LookUpRecord"}
    assert "NgayHenTraBaoCao" in schemas["LookUpRecord"]["properties"]
    login = response_schema(spec, "post", "/api/v1/sync/login", 200)
    assert login == {"$ref": "#/components/schemas/SyncSession"}


async def test_operations_have_summaries_and_json_bodies_have_examples(app: FastAPI) -> None:
    routes = [r for r in app.routes if isinstance(r, APIRoute) and r.include_in_schema]
    # Payments' routes are summarised by their docstrings.
    unsummarised = [r.path for r in routes if not r.summary and "payments" not in r.tags]
    assert unsummarised == []
    for method, path, operation in operations(app.openapi()):
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" in content:
            assert content["application/json"].get("examples"), (method, path)


ASSET_URL = re.compile(r"""(?:src|href)=["']([^"']+)["']|url: ?["']([^"']+)["']""")


async def test_the_documentation_page_loads_nothing_from_another_host(
    client: AsyncClient,
) -> None:
    response = await client.get("/docs")
    # FastAPI's ReDoc page loads from a CDN (and ReDoc fetches its logo from one): not served.
    assert (await client.get("/redoc")).status_code == 404

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    urls = [a or b for a, b in ASSET_URL.findall(response.text)]
    assert "/openapi.json" in urls
    assert len(urls) >= 3, urls
    external = [u for u in urls if not u.startswith("/") or u.startswith("//")]
    assert external == []
    assert "http://" not in response.text
    assert "https://" not in response.text
    for url in urls:
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert asset.content, url


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("swagger-ui-bundle.js", "text/javascript"),
        ("swagger-ui.css", "text/css"),
        ("favicon.png", "image/png"),
    ],
)
async def test_the_documentation_assets_are_served_from_the_project(
    client: AsyncClient, name: str, media_type: str
) -> None:
    response = await client.get(f"/docs/assets/{name}")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)
    assert len(response.content) > 1000


@pytest.mark.parametrize(
    "name", ["index.html", "redoc.standalone.js", "..%2F..%2Fcore.py", "%2Fetc%2Fpasswd"]
)
async def test_only_the_listed_assets_are_served(client: AsyncClient, name: str) -> None:
    response = await client.get(f"/docs/assets/{name}")

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
