"""A dossier's life through HTTP on the manual clock: transitions, due dates, the supplement
pause, timeliness, withdrawal, rating, the timeline, and the agency's inbox."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response

from app.core.calendar import WorkingCalendar
from app.core.config import Settings
from tests.conftest import DEFAULT_NOW
from tests.support.clock import ManualClock
from tests.support.factories import (
    PDF_BYTES,
    PNG_BYTES,
    Citizen,
    agency_headers,
    assert_error,
    assert_no_server_errors,
    instant,
    login,
    move,
    read_dossier,
    receiving_pair,
    submit,
    supplement,
    transition,
    vn_time,
)

FIVE_DAYS_DUE = vn_time(2026, 3, 10, 9)  # Tue 3 March 09:00 + 5 working days
AGENCY_LEGAL_FROM_NEW = {2, 3, 5}


async def new_dossier(
    client: AsyncClient, *, processing_time: int = 5, **extra: Any
) -> tuple[Citizen, dict[str, Any]]:
    """A citizen and their new dossier for a province procedure of that many working days."""
    procedure, agency = await receiving_pair(client, processing_time=processing_time)
    citizen = await login(client)
    return citizen, await submit(client, citizen, procedure["code"], agency["code"], **extra)


async def events_of(client: AsyncClient, citizen: Citizen, code: str) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/dossiers/{code}/events", headers=citizen.headers)
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()
    return events


async def withdraw(
    client: AsyncClient, citizen: Citizen, code: str, reason: str | None = None
) -> Response:
    body = {"reason": reason} if reason is not None else None
    return await client.post(
        f"/api/v1/dossiers/{code}/withdraw", json=body, headers=citizen.headers
    )


async def rate(client: AsyncClient, citizen: Citizen, code: str, **body: Any) -> Response:
    return await client.post(f"/api/v1/dossiers/{code}/rating", json=body, headers=citizen.headers)


# -- due dates ------------------------------------------------------------------------------


async def test_acceptance_sets_the_due_date_in_working_days(
    client: AsyncClient, settings: Settings
) -> None:
    citizen, dossier = await new_dossier(client, processing_time=5)

    accepted = await move(client, settings, dossier, 2)

    assert accepted["status"] == 2
    assert accepted["status_label"] == "Được tiếp nhận"
    assert instant(accepted["accepted_at"]) == DEFAULT_NOW
    # Tue 3 March 09:00 + 5 working days, over the weekend of 7-8 March: Tue 10 March 09:00.
    assert accepted["due_at"] == "2026-03-10T09:00:00+07:00"
    assert instant(accepted["due_at"]) == WorkingCalendar().due_at(DEFAULT_NOW, 5, "working_day")
    assert accepted["timeliness"] == "in_time"
    assert await read_dossier(client, citizen, dossier["code"]) == accepted


@pytest.mark.parametrize(
    ("accepted_at", "due_at"),
    [
        (vn_time(2026, 3, 6, 10), vn_time(2026, 3, 11, 10)),  # Fri: Mon, Tue, Wed
        (vn_time(2026, 3, 3, 15, 0), vn_time(2026, 3, 6, 15, 0)),  # at the cut-off: same day
        (vn_time(2026, 3, 3, 15, 1), vn_time(2026, 3, 6, 17, 0)),  # after it: from Wed 07:30
        (vn_time(2026, 3, 7, 9), vn_time(2026, 3, 11, 17, 0)),  # a Saturday: from Mon 07:30
        # at lunch: 4 h from Tue 13:00, Wed, Thu, then Fri 07:30-11:30
        (vn_time(2026, 3, 3, 12, 0), vn_time(2026, 3, 6, 11, 30)),
    ],
    ids=["friday", "at-cutoff", "after-cutoff", "saturday", "lunch-break"],
)
async def test_due_date_counts_from_the_next_working_instant(
    client: AsyncClient,
    settings: Settings,
    clock: ManualClock,
    accepted_at: datetime,
    due_at: datetime,
) -> None:
    _, dossier = await new_dossier(client, processing_time=3)
    clock.set(accepted_at)

    accepted = await move(client, settings, dossier, 2)

    assert instant(accepted["accepted_at"]) == accepted_at
    assert instant(accepted["due_at"]) == due_at


async def test_due_date_of_a_procedure_counted_in_working_hours(
    client: AsyncClient, settings: Settings
) -> None:
    procedure, agency = await receiving_pair(
        client, level="commune", unit="working_hour", processing_time=8
    )
    citizen = await login(client)
    dossier = await submit(client, citizen, procedure["code"], agency["code"])

    accepted = await move(client, settings, dossier, 2)

    # 09:00 + 8 working hours: 2.5 h to 11:30, 4 h in the afternoon, 1.5 h from Wed 07:30.
    assert instant(accepted["due_at"]) == vn_time(2026, 3, 4, 9)


# -- the supplement pause -------------------------------------------------------------------


async def test_supplement_request_pauses_and_handing_in_shifts_the_due_date(
    client: AsyncClient, settings: Settings, clock: ManualClock
) -> None:
    citizen, dossier = await new_dossier(client, processing_time=5)
    await move(client, settings, dossier, 2, 4)
    clock.set(vn_time(2026, 3, 6, 16))

    paused = await move(client, settings, dossier, 5)

    assert paused["status"] == 5
    assert instant(paused["paused_since"]) == vn_time(2026, 3, 6, 16)
    assert paused["supplement_requests"] == 1
    assert instant(paused["due_at"]) == FIVE_DAYS_DUE
    clock.set(vn_time(2026, 3, 9, 9, 30))

    document = ("ban-sao.pdf", PDF_BYTES, "application/pdf")
    response = await supplement(
        client, citizen, dossier["code"], document, note="đã bổ sung bản sao"
    )

    assert response.status_code == 200, response.text
    resumed = response.json()
    assert resumed["status"] == 4
    assert resumed["paused_since"] is None
    assert resumed["supplement_requests"] == 1
    # Paused Fri 16:00-17:00 and Mon 07:30-09:30: 3 working hours, so Tue 10 March
    # 09:00 + 3 h = 11:30 (2.5 h) + 0.5 h after lunch.
    assert instant(resumed["due_at"]) == vn_time(2026, 3, 10, 13, 30)
    calendar = WorkingCalendar()
    paused_for = calendar.between(vn_time(2026, 3, 6, 16), vn_time(2026, 3, 9, 9, 30))
    assert paused_for == timedelta(hours=3)
    assert instant(resumed["due_at"]) == calendar.add(FIVE_DAYS_DUE, paused_for)
    assert resumed["timeliness"] == "in_time"
    documents = await client.get(
        f"/api/v1/dossiers/{dossier['code']}/documents", headers=citizen.headers
    )
    assert [(d["filename"], d["purpose"]) for d in documents.json()] == [
        ("ban-sao.pdf", "supplement")
    ]
    last = (await events_of(client, citizen, dossier["code"]))[-1]
    assert last == {
        "from_status": 5,
        "to_status": 4,
        "actor_kind": "citizen",
        "actor": citizen.identifier,
        "at": "2026-03-09T09:30:00+07:00",
        "note": "đã bổ sung bản sao",
        "origin": "portal",
        "applied": True,
        "details": None,
    }


async def test_supplement_may_be_only_a_note_or_only_files(
    client: AsyncClient, settings: Settings
) -> None:
    citizen, dossier = await new_dossier(client)
    await move(client, settings, dossier, 2, 4, 5)
    noted = await supplement(client, citizen, dossier["code"], note="đã gửi bản gốc qua bưu điện")
    assert noted.status_code == 200, noted.text
    assert noted.json()["status"] == 4

    await move(client, settings, dossier, 5)
    filed = await supplement(client, citizen, dossier["code"], ("anh.png", PNG_BYTES, "image/png"))
    assert filed.status_code == 200, filed.text
    assert filed.json()["status"] == 4
    assert filed.json()["supplement_requests"] == 2


async def test_empty_supplement_is_refused_and_the_dossier_stays_paused(
    client: AsyncClient, settings: Settings
) -> None:
    citizen, dossier = await new_dossier(client)
    paused = await move(client, settings, dossier, 2, 4, 5)

    response = await supplement(client, citizen, dossier["code"])

    assert_error(response, 422, "invalid_payload", field="files")
    assert await read_dossier(client, citizen, dossier["code"]) == paused


async def test_supplement_with_a_bad_file_is_refused_and_the_dossier_stays_paused(
    client: AsyncClient, settings: Settings
) -> None:
    citizen, dossier = await new_dossier(client)
    paused = await move(client, settings, dossier, 2, 4, 5)

    response = await supplement(
        client, citizen, dossier["code"], ("x.pdf", b"not a pdf", "application/pdf"), note="n"
    )

    assert_error(response, 415, "unsupported_media_type")
    assert await read_dossier(client, citizen, dossier["code"]) == paused
    documents = await client.get(
        f"/api/v1/dossiers/{dossier['code']}/documents", headers=citizen.headers
    )
    assert documents.json() == []


async def test_supplement_without_a_request_is_not_allowed(
    client: AsyncClient, settings: Settings
) -> None:
    citizen, dossier = await new_dossier(client)
    processing = await move(client, settings, dossier, 2, 4)

    response = await supplement(client, citizen, dossier["code"], note="tự bổ sung")

    body = assert_error(response, 409, "not_allowed_in_status")
    assert body["status"] == 4
    assert await read_dossier(client, citizen, dossier["code"]) == processing


async def test_dossier_completed_at_intake_starts_its_clock_when_complete(
    client: AsyncClient, settings: Settings, clock: ManualClock
) -> None:
    citizen, dossier = await new_dossier(client, processing_time=5)
    incomplete = await move(client, settings, dossier, 5)
    assert incomplete["accepted_at"] is None
    assert incomplete["due_at"] is None
    assert incomplete["paused_since"] is None
    assert incomplete["supplement_requests"] == 0
    clock.set(vn_time(2026, 3, 4, 10))

    response = await supplement(client, citizen, dossier["code"], note="đủ giấy tờ")

    complete = response.json()
    assert complete["status"] == 4
    assert instant(complete["accepted_at"]) == vn_time(2026, 3, 4, 10)
    assert instant(complete["due_at"]) == vn_time(2026, 3, 11, 10)
    assert complete["supplement_requests"] == 0


# -- timeliness -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resolved_at", "expected"),
    [
        (vn_time(2026, 3, 9, 17), "early"),  # the day before the due day
        (vn_time(2026, 3, 10, 7, 30), "on_time"),  # the due day, before the due instant
        (FIVE_DAYS_DUE, "on_time"),  # the due instant itself
        (FIVE_DAYS_DUE + timedelta(minutes=1), "overdue"),
    ],
    ids=["day-before", "due-day", "due-instant", "minute-late"],
)
async def test_resolution_time_decides_timeliness(
    client: AsyncClient,
    settings: Settings,
    clock: ManualClock,
    resolved_at: datetime,
    expected: str,
) -> None:
    citizen, dossier = await new_dossier(client, processing_time=5)
    await move(client, settings, dossier, 2, 4)
    clock.set(resolved_at)

    resolved = await move(client, settings, dossier, 9)

    assert instant(resolved["finished_at"]) == resolved_at
    assert resolved["timeliness"] == expected
    clock.advance(days=3)
    returned = await move(client, settings, dossier, 10)
    assert instant(returned["returned_at"]) == clock.now()
    assert instant(returned["finished_at"]) == resolved_at
    assert returned["timeliness"] == expected
    assert (await read_dossier(client, citizen, dossier["code"]))["timeliness"] == expected


async def test_open_dossier_is_in_time_until_its_due_instant_comes(
    client: AsyncClient, settings: Settings, clock: ManualClock
) -> None:
    # domain.md: an open dossier is overdue once due <= now.
    citizen, dossier = await new_dossier(client, processing_time=5)
    await move(client, settings, dossier, 2, 4)

    clock.set(FIVE_DAYS_DUE - timedelta(minutes=1))
    before_due = await read_dossier(client, citizen, dossier["code"])
    clock.set(FIVE_DAYS_DUE)
    at_due = await read_dossier(client, citizen, dossier["code"])

    assert before_due["timeliness"] == "in_time"
    assert at_due["timeliness"] == "overdue"
    assert at_due["finished_at"] is None


async def test_awaited_supplement_freezes_timeliness(
    client: AsyncClient, settings: Settings, clock: ManualClock
) -> None:
    citizen, dossier = await new_dossier(client, processing_time=5)
    await move(client, settings, dossier, 2, 4)
    clock.set(vn_time(2026, 3, 5, 10))
    await move(client, settings, dossier, 5)

    clock.set(vn_time(2026, 3, 20, 10))  # long past the original due date

    assert (await read_dossier(client, citizen, dossier["code"]))["timeliness"] == "in_time"


async def test_two_supplement_requests_make_a_dossier_overdue(
    client: AsyncClient, settings: Settings, clock: ManualClock
) -> None:
    citizen, dossier = await new_dossier(client, processing_time=5)
    await move(client, settings, dossier, 2, 4, 5)
    once = await supplement(client, citizen, dossier["code"], note="lần 1")
    assert once.json()["timeliness"] == "in_time"
    await move(client, settings, dossier, 5)
    twice = await supplement(client, citizen, dossier["code"], note="lần 2")
    assert twice.json()["supplement_requests"] == 2
    assert twice.json()["timeliness"] == "overdue"

    clock.advance(hours=1)  # still days before the due date
    resolved = await move(client, settings, dossier, 9)

    assert resolved["timeliness"] == "overdue"


async def test_stopping_an_unanswered_supplement_request_ends_at_the_request(
    client: AsyncClient, settings: Settings, clock: ManualClock
) -> None:
    citizen, dossier = await new_dossier(client, processing_time=5)
    await move(client, settings, dossier, 2, 4)
    requested_at = vn_time(2026, 3, 5, 10)
    clock.set(requested_at)
    await move(client, settings, dossier, 5)
    clock.set(vn_time(2026, 3, 27, 10))

    stopped = await move(client, settings, dossier, 8)

    assert stopped["status"] == 8
    assert instant(stopped["finished_at"]) == requested_at
    assert stopped["paused_since"] is None
    assert stopped["timeliness"] == "early"
    assert stopped["due_at"] == "2026-03-10T09:00:00+07:00"
    events = await events_of(client, citizen, dossier["code"])
    assert events[-1]["at"] == "2026-03-27T10:00:00+07:00"


async def test_refusal_at_intake_finishes_without_a_due_date(
    client: AsyncClient, settings: Settings, clock: ManualClock
) -> None:
    _, dossier = await new_dossier(client)
    clock.advance(hours=2)

    refused = await move(client, settings, dossier, 3)

    assert refused["status"] == 3
    assert instant(refused["finished_at"]) == clock.now()
    assert refused["due_at"] is None
    assert refused["timeliness"] is None


async def test_fees_request_round_trip_keeps_the_due_date(
    client: AsyncClient, settings: Settings, clock: ManualClock
) -> None:
    _, dossier = await new_dossier(client, processing_time=5)
    await move(client, settings, dossier, 2, 4)
    clock.advance(days=1)
    fees = await move(client, settings, dossier, 6)
    clock.advance(days=1)

    resumed = await move(client, settings, dossier, 4)

    assert fees["status"] == 6
    assert fees["paused_since"] is None
    assert instant(resumed["due_at"]) == FIVE_DAYS_DUE
    assert (await move(client, settings, dossier, 6, 9))["status"] == 9


# -- withdrawal -----------------------------------------------------------------------------


@pytest.mark.parametrize("before", [(), (2, 4)], ids=["new", "processing"])
async def test_citizen_withdraws_and_the_agency_stops_the_dossier(
    client: AsyncClient, settings: Settings, clock: ManualClock, before: tuple[int, ...]
) -> None:
    citizen, dossier = await new_dossier(client)
    await move(client, settings, dossier, *before)
    clock.advance(hours=1)

    response = await withdraw(client, citizen, dossier["code"], reason="nộp nhầm thủ tục")

    assert response.status_code == 200, response.text
    withdrawn = response.json()
    assert withdrawn["status"] == 7
    assert withdrawn["finished_at"] is None
    clock.advance(hours=1)
    stopped = await move(client, settings, dossier, 8)
    assert stopped["status"] == 8
    assert instant(stopped["finished_at"]) == clock.now()
    events = await events_of(client, citizen, dossier["code"])
    assert [(e["from_status"], e["to_status"], e["actor_kind"]) for e in events[-2:]] == [
        (4 if before else 1, 7, "citizen"),
        (7, 8, "agency"),
    ]
    assert events[-2]["note"] == "nộp nhầm thủ tục"
    assert events[-2]["actor"] == citizen.identifier


async def test_withdrawal_needs_no_reason(client: AsyncClient) -> None:
    citizen, dossier = await new_dossier(client)

    response = await withdraw(client, citizen, dossier["code"])

    assert response.status_code == 200, response.text
    assert response.json()["status"] == 7
    assert (await events_of(client, citizen, dossier["code"]))[-1]["note"] is None


@pytest.mark.parametrize(
    ("path", "current"),
    [((2,), 2), ((2, 4, 5), 5), ((2, 4, 9), 9)],
    ids=["accepted", "supplement-requested", "resolved"],
)
async def test_withdrawal_outside_new_or_processing_is_an_illegal_transition(
    client: AsyncClient, settings: Settings, path: tuple[int, ...], current: int
) -> None:
    citizen, dossier = await new_dossier(client)
    before = await move(client, settings, dossier, *path)

    response = await withdraw(client, citizen, dossier["code"], reason="muộn")

    body = assert_error(response, 409, "illegal_transition", field="to_status")
    assert (body["from_status"], body["to_status"]) == (current, 7)
    assert await read_dossier(client, citizen, dossier["code"]) == before
    assert len(await events_of(client, citizen, dossier["code"])) == 1 + len(path)


# -- illegal transitions --------------------------------------------------------------------


@pytest.mark.parametrize("target", range(1, 11))
async def test_agency_transition_from_new_is_applied_only_when_legal(
    client: AsyncClient, settings: Settings, target: int
) -> None:
    citizen, dossier = await new_dossier(client)

    response = await transition(client, settings, dossier, target)

    after = await read_dossier(client, citizen, dossier["code"])
    events = await events_of(client, citizen, dossier["code"])
    if target in AGENCY_LEGAL_FROM_NEW:
        assert response.status_code == 200, response.text
        assert after["status"] == target
        assert len(events) == 2
        return
    body = assert_error(response, 409, "illegal_transition", field="to_status")
    assert body["from_status"] == 1
    assert body["to_status"] == target
    assert after == dossier
    assert len(events) == 1


@pytest.mark.parametrize(
    ("path", "target"),
    [((3,), 2), ((2, 4, 8), 4), ((2, 4, 9, 10), 8)],
    ids=["refused-to-accepted", "stopped-to-processing", "returned-to-stopped"],
)
async def test_nothing_leaves_a_terminal_status(
    client: AsyncClient, settings: Settings, path: tuple[int, ...], target: int
) -> None:
    citizen, dossier = await new_dossier(client)
    before = await move(client, settings, dossier, *path)

    response = await transition(client, settings, dossier, target)

    body = assert_error(response, 409, "illegal_transition")
    assert (body["from_status"], body["to_status"]) == (path[-1], target)
    assert await read_dossier(client, citizen, dossier["code"]) == before


async def test_status_outside_1_to_10_is_an_invalid_payload(
    client: AsyncClient, settings: Settings
) -> None:
    citizen, dossier = await new_dossier(client)

    for target in (0, 11):
        response = await transition(client, settings, dossier, target)
        assert_error(response, 422, "invalid_payload", field="to_status")
    assert await read_dossier(client, citizen, dossier["code"]) == dossier


# -- the timeline ---------------------------------------------------------------------------


async def test_timeline_lists_every_change_in_order(
    client: AsyncClient, settings: Settings, clock: ManualClock, app: FastAPI
) -> None:
    citizen, dossier = await new_dossier(client, note="nộp trực tuyến")
    agency = dossier["agency_code"]
    steps: list[tuple[datetime, int, str | None]] = [
        (vn_time(2026, 3, 3, 9, 30), 2, "đủ điều kiện tiếp nhận"),
        (vn_time(2026, 3, 3, 10), 4, None),
        (vn_time(2026, 3, 4, 10), 5, "thiếu bản sao giấy khai sinh"),
    ]
    for at, to_status, note in steps:
        clock.set(at)
        assert (await transition(client, settings, dossier, to_status, note)).status_code == 200
    clock.set(vn_time(2026, 3, 5, 9))
    await supplement(client, citizen, dossier["code"], note="đã bổ sung")
    for at, to_status in ((vn_time(2026, 3, 6, 10), 9), (vn_time(2026, 3, 6, 11), 10)):
        clock.set(at)
        await move(client, settings, dossier, to_status)

    events = await events_of(client, citizen, dossier["code"])

    pin = citizen.identifier
    assert events == [
        _event(None, 1, "citizen", pin, "2026-03-03T09:00:00+07:00", "nộp trực tuyến"),
        _event(1, 2, "agency", agency, "2026-03-03T09:30:00+07:00", "đủ điều kiện tiếp nhận"),
        _event(2, 4, "agency", agency, "2026-03-03T10:00:00+07:00", None),
        _event(4, 5, "agency", agency, "2026-03-04T10:00:00+07:00", "thiếu bản sao giấy khai sinh"),
        _event(5, 4, "citizen", pin, "2026-03-05T09:00:00+07:00", "đã bổ sung"),
        _event(4, 9, "agency", agency, "2026-03-06T10:00:00+07:00", None),
        _event(9, 10, "agency", agency, "2026-03-06T11:00:00+07:00", None),
    ]
    as_agency = await client.get(
        f"/api/v1/agency/dossiers/{dossier['code']}/events",
        headers=agency_headers(settings, agency),
    )
    assert as_agency.json() == events
    assert_no_server_errors(app)


def _event(
    from_status: int | None, to_status: int, kind: str, actor: str, at: str, note: str | None
) -> dict[str, Any]:
    return {
        "from_status": from_status,
        "to_status": to_status,
        "actor_kind": kind,
        "actor": actor,
        "at": at,
        "note": note,
        "origin": "portal",
        "applied": True,
        "details": None,
    }


# -- rating ---------------------------------------------------------------------------------


async def test_finished_dossier_is_rated_once(client: AsyncClient, settings: Settings) -> None:
    citizen, dossier = await new_dossier(client)
    await move(client, settings, dossier, 2, 4, 9)

    response = await rate(client, citizen, dossier["code"], score=4, comment="Nhanh, chu đáo")

    assert response.status_code == 200, response.text
    assert response.json()["rating"] == 4
    assert response.json()["rating_comment"] == "Nhanh, chu đáo"
    stored = await read_dossier(client, citizen, dossier["code"])
    assert (stored["rating"], stored["rating_comment"]) == (4, "Nhanh, chu đáo")
    again = await rate(client, citizen, dossier["code"], score=1)
    assert_error(again, 409, "already_rated")
    assert (await read_dossier(client, citizen, dossier["code"]))["rating"] == 4


@pytest.mark.parametrize("path", [(), (2, 4)], ids=["new", "processing"])
async def test_rating_before_processing_ends_is_not_allowed(
    client: AsyncClient, settings: Settings, path: tuple[int, ...]
) -> None:
    citizen, dossier = await new_dossier(client)
    await move(client, settings, dossier, *path)

    response = await rate(client, citizen, dossier["code"], score=5)

    assert_error(response, 409, "not_allowed_in_status")
    assert (await read_dossier(client, citizen, dossier["code"]))["rating"] is None


async def test_rating_outside_1_to_5_is_an_invalid_payload(
    client: AsyncClient, settings: Settings
) -> None:
    citizen, dossier = await new_dossier(client)
    await move(client, settings, dossier, 2, 4, 9)

    for score in (0, 6, -1, 2.5, "five", None):
        response = await rate(client, citizen, dossier["code"], score=score)
        assert_error(response, 422, "invalid_payload", field="score")

    assert (await read_dossier(client, citizen, dossier["code"]))["rating"] is None
    highest = await rate(client, citizen, dossier["code"], score=5)
    assert highest.status_code == 200, highest.text
    assert highest.json()["rating"] == 5


async def test_dossier_refused_at_intake_can_be_rated(
    client: AsyncClient, settings: Settings
) -> None:
    citizen, dossier = await new_dossier(client)
    await move(client, settings, dossier, 3)

    response = await rate(client, citizen, dossier["code"], score=1)

    assert response.status_code == 200, response.text
    assert response.json()["rating"] == 1
    assert response.json()["rating_comment"] is None


# -- the agency's inbox ---------------------------------------------------------------------


async def inbox(
    client: AsyncClient, settings: Settings, agency_code: str, **params: Any
) -> dict[str, Any]:
    response = await client.get(
        "/api/v1/agency/dossiers", params=params, headers=agency_headers(settings, agency_code)
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


@pytest.fixture
async def five_dossiers(client: AsyncClient, clock: ManualClock) -> list[dict[str, Any]]:
    """Five dossiers at one agency, a minute apart, from two citizens; and one elsewhere."""
    procedure, agency = await receiving_pair(client)
    other_agency = (
        await client.get("/api/v1/agencies", params={"procedure": procedure["code"], "size": 2})
    ).json()["items"][1]
    citizens = [await login(client), await login(client)]
    dossiers = []
    for i in range(5):
        dossiers.append(await submit(client, citizens[i % 2], procedure["code"], agency["code"]))
        clock.advance(minutes=1)
    await submit(client, citizens[0], procedure["code"], other_agency["code"])
    return dossiers


async def test_inbox_lists_the_agencys_dossiers_oldest_first_in_pages(
    client: AsyncClient, settings: Settings, five_dossiers: list[dict[str, Any]]
) -> None:
    agency = five_dossiers[0]["agency_code"]

    pages = [await inbox(client, settings, agency, size=2, page=page) for page in (1, 2, 3)]

    assert [p["total"] for p in pages] == [5, 5, 5]
    assert [len(p["items"]) for p in pages] == [2, 2, 1]
    assert [d["code"] for p in pages for d in p["items"]] == [d["code"] for d in five_dossiers]
    assert pages[0]["items"][0] == five_dossiers[0]
    assert (await inbox(client, settings, agency, size=2, page=4))["items"] == []


async def test_ack_hides_a_dossier_from_the_default_inbox_and_is_idempotent(
    client: AsyncClient,
    settings: Settings,
    clock: ManualClock,
    five_dossiers: list[dict[str, Any]],
) -> None:
    agency = five_dossiers[0]["agency_code"]
    code = five_dossiers[1]["code"]
    url = f"/api/v1/agency/dossiers/{code}/ack"
    acked_at = clock.advance(hours=1)

    first = await client.post(url, headers=agency_headers(settings, agency))
    clock.advance(hours=1)
    second = await client.post(url, headers=agency_headers(settings, agency))

    assert first.status_code == second.status_code == 200
    assert instant(first.json()["acked_at"]) == acked_at
    assert second.json() == first.json()
    assert first.json()["status"] == 1
    unacked = await inbox(client, settings, agency)
    assert unacked["total"] == 4
    assert code not in [d["code"] for d in unacked["items"]]
    everything = await inbox(client, settings, agency, include_acknowledged="true")
    assert everything["total"] == 5
    assert [d["code"] for d in everything["items"]] == [d["code"] for d in five_dossiers]


async def test_inbox_filters_by_status(
    client: AsyncClient, settings: Settings, five_dossiers: list[dict[str, Any]]
) -> None:
    agency = five_dossiers[0]["agency_code"]
    await move(client, settings, five_dossiers[3], 2)
    await move(client, settings, five_dossiers[0], 3)

    accepted = await inbox(client, settings, agency, status=2)
    new = await inbox(client, settings, agency, status=1)
    finished = await inbox(client, settings, agency, status=10)

    assert [d["code"] for d in accepted["items"]] == [five_dossiers[3]["code"]]
    assert [d["code"] for d in new["items"]] == [five_dossiers[i]["code"] for i in (1, 2, 4)]
    assert finished == {"items": [], "total": 0, "page": 1, "size": 20}
    bad = await client.get(
        "/api/v1/agency/dossiers", params={"status": 11}, headers=agency_headers(settings, agency)
    )
    assert_error(bad, 422, "invalid_payload", field="status")


async def test_agency_reads_its_dossier(
    client: AsyncClient, settings: Settings, five_dossiers: list[dict[str, Any]]
) -> None:
    dossier = five_dossiers[2]

    response = await client.get(
        f"/api/v1/agency/dossiers/{dossier['code']}",
        headers=agency_headers(settings, dossier["agency_code"]),
    )

    assert response.status_code == 200, response.text
    assert response.json() == dossier
