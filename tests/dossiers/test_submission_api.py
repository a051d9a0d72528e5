"""Online submission through HTTP: dossier codes, idempotency, refusals, and documents."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from httpx import AsyncClient, Response

from app.core.config import Settings
from app.core.errors import InvalidInput
from app.core.security import issue_token
from app.dossiers.repository import DossierRepository
from tests.conftest import DEFAULT_NOW
from tests.support.clock import ManualClock
from tests.support.factories import (
    JPEG_BYTES,
    PDF_BYTES,
    PNG_BYTES,
    Citizen,
    assert_error,
    assert_no_server_errors,
    instant,
    login,
    move,
    receiving_pair,
    serve,
    submit,
    upload,
    vn_time,
)

DOSSIERS = "/api/v1/dossiers"
Pair = tuple[dict[str, Any], dict[str, Any]]


@pytest.fixture
async def pair(client: AsyncClient) -> Pair:
    return await receiving_pair(client)


async def my_codes(client: AsyncClient, citizen: Citizen) -> list[str]:
    response = await client.get(DOSSIERS, params={"size": 200}, headers=citizen.headers)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["total"] == len(data["items"])
    return [d["code"] for d in data["items"]]


async def post_dossier(
    client: AsyncClient, citizen: Citizen, body: dict[str, Any], key: str | None = None
) -> Response:
    headers = dict(citizen.headers)
    if key is not None:
        headers["Idempotency-Key"] = key
    return await client.post(DOSSIERS, json=body, headers=headers)


def stored_files(settings: Settings) -> list[Path]:
    root = settings.document_dir
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# -- submission and codes -------------------------------------------------------------------


async def test_submission_creates_a_new_online_dossier(client: AsyncClient, pair: Pair) -> None:
    procedure, agency = pair
    citizen = await login(client, full_name="Nguyễn Thị Mai", phone="0987654321")

    response = await post_dossier(
        client,
        citizen,
        {
            "procedure_code": procedure["code"],
            "agency_code": agency["code"],
            "form": {"so_ban_sao": 2, "ghi_chu": "xin cấp gấp", "co_uy_quyen": False},
            "note": "nộp trực tuyến",
        },
    )

    assert response.status_code == 201, response.text
    dossier = response.json()
    assert re.fullmatch(rf"{re.escape(agency['code'])}-260303-0001", dossier["code"])
    assert response.headers["location"] == f"{DOSSIERS}/{dossier['code']}"
    assert dossier["status"] == 1
    assert dossier["status_label"] == "Mới đăng ký"
    assert dossier["procedure_code"] == procedure["code"]
    assert dossier["agency_code"] == agency["code"]
    assert dossier["channel"] == 2
    assert dossier["form"] == {"so_ban_sao": 2, "ghi_chu": "xin cấp gấp", "co_uy_quyen": False}
    assert dossier["applicant"] == {
        "full_name": "Nguyễn Thị Mai",
        "phone": "0987654321",
        "email": None,
        "identifier": citizen.identifier,
        "kind": "citizen",
    }
    assert instant(dossier["submitted_at"]) == DEFAULT_NOW
    assert dossier["submitted_at"].endswith("+07:00")
    for unset in ("acked_at", "accepted_at", "due_at", "finished_at", "returned_at"):
        assert dossier[unset] is None
    assert dossier["paused_since"] is None
    assert dossier["supplement_requests"] == 0
    assert dossier["timeliness"] is None
    assert dossier["rating"] is None
    located = await client.get(response.headers["location"], headers=citizen.headers)
    assert located.json() == dossier


async def test_applicant_other_than_the_account_holder_is_kept(
    client: AsyncClient, pair: Pair
) -> None:
    procedure, agency = pair
    citizen = await login(client)
    applicant = {"full_name": "Nguyễn Văn Bé", "phone": "+84912345678", "address": "Hà Nội"}

    dossier = await submit(client, citizen, procedure["code"], agency["code"], applicant=applicant)

    assert dossier["applicant"] == {
        **applicant,
        "email": None,
        "identifier": citizen.identifier,
        "kind": "citizen",
    }


async def test_codes_count_up_per_agency_and_day(client: AsyncClient, pair: Pair) -> None:
    procedure, agency = pair
    citizens = [await login(client), await login(client)]

    codes = [
        (await submit(client, citizens[i % 2], procedure["code"], agency["code"]))["code"]
        for i in range(3)
    ]

    prefix = f"{agency['code']}-260303-"
    assert codes == [prefix + "0001", prefix + "0002", prefix + "0003"]


async def test_codes_restart_at_0001_on_the_next_day(
    client: AsyncClient, pair: Pair, clock: ManualClock
) -> None:
    procedure, agency = pair
    citizen = await login(client)
    await submit(client, citizen, procedure["code"], agency["code"])
    await submit(client, citizen, procedure["code"], agency["code"])

    clock.set(vn_time(2026, 3, 4, 0, 1))
    next_day = await submit(client, citizen, procedure["code"], agency["code"])

    assert next_day["code"] == f"{agency['code']}-260304-0001"


async def test_codes_are_independent_per_agency(client: AsyncClient, pair: Pair) -> None:
    procedure, agency = pair
    agencies = (
        await client.get("/api/v1/agencies", params={"procedure": procedure["code"], "size": 2})
    ).json()["items"]
    other = agencies[1]["code"]
    assert other != agency["code"]
    citizen = await login(client)

    first = await submit(client, citizen, procedure["code"], agency["code"])
    second = await submit(client, citizen, procedure["code"], agency["code"])
    elsewhere = await submit(client, citizen, procedure["code"], other)

    assert first["code"].endswith("-260303-0001")
    assert second["code"].endswith("-260303-0002")
    assert elsewhere["code"] == f"{other}-260303-0001"


async def test_code_date_is_the_day_in_vietnam_not_in_utc(
    client: AsyncClient, pair: Pair, clock: ManualClock
) -> None:
    procedure, agency = pair
    citizen = await login(client)
    clock.set(datetime(2026, 3, 3, 23, 30, tzinfo=UTC))  # 06:30 on 4 March in Hanoi

    dossier = await submit(client, citizen, procedure["code"], agency["code"])

    assert dossier["code"] == f"{agency['code']}-260304-0001"
    assert dossier["submitted_at"] == "2026-03-04T06:30:00+07:00"


async def test_citizen_lists_own_dossiers_newest_first(
    client: AsyncClient, pair: Pair, clock: ManualClock
) -> None:
    procedure, agency = pair
    citizen, other = await login(client), await login(client)
    codes = []
    for _ in range(3):
        codes.append((await submit(client, citizen, procedure["code"], agency["code"]))["code"])
        clock.advance(minutes=5)
    await submit(client, other, procedure["code"], agency["code"])

    assert await my_codes(client, citizen) == codes[::-1]
    page = (
        await client.get(DOSSIERS, params={"size": 2, "page": 2}, headers=citizen.headers)
    ).json()
    assert page["total"] == 3
    assert [d["code"] for d in page["items"]] == [codes[0]]


# -- idempotency ----------------------------------------------------------------------------


async def test_same_idempotency_key_and_body_replays_the_original(
    client: AsyncClient, pair: Pair, clock: ManualClock
) -> None:
    procedure, agency = pair
    citizen = await login(client)
    body = {"procedure_code": procedure["code"], "agency_code": agency["code"], "form": {"a": 1}}
    first = await post_dossier(client, citizen, body, key="retry-1")
    clock.advance(minutes=3)

    replay = await post_dossier(client, citizen, body, key="retry-1")

    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    assert replay.status_code == 200, replay.text
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.headers["location"] == first.headers["location"]
    assert replay.json() == first.json()
    assert await my_codes(client, citizen) == [first.json()["code"]]
    # The replay took no number: the next dossier is the second of the day.
    following = await submit(client, citizen, procedure["code"], agency["code"])
    assert following["code"].endswith("-0002")


async def test_same_idempotency_key_with_another_body_is_a_conflict(
    client: AsyncClient, pair: Pair
) -> None:
    procedure, agency = pair
    citizen = await login(client)
    body = {"procedure_code": procedure["code"], "agency_code": agency["code"]}
    first = await post_dossier(client, citizen, body, key="k-1")

    response = await post_dossier(client, citizen, {**body, "note": "changed"}, key="k-1")

    assert_error(response, 409, "idempotency_key_reused")
    assert await my_codes(client, citizen) == [first.json()["code"]]


async def test_same_idempotency_key_from_two_citizens_makes_two_dossiers(
    client: AsyncClient, pair: Pair
) -> None:
    procedure, agency = pair
    alice, bob = await login(client), await login(client)
    body = {"procedure_code": procedure["code"], "agency_code": agency["code"]}

    a = await post_dossier(client, alice, body, key="shared-key")
    b = await post_dossier(client, bob, body, key="shared-key")

    assert a.status_code == b.status_code == 201
    assert a.json()["code"] != b.json()["code"]
    assert await my_codes(client, alice) == [a.json()["code"]]
    assert await my_codes(client, bob) == [b.json()["code"]]


async def test_without_idempotency_key_each_post_is_a_new_dossier(
    client: AsyncClient, pair: Pair
) -> None:
    procedure, agency = pair
    citizen = await login(client)
    body = {"procedure_code": procedure["code"], "agency_code": agency["code"]}

    first = await post_dossier(client, citizen, body)
    second = await post_dossier(client, citizen, body)

    assert first.status_code == second.status_code == 201
    assert len(await my_codes(client, citizen)) == 2


# -- refusals -------------------------------------------------------------------------------


async def assert_refused_and_nothing_written(
    client: AsyncClient, pair: Pair, change: dict[str, Any], error: str, field: str | None
) -> None:
    """A submission changed by `change` is refused with that error, and leaves no trace: the
    citizen has no dossier, and the same Idempotency-Key then gets the agency's first number."""
    procedure, agency = pair
    citizen = await login(client)
    body = {"procedure_code": procedure["code"], "agency_code": agency["code"], **change}

    response = await post_dossier(client, citizen, body, key="attempt")

    assert_error(response, 422, error, field=field)
    assert await my_codes(client, citizen) == []
    accepted = await submit(
        client, citizen, procedure["code"], agency["code"], idempotency_key="attempt"
    )
    assert accepted["code"] == f"{agency['code']}-260303-0001"


