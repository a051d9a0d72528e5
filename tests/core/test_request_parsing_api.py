"""How the portal reads a request (issue 11): JSON nested at any depth, bodies sized by what the
route reads, headers with a limit, text through forms checked as strictly as JSON's, and parse
errors said in the portal's own words. Every refusal is a 4xx with the error body."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from tempfile import SpooledTemporaryFile
from typing import Any

import jwt
import pytest
from fastapi import FastAPI, UploadFile
from httpx import AsyncClient, Response
from starlette.types import Message

from app.core.config import Settings
from app.core.guards import MAX_HEADER_BYTES, MAX_HEADERS, MAX_JSON_DEPTH
from app.core.schemas import has_unstorable_text
from tests.support.factories import (
    PDF_BYTES,
    Citizen,
    agency_headers,
    assert_error,
    assert_no_server_errors,
    login,
    move,
    new_pin,
    receiving_pair,
    serve,
    submit,
)
from tests.support.sync import assert_sync_refusal, back_office

JSON = {"Content-Type": "application/json"}
LOGIN_URL = "/api/v1/auth/citizen-login"


def nested(depth: int) -> str:
    """JSON text of `depth` containers, lists and objects in turn, around a string."""
    opening = "".join("[" if level % 2 else '{"k":' for level in range(depth))
    closing = "".join("]" if level % 2 else "}" for level in reversed(range(depth)))
    return opening + '"x"' + closing


async def post_raw(
    client: AsyncClient, url: str, text: str, headers: dict[str, str] | None = None
) -> Response:
    return await client.post(url, content=text.encode(), headers={**(headers or {}), **JSON})


async def new_dossier(client: AsyncClient) -> tuple[Citizen, dict[str, Any]]:
    procedure, agency = await receiving_pair(client)
    citizen = await login(client)
    return citizen, await submit(client, citizen, procedure["code"], agency["code"])


# -- depth ---------------------------------------------------------------------------------

# Field values nested `depth` deep: each body is one or two levels deeper than its value.
DEPTHS = [MAX_JSON_DEPTH, 320, 600, 950, 2_000, 50_000]


@pytest.mark.parametrize("depth", DEPTHS)
async def test_a_deeply_nested_login_phone_gets_a_4xx(
    app: FastAPI, client: AsyncClient, depth: int
) -> None:
    body = f'{{"identifier": "{new_pin()}", "phone": {nested(depth)}}}'
    response = await post_raw(client, LOGIN_URL, body)
    assert_error(response, 422, "json_too_deep", field="body")
    assert_no_server_errors(app)


@pytest.mark.parametrize("depth", DEPTHS)
async def test_a_deeply_nested_form_or_note_gets_a_4xx(
    app: FastAPI, client: AsyncClient, settings: Settings, depth: int
) -> None:
    citizen, dossier = await new_dossier(client)
    value = nested(depth)
    submission = (
        f'{{"procedure_code": "{dossier["procedure_code"]}", '
        f'"agency_code": "{dossier["agency_code"]}", "form": {{"a": {value}}}}}'
    )
    refused = await post_raw(client, "/api/v1/dossiers", submission, citizen.headers)
    assert_error(refused, 422, "json_too_deep", field="body")

    url = f"/api/v1/agency/dossiers/{dossier['code']}/transitions"
    note = f'{{"to_status": 2, "note": {value}}}'
    refused = await post_raw(client, url, note, agency_headers(settings, dossier["agency_code"]))
    assert_error(refused, 422, "json_too_deep", field="body")
    assert_no_server_errors(app)


async def test_json_up_to_the_depth_limit_is_parsed_and_validated(client: AsyncClient) -> None:
    # The body's object is one level: a phone nested one less than the limit is parsed, and
    # then refused for what it is; one more level is refused before it is parsed.
    within = f'{{"identifier": "{new_pin()}", "phone": {nested(MAX_JSON_DEPTH - 1)}}}'
    assert_error(await post_raw(client, LOGIN_URL, within), 422, "invalid_payload", field="phone")
    beyond = f'{{"identifier": "{new_pin()}", "phone": {nested(MAX_JSON_DEPTH)}}}'
    body = assert_error(await post_raw(client, LOGIN_URL, beyond), 422, "json_too_deep")
    assert str(MAX_JSON_DEPTH) in body["detail"]


async def test_brackets_inside_strings_are_text_not_depth(
    client: AsyncClient, settings: Settings
) -> None:
    _, dossier = await new_dossier(client)
    note = '[{"\\"' * 200 + "]}" * 200
    response = await client.post(
        f"/api/v1/agency/dossiers/{dossier['code']}/transitions",
        json={"to_status": 2, "note": note},
        headers=agency_headers(settings, dossier["agency_code"]),
    )
    assert response.status_code == 200, response.text
    events = await client.get(
        f"/api/v1/agency/dossiers/{dossier['code']}/events",
        headers=agency_headers(settings, dossier["agency_code"]),
    )
    assert events.json()[-1]["note"] == note


def test_unstorable_text_is_found_at_any_depth() -> None:
    deep: Any = "\x00"
    clean: Any = "x"
    for level in range(100_000):
        deep = [deep] if level % 2 else {"k": deep}
        clean = [clean] if level % 2 else {"k": clean}
    assert has_unstorable_text(deep)
    assert not has_unstorable_text(clean)
    assert has_unstorable_text({"\ud800": 1})  # keys are text too


# -- body sizes ------------------------------------------------------------------------------

SMALL_JSON = {"json_max_bytes": 4096}


async def test_a_json_body_over_the_json_limit_is_refused(settings: Settings) -> None:
    body = {"identifier": new_pin(), "full_name": "x" * 5000}
    async with serve(settings.model_copy(update=SMALL_JSON)) as (app, http):
        response = await http.post(LOGIN_URL, json=body)
        error = assert_error(response, 413, "payload_too_large", field="body")
        assert "4096" in error["detail"]
        assert_no_server_errors(app)


async def test_a_streamed_json_body_over_the_json_limit_is_refused(settings: Settings) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"identifier": "001090000001", "full_name": "'
        for _ in range(10):
            yield b"x" * 1000  # no Content-Length: the body is counted as it arrives
        yield b'"}'

    async with serve(settings.model_copy(update=SMALL_JSON)) as (_app, http):
        response = await http.post(LOGIN_URL, content=chunks(), headers=JSON)
        assert_error(response, 413, "payload_too_large", field="body")


async def test_a_multipart_body_to_a_json_route_has_the_json_limit(settings: Settings) -> None:
    async with serve(settings.model_copy(update=SMALL_JSON)) as (_app, http):
        citizen = await login(http)
        response = await http.post(
            "/api/v1/dossiers",
            files=[("files", ("big.pdf", PDF_BYTES * 1000, "application/pdf"))],
            headers=citizen.headers,
        )
        assert_error(response, 413, "payload_too_large", field="body")


async def test_an_upload_may_be_larger_than_the_json_limit_and_is_spooled_to_disk(
    settings: Settings,
) -> None:
    content = PDF_BYTES + b"0" * (3 * 1024 * 1024)
    async with serve(settings.model_copy(update=SMALL_JSON)) as (app, http):
        citizen = await login(http)
        procedure, agency = await receiving_pair(http)
        dossier = await submit(http, citizen, procedure["code"], agency["code"])
        store = app.state.document_store
        save = store.save
        on_disk: list[bool] = []

        async def spying_save(upload: UploadFile, *, folder: str) -> Any:
            spooled = upload.file
            # Past its threshold a SpooledTemporaryFile has rolled over to a real file.
            on_disk.append(
                isinstance(spooled, SpooledTemporaryFile) and getattr(spooled, "_rolled", False)
            )
            return await save(upload, folder=folder)

        store.save = spying_save
        response = await http.post(
            f"/api/v1/dossiers/{dossier['code']}/documents",
            files=[("files", ("big.pdf", content, "application/pdf"))],
            headers=citizen.headers,
        )
        assert response.status_code == 201, response.text
        assert response.json()[0]["size_bytes"] == len(content)
        assert on_disk == [True]


@pytest.mark.parametrize(
    ("chunks", "status"),
    [([b'{"full_name": "' + b"x" * 1000] * 8, 413), ([b"[" * 40, b"]" * 40], 422)],
)
async def test_a_refusal_is_the_only_answer_sent(
    settings: Settings, chunks: list[bytes], status: int
) -> None:
    # Spoken to as a server would: whatever the app answers after a refusal must not follow it.
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": LOGIN_URL,
        "raw_path": LOGIN_URL.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"portal.test"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 50000),
        "server": ("portal.test", 80),
    }
    incoming: list[Message] = [
        {"type": "http.request", "body": chunk, "more_body": n < len(chunks) - 1}
        for n, chunk in enumerate(chunks)
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    async with serve(settings.model_copy(update=SMALL_JSON)) as (app, _http):
        await app(scope, receive, send)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"], sent
    assert sent[0]["status"] == status
    assert not sent[1].get("more_body", False)


# -- headers ---------------------------------------------------------------------------------


async def test_too_many_headers_get_431(app: FastAPI, client: AsyncClient) -> None:
    headers = [(f"x-extra-{n}", "1") for n in range(MAX_HEADERS + 1)]
    response = await client.get("/api/v1/fields", headers=headers)
    body = assert_error(response, 431, "headers_too_large", field="headers")
    assert str(MAX_HEADERS) in body["detail"]
    assert_no_server_errors(app)


async def test_headers_too_large_in_total_get_431(client: AsyncClient) -> None:
    response = await client.get("/api/v1/fields", headers={"X-Big": "x" * MAX_HEADER_BYTES})
    body = assert_error(response, 431, "headers_too_large", field="headers")
    assert str(MAX_HEADER_BYTES) in body["detail"]


async def test_ordinary_headers_pass(client: AsyncClient) -> None:
    headers = [(f"x-extra-{n}", "v" * 100) for n in range(MAX_HEADERS // 2)]
    response = await client.get("/api/v1/fields", headers=headers)
    assert response.status_code == 200, response.text


# -- text through forms ----------------------------------------------------------------------

BOUNDARY = "portalsim-test-boundary"


def multipart(*parts: tuple[bytes, bytes, bytes | None]) -> bytes:
    """A multipart body by hand, so that names and filenames may be any bytes: each part is
    (disposition parameters, content, content type or None)."""
    body = b""
    for disposition, content, content_type in parts:
        body += f"--{BOUNDARY}\r\n".encode() + b"Content-Disposition: form-data; " + disposition
        if content_type:
            body += b"\r\nContent-Type: " + content_type
        body += b"\r\n\r\n" + content + b"\r\n"
    return body + f"--{BOUNDARY}--\r\n".encode()


MULTIPART = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


async def paused_dossier(client: AsyncClient, settings: Settings) -> tuple[Citizen, dict[str, Any]]:
    """A dossier whose agency has asked for a supplement (status 5)."""
    citizen, dossier = await new_dossier(client)
    return citizen, await move(client, settings, dossier, 2, 4, 5)


async def test_invalid_utf8_in_a_multipart_note_is_refused(
    client: AsyncClient, settings: Settings
) -> None:
    citizen, dossier = await paused_dossier(client, settings)
    body = multipart((b'name="note"', "đã gửi ".encode() + b"\xff\xfe", None))
    response = await client.post(
        f"/api/v1/dossiers/{dossier['code']}/supplement",
        content=body,
        headers={**citizen.headers, **MULTIPART},
    )
    error = assert_error(response, 422, "invalid_text", field="note")
    assert "UTF-8" in error["detail"]
    after = await client.get(f"/api/v1/dossiers/{dossier['code']}", headers=citizen.headers)
    assert after.json()["status"] == 5


async def test_an_undecodable_filename_is_refused(client: AsyncClient) -> None:
    citizen, dossier = await new_dossier(client)
    body = multipart((b'name="files"; filename="gi\xe1y.pdf"', PDF_BYTES, b"application/pdf"))
    response = await client.post(
        f"/api/v1/dossiers/{dossier['code']}/documents",
        content=body,
        headers={**citizen.headers, **MULTIPART},
    )
    error = assert_error(response, 422, "invalid_text", field="files")
    assert "file name" in error["detail"]
    listed = await client.get(
        f"/api/v1/dossiers/{dossier['code']}/documents", headers=citizen.headers
    )
    assert listed.json() == []


async def test_an_undecodable_part_name_is_refused(client: AsyncClient) -> None:
    citizen, dossier = await new_dossier(client)
    body = multipart((b'name="fil\xe9s"; filename="a.pdf"', PDF_BYTES, b"application/pdf"))
    response = await client.post(
        f"/api/v1/dossiers/{dossier['code']}/documents",
        content=body,
        headers={**citizen.headers, **MULTIPART},
    )
    assert_error(response, 422, "invalid_text", field="body")


async def test_an_unknown_form_charset_is_refused(client: AsyncClient) -> None:
    citizen, dossier = await new_dossier(client)
    body = multipart((b'name="files"; filename="a.pdf"', PDF_BYTES, b"application/pdf"))
    response = await client.post(
        f"/api/v1/dossiers/{dossier['code']}/documents",
        content=body,
        headers={**citizen.headers, "Content-Type": f"{MULTIPART['Content-Type']}; charset=x-0"},
    )
    assert_error(response, 415, "unsupported_media_type", field="body")


async def test_vietnamese_text_through_multipart_is_kept_as_sent(
    client: AsyncClient, settings: Settings
) -> None:
    citizen, dossier = await paused_dossier(client, settings)
    note = "Đã bổ sung bản sao giấy khai sinh"
    response = await client.post(
        f"/api/v1/dossiers/{dossier['code']}/supplement",
        files=[("files", ("giấy khai sinh.pdf", PDF_BYTES, "application/pdf"))],
        data={"note": note},
        headers=citizen.headers,
    )
    assert response.status_code == 200, response.text
    documents = await client.get(
        f"/api/v1/dossiers/{dossier['code']}/documents", headers=citizen.headers
    )
    assert [d["filename"] for d in documents.json()] == ["giấy khai sinh.pdf"]
    events = await client.get(f"/api/v1/dossiers/{dossier['code']}/events", headers=citizen.headers)
    assert events.json()[-1]["note"] == note


@pytest.mark.parametrize(
    ("raw", "says"),
    [(b"note=%FF%FE", "UTF-8"), ("note=Đã gửi".encode(), "percent-encoded")],
)
async def test_undecodable_or_unencoded_text_in_a_urlencoded_form_is_refused(
    client: AsyncClient, settings: Settings, raw: bytes, says: str
) -> None:
    citizen, dossier = await paused_dossier(client, settings)
    response = await client.post(
        f"/api/v1/dossiers/{dossier['code']}/supplement",
        content=raw,
        headers={**citizen.headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    error = assert_error(response, 422, "invalid_text", field="note")
    assert says in error["detail"]


async def test_a_percent_encoded_note_is_kept(client: AsyncClient, settings: Settings) -> None:
    citizen, dossier = await paused_dossier(client, settings)
    response = await client.post(
        f"/api/v1/dossiers/{dossier['code']}/supplement",
        data={"note": "Đã gửi bản gốc"},
        headers=citizen.headers,
    )
    assert response.status_code == 200, response.text
    events = await client.get(f"/api/v1/dossiers/{dossier['code']}/events", headers=citizen.headers)
    assert events.json()[-1]["note"] == "Đã gửi bản gốc"


# -- errors in the portal's words ------------------------------------------------------------


def foreign_token(**claims: Any) -> str:
    payload = {"sub": "1", "kind": "citizen", "exp": datetime.now(UTC) + timedelta(hours=1)}
    return jwt.encode(payload | claims, "another-secret-of-at-least-32-bytes!", algorithm="HS256")


@pytest.mark.parametrize(
    ("token", "says"),
    [
        ("abc", "the bearer token is malformed"),
        ("x.y.z", "the bearer token is malformed"),
        (foreign_token(), "the bearer token was not issued by this portal"),
    ],
)
async def test_a_bad_bearer_token_is_described_in_the_portals_words(
    client: AsyncClient, token: str, says: str
) -> None:
    response = await client.get("/api/v1/dossiers", headers={"Authorization": f"Bearer {token}"})
    body = assert_error(response, 401, "invalid_token")
    assert says in body["detail"], body
    assert "segments" not in body["detail"]


async def test_an_expired_bearer_token_says_so(client: AsyncClient, settings: Settings) -> None:
    expired = jwt.encode(
        {"sub": "1", "kind": "citizen", "exp": datetime.now(UTC) - timedelta(minutes=1)},
        settings.secret_key,
        algorithm="HS256",
    )
    response = await client.get("/api/v1/dossiers", headers={"Authorization": f"Bearer {expired}"})
    body = assert_error(response, 401, "invalid_token")
    assert "the bearer token has expired" in body["detail"]


async def test_a_malformed_sync_session_is_described_in_the_portals_words(
    client: AsyncClient, settings: Settings
) -> None:
    _, agency = await receiving_pair(client)
    office = await back_office(client, settings, agency["code"])
    response = await office.post("TraCuuHoSo", [{"MaHoSo": "x"}], session="abc")
    body = assert_sync_refusal(response, 401, 2)
    assert "the session is malformed" in body["message"]
    assert "segments" not in body["message"]


async def test_malformed_json_says_where(client: AsyncClient) -> None:
    text = '{\n  "identifier": "001090000001",\n  "full_name" "An"\n}'
    response = await post_raw(client, LOGIN_URL, text)
    body = assert_error(response, 422, "malformed_json", field="body")
    char = text.index('"An"')
    assert body["position"] == {"line": 3, "column": 15, "char": char}
    assert "line 3, column 15" in body["detail"]
    assert "Expecting ':' delimiter" in body["detail"]
    assert json.loads(text[:char] + ": " + text[char:])  # the position is where ':' belongs


async def test_json_that_is_not_utf8_says_where(client: AsyncClient) -> None:
    raw = b'{"identifier": "001090000001",\n "full_name": "L\xea"}'
    response = await client.post(LOGIN_URL, content=raw, headers=JSON)
    body = assert_error(response, 422, "malformed_json", field="body")
    assert body["position"] == {"line": 2, "column": 17, "byte": raw.index(b"\xea")}
    assert "not valid UTF-8" in body["detail"]
    assert "line 2, column 17" in body["detail"]


@pytest.mark.parametrize("content_type", [None, "application/x-www-form-urlencoded", "text/plain"])
async def test_json_without_a_json_content_type_is_told_to_send_application_json(
    client: AsyncClient, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    body = json.dumps({"identifier": new_pin(), "full_name": "Lê Văn Minh"}).encode()
    response = await client.post(LOGIN_URL, content=body, headers=headers)
    error = assert_error(response, 415, "unsupported_media_type", field="body")
    assert "application/json" in error["detail"]
