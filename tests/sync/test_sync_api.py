"""The status-sync contract end to end over HTTP, as a back office speaks it: log-in and
sessions, whole-dossier records (DongBoHoSoMC), progress steps (CapNhatTienDoHoSoMC) and
look-ups (TraCuuHoSo); what the dossier's owner then sees on the portal; resends, reordering,
cross-agency refusals, and input that must never cause a server error.

The manual clock stands at Tuesday 3 March 2026, 09:00 in Hanoi; the back offices report a
dossier history that starts on Monday 2 March."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from app.cli import _agencies
from app.core.calendar import VIETNAM_TZ, WorkingCalendar
from app.core.config import Settings
from app.core.security import sync_credentials
from app.sync.contract import MAX_BATCH
from tests.support.clock import ManualClock
from tests.support.factories import (
    assert_error,
    instant,
    login,
    new_pin,
    receiving_pair,
    serve,
    server_errors,
    submit,
    vn_time,
)
from tests.support.sync import (
    ACCEPTED,
    BUSINESS,
    LOOK_UP,
    ONLINE,
    PROCESSING,
    RECORDS,
    RESOLVED,
    RETURNED,
    STEPS,
    SUBMITTED,
    SUPPLEMENT,
    SYNC_URL,
    BackOffice,
    assert_sync_refusal,
    back_office,
    back_office_code,
    contract_date,
    dossier_of,
    events_of,
    other_agencies,
    outcomes,
    owner_of,
    record,
    state_of,
    step,
    sync_login,
    sync_stats,
    timeline,
)

MONDAY = vn_time(2026, 3, 2, 8)  # the dossiers' day of submission
ACCEPTED_AT = vn_time(2026, 3, 2, 8, 15)
# Mon 2 March 08:15 + 5 working days of 8 hours (07:30-11:30, 13:00-17:00) = Mon 9 March 08:15.
FIVE_DAYS_DUE = vn_time(2026, 3, 9, 8, 15)
CALENDAR = WorkingCalendar()
TODAY = "2026-03-03"  # the manual clock's day, the day the sync is counted on


def iso(value: datetime) -> str:
    """An instant as the portal's JSON writes it."""
    return value.astimezone(VIETNAM_TZ).isoformat()


async def five_day_office(client: AsyncClient, settings: Settings) -> tuple[str, str, BackOffice]:
    """A province procedure of 5 working days, the first agency receiving it, and that agency's
    back office logged in."""
    procedure, agency = await receiving_pair(client, processing_time=5)
    return procedure["code"], agency["code"], await back_office(client, settings, agency["code"])


def processing_record(code: str, procedure: str, owner: str, **extra: Any) -> dict[str, Any]:
    """A dossier submitted Monday 08:00 and accepted (processing) Monday 08:15."""
    return record(
        code,
        procedure,
        owner,
        status=PROCESSING,
        submitted=MONDAY,
        accepted=ACCEPTED_AT,
        **extra,
    )


# -- log-in and sessions -----------------------------------------------------------------


async def test_the_integration_account_listed_by_the_cli_opens_a_session(
    client: AsyncClient, settings: Settings
) -> None:
    _, agency = await receiving_pair(client)
    listed = {row["code"]: row for row in await _agencies(settings, "province", None)}
    username = listed[agency["code"]]["sync_username"]
    password = listed[agency["code"]]["sync_password"]
    assert (username, password) == sync_credentials(settings, agency["code"])

    before = datetime.now(UTC).replace(microsecond=0)
    response = await sync_login(client, username, password)
    after = datetime.now(UTC)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["error_code"] == 0
    assert body["message"]
    assert body["madonvi"] == agency["code"]
    assert re.fullmatch(r"[0-9]{14}", body["expires_at"]), body
    expires_at = datetime.strptime(body["expires_at"], "%Y%m%d%H%M%S").replace(tzinfo=VIETNAM_TZ)
    ttl = timedelta(minutes=settings.sync_session_ttl_minutes)
    assert before + ttl <= expires_at <= after + ttl
    # The session is good for a call.
    office = BackOffice(client, agency["code"], body["session"])
    reply = await office.look_up("no-such-dossier")
    assert outcomes(reply) == [("no-such-dossier", 14, "refused")]


@pytest.mark.parametrize(
    "case", ["wrong password", "another agency's password", "empty password", "non-ASCII"]
)
async def test_a_wrong_password_is_refused_with_code_1(
    client: AsyncClient, settings: Settings, case: str
) -> None:
    _, agency = await receiving_pair(client)
    username, password = sync_credentials(settings, agency["code"])
    (other,) = await other_agencies(client, agency["code"], count=1)
    wrong = {
        "wrong password": password[:-1] + ("0" if password[-1] != "0" else "1"),
        "another agency's password": sync_credentials(settings, other)[1],
        "empty password": "",
        "non-ASCII": "mật khẩu đúng",
    }[case]

    response = await sync_login(client, username, wrong)

    body = assert_sync_refusal(response, 401, 1)
    assert "session" not in body


@pytest.mark.parametrize("username", ["000.00.99.Z99", "không tồn tại", "x" * 100])
async def test_an_unknown_username_is_refused_with_code_1_even_with_its_derived_password(
    client: AsyncClient, settings: Settings, username: str
) -> None:
    response = await sync_login(client, username, sync_credentials(settings, username)[1])

    assert_sync_refusal(response, 401, 1)


@pytest.mark.parametrize(
    "body",
    [
        {"username": "000.00.08.H01"},
        {"username": "a\x00b", "password": "p"},
        {"username": "x" * 101, "password": "p"},
        {"username": 7, "password": "p"},
        {"username": "000.00.08.H01", "password": "p", "role": "admin"},
    ],
    ids=["no password", "NUL", "too long", "not text", "unknown field"],
)
async def test_a_malformed_login_is_a_422_not_a_server_error(
    client: AsyncClient, app: FastAPI, body: dict[str, Any]
) -> None:
    response = await client.post("/api/v1/sync/login", json=body)

    assert_error(response, 422, "invalid_payload")
    assert server_errors(app) == []


