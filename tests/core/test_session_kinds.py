"""Reads and writes go through distinct session kinds: mypy rejects a write through a read
session, and the database refuses one that slips past the types."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from mypy import api as mypy_api
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.core.config import Settings
from app.core.db import Database

PROJECT = Path(__file__).resolve().parents[2]

WRITES_THROUGH_A_READ_SESSION = """
from app.accounts.repository import AccountRepository
from app.core.db import ReadSession, WriteSession
from app.dossiers.service import DossierService


async def submit_on_a_read(service: DossierService[ReadSession]) -> None:
    await service.acknowledge("001.00.99.H01", "H01.99-260303-0001")


async def insert_on_a_read(session: ReadSession) -> None:
    await AccountRepository(session).ensure([])


async def insert_on_a_write(session: WriteSession) -> None:
    await AccountRepository(session).ensure([])
"""


@pytest.mark.skipif(
    bool(os.environ.get("TEST_DATABASE_URL")),
    reason="what mypy says of the types does not depend on the database: SQLite pass",
)
def test_mypy_rejects_each_write_through_a_read_session_and_only_those(tmp_path: Path) -> None:
    snippet = tmp_path / "writes_on_reads.py"
    snippet.write_text(WRITES_THROUGH_A_READ_SESSION)
    out, _err, status = mypy_api.run(
        ["--config-file", str(PROJECT / "pyproject.toml"), "--no-error-summary", str(snippet)]
    )
    errors = [line for line in out.splitlines() if str(snippet.name) in line]
    assert status == 1
    assert len(errors) == 2, out
    assert '"acknowledge"' in errors[0]
    assert "DossierService[ReadSession]" in errors[0]
    assert '"ensure"' in errors[1]
    assert "AccountRepository[ReadSession]" in errors[1]


async def test_the_database_refuses_a_write_through_a_read_session(settings: Settings) -> None:
    database = Database.from_settings(settings)
    try:
        with pytest.raises(DBAPIError, match=r"read-only|readonly"):
            async with database.read() as session:
                await session.execute(text("DELETE FROM accounts"))
        async with database.write() as session:
            await session.execute(text("DELETE FROM accounts"))  # the same, where it may
    finally:
        await database.dispose()


async def test_the_database_refuses_a_write_through_a_read_connection(settings: Settings) -> None:
    database = Database.from_settings(settings)
    try:
        with pytest.raises(DBAPIError, match=r"read-only|readonly"):
            async with database.read_connection() as connection:
                await connection.execute(text("DELETE FROM accounts"))
    finally:
        await database.dispose()
