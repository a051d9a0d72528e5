"""Whose dossiers a back office may open, and which codes: a code headed by another agency is
that agency's whatever DonViXuLy says, and a code in the portal's numbering must be one the
portal could have made (a real day, a number of at most six digits), because it moves the
agency's daily counter past its number. Each bad code is refused for its item alone, on both
databases, and the agency's citizens keep submitting.

The manual clock stands at Tuesday 3 March 2026, 09:00 in Hanoi."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from app.core.config import Settings
from tests.support.factories import (
    assert_error,
    login,
    new_pin,
    receiving_pair,
    server_errors,
    submit,
    vn_time,
)
from tests.support.sync import (
    PROCESSING,
    RECORDS,
    BackOffice,
    back_office,
    back_office_code,
    other_agencies,
    outcomes,
    record,
)

TODAY = "260303"  # the manual clock's day, as dossier codes write it


async def office_of(client: AsyncClient, settings: Settings) -> tuple[str, str, BackOffice]:
    """A province procedure, the agency receiving it, and that agency's back office."""
    procedure, agency = await receiving_pair(client, processing_time=5)
    return procedure["code"], agency["code"], await back_office(client, settings, agency["code"])


def in_processing(code: str, procedure: str, **extra: Any) -> dict[str, Any]:
    return record(
        code,
        procedure,
        new_pin(),
        status=PROCESSING,
        submitted=vn_time(2026, 3, 2, 8),
        accepted=vn_time(2026, 3, 2, 8, 15),
        **extra,
    )


def messages(reply: dict[str, Any]) -> list[str]:
    return [result["message"] for result in reply["results"]]


async def test_a_back_office_cannot_open_a_dossier_numbered_by_another_agency(
    client: AsyncClient, settings: Settings, app: FastAPI
) -> None:
    procedure, agency, office = await office_of(client, settings)
    (intruder_code,) = await other_agencies(client, agency, count=1)
    intruder = await back_office(client, settings, intruder_code)
    squatted = f"{agency}-{TODAY}-0102"

    # DonViXuLy naming the intruder itself, or a unit's name, does not make the code its own.
    reply = await intruder.records(
        in_processing(squatted, procedure, DonViXuLy=intruder_code),
        in_processing(f"{agency}-{TODAY}-X7", procedure, DonViXuLy="Bộ phận Một cửa"),
    )

    assert [(e, r) for _, e, r in outcomes(reply)] == [(12, "refused")] * 2
    assert all(agency in message for message in messages(reply))
    # Nothing of the agency's was made, counted or numbered.
    assert outcomes(await office.look_up(squatted)) == [(squatted, 14, "refused")]
    online = await submit(client, await login(client), procedure, agency)
    assert online["code"] == f"{agency}-{TODAY}-0001"
    assert server_errors(app) == []


@pytest.mark.parametrize(
    "number",
    [
        "2147483647",  # PostgreSQL's integer: the next submission overflowed it
        "9223372036854775807",  # SQLite's: the next submission failed on a float
        "9223372036854775808",  # past SQLite's: the call itself failed
        "1000000",  # one digit more than the portal's numbering
    ],
)
async def test_a_number_wider_than_the_portals_numbering_is_refused_for_that_item(
    client: AsyncClient, settings: Settings, app: FastAPI, number: str
) -> None:
    procedure, agency, office = await office_of(client, settings)
    wide, kept = f"{agency}-{TODAY}-{number}", f"{agency}-{TODAY}-0041"

    response = await office.post(
        RECORDS, [in_processing(wide, procedure), in_processing(kept, procedure)]
    )

    assert response.status_code == 200, response.text
    reply = response.json()
    assert outcomes(reply) == [(wide, 10, "refused"), (kept, 0, "created")]
    assert messages(reply)[0].startswith("MaHoSo:"), messages(reply)
    # The agency's citizens still submit, numbered after the code that was taken.
    online = await submit(client, await login(client), procedure, agency)
    assert online["code"] == f"{agency}-{TODAY}-0042"
    assert server_errors(app) == []


@pytest.mark.parametrize("day", ["991399", "260230", "000000"])
async def test_a_code_of_a_day_that_does_not_exist_is_refused_for_that_item(
    client: AsyncClient, settings: Settings, app: FastAPI, day: str
) -> None:
    procedure, agency, office = await office_of(client, settings)
    impossible, kept = f"{agency}-{day}-0001", back_office_code(agency)

    response = await office.post(
        RECORDS, [in_processing(impossible, procedure), in_processing(kept, procedure)]
    )

    assert response.status_code == 200, response.text
    reply = response.json()
    assert outcomes(reply) == [(impossible, 10, "refused"), (kept, 0, "created")]
    assert messages(reply)[0].startswith("MaHoSo:"), messages(reply)
    assert server_errors(app) == []


async def test_the_days_last_number_taken_by_a_back_office_closes_the_day_cleanly(
    client: AsyncClient, settings: Settings, app: FastAPI
) -> None:
    procedure, agency, office = await office_of(client, settings)
    last = f"{agency}-{TODAY}-999999"

    reply = await office.records(in_processing(last, procedure))
    citizen = await login(client)
    response = await client.post(
        "/api/v1/dossiers",
        json={"procedure_code": procedure, "agency_code": agency},
        headers=citizen.headers,
    )

    assert outcomes(reply) == [(last, 0, "created")]
    assert_error(response, 409, "day_numbering_exhausted", field="agency_code")
    assert agency in response.json()["detail"]
    listing = await client.get("/api/v1/dossiers", headers=citizen.headers)
    assert listing.json()["total"] == 0
    # Other days number as usual; the back office's dossier is whole.
    assert (await office.look_up(last))["data"][0]["TrangThaiHoSo"] == PROCESSING
    assert server_errors(app) == []