@pytest.mark.parametrize(
    ("change", "error", "field"),
    [
        ({"procedure_code": "9.999999"}, "unknown_procedure", "procedure_code"),
        ({"agency_code": "999.99.99.H99"}, "unknown_agency", "agency_code"),
        ({"unexpected": "x"}, "invalid_payload", "unexpected"),
        ({"applicant": {"full_name": "An", "age": 3}}, "invalid_payload", "applicant.age"),
        ({"applicant": {"full_name": "An", "phone": "12"}}, "invalid_payload", "applicant.phone"),
        ({"procedure_code": None}, "invalid_payload", "procedure_code"),
        ({"form": {"nested": {"a": 1}}}, "invalid_payload", None),
    ],
    ids=[
        "unknown-procedure",
        "unknown-agency",
        "extra-field",
        "extra-applicant-field",
        "bad-phone",
        "null-procedure",
        "nested-form",
    ],
)
async def test_refused_submission_writes_nothing(
    client: AsyncClient, pair: Pair, change: dict[str, Any], error: str, field: str | None
) -> None:
    await assert_refused_and_nothing_written(client, pair, change, error, field)


async def test_agency_of_another_level_does_not_receive_the_procedure(
    client: AsyncClient, pair: Pair
) -> None:
    procedure, _ = pair
    assert procedure["agency_level"] == "province"
    params: dict[str, Any] = {"level": "commune", "province": 1, "size": 1}
    commune = (await client.get("/api/v1/agencies", params=params)).json()["items"][0]
    assert commune["level"] == "commune"

    await assert_refused_and_nothing_written(
        client,
        pair,
        {"agency_code": commune["code"]},
        "agency_does_not_handle_procedure",
        "agency_code",
    )