def _signed(settings: Settings, claims: dict[str, Any], *, secret: str | None = None) -> str:
    return jwt.encode(claims, secret or settings.secret_key, algorithm="HS256")


@pytest.mark.parametrize(
    "case",
    [
        "garbage",
        "another secret",
        "unsigned",
        "not a sync session",
        "no agency",
        "citizen token",
        "empty",
        "no expiry",
    ],
)
async def test_a_forged_or_foreign_session_is_refused_with_code_2(
    client: AsyncClient, settings: Settings, case: str
) -> None:
    procedure, agency, office = await five_day_office(client, settings)
    future = datetime.now(UTC) + timedelta(hours=1)
    claims = {"sub": agency, "kind": "sync", "exp": future}
    citizen = await login(client)
    session = {
        "garbage": "not-a-session",
        "another secret": _signed(settings, claims, secret="another-secret-of-at-least-32-bytes!"),
        "unsigned": jwt.encode(claims, None, algorithm="none"),
        "not a sync session": _signed(settings, claims | {"kind": "citizen"}),
        "no agency": _signed(settings, {"kind": "sync", "exp": future}),
        "citizen token": citizen.token,
        "empty": "",
        "no expiry": _signed(settings, {"sub": agency, "kind": "sync"}),
    }[case]
    code = back_office_code(agency)

    response = await office.post(
        RECORDS, [processing_record(code, procedure, new_pin())], session=session
    )

    assert_sync_refusal(response, 401, 2)
    assert outcomes(await office.look_up(code)) == [(code, 14, "refused")]


async def test_an_expired_session_is_refused_with_code_3(
    client: AsyncClient, settings: Settings
) -> None:
    procedure, agency, office = await five_day_office(client, settings)
    expired = _signed(
        settings, {"sub": agency, "kind": "sync", "exp": datetime.now(UTC) - timedelta(minutes=1)}
    )
    code = back_office_code(agency)

    response = await office.post(
        RECORDS, [processing_record(code, procedure, new_pin())], session=expired
    )

    assert_sync_refusal(response, 401, 3)
    assert outcomes(await office.look_up(code)) == [(code, 14, "refused")]


async def test_a_session_issued_already_expired_is_refused_with_code_3(
    settings: Settings, clock: ManualClock
) -> None:
    short = settings.model_copy(update={"sync_session_ttl_minutes": -1})
    async with serve(short, clock) as (app, client):
        _, agency = await receiving_pair(client)
        username, password = sync_credentials(short, agency["code"])
        response = await sync_login(client, username, password)
        assert response.status_code == 200, response.text
        expires_at = datetime.strptime(response.json()["expires_at"], "%Y%m%d%H%M%S")
        assert expires_at.replace(tzinfo=VIETNAM_TZ) < datetime.now(UTC)
        office = BackOffice(client, agency["code"], response.json()["session"])

        refused = await office.post(LOOK_UP, [{"MaHoSo": "anything"}])

        assert_sync_refusal(refused, 401, 3)
        assert server_errors(app) == []


async def test_madonvi_other_than_the_sessions_agency_is_refused_with_code_4(
    client: AsyncClient, settings: Settings
) -> None:
    procedure, agency, office = await five_day_office(client, settings)
    (other,) = await other_agencies(client, agency, count=1)
    code = back_office_code(agency)

    response = await office.post(
        RECORDS, [processing_record(code, procedure, new_pin())], madonvi=other
    )

    body = assert_sync_refusal(response, 403, 4)
    assert other in body["message"]
    assert outcomes(await office.look_up(code)) == [(code, 14, "refused")]


@pytest.mark.parametrize("service", ["dongbohosomc", "XoaHoSo", "", "DongBoHoSoMC "])
async def test_an_unknown_service_is_refused_with_code_5(
    client: AsyncClient, settings: Settings, service: str
) -> None:
    _, _, office = await five_day_office(client, settings)

    response = await office.post(service, [{"MaHoSo": "x"}])

    assert_sync_refusal(response, 422, 5)


async def test_an_empty_or_oversize_batch_is_refused_whole_with_code_7(
    client: AsyncClient, settings: Settings
) -> None:
    procedure, agency, office = await five_day_office(client, settings)
    owner = new_pin()
    oversize = [
        processing_record(back_office_code(agency), procedure, owner) for _ in range(MAX_BATCH + 1)
    ]

    assert_sync_refusal(await office.post(RECORDS, []), 413, 7)
    assert_sync_refusal(await office.post(RECORDS, oversize), 413, 7)
    assert_sync_refusal(await office.post(STEPS, [{"MaHoSo": "x"}] * (MAX_BATCH + 1)), 413, 7)

    # Nothing of the oversize batch was applied; a batch of exactly MAX_BATCH is taken.
    largest = await office.look_up(*(item["MaHoSo"] for item in oversize[:MAX_BATCH]))
    assert {result for _, _, result in outcomes(largest)} == {"refused"}
    assert {code for _, code, _ in outcomes(largest)} == {14}
    created = await office.records(*oversize[:MAX_BATCH])
    assert {result for _, _, result in outcomes(created)} == {"created"}


@pytest.mark.parametrize(
    ("envelope", "field"),
    [
        ({"data": None}, "data"),
        ({"data": {"MaHoSo": "x"}}, "data"),
        ({"data": "[]"}, "data"),
        ({"session": None}, "session"),
        ({"madonvi": 12}, "madonvi"),
        ({"service": ["DongBoHoSoMC"]}, "service"),
        ({"isUpdating": "perhaps"}, "isUpdating"),
        ({"session": "s" * 2001}, "session"),
        ({"madonvi": "000.00.08\x00H01"}, "madonvi"),
    ],
    ids=[
        "data null",
        "data an object",
        "data text",
        "no session",
        "madonvi a number",
        "service a list",
        "isUpdating not a flag",
        "session too long",
        "NUL in madonvi",
    ],
)
async def test_an_envelope_off_the_contract_is_a_422_naming_the_field(
    client: AsyncClient,
    settings: Settings,
    app: FastAPI,
    envelope: dict[str, Any],
    field: str,
) -> None:
    _, agency, office = await five_day_office(client, settings)
    body = {
        "session": office.session,
        "madonvi": agency,
        "service": LOOK_UP,
        "data": [{"MaHoSo": "x"}],
    } | envelope

    response = await client.post(SYNC_URL, json=body)

    assert_error(response, 422, "invalid_payload", field=field)
    assert server_errors(app) == []


