"""Sync replies that explain themselves: each item's status is the one after that item (not the
dossier's final one), its message agrees with its result and says where the dossier is now,
and the daily stats count every item once, under its outcome, so that they add up."""

from __future__ import annotations

from collections import Counter
from typing import Any

from httpx import AsyncClient

from app.core.config import Settings
from tests.support.factories import new_pin, receiving_pair, vn_time
from tests.support.sync import (
    ACCEPTED,
    PROCESSING,
    RECORDS,
    RESOLVED,
    RETURNED,
    SUBMITTED,
    SUPPLEMENT,
    BackOffice,
    back_office,
    back_office_code,
    record,
    step,
    sync_stats,
)

MONDAY = vn_time(2026, 3, 2, 8)
ACCEPTED_AT = vn_time(2026, 3, 2, 8, 15)
REFUSED_AT_INTAKE = 3
OUTCOME_STATS = {
    "created": "created",
    "applied": "updated",
    "duplicate": "duplicates",
    "stale": "stale",
    "refused": "refused",
}


async def office_of(client: AsyncClient, settings: Settings) -> tuple[str, str, BackOffice]:
    procedure, agency = await receiving_pair(client, processing_time=5)
    return procedure["code"], agency["code"], await back_office(client, settings, agency["code"])


def in_processing(code: str, procedure: str, owner: str, **extra: Any) -> dict[str, Any]:
    return record(
        code, procedure, owner, status=PROCESSING, submitted=MONDAY, accepted=ACCEPTED_AT, **extra
    )


def answers(reply: dict[str, Any]) -> list[tuple[str, int | None]]:
    return [(r["result"], r["TrangThaiHoSo"]) for r in reply["results"]]


async def test_each_step_shows_the_status_after_it_and_says_where_the_dossier_is_now(
    client: AsyncClient, settings: Settings
) -> None:
    procedure, agency, office = await office_of(client, settings)
    code = back_office_code(agency)
    await office.records(in_processing(code, procedure, new_pin()))

    # The README's example: resolved Friday, sent before the supplement of Tuesday and its
    # hand-in on Wednesday.
    reply = await office.steps(
        step(code, RESOLVED, vn_time(2026, 3, 6, 10)),
        step(code, SUPPLEMENT, vn_time(2026, 3, 3, 10)),
        step(code, PROCESSING, vn_time(2026, 3, 4, 9)),
    )

    assert answers(reply) == [
        ("applied", RESOLVED),
        ("applied", SUPPLEMENT),
        ("applied", PROCESSING),
    ]
    first, second, third = (r["message"] for r in reply["results"])
    assert first == "applied: the dossier is at 9"
    assert second.startswith("applied: status 5 at 20260303100000")
    assert second.endswith("moved the dossier on to 9")
    assert third.startswith("applied: status 4 at 20260304090000")


async def test_every_message_begins_with_its_result(
    client: AsyncClient, settings: Settings
) -> None:
    procedure, agency, office = await office_of(client, settings)
    code, pin = back_office_code(agency), new_pin()
    resolved = record(
        code,
        procedure,
        pin,
        status=RESOLVED,
        submitted=MONDAY,
        accepted=ACCEPTED_AT,
        finished=vn_time(2026, 3, 6, 10),
    )

    created = await office.records(resolved)
    duplicate = await office.records(resolved)
    stale = await office.steps(step(code, SUPPLEMENT, vn_time(2026, 3, 4, 10)))
    look_up = await office.look_up(code)

    assert answers(created) == [("created", RESOLVED)]
    assert created["results"][0]["message"] == "created: the dossier is at 9"
    assert answers(duplicate) == [("duplicate", RESOLVED)]
    assert answers(stale) == [("stale", RESOLVED)]
    assert answers(look_up) == [("found", RESOLVED)]
    for reply in (created, duplicate, stale, look_up):
        (result,) = reply["results"]
        assert result["message"].startswith(f"{result['result']}: "), result


async def test_an_illegal_step_names_the_status_it_met_at_its_place_in_the_history(
    client: AsyncClient, settings: Settings
) -> None:
    procedure, agency, office = await office_of(client, settings)
    code = back_office_code(agency)
    await office.records(in_processing(code, procedure, new_pin()))

    # Refused at intake on Thursday, when the dossier was long in processing; resolved Friday.
    reply = await office.steps(
        step(code, RESOLVED, vn_time(2026, 3, 6, 10)),
        step(code, REFUSED_AT_INTAKE, vn_time(2026, 3, 5, 10)),
    )

    assert [(r["error_code"], r["result"], r["TrangThaiHoSo"]) for r in reply["results"]] == [
        (0, "applied", RESOLVED),
        (13, "refused", PROCESSING),
    ]
    message = reply["results"][1]["message"]
    assert message.startswith("illegal transition 4 -> 3 at 20260305100000"), message
    assert message.endswith("the dossier is at 9"), message


