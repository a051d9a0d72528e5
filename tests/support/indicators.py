"""A hand-built set of dossiers for the indicators' tests: nine dossiers of two agencies in two
provinces, written to the database as they would stand on 15 April 2026, with what each one is
there to test."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from httpx import AsyncClient

from app.accounts.models import Account
from app.core.config import Settings
from app.core.db import Database
from app.dossiers.models import Dossier, DossierComplaint
from app.sync.models import SyncDailyStat
from tests.support.factories import vn_time

Q1 = {"from": "2026-01-01", "to": "2026-03-31"}
Q2 = {"from": "2026-04-01", "to": "2026-06-30"}
NOW = vn_time(2026, 4, 15, 10)


@dataclass(frozen=True)
class Built:
    """What the hand-built set is made of: two agencies of two provinces."""

    agency: str
    province: int
    other_agency: str
    other_province: int
    hours: dict[str, tuple[float, float]]  # per dossier: (processing, allowed) hours


def _row(name: str, **fields: Any) -> dict[str, Any]:
    """A dossier to build: agency, procedure, channel, submitted, accepted, due, finished,
    status, and any of paid_online, electronic_result, digitised, supplement_requests,
    complaint."""
    return {"name": name, **fields}


def _hours(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 3600


async def _agencies(client: AsyncClient) -> tuple[dict[str, Any], dict[str, Any], str, str]:
    """Two province-level agencies of two provinces, and a procedure with fees and one without."""
    procedures = (
        await client.get("/api/v1/procedures", params={"agency_level": "province", "size": 200})
    ).json()["items"]
    paying = next(p["code"] for p in procedures if sum(f["amount"] for f in p["fees"]) > 0)
    free = next(
        p["code"] for p in procedures if not p["fees"] or not any(f["amount"] for f in p["fees"])
    )
    first = (
        await client.get("/api/v1/agencies", params={"province": 1, "level": "province"})
    ).json()
    second = (
        await client.get("/api/v1/agencies", params={"province": 79, "level": "province"})
    ).json()
    return first["items"][0], second["items"][0], paying, free


async def build_dossiers(settings: Settings, client: AsyncClient) -> Built:
    agency, other, paying, free = await _agencies(client)
    a, b = agency["code"], other["code"]
    rows: list[dict[str, Any]] = [
        _row(
            "d1",
            agency=a,
            procedure=paying,
            channel=2,
            submitted=vn_time(2026, 1, 5, 8),
            accepted=vn_time(2026, 1, 5, 9),
            due=vn_time(2026, 1, 10, 17),
            finished=vn_time(2026, 1, 8, 10),
            status=10,
            paid_online=1,
            electronic_result=True,
            digitised=True,
        ),
        _row(
            "d2",
            agency=a,
            procedure=paying,
            channel=1,
            submitted=vn_time(2026, 1, 6, 8),
            accepted=vn_time(2026, 1, 6, 8),
            due=vn_time(2026, 1, 9, 17),
            finished=vn_time(2026, 1, 12, 10),
            status=9,
        ),
        _row(
            "d3",
            agency=a,
            procedure=free,
            channel=2,
            submitted=vn_time(2026, 3, 25, 8),
            accepted=vn_time(2026, 3, 25, 9),
            due=vn_time(2026, 4, 5, 17),
            status=4,
            complaint=True,
        ),
        _row(
            "d4",
            agency=a,
            procedure=free,
            channel=2,
            submitted=vn_time(2026, 3, 1, 8),
            accepted=vn_time(2026, 3, 2, 9),
            due=vn_time(2026, 3, 10, 17),
            status=4,
        ),
        # Received in the previous quarter, finished in this one.
        _row(
            "d5",
            agency=a,
            procedure=free,
            channel=2,
            submitted=vn_time(2025, 12, 28, 8),
            accepted=vn_time(2025, 12, 29, 8),
            due=vn_time(2026, 1, 3, 17),
            finished=vn_time(2026, 1, 2, 10),
            status=10,
            electronic_result=True,
        ),
        # Received in this quarter, finished in the next.
        _row(
            "d6",
            agency=a,
            procedure=free,
            channel=2,
            submitted=vn_time(2026, 3, 30, 8),
            accepted=vn_time(2026, 3, 30, 9),
            due=vn_time(2026, 4, 4, 17),
            finished=vn_time(2026, 4, 2, 10),
            status=10,
        ),
        # Finished before its due date, but after two supplement requests: overdue.
        _row(
            "d7",
            agency=a,
            procedure=paying,
            channel=1,
            submitted=vn_time(2026, 1, 10, 8),
            accepted=vn_time(2026, 1, 10, 9),
            due=vn_time(2026, 1, 25, 17),
            finished=vn_time(2026, 1, 20, 10),
            status=10,
            paid_online=2,
            supplement_requests=2,
        ),
        # Refused at intake: received, ended, never due, no result.
        _row(
            "d8",
            agency=a,
            procedure=free,
            channel=2,
            submitted=vn_time(2026, 2, 1, 8),
            finished=vn_time(2026, 2, 1, 9),
            status=3,
        ),
        # Another province.
        _row(
            "d9",
            agency=b,
            procedure=free,
            channel=1,
            submitted=vn_time(2026, 2, 2, 8),
            accepted=vn_time(2026, 2, 2, 9),
            due=vn_time(2026, 2, 6, 17),
            finished=vn_time(2026, 2, 5, 10),
            status=10,
        ),
    ]
    database = Database.from_settings(settings)
    hours = {}
    async with database.write() as session:
        owner = Account(
            kind="citizen",
            identifier="001090999001",
            full_name="Nguyễn Văn An",
            created_at=NOW.astimezone(UTC),
        )
        session.add(owner)
        await session.flush()
        for number, row in enumerate(rows, start=1):
            dossier = Dossier(
                code=f"{row['agency']}-260101-{number:04d}",
                procedure_code=row["procedure"],
                agency_code=row["agency"],
                owner_id=owner.id,
                status=row["status"],
                channel=row["channel"],
                processing_time=3,
                processing_unit="working_day",
                applicant={},
                form={},
                submitted_at=row["submitted"],
                accepted_at=row.get("accepted"),
                due_at=row.get("due"),
                finished_at=row.get("finished"),
                supplement_requests=row.get("supplement_requests", 0),
                paid_online=row.get("paid_online", 0),
                electronic_result=row.get("electronic_result", False),
                digitised=row.get("digitised", False),
                updated_at=NOW,
            )
            session.add(dossier)
            await session.flush()
            if row.get("complaint"):
                session.add(
                    DossierComplaint(
                        dossier_id=dossier.id,
                        agency_code=row["agency"],
                        account_id=owner.id,
                        content="Chậm",
                        filed_at=vn_time(2026, 3, 28, 9),
                    )
                )
            if row.get("due") and row.get("finished"):
                hours[row["name"]] = (
                    _hours(row["finished"], row["accepted"]),
                    _hours(row["due"], row["accepted"]),
                )
        session.add_all(
            [
                SyncDailyStat(agency_code=a, day=date(2026, 2, 1), items=10, refused=1),
                SyncDailyStat(agency_code=a, day=date(2026, 4, 2), items=5, refused=5),
            ]
        )
    await database.dispose()
    return Built(a, int(agency["province_code"]), b, int(other["province_code"]), hours)