async def test_a_body_that_is_not_an_envelope_is_a_4xx_with_the_portals_error_body(
    client: AsyncClient, settings: Settings, app: FastAPI
) -> None:
    _, agency, office = await five_day_office(client, settings)
    missing_data = {"session": office.session, "madonvi": agency, "service": RECORDS}

    assert_error(
        await client.post(SYNC_URL, json=missing_data), 422, "invalid_payload", field="data"
    )
    assert_error(await client.post(SYNC_URL, json=[missing_data]), 422, "invalid_payload")
    assert_error(await client.post(SYNC_URL, json=None), 422, "invalid_payload")
    not_json = await client.post(
        SYNC_URL, content=b'{"session": ', headers={"content-type": "application/json"}
    )
    assert_error(not_json, 422, "malformed_json")
    assert server_errors(app) == []


# -- whole-dossier records -------------------------------------------------------------


async def test_a_record_of_an_in_person_dossier_creates_it_for_the_citizen_it_names(
    client: AsyncClient, settings: Settings
) -> None:
    procedure, agency, office = await five_day_office(client, settings)
    code, pin = back_office_code(agency), new_pin()

    reply = await office.records(
        processing_record(code, procedure, pin, claimed_due=FIVE_DAYS_DUE, owner_name="Phạm Thu")
    )

    assert outcomes(reply) == [(code, 0, "created")]
    assert reply["results"][0]["TrangThaiHoSo"] == PROCESSING
    # The citizen logs in without a name: the sync opened the account in the record's name.
    login_response = await client.post(
        "/api/v1/auth/citizen-login", json={"identifier": pin, "kind": "citizen"}
    )
    assert login_response.status_code == 200, login_response.text
    assert login_response.json()["created"] is False
    assert login_response.json()["account"]["full_name"] == "Phạm Thu"
    owner = await owner_of(client, pin)
    listing = await client.get("/api/v1/dossiers", headers=owner.headers)
    assert [d["code"] for d in listing.json()["items"]] == [code]
    dossier = listing.json()["items"][0]
    assert dossier == await dossier_of(client, owner, code)
    assert dossier["status"] == PROCESSING
    assert dossier["channel"] == 1
    assert dossier["procedure_code"] == procedure
    assert dossier["agency_code"] == agency
    assert dossier["applicant"]["identifier"] == pin
    assert instant(dossier["submitted_at"]) == MONDAY
    assert instant(dossier["accepted_at"]) == ACCEPTED_AT
    assert instant(dossier["due_at"]) == FIVE_DAYS_DUE
    assert instant(dossier["claimed_due_at"]) == FIVE_DAYS_DUE
    assert dossier["due_disagreement"] is False
    assert dossier["timeliness"] == "in_time"
    assert instant(dossier["synced_at"]) == vn_time(2026, 3, 3, 9)
    events = await events_of(client, owner, code)
    assert [
        (e["from_status"], e["to_status"], e["at"], e["origin"], e["applied"]) for e in events
    ] == [
        (None, SUBMITTED, iso(MONDAY), "sync", True),
        (SUBMITTED, ACCEPTED, iso(ACCEPTED_AT), "sync", True),
        (ACCEPTED, PROCESSING, iso(ACCEPTED_AT), "sync", True),
    ]
    assert (await sync_stats(client, agency))[0] | {"agency_code": agency} == {
        "agency_code": agency,
        "day": TODAY,
        "items": 1,
        "created": 1,
        "updated": 0,
        "duplicates": 0,
        "stale": 0,
        "refused": 0,
        "due_disagreements": 0,
    }


@pytest.mark.parametrize(
    ("accepted", "due"),
    [
        # Monday 08:15: five full working days later, to the minute.
        (vn_time(2026, 3, 2, 8, 15), vn_time(2026, 3, 9, 8, 15)),
        # After the 15:00 cut-off the clock starts Tuesday 07:30: five days end Monday 17:00.
        (vn_time(2026, 3, 2, 15, 30), vn_time(2026, 3, 9, 17, 0)),
        # Accepted on a Saturday: the clock starts Monday 07:30.
        (vn_time(2026, 3, 7, 10, 0), vn_time(2026, 3, 13, 17, 0)),
        # Friday 10:00: the weekend does not count.
        (vn_time(2026, 3, 6, 10, 0), vn_time(2026, 3, 13, 10, 0)),
    ],
    ids=["Monday morning", "after the cut-off", "Saturday", "Friday"],
)
async def test_the_due_date_is_the_portals_own_working_time_computation(
    client: AsyncClient, settings: Settings, accepted: datetime, due: datetime
) -> None:
    procedure, agency, office = await five_day_office(client, settings)
    code, pin = back_office_code(agency), new_pin()
    claimed = due + timedelta(days=2)

    await office.records(
        record(
            code,
            procedure,
            pin,
            status=PROCESSING,
            submitted=accepted - timedelta(minutes=5),
            accepted=accepted,
            claimed_due=claimed,
        )
    )

    assert CALENDAR.due_at(accepted, 5, "working_day") == due  # the second oracle agrees
    dossier = await dossier_of(client, await owner_of(client, pin), code)
    assert instant(dossier["due_at"]) == due
    assert instant(dossier["claimed_due_at"]) == claimed
    look_up = await office.look_up(code)
    assert look_up["data"][0]["NgayHenTra"] == contract_date(due)
    assert look_up["data"][0]["NgayHenTraBaoCao"] == contract_date(claimed)


