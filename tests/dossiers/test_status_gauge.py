"""The dossiers-by-status gauge comes from a tally that the database's triggers keep: whatever
writes a dossier (the API, a bulk statement, a delete), the next scrape agrees with a full
count, and folds each change exactly once."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select, text, update

from app.core.config import Settings
from app.core.db import Database
from app.dossiers.models import Dossier, DossierStatusMove
from app.dossiers.repository import DossierRepository
from tests.support.factories import login, move, receiving_pair, submit


async def _full_count(database: Database) -> dict[int, int]:
    async with database.read() as session:
        rows = await session.execute(select(Dossier.status, func.count()).group_by(Dossier.status))
        return {status: count for status, count in rows.all() if count}


async def _tally(database: Database) -> dict[int, int]:
    async with database.write() as session:
        counts = await DossierRepository(session).status_counts()
    return {status: count for status, count in counts.items() if count}


async def _pending_moves(database: Database) -> int:
    async with database.read() as session:
        return int(await session.scalar(select(func.count()).select_from(DossierStatusMove)) or 0)


async def test_the_tally_follows_every_kind_of_write(
    app: FastAPI, client: AsyncClient, settings: Settings
) -> None:
    database: Database = app.state.database
    procedure, agency = await receiving_pair(client)
    citizen = await login(client)
    dossiers = [await submit(client, citizen, procedure["code"], agency["code"]) for _ in range(5)]
    codes = [dossier["code"] for dossier in dossiers]
    await move(client, settings, dossiers[0], 2, 4)
    await move(client, settings, dossiers[1], 3)
    assert await _tally(database) == await _full_count(database) == {1: 3, 3: 1, 4: 1}
    assert await _pending_moves(database) == 0

    # Writes that no service makes: one statement over several rows, a status left as it is,
    # and a delete.
    async with database.write() as session:
        await session.execute(update(Dossier).where(Dossier.code.in_(codes[2:4])).values(status=2))
        await session.execute(update(Dossier).where(Dossier.code == codes[4]).values(status=1))
        await session.execute(
            text(
                "DELETE FROM dossier_events WHERE dossier_id IN "
                "(SELECT id FROM dossiers WHERE code = :code)"
            ),
            {"code": codes[1]},
        )
        await session.execute(text("DELETE FROM dossiers WHERE code = :code"), {"code": codes[1]})
    assert await _tally(database) == await _full_count(database) == {1: 1, 2: 2, 4: 1}

    scraped = (await client.get("/metrics")).text
    assert 'portalsim_dossiers{status="2"} 2.0' in scraped
    assert 'portalsim_dossiers{status="3"} 0.0' in scraped


async def test_scrapes_at_once_fold_each_move_once(app: FastAPI, client: AsyncClient) -> None:
    database: Database = app.state.database
    procedure, agency = await receiving_pair(client)
    citizen = await login(client)
    for _ in range(6):
        await submit(client, citizen, procedure["code"], agency["code"])

    results = await asyncio.gather(*(_tally(database) for _ in range(4)))

    assert results == [{1: 6}] * 4
    assert await _tally(database) == {1: 6}
