"""The portalsim command: seeding is deterministic and safe to re-run; agencies lists keys.

Synchronous tests: the commands run their own event loops, as they do from a shell."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from app.accounts.models import Account
from app.core.config import Settings, get_settings
from app.core.db import Database
from app.core.security import agency_of_key
from portalsim.cli import app

runner = CliRunner()


@pytest.fixture
def cli_env(scratch_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("DATABASE_URL", scratch_settings.database_url)
    monkeypatch.setenv("SECRET_KEY", scratch_settings.secret_key)
    get_settings.cache_clear()
    yield scratch_settings
    get_settings.cache_clear()


async def _accounts(settings: Settings) -> tuple[int, int, str | None]:
    database = Database.from_settings(settings)
    async with database.read() as session:
        total = await session.scalar(select(func.count()).select_from(Account)) or 0
        businesses = await session.scalar(
            select(func.count()).select_from(Account).where(Account.kind == "business")
        )
        first = await session.scalar(select(Account.identifier).order_by(Account.id).limit(1))
    await database.dispose()
    return total, businesses or 0, first


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_seed_loads_accounts_once_however_often_it_runs(cli_env: Settings) -> None:
    _run("seed", "--accounts", "2500", "--batch", "1000")
    first = asyncio.run(_accounts(cli_env))
    _run("seed", "--accounts", "2500", "--batch", "1000")
    again = asyncio.run(_accounts(cli_env))

    assert first == again
    total, businesses, identifier = first
    assert total == 2500
    assert businesses == 250
    assert identifier == "001200000000"


def test_seed_grows_an_existing_population_without_duplicates(cli_env: Settings) -> None:
    _run("seed", "--accounts", "1000", "--batch", "1000")
    _run("seed", "--accounts", "3000", "--batch", "1000", "--no-catalogue")
    total, _, _ = asyncio.run(_accounts(cli_env))
    assert total == 3000


def test_agencies_json_lists_every_agency_with_a_working_key(cli_env: Settings) -> None:
    _run("seed")
    rows = json.loads(_run("agencies", "--json"))
    assert len(rows) == 591
    assert {row["level"] for row in rows} == {"central", "province", "commune"}
    for row in rows:
        assert agency_of_key(cli_env, row["key"]) == row["code"]
    communes = json.loads(_run("agencies", "--json", "--level", "commune", "--province", "1"))
    assert [row["province_code"] for row in communes] == [1, 1, 1]