async def test_a_claimed_due_date_on_another_day_is_kept_beside_the_portals_and_counted(
    client: AsyncClient, settings: Settings
) -> None:
    procedure, agency, office = await five_day_office(client, settings)
    pin = new_pin()
    early, same_day, none = (back_office_code(agency) for _ in range(3))

    await office.records(
        # The back office says Friday 17:00; the portal says Monday 9 March 08:15.
        processing_record(early, procedure, pin, claimed_due=vn_time(2026, 3, 6, 17)),
        # Another hour of the same day is not a disagreement: back offices state a day.
        processing_record(same_day, procedure, pin, claimed_due=vn_time(2026, 3, 9, 17)),
        processing_record(none, procedure, pin),
    )

    owner = await owner_of(client, pin)
    disagreeing = await dossier_of(client, owner, early)
    assert instant(disagreeing["due_at"]) == FIVE_DAYS_DUE
    assert instant(disagreeing["claimed_due_at"]) == vn_time(2026, 3, 6, 17)
    assert disagreeing["due_disagreement"] is True
    agreeing = await dossier_of(client, owner, same_day)
    assert instant(agreeing["due_at"]) == FIVE_DAYS_DUE
    assert agreeing["due_disagreement"] is False
    unclaimed = await dossier_of(client, owner, none)
    assert unclaimed["claimed_due_at"] is None
    assert unclaimed["due_disagreement"] is False
    (stats,) = await sync_stats(client, agency)
    assert (stats["day"], stats["created"], stats["due_disagreements"]) == (TODAY, 3, 1)
    # Per agency: another agency's row, if any, is not this one's.
    (other,) = await other_agencies(client, agency, count=1)
    assert await sync_stats(client, other) == []


async def test_a_business_record_belongs_to_the_business_named_by_its_tax_code(
    client: AsyncClient, settings: Settings
) -> None:
    procedure, agency, office = await five_day_office(client, settings)
    code, tax_code = back_office_code(agency), "0101234567"

    reply = await office.records(
        processing_record(
            code, procedure, tax_code, kind=BUSINESS, owner_name="Công ty TNHH Minh Phát"
        )
    )

    assert outcomes(reply) == [(code, 0, "created")]
    business = await owner_of(client, tax_code, kind="business")
    listing = await client.get("/api/v1/dossiers", headers=business.headers)
    assert [d["code"] for d in listing.json()["items"]] == [code]
    applicant = listing.json()["items"][0]["applicant"]
    assert applicant["kind"] == "business"
    assert applicant["full_name"] == "Công ty TNHH Minh Phát"
    # The tax code is a business's, not a citizen's account.
    as_citizen = await client.post(
        "/api/v1/auth/citizen-login", json={"identifier": tax_code, "kind": "citizen"}
    )
    assert as_citizen.status_code == 422, as_citizen.text


async def test_one_bad_item_never_drops_the_good_ones_and_leaves_nothing_behind(
    client: AsyncClient, settings: Settings, app: FastAPI
) -> None:
    procedure, agency, office = await five_day_office(client, settings)
    pin = new_pin()
    good, unknown, malformed, missing, bad_pin, tax_as_pin, inconsistent, after = (
        back_office_code(agency) for _ in range(8)
    )
    without_owner = processing_record(missing, procedure, pin)
    del without_owner["ChuHoSo"]
    batch: list[Any] = [
        processing_record(unknown, "9.999999", pin),
        processing_record(malformed, procedure, pin) | {"NgayTiepNhan": "2026-03-02 08:15"},
        without_owner,
        processing_record(bad_pin, procedure, "12345"),
        processing_record(tax_as_pin, procedure, "0101234567"),
        # Resolved on Monday before being accepted on Tuesday: the dates do not lead to 9.
        record(
            inconsistent,
            procedure,
            pin,
            status=RESOLVED,
            submitted=MONDAY,
            accepted=vn_time(2026, 3, 3, 8),
            finished=vn_time(2026, 3, 2, 9),
        ),
        processing_record(good, procedure, pin),
        "not an item",
        processing_record(after, procedure, pin) | {"TrangThaiHoSo": 11},
    ]

    reply = await office.send(RECORDS, batch)

    assert outcomes(reply) == [
        (unknown, 11, "refused"),
        (malformed, 10, "refused"),
        (missing, 10, "refused"),
        (bad_pin, 10, "refused"),
        (tax_as_pin, 10, "refused"),
        (inconsistent, 16, "refused"),
        (good, 0, "created"),
        (None, 10, "refused"),
        (after, 10, "refused"),
    ]
    messages = [r["message"] for r in reply["results"]]
    assert "9.999999" in messages[0]
    assert "NgayTiepNhan" in messages[1]
    assert "ChuHoSo" in messages[2]
    assert "SoDinhDanh" in messages[3]
    assert "SoDinhDanh" in messages[4]
    assert "TrangThaiHoSo" in messages[8]
    assert all(messages), messages
    assert reply["message"] == "1 accepted, 8 refused"

    # Only the good one exists: for the back office, for the owner, in the counts.
    codes = [good, unknown, malformed, missing, bad_pin, tax_as_pin, inconsistent, after]
    look_up = await office.look_up(*codes)
    assert outcomes(look_up) == [(good, 0, "found")] + [(c, 14, "refused") for c in codes[1:]]
    assert [d["MaHoSo"] for d in look_up["data"]] == [good]
    owner = await owner_of(client, pin)
    listing = await client.get("/api/v1/dossiers", headers=owner.headers)
    assert [d["code"] for d in listing.json()["items"]] == [good]
    (stats,) = await sync_stats(client, agency)
    assert (stats["items"], stats["created"], stats["refused"]) == (9, 1, 8)
    # A refused item left no trace: corrected, it is new, not a duplicate nor a conflict.
    corrected = await office.records(processing_record(unknown, procedure, pin))
    assert outcomes(corrected) == [(unknown, 0, "created")]
    assert server_errors(app) == []