async def test_agency_of_another_field_does_not_receive_the_procedure(
    client: AsyncClient, pair: Pair
) -> None:
    procedure, _ = pair
    params: dict[str, Any] = {"level": "province", "province": 1, "size": 200}
    departments = (await client.get("/api/v1/agencies", params=params)).json()["items"]
    other = next(a for a in departments if procedure["field"] not in a["field_codes"])

    await assert_refused_and_nothing_written(
        client,
        pair,
        {"agency_code": other["code"]},
        "agency_does_not_handle_procedure",
        "agency_code",
    )


async def test_submission_needs_a_logged_in_citizen(client: AsyncClient, pair: Pair) -> None:
    procedure, agency = pair

    response = await client.post(
        DOSSIERS, json={"procedure_code": procedure["code"], "agency_code": agency["code"]}
    )

    assert_error(response, 401, "not_authenticated")


# -- documents ------------------------------------------------------------------------------


async def test_uploaded_documents_are_listed_and_downloaded_byte_for_byte(
    client: AsyncClient, pair: Pair, clock: ManualClock
) -> None:
    procedure, agency = pair
    citizen = await login(client)
    dossier = await submit(client, citizen, procedure["code"], agency["code"])
    files = [
        ("Tờ khai đăng ký.pdf", PDF_BYTES, "application/pdf"),
        ("anh-the.png", PNG_BYTES, "image/png"),
        ("cccd.jpg", JPEG_BYTES, "image/jpeg"),
    ]
    clock.advance(minutes=10)

    response = await upload(client, citizen, dossier["code"], *files)

    assert response.status_code == 201, response.text
    documents = response.json()
    assert len(documents) == 3
    for document, (name, content, content_type) in zip(documents, files, strict=True):
        assert document["filename"] == name
        assert document["content_type"] == content_type
        assert document["size_bytes"] == len(content)
        assert document["sha256"] == hashlib.sha256(content).hexdigest()
        assert document["purpose"] == "submission"
        assert instant(document["uploaded_at"]) == clock.now()
    listed = await client.get(f"{DOSSIERS}/{dossier['code']}/documents", headers=citizen.headers)
    assert listed.json() == documents
    for document, (name, content, content_type) in zip(documents, files, strict=True):
        download = await client.get(
            f"{DOSSIERS}/{dossier['code']}/documents/{document['id']}", headers=citizen.headers
        )
        assert download.status_code == 200
        assert download.content == content
        assert download.headers["content-type"] == content_type
        assert quote(name) in download.headers["content-disposition"]
        expected = base64.b64encode(hashlib.sha256(content).digest()).decode()
        assert download.headers["repr-digest"] == f"sha-256=:{expected}:"


