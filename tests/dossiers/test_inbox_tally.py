"""The inbox's total comes from a tally the database's triggers keep per agency: whatever writes
a dossier (a submission, an acknowledgement, a bulk statement, a delete), the total a back
office reads equals a count of its waiting online dossiers."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select, text, update

from app.core.config import Settings
from app.core.db import Database
from app.dossiers.kinds import Channel
from app.dossiers.models import Dossier
from tests.support.factories import agency_headers, login, move, receiving_pair, submit

INBOX = "/api/v1/agency/dossiers"


async def _counted(database: Database, agency_code: str) -> int:
    async with database.read() as session:
        waiting = select(func.count()).where(
            Dossier.agency_code == agency_code,
            Dossier.channel == Channel.ONLINE,
            Dossier.acked_at.is_(None),
        )
        return int(await session.scalar(waiting) or 0)


async def _inbox(client: AsyncClient, settings: Settings, agency_code: str) -> dict[str, Any]:
    response = await client.get(INBOX, headers=agency_headers(settings, agency_code))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_the_inbox_total_follows_every_kind_of_write(
    app: FastAPI, client: AsyncClient, settings: Settings
) -> None:
    database: Database = app.state.database
    procedure, agency = await receiving_pair(client)
    code = agency["code"]
    citizen = await login(client)
    dossiers = [await submit(client, citizen, procedure["code"], code) for _ in range(6)]
    codes = [dossier["code"] for dossier in dossiers]
    assert (await _inbox(client, settings, code))["total"] == 6

    # An acknowledgement, twice (idempotent), and a transition, which leaves the total alone.
    for _ in range(2):
        acked = await client.post(f"{INBOX}/{codes[0]}/ack", headers=agency_headers(settings, code))
        assert acked.status_code == 200, acked.text
    await move(client, settings, dossiers[1], 2)
    inbox = await _inbox(client, settings, code)
    assert inbox["total"] == 5 == await _counted(database, code)
    assert [item["code"] for item in inbox["items"]] == codes[1:]

    # Writes that no service makes: one statement over several rows (acknowledged, then not
    # again), a move to the counter channel, and a delete.
    async with database.write() as session:
        await session.execute(
            update(Dossier).where(Dossier.code.in_(codes[2:5])).values(acked_at=func.now())
        )
        await session.execute(update(Dossier).where(Dossier.code == codes[2]).values(acked_at=None))
        await session.execute(
            update(Dossier).where(Dossier.code == codes[3]).values(channel=Channel.IN_PERSON)
        )
        await session.execute(
            text(
                "DELETE FROM dossier_events WHERE dossier_id IN "
                "(SELECT id FROM dossiers WHERE code = :code)"
            ),
            {"code": codes[5]},
        )
        await session.execute(text("DELETE FROM dossiers WHERE code = :code"), {"code": codes[5]})
    inbox = await _inbox(client, settings, code)
    assert inbox["total"] == 2 == await _counted(database, code)
    assert [item["code"] for item in inbox["items"]] == [codes[1], codes[2]]


async def test_a_page_past_the_end_still_gives_the_total(
    client: AsyncClient, settings: Settings
) -> None:
    procedure, agency = await receiving_pair(client)
    citizen = await login(client)
    for _ in range(3):
        await submit(client, citizen, procedure["code"], agency["code"])

    response = await client.get(
        INBOX, params={"page": 3, "size": 2}, headers=agency_headers(settings, agency["code"])
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"items": [], "total": 3, "page": 3, "size": 2}