async def test_two_records_of_one_new_code_for_different_procedures_do_not_both_apply(
    client: AsyncClient, settings: Settings
) -> None:
    procedure, agency, office = await five_day_office(client, settings)
    other_procedure, _ = await receiving_pair(client, processing_time=10)
    code, pin = back_office_code(agency), new_pin()

    reply = await office.records(
        record(code, procedure, pin, status=SUBMITTED, submitted=MONDAY),
        processing_record(code, other_procedure["code"], pin),
    )

    # Once the dossier exists it is one procedure's; the other record is a code conflict.
    assert sorted((error, result) for _, error, result in outcomes(reply)) == [
        (0, "created"),
        (15, "refused"),
    ]
    (kept,) = [r for r in reply["results"] if r["error_code"] == 0]
    kept_procedure = procedure if kept["TrangThaiHoSo"] == SUBMITTED else other_procedure["code"]
    dossier = (await office.look_up(code))["data"][0]
    assert dossier["MaTTHC"] == kept_procedure


# -- resends and order -----------------------------------------------------------------


async def test_the_same_batch_sent_twice_changes_nothing_the_second_time(
    client: AsyncClient, settings: Settings, clock: ManualClock
) -> None:
    procedure, agency, office = await five_day_office(client, settings)
    pin = new_pin()
    first, second = back_office_code(agency), back_office_code(agency)
    records = [
        processing_record(first, procedure, pin, claimed_due=vn_time(2026, 3, 6, 17)),
        record(
            second,
            procedure,
            pin,
            status=RETURNED,
            submitted=MONDAY,
            accepted=ACCEPTED_AT,
            finished=vn_time(2026, 3, 3, 8),
            returned=vn_time(2026, 3, 3, 8, 30),
        ),
    ]
    steps = [
        step(first, SUPPLEMENT, vn_time(2026, 3, 3, 10)),
        step(first, PROCESSING, vn_time(2026, 3, 4, 10)),
    ]
    assert [r for _, _, r in outcomes(await office.records(*records))] == ["created"] * 2
    assert [r for _, _, r in outcomes(await office.steps(*steps))] == ["applied"] * 2
    owner = await owner_of(client, pin)

    async def snapshot() -> list[Any]:
        return [
            (await dossier_of(client, owner, code), await events_of(client, owner, code))
            for code in (first, second)
        ] + [(await office.look_up(first, second))["data"]]

    before = await snapshot()
    clock.advance(hours=2)

    again = await office.records(*records)
    steps_again = await office.steps(*steps)

    assert outcomes(again) == [(first, 0, "duplicate"), (second, 0, "duplicate")]
    assert outcomes(steps_again) == [(first, 0, "duplicate"), (first, 0, "duplicate")]
    assert await snapshot() == before
    (stats,) = await sync_stats(client, agency)
    assert (stats["items"], stats["created"], stats["duplicates"]) == (8, 2, 4)


async def test_steps_delivered_out_of_order_and_twice_end_as_in_order_delivery(
    client: AsyncClient, settings: Settings
) -> None:
    procedure, agency, office = await five_day_office(client, settings)
    pin = new_pin()
    in_order, scrambled = back_office_code(agency), back_office_code(agency)
    history = [
        (ACCEPTED, vn_time(2026, 3, 2, 8, 15)),
        (PROCESSING, vn_time(2026, 3, 2, 8, 20)),
        (SUPPLEMENT, vn_time(2026, 3, 3, 10)),
        (PROCESSING, vn_time(2026, 3, 5, 14)),
        (RESOLVED, vn_time(2026, 3, 10, 9)),
        (RETURNED, vn_time(2026, 3, 11, 10)),
    ]
    submitted = [
        record(code, procedure, pin, status=SUBMITTED, submitted=MONDAY)
        for code in (in_order, scrambled)
    ]
    await office.records(*submitted)

    for status, at in history:
        reply = await office.steps(step(in_order, status, at))
        assert outcomes(reply) == [(in_order, 0, "applied")]
    steps = [step(scrambled, status, at) for status, at in history]
    accepted, processing, requested, handed_in, resolved, returned = steps
    answers = [
        outcomes(await office.steps(*batch))
        for batch in (
            [returned, resolved],
            [handed_in, accepted, returned],
            [requested],
            [resolved, processing, accepted],
            [handed_in, requested, returned],
        )
    ]

    # Steps that cannot follow what has arrived are refused for now, then applied.
    assert answers[0] == [(scrambled, 13, "refused"), (scrambled, 13, "refused")]
    assert answers[-1] == [(scrambled, 0, "duplicate")] * 3
    owner = await owner_of(client, pin)
    expected = await dossier_of(client, owner, in_order)
    got = await dossier_of(client, owner, scrambled)
    assert state_of(got) == state_of(expected)
    # Hand-checked: due Monday 9 March 08:15, shifted by the 18.5 working hours paused (Tue
    # 10:00 to Thu 14:00) to Wednesday 11 March 10:45; resolved Tuesday 10 March.
    assert instant(expected["due_at"]) == vn_time(2026, 3, 11, 10, 45)
    assert instant(expected["finished_at"]) == vn_time(2026, 3, 10, 9)
    assert (expected["status"], expected["supplement_requests"]) == (RETURNED, 1)
    assert expected["timeliness"] == "early"
    expected_events = timeline(await events_of(client, owner, in_order))
    assert timeline(await events_of(client, owner, scrambled)) == expected_events
    assert expected_events == [(SUBMITTED, iso(MONDAY), True)] + [
        (status, iso(at), True) for status, at in history
    ]