async def test_another_citizen_cannot_download_a_document(client: AsyncClient, pair: Pair) -> None:
    procedure, agency = pair
    owner, other = await login(client), await login(client)
    dossier = await submit(client, owner, procedure["code"], agency["code"])
    document = (
        await upload(client, owner, dossier["code"], ("a.pdf", PDF_BYTES, "application/pdf"))
    ).json()[0]

    response = await client.get(
        f"{DOSSIERS}/{dossier['code']}/documents/{document['id']}", headers=other.headers
    )

    assert_error(response, 404, "dossier_not_found")
    assert PDF_BYTES not in response.content


async def test_unknown_document_is_404(client: AsyncClient, pair: Pair) -> None:
    procedure, agency = pair
    citizen = await login(client)
    dossier = await submit(client, citizen, procedure["code"], agency["code"])

    response = await client.get(
        f"{DOSSIERS}/{dossier['code']}/documents/1", headers=citizen.headers
    )

    assert_error(response, 404, "document_not_found", field="document_id")


async def test_oversize_document_is_refused_and_nothing_is_stored(
    settings: Settings, clock: ManualClock
) -> None:
    small = settings.model_copy(update={"document_max_bytes": 64})
    async with serve(small, clock) as (app, client):
        procedure, agency = await receiving_pair(client)
        citizen = await login(client)
        dossier = await submit(client, citizen, procedure["code"], agency["code"])
        exactly = PDF_BYTES + b"%" * (64 - len(PDF_BYTES))
        too_big = exactly + b"%"

        refused = await upload(
            client, citizen, dossier["code"], ("big.pdf", too_big, "application/pdf")
        )

        assert_error(refused, 413, "payload_too_large", field="files")
        listed = await client.get(
            f"{DOSSIERS}/{dossier['code']}/documents", headers=citizen.headers
        )
        assert listed.json() == []
        assert stored_files(small) == []
        at_limit = await upload(
            client, citizen, dossier["code"], ("ok.pdf", exactly, "application/pdf")
        )
        assert at_limit.status_code == 201, at_limit.text
        assert len(stored_files(small)) == 1
        assert_no_server_errors(app)


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"plain text, not a document", "text/plain"),
        (PDF_BYTES, "application/zip"),
        (PNG_BYTES, "application/pdf"),
        (PDF_BYTES, "image/png"),
        (b"MZ\x90\x00 an executable", "image/jpeg"),
    ],
    ids=["text", "zip", "png-as-pdf", "pdf-as-png", "exe-as-jpeg"],
)
async def test_wrong_or_mismatched_document_type_is_415(
    client: AsyncClient, settings: Settings, pair: Pair, content: bytes, content_type: str
) -> None:
    procedure, agency = pair
    citizen = await login(client)
    dossier = await submit(client, citizen, procedure["code"], agency["code"])

    response = await upload(client, citizen, dossier["code"], ("file", content, content_type))

    assert_error(response, 415, "unsupported_media_type", field="files")
    listed = await client.get(f"{DOSSIERS}/{dossier['code']}/documents", headers=citizen.headers)
    assert listed.json() == []
    assert stored_files(settings) == []


async def test_empty_document_is_refused(
    client: AsyncClient, settings: Settings, pair: Pair
) -> None:
    procedure, agency = pair
    citizen = await login(client)
    dossier = await submit(client, citizen, procedure["code"], agency["code"])

    response = await upload(client, citizen, dossier["code"], ("empty.pdf", b"", "application/pdf"))

    assert_error(response, 422, "invalid_payload", field="files")
    assert stored_files(settings) == []


