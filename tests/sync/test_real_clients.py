"""The sync contract as deployed back offices speak it (tests/support/opencps.py: OpenCPS's
encodings, numbers as text, "" for what is absent, "True" / "False" flags, DonViXuLy as a
unit's name), its bad items still refused one by one; and a back office confined to dossiers of
its own numbering, whose codes cannot push an agency's daily counter out of range.

The manual clock stands at Tuesday 3 March 2026, 09:00 in Hanoi."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from jsonschema import Draft202012Validator

from app.core.config import Settings
from tests.support.factories import (
    new_pin,
    receiving_pair,
    server_errors,
    vn_time,
)
from tests.support.opencps import (
    opencps_record,
    opencps_send,
    opencps_step,
)
from tests.support.sync import (
    PROCESSING,
    RECORDS,
    RESOLVED,
    RETURNED,
    STEPS,
    BackOffice,
    back_office,
    back_office_code,
    dossier_of,
    outcomes,
    owner_of,
)

MONDAY = vn_time(2026, 3, 2, 8)
ACCEPTED_AT = vn_time(2026, 3, 2, 8, 15)
TODAY = "260303"  # the manual clock's day, as dossier codes write it


async def office_of(client: AsyncClient, settings: Settings) -> tuple[str, str, BackOffice]:
    """A province procedure, the agency receiving it, and that agency's back office."""
    procedure, agency = await receiving_pair(client, processing_time=5)
    return procedure["code"], agency["code"], await back_office(client, settings, agency["code"])


def in_processing(code: str, procedure: str, owner: str, **extra: Any) -> dict[str, Any]:
    return opencps_record(
        code, procedure, owner, status=PROCESSING, submitted=MONDAY, accepted=ACCEPTED_AT, **extra
    )


def messages(reply: dict[str, Any]) -> list[str]:
    return [result["message"] for result in reply["results"]]


# -- what OpenCPS sends ------------------------------------------------------------------------


async def test_an_opencps_back_office_syncs_records_steps_and_resends(
    client: AsyncClient, settings: Settings, app: FastAPI
) -> None:
    procedure, agency, office = await office_of(client, settings)
    code, pin = back_office_code(agency), new_pin()
    opened = in_processing(code, procedure, pin)

    created = await opencps_send(client, office, RECORDS, [opened])
    resolved = await opencps_send(
        client, office, STEPS, [opencps_step(code, RESOLVED, vn_time(2026, 3, 3, 8))]
    )
    resent = await opencps_send(client, office, RECORDS, [opened], isUpdating="True")
    returned = await opencps_send(
        client,
        office,
        RECORDS,
        [
            opened
            | {
                "TrangThaiHoSo": str(RETURNED),
                "NgayKetThucXuLy": "20260303080000",
                "NgayTra": "20260303083000",
            }
        ],
        isUpdating="True",
    )

    assert outcomes(created) == [(code, 0, "created")]
    assert outcomes(resolved) == [(code, 0, "applied")]
    assert outcomes(resent) == [(code, 0, "duplicate")]
    assert outcomes(returned) == [(code, 0, "applied")]
    dossier = await dossier_of(client, await owner_of(client, pin), code)
    assert dossier["status"] == RETURNED
    assert dossier["agency_code"] == agency
    # The unit's name is kept with the record, not taken for an agency.
    assert dossier["processing_agency_code"] is None
    look_up = await office.look_up(code)
    assert look_up["data"][0]["TrangThaiHoSo"] == RETURNED
    assert server_errors(app) == []


@pytest.mark.parametrize("flag", ["True", "False", "true", "false", True, False, "", None])
async def test_is_updating_is_taken_as_java_and_json_write_a_truth(
    client: AsyncClient, settings: Settings, flag: object
) -> None:
    procedure, agency, office = await office_of(client, settings)
    code = back_office_code(agency)

    reply = await opencps_send(
        client, office, RECORDS, [in_processing(code, procedure, new_pin())], isUpdating=flag
    )

    assert outcomes(reply) == [(code, 0, "created")]


async def test_an_opencps_back_offices_bad_items_are_refused_one_by_one_naming_the_field(
    client: AsyncClient, settings: Settings, app: FastAPI
) -> None:
    procedure, agency, office = await office_of(client, settings)
    pin = new_pin()

    def bad(**fields: Any) -> dict[str, Any]:
        return in_processing(back_office_code(agency), procedure, pin) | fields

    good = in_processing(back_office_code(agency), procedure, pin)
    no_identifier = bad()
    del no_identifier["SoDinhDanh"]
    records = [
        bad(NgayTiepNhan="2026-03-02 08:15"),
        bad(TrangThaiHoSo="11"),
        bad(TrangThaiHoSo=""),
        bad(LoaiDoiTuong="01"),
        bad(KenhThucHien="True"),
        bad(NgayNopHoSo=""),
        no_identifier,
        good,
    ]
    record_reply = await opencps_send(client, office, RECORDS, records)
    code = good["MaHoSo"]
    at = vn_time(2026, 3, 3, 8)
    step_reply = await opencps_send(
        client,
        office,
        STEPS,
        [
            opencps_step(code, RESOLVED, None),
            opencps_step(code, RESOLVED, at, TrangThai=""),
            opencps_step(code, RESOLVED, at, NgayBatDau="20260230080000"),
            opencps_step(code, RESOLVED, at),
        ],
    )

    assert [(e, r) for _, e, r in outcomes(record_reply)] == [(10, "refused")] * 7 + [
        (0, "created")
    ]
    fields = [
        "NgayTiepNhan",
        "TrangThaiHoSo",
        "TrangThaiHoSo",
        "LoaiDoiTuong",
        "KenhThucHien",
        "NgayNopHoSo",
        "SoDinhDanh",
    ]
    for field, message in zip(fields, messages(record_reply), strict=False):
        assert message.startswith(f"{field}:"), (field, message)
    assert [(e, r) for _, e, r in outcomes(step_reply)] == [(10, "refused")] * 3 + [(0, "applied")]
    for field, message in zip(
        ["ThoiDiemXuLy", "TrangThai", "NgayBatDau"], messages(step_reply), strict=False
    ):
        assert message.startswith(f"{field}:"), (field, message)
    assert server_errors(app) == []


async def test_the_published_schema_takes_opencps_items_and_refuses_what_the_portal_refuses(
    app: FastAPI,
) -> None:
    spec = app.openapi()

    def errors(model: str, instance: Any) -> list[str]:
        schema = {"$ref": f"#/components/schemas/{model}", "components": spec["components"]}
        return [e.message for e in Draft202012Validator(schema).iter_errors(instance)]

    record = in_processing("X-1", "1.0001", new_pin(), HoSoCoThanhPhanSoHoa="True")
    step = opencps_step("X-1", RESOLVED, vn_time(2026, 3, 3, 8))
    envelope = {"session": "s", "madonvi": "m", "isUpdating": "False", "service": RECORDS}

    assert errors("DossierRecord", record) == []
    assert errors("ProgressStep", step) == []
    assert errors("SyncRequest", envelope | {"data": [record]}) == []
    assert errors("DossierRecord", record | {"LoaiDoiTuong": "01"}) != []
    assert errors("DossierRecord", record | {"TrangThaiHoSo": "11"}) != []
    assert errors("DossierRecord", record | {"NgayTra": "2026-03-03"}) != []
    assert errors("ProgressStep", step | {"ThoiDiemXuLy": ""}) != []
    assert errors("SyncRequest", envelope | {"data": [record], "isUpdating": "yes"}) != []