async def test_a_late_older_update_is_stale_and_never_moves_the_dossier_back(
    client: AsyncClient, settings: Settings
) -> None:
    procedure, agency, office = await five_day_office(client, settings)
    code, pin = back_office_code(agency), new_pin()
    resolved = record(
        code,
        procedure,
        pin,
        status=RESOLVED,
        submitted=MONDAY,
        accepted=ACCEPTED_AT,
        finished=vn_time(2026, 3, 6, 10),
        claimed_due=FIVE_DAYS_DUE,
    )
    await office.records(resolved)
    owner = await owner_of(client, pin)
    before = await dossier_of(client, owner, code)

    # The supplement request of Wednesday arrives after the resolution of Friday.
    late_request = await office.steps(step(code, SUPPLEMENT, vn_time(2026, 3, 4, 10)))
    # So does an older snapshot that still says "processing", with another due date.
    late_record = await office.records(
        processing_record(code, procedure, pin, claimed_due=vn_time(2026, 3, 5, 17))
    )

    assert outcomes(late_request) == [(code, 0, "stale")]
    assert late_request["results"][0]["TrangThaiHoSo"] == RESOLVED
    assert outcomes(late_record) == [(code, 0, "stale")]
    after = await dossier_of(client, owner, code)
    assert state_of(after) == state_of(before)
    assert after["status"] == RESOLVED
    assert after["claimed_due_at"] == before["claimed_due_at"]
    assert (SUPPLEMENT, iso(vn_time(2026, 3, 4, 10)), True) not in timeline(
        await events_of(client, owner, code)
    )

    # Kept in the history: once the hand-in arrives too, the pause counts.
    handed_in = await office.steps(step(code, PROCESSING, vn_time(2026, 3, 5, 14)))

    assert outcomes(handed_in) == [(code, 0, "stale")]
    whole = await dossier_of(client, owner, code)
    assert whole["status"] == RESOLVED
    assert whole["supplement_requests"] == 1
    # Monday 9 March 08:15 shifted by the 10.5 working hours paused: Tuesday 10 March 10:45.
    assert instant(whole["due_at"]) == vn_time(2026, 3, 10, 10, 45)
    assert instant(whole["finished_at"]) == vn_time(2026, 3, 6, 10)
    assert [s for s, _, applied in timeline(await events_of(client, owner, code)) if applied] == [
        SUBMITTED,
        ACCEPTED,
        PROCESSING,
        SUPPLEMENT,
        PROCESSING,
        RESOLVED,
    ]
    (stats,) = await sync_stats(client, agency)
    assert stats["stale"] == 3


async def test_an_illegal_change_is_refused_for_that_item_and_kept_unapplied(
    client: AsyncClient, settings: Settings
) -> None:
    procedure, agency, office = await five_day_office(client, settings)
    code, other, pin = back_office_code(agency), back_office_code(agency), new_pin()
    await office.records(
        processing_record(code, procedure, pin), processing_record(other, procedure, pin)
    )
    owner = await owner_of(client, pin)
    before = await dossier_of(client, owner, code)
    events_before = timeline(await events_of(client, owner, code))

    # Result returned while still processing (never resolved), beside a legal step of another
    # dossier.
    reply = await office.steps(
        step(code, RETURNED, vn_time(2026, 3, 4, 10)),
        step(other, RESOLVED, vn_time(2026, 3, 4, 10)),
    )

    assert outcomes(reply) == [(code, 13, "refused"), (other, 0, "applied")]
    assert reply["results"][0]["TrangThaiHoSo"] == PROCESSING
    assert reply["results"][0]["message"]
    after = await dossier_of(client, owner, code)
    assert {k: v for k, v in after.items() if k != "synced_at"} == {
        k: v for k, v in before.items() if k != "synced_at"
    }
    events = await events_of(client, owner, code)
    assert timeline(events) == [*events_before, (RETURNED, iso(vn_time(2026, 3, 4, 10)), False)]
    assert events[-1]["origin"] == "sync"
    assert (await dossier_of(client, owner, other))["status"] == RESOLVED


# -- dossiers submitted on the portal ------------------------------------------------------


async def test_a_dossier_submitted_online_is_updated_by_its_receiving_agencys_record(
    client: AsyncClient, settings: Settings
) -> None:
    procedure, agency, office = await five_day_office(client, settings)
    citizen = await login(client)
    online = await submit(client, citizen, procedure, agency)
    assert online["code"] == f"{agency}-260303-0001"
    submitted_at = instant(online["submitted_at"])
    accepted_at = vn_time(2026, 3, 3, 10)

    reply = await office.records(
        record(
            online["code"],
            procedure,
            citizen.identifier,
            status=PROCESSING,
            submitted=submitted_at,
            accepted=accepted_at,
            channel=ONLINE,
        )
    )

    assert outcomes(reply) == [(online["code"], 0, "applied")]
    dossier = await dossier_of(client, citizen, online["code"])
    assert dossier["status"] == PROCESSING
    assert dossier["channel"] == ONLINE
    assert instant(dossier["accepted_at"]) == accepted_at
    # Tuesday 10:00 + 5 working days.
    assert instant(dossier["due_at"]) == vn_time(2026, 3, 10, 10)
    events = await events_of(client, citizen, online["code"])
    assert [(e["to_status"], e["at"], e["origin"], e["applied"]) for e in events] == [
        (SUBMITTED, iso(submitted_at), "portal", True),
        (ACCEPTED, iso(accepted_at), "sync", True),
        (PROCESSING, iso(accepted_at), "sync", True),
    ]
    listing = await client.get("/api/v1/dossiers", headers=citizen.headers)
    assert [d["code"] for d in listing.json()["items"]] == [online["code"]]
    (stats,) = await sync_stats(client, agency)
    assert (stats["created"], stats["updated"]) == (0, 1)


async def test_a_record_for_a_code_of_another_procedure_is_a_conflict(
    client: AsyncClient, settings: Settings
) -> None:
    procedure, agency, office = await five_day_office(client, settings)
    other_procedure, _ = await receiving_pair(client, processing_time=10)
    citizen = await login(client)
    online = await submit(client, citizen, procedure, agency)
    synced, pin = back_office_code(agency), new_pin()
    await office.records(processing_record(synced, procedure, pin))

    reply = await office.records(
        processing_record(online["code"], other_procedure["code"], citizen.identifier),
        processing_record(synced, other_procedure["code"], pin),
    )

    assert outcomes(reply) == [(online["code"], 15, "refused"), (synced, 15, "refused")]
    assert procedure in reply["results"][0]["message"]
    look_up = await office.look_up(online["code"], synced)
    assert [(d["MaTTHC"], d["TrangThaiHoSo"]) for d in look_up["data"]] == [
        (procedure, SUBMITTED),
        (procedure, PROCESSING),
    ]


# -- agencies -------------------------------------------------------------------------------