@pytest.mark.parametrize("bad_position", [0, 1, 2])
async def test_batch_with_one_bad_file_stores_none(
    client: AsyncClient, settings: Settings, pair: Pair, bad_position: int
) -> None:
    procedure, agency = pair
    citizen = await login(client)
    dossier = await submit(client, citizen, procedure["code"], agency["code"])
    await upload(client, citizen, dossier["code"], ("first.pdf", PDF_BYTES, "application/pdf"))
    files = [("a.pdf", PDF_BYTES, "application/pdf"), ("b.png", PNG_BYTES, "image/png")]
    files.insert(bad_position, ("bad.jpg", PDF_BYTES, "image/jpeg"))

    response = await upload(client, citizen, dossier["code"], *files)

    assert_error(response, 415, "unsupported_media_type")
    listed = await client.get(f"{DOSSIERS}/{dossier['code']}/documents", headers=citizen.headers)
    assert [d["filename"] for d in listed.json()] == ["first.pdf"]
    assert len(stored_files(settings)) == 1


async def test_upload_without_files_is_an_invalid_payload(client: AsyncClient, pair: Pair) -> None:
    procedure, agency = pair
    citizen = await login(client)
    dossier = await submit(client, citizen, procedure["code"], agency["code"])

    response = await client.post(
        f"{DOSSIERS}/{dossier['code']}/documents", data={"x": "1"}, headers=citizen.headers
    )

    assert_error(response, 422, "invalid_payload", field="files")


async def test_documents_cannot_be_added_after_acceptance(
    client: AsyncClient, settings: Settings, pair: Pair
) -> None:
    procedure, agency = pair
    citizen = await login(client)
    dossier = await submit(client, citizen, procedure["code"], agency["code"])
    await move(client, settings, dossier, 2)

    response = await upload(
        client, citizen, dossier["code"], ("late.pdf", PDF_BYTES, "application/pdf")
    )

    body = assert_error(response, 409, "not_allowed_in_status", field="status")
    assert body["status"] == 2
    assert stored_files(settings) == []


# -- a failed submission leaves nothing behind ---------------------------------------------


@pytest.mark.parametrize("idempotency_key", [None, "attempt"], ids=["no-key", "with-key"])
async def test_a_submission_failing_after_its_lookup_does_not_spoil_the_next_one(
    client: AsyncClient, pair: Pair, monkeypatch: pytest.MonkeyPatch, idempotency_key: str | None
) -> None:
    """A failure inside the transaction, after the procedure and agency were looked up (as a lost
    race or a database error would be), rolls it back; the next submission to the same pair,
    which finds that look-up kept, is received."""
    procedure, agency = pair
    citizen = await login(client)
    body = {"procedure_code": procedure["code"], "agency_code": agency["code"]}
    insert_online = DossierRepository.insert_online

    async def failing_insert(repository: Any, new: Any) -> None:
        monkeypatch.setattr(DossierRepository, "insert_online", insert_online)  # only the first
        await insert_online(repository, new)  # written, then the transaction fails
        raise InvalidInput("injected failure inside the transaction", field="form")

    monkeypatch.setattr(DossierRepository, "insert_online", failing_insert)

    failed = await post_dossier(client, citizen, body, key=idempotency_key)
    received = await post_dossier(client, citizen, body, key=idempotency_key)

    assert_error(failed, 422, "invalid_payload", field="form")
    assert received.status_code == 201, received.text
    assert received.json()["code"] == f"{agency['code']}-260303-0001"
    assert received.json()["procedure_code"] == procedure["code"]
    assert received.json()["due_at"] is None
    assert await my_codes(client, citizen) == [received.json()["code"]]


async def test_a_token_whose_account_is_gone_submits_nothing(
    client: AsyncClient, settings: Settings, pair: Pair
) -> None:
    """A signed token outlives a reset database: its submission is refused (401), and it takes
    no number of the agency's day."""
    procedure, agency = pair
    citizen = await login(client)
    token, _ = issue_token(settings, account_id=citizen.account_id + 1_000, kind="citizen")
    gone = Citizen(identifier="001099999999", token=token, account_id=citizen.account_id + 1_000)
    body = {"procedure_code": procedure["code"], "agency_code": agency["code"]}

    refused = await post_dossier(client, gone, body, key="gone")
    received = await post_dossier(client, citizen, body)

    assert_error(refused, 401, "invalid_token")
    assert received.json()["code"] == f"{agency['code']}-260303-0001"