async def test_of_two_records_of_a_new_dossier_one_created_it(
    client: AsyncClient, settings: Settings
) -> None:
    procedure, agency, office = await office_of(client, settings)
    code, pin = back_office_code(agency), new_pin()

    reply = await office.records(
        record(code, procedure, pin, status=SUBMITTED, submitted=MONDAY),
        in_processing(code, procedure, pin),
    )

    assert answers(reply) == [("created", SUBMITTED), ("applied", PROCESSING)]
    (stats,) = await sync_stats(client, agency)
    assert (stats["items"], stats["created"], stats["updated"]) == (2, 1, 1)


async def test_the_daily_stats_count_every_item_once_under_its_outcome(
    client: AsyncClient, settings: Settings
) -> None:
    procedure, agency, office = await office_of(client, settings)
    pin = new_pin()
    good, bad = back_office_code(agency), back_office_code(agency)
    replies = [
        # The README's example: one record created, one with a malformed date, then three steps.
        await office.records(
            in_processing(good, procedure, pin),
            in_processing(bad, procedure, pin) | {"NgayNopHoSo": "2026-03-02"},
        ),
        await office.steps(
            step(good, RESOLVED, vn_time(2026, 3, 6, 10)),
            step(good, SUPPLEMENT, vn_time(2026, 3, 3, 10)),
            step(good, PROCESSING, vn_time(2026, 3, 4, 9)),
            step(good, RETURNED, vn_time(2026, 3, 9, 10)),
        ),
        # A resend, a late step, an illegal one and a step of a dossier that does not exist.
        await office.steps(
            step(good, RESOLVED, vn_time(2026, 3, 6, 10)),
            step(good, ACCEPTED, vn_time(2026, 3, 2, 9)),
            step(good, REFUSED_AT_INTAKE, vn_time(2026, 3, 10, 10)),
            step(bad, PROCESSING, vn_time(2026, 3, 10, 10)),
        ),
    ]
    # An older snapshot (another due date, so not a resend) after the result was returned.
    await office.send(
        RECORDS, [in_processing(good, procedure, pin, claimed_due=vn_time(2026, 3, 9, 17))]
    )

    outcomes = Counter(r["result"] for reply in replies for r in reply["results"])
    assert outcomes == {"created": 1, "applied": 4, "duplicate": 1, "stale": 1, "refused": 3}
    (stats,) = await sync_stats(client, agency)
    outcomes["stale"] += 1  # the older snapshot
    assert {stat: stats[stat] for stat in OUTCOME_STATS.values()} == {
        OUTCOME_STATS[outcome]: n for outcome, n in outcomes.items()
    }
    assert stats["items"] == 11 == sum(stats[stat] for stat in OUTCOME_STATS.values())


# -- found by fuzzing the published contract -------------------------------------------


async def test_the_stats_take_days_as_days_not_numbers(
    client: AsyncClient, settings: Settings
) -> None:
    _, agency, _ = await office_of(client, settings)

    # A number was read as a Unix time: `until=0` meant 1 January 1970.
    for query in ({"until": "0"}, {"since": "86400"}, {"until": "-6.288502271211491e-140"}):
        response = await client.get("/api/v1/sync/stats", params={"agency": agency, **query})
        assert response.status_code == 422, (query, response.text)
        (name,) = query
        assert response.json()["field"] == name
    assert await sync_stats(client, agency, since="2026-03-03", until="2026-03-03") == []


async def test_is_updating_is_a_boolean_as_published(
    client: AsyncClient, settings: Settings
) -> None:
    *_, office = await office_of(client, settings)

    # Lax parsing took 0.0 or "yes" for a boolean; the schema says boolean.
    for value in (0.0, "yes", 1):
        response = await office.post("TraCuuHoSo", [{"MaHoSo": "X"}], isUpdating=value)
        assert response.status_code == 422, (value, response.text)
        assert response.json()["field"] == "isUpdating"
    assert (await office.post("TraCuuHoSo", [{"MaHoSo": "X"}], isUpdating=False)).status_code == 200