async def test_an_agency_cannot_sync_or_look_up_another_agencys_dossier(
    client: AsyncClient, settings: Settings, app: FastAPI
) -> None:
    procedure, agency, office = await five_day_office(client, settings)
    (intruder_code,) = await other_agencies(client, agency, count=1)
    intruder = await back_office(client, settings, intruder_code)
    code, pin = back_office_code(agency), new_pin()
    await office.records(processing_record(code, procedure, pin))
    owner = await owner_of(client, pin)
    before = await dossier_of(client, owner, code)
    events_before = await events_of(client, owner, code)
    # A new code in the other agency's numbering is not the intruder's to open either.
    squatted = back_office_code(agency)

    records = await intruder.records(
        record(
            code,
            procedure,
            pin,
            status=RESOLVED,
            submitted=MONDAY,
            accepted=ACCEPTED_AT,
            finished=vn_time(2026, 3, 3, 8),
        ),
        processing_record(squatted, procedure, pin),
    )
    steps = await intruder.steps(
        step(code, RESOLVED, vn_time(2026, 3, 3, 8)), step(code, SUPPLEMENT, vn_time(2026, 3, 3, 9))
    )
    look_up = await intruder.look_up(code)

    assert outcomes(records) == [(code, 12, "refused"), (squatted, 12, "refused")]
    assert outcomes(steps) == [(code, 12, "refused"), (code, 12, "refused")]
    # Another agency's dossier looks like none at all.
    assert outcomes(look_up) == [(code, 14, "refused")]
    assert look_up["data"] == []
    assert await dossier_of(client, owner, code) == before
    assert await events_of(client, owner, code) == events_before
    assert outcomes(await office.look_up(squatted)) == [(squatted, 14, "refused")]
    assert server_errors(app) == []


async def test_the_processing_agency_a_record_names_may_then_sync_its_steps(
    client: AsyncClient, settings: Settings
) -> None:
    procedure, agency, office = await five_day_office(client, settings)
    processing_code, stranger_code = await other_agencies(client, agency, count=2)
    processor = await back_office(client, settings, processing_code)
    stranger = await back_office(client, settings, stranger_code)
    code, pin = back_office_code(agency), new_pin()
    await office.records(processing_record(code, procedure, pin, processing_agency=processing_code))

    resolved = await processor.steps(step(code, RESOLVED, vn_time(2026, 3, 4, 16)))
    look_up = await processor.look_up(code)
    refused = await stranger.steps(step(code, RETURNED, vn_time(2026, 3, 5, 9)))

    assert outcomes(resolved) == [(code, 0, "applied")]
    assert outcomes(look_up) == [(code, 0, "found")]
    assert look_up["data"][0]["DonViXuLy"] == processing_code
    assert look_up["data"][0]["TrangThaiHoSo"] == RESOLVED
    assert outcomes(refused) == [(code, 12, "refused")]
    dossier = await dossier_of(client, await owner_of(client, pin), code)
    assert dossier["agency_code"] == agency
    assert dossier["processing_agency_code"] == processing_code
    assert dossier["status"] == RESOLVED


async def test_a_back_office_code_in_the_portals_shape_reserves_its_number(
    client: AsyncClient, settings: Settings
) -> None:
    procedure, agency, office = await five_day_office(client, settings)
    citizen = await login(client)
    first = await submit(client, citizen, procedure, agency)
    assert first["code"] == f"{agency}-260303-0001"
    today = vn_time(2026, 3, 3, 8)

    await office.records(
        record(f"{agency}-260303-0007", procedure, new_pin(), status=SUBMITTED, submitted=today)
    )
    after_seven = await submit(client, citizen, procedure, agency)
    # A lower number does not turn the counter back.
    await office.records(
        record(f"{agency}-260303-0005", procedure, new_pin(), status=SUBMITTED, submitted=today)
    )
    after_five = await submit(client, citizen, procedure, agency)

    assert after_seven["code"] == f"{agency}-260303-0008"
    assert after_five["code"] == f"{agency}-260303-0009"


# -- look-ups ---------------------------------------------------------------------------------


async def test_a_look_up_returns_the_dossier_in_the_contracts_shape(
    client: AsyncClient, settings: Settings
) -> None:
    procedure, agency, office = await five_day_office(client, settings)
    code, pin = back_office_code(agency), new_pin()
    await office.records(
        processing_record(
            code,
            procedure,
            pin,
            claimed_due=vn_time(2026, 3, 6, 17),
            owner_name="Đỗ Minh Châu",
            DuocThanhToanTrucTuyen=1,
        )
    )

    reply = await office.send(
        LOOK_UP, [{"MaHoSo": code}, {"MaHoSo": "no-such-code"}, {"SoDinhDanh": pin}]
    )

    assert outcomes(reply) == [
        (code, 0, "found"),
        ("no-such-code", 14, "refused"),
        (None, 10, "refused"),
    ]
    assert reply["results"][0]["TrangThaiHoSo"] == PROCESSING
    assert reply["data"] == [
        {
            "MaHoSo": code,
            "MaTTHC": procedure,
            "TrangThaiHoSo": PROCESSING,
            "KenhThucHien": 1,
            "ChuHoSo": "Đỗ Minh Châu",
            "SoDinhDanh": pin,
            "NgayNopHoSo": "20260302080000",
            "NgayTiepNhan": "20260302081500",
            "NgayHenTra": "20260309081500",
            "NgayHenTraBaoCao": "20260306170000",
            "NgayKetThucXuLy": None,
            "NgayTra": None,
            "DonViXuLy": None,
            "DuocThanhToanTrucTuyen": 1,
        }
    ]


# -- input that must never cause a server error -----------------------------------------------


async def test_odd_records_are_refused_one_by_one_never_with_a_server_error(
    client: AsyncClient, settings: Settings, app: FastAPI
) -> None:
    procedure, agency, office = await five_day_office(client, settings)
    pin = new_pin()

    def odd(**fields: Any) -> dict[str, Any]:
        return processing_record(back_office_code(agency), procedure, pin) | fields

    batch: list[Any] = [
        odd(ChuHoSo="Nguyễn\x00Văn"),
        odd(NoiDungKhac={"ghi\x00chu": "x"}),
        odd(ChuHoSo="A" * 100_000),
        odd(MaHoSo="M" * 10_000),
        odd(TrangThaiHoSo="bốn"),
        odd(LoaiDoiTuong=3),
        odd(KenhThucHien=None),
        odd(DanhSachLePhi="50000"),
        odd(DanhSachLePhi=[{"MaPhiLePhi": "LP01", "Gia": -1}]),
        odd(DanhSachLePhi=[{"MaPhiLePhi": "LP01", "Gia": 1}] * 51),
        odd(NgayNopHoSo=20260302080000.0),
        odd(NgayNopHoSo=True),
        odd(NgayNopHoSo=2026),
        odd(NgayNopHoSo="20260230080000"),
        odd(NgayNopHoSo="2026030208000"),
        odd(NgayNopHoSo="２０２６０３０２０８００００"),
        odd(NgayNopHoSo=["20260302080000"]),
        odd(DanhSachHoSoBoSung=[{"NgayBoSung": "yesterday"}]),
        odd(ThoiGianThucHien=1e308),
        odd(MaHoSo=42),
        None,
        [],
        17,
    ]

    reply = await office.send(RECORDS, batch)

    assert [(error, result) for _, error, result in outcomes(reply)] == [(10, "refused")] * len(
        batch
    )
    assert all(r["message"] for r in reply["results"])
    assert "NgayNopHoSo" in reply["results"][10]["message"]
    assert (await sync_stats(client, agency))[0]["refused"] == len(batch)
    owner = await login(client, pin)
    listing = await client.get("/api/v1/dossiers", headers=owner.headers)
    assert listing.json()["total"] == 0
    assert server_errors(app) == []


async def test_a_number_in_the_date_format_is_read_as_that_date(
    client: AsyncClient, settings: Settings
) -> None:
    procedure, agency, office = await five_day_office(client, settings)
    code, pin = back_office_code(agency), new_pin()

    reply = await office.records(
        processing_record(code, procedure, pin)
        | {"NgayNopHoSo": 20260302080000, "NgayTiepNhan": 20260302081500}
    )

    assert outcomes(reply) == [(code, 0, "created")]
    dossier = await dossier_of(client, await owner_of(client, pin), code)
    assert instant(dossier["accepted_at"]) == ACCEPTED_AT
    assert instant(dossier["due_at"]) == FIVE_DAYS_DUE


@pytest.mark.parametrize(
    "dates",
    [
        {"NgayNopHoSo": "00010101000000", "NgayTiepNhan": "00010101000000"},
        {"NgayNopHoSo": "99991231080000", "NgayTiepNhan": "99991231081500"},
    ],
    ids=["year 1 before 07:00", "year 9999 at year end"],
)
async def test_dates_at_the_ends_of_the_calendar_are_refused_or_taken_never_a_server_error(
    client: AsyncClient, settings: Settings, app: FastAPI, dates: dict[str, str]
) -> None:
    procedure, agency, office = await five_day_office(client, settings)
    code, good = back_office_code(agency), back_office_code(agency)
    pin = new_pin()

    response = await office.post(
        RECORDS,
        [processing_record(code, procedure, pin) | dates, processing_record(good, procedure, pin)],
    )
    step_response = await office.post(
        STEPS,
        [step(good, RESOLVED, vn_time(2026, 3, 4, 10)) | {"ThoiDiemXuLy": dates["NgayNopHoSo"]}],
    )

    assert response.status_code == 200, response.text
    (odd, kept) = outcomes(response.json())
    assert odd[1] in (0, 10, 16), odd
    assert kept == (good, 0, "created")
    assert step_response.status_code == 200, step_response.text
    assert server_errors(app) == []


async def test_odd_steps_and_look_ups_are_refused_one_by_one_never_with_a_server_error(
    client: AsyncClient, settings: Settings, app: FastAPI
) -> None:
    procedure, agency, office = await five_day_office(client, settings)
    code, pin = back_office_code(agency), new_pin()
    await office.records(processing_record(code, procedure, pin))
    at = vn_time(2026, 3, 4, 10)

    steps = await office.send(
        STEPS,
        [
            step(code, 0, at),
            step(code, 11, at),
            step(code, RESOLVED, at) | {"ThoiDiemXuLy": None},
            step(code, RESOLVED, at) | {"NoiDungXuLy": "x\x00y"},
            step(code, RESOLVED, at) | {"NguoiXuLy": "N" * 3000},
            {"TrangThai": RESOLVED, "ThoiDiemXuLy": contract_date(at)},
            step("không-có-mã-này", RESOLVED, at),
            step(code, RESOLVED, at),
        ],
    )
    look_ups = await office.send(
        LOOK_UP, [{"MaHoSo": "a\x00b"}, {"MaHoSo": ""}, {"MaHoSo": "x" * 41}, {"MaHoSo": code}]
    )

    assert [(e, r) for _, e, r in outcomes(steps)] == [(10, "refused")] * 6 + [
        (14, "refused"),
        (0, "applied"),
    ]
    assert [(e, r) for _, e, r in outcomes(look_ups)] == [(10, "refused")] * 3 + [(0, "found")]
    assert server_errors(app) == []


async def test_a_nan_or_huge_number_in_an_extra_field_never_causes_a_server_error(
    client: AsyncClient, settings: Settings, app: FastAPI
) -> None:
    procedure, agency, office = await five_day_office(client, settings)
    pin = new_pin()
    codes = [back_office_code(agency) for _ in range(3)]
    items = [
        processing_record(codes[0], procedure, pin) | {"TongTien": float("nan")},
        processing_record(codes[1], procedure, pin) | {"TongTien": float("inf")},
        processing_record(codes[2], procedure, pin)
        | {"DanhSachLePhi": [{"MaPhiLePhi": "LP01", "Gia": 10**30}]},
    ]
    body = {"session": office.session, "madonvi": agency, "service": RECORDS, "data": items}

    # Python's JSON reads NaN and Infinity; httpx will not write them, so the body is raw.
    response = await client.post(
        SYNC_URL, content=json.dumps(body), headers={"content-type": "application/json"}
    )

    assert response.status_code < 500, response.text
    assert server_errors(app) == []
