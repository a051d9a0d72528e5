"""The FastAPI dependencies on the running app's state: its settings, its clock, its database
and the one-transaction-per-request sessions.

They live apart from `config`, `db` and `clock` because FastAPI takes about a second to import
on a small machine, and the CLI's commands that never serve (`agencies`, `seed`, `migrate`) use
settings, engines and clocks without it. This module imports those; none of them imports it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request

from app.core.clock import Clock
from app.core.config import Settings
from app.core.db import Database, ReadSession, WriteSession


async def _app_settings(request: Request) -> Settings:
    """The settings the running app was built with (tests build apps with their own)."""
    settings: Settings = request.app.state.settings
    return settings


async def _clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def _write_session(request: Request) -> AsyncIterator[WriteSession]:
    """The request's transaction: committed when the endpoint returns, before the response is
    sent (scope="function"), so a 2xx always means durable; rolled back on any error."""
    async with get_database(request).write() as session:
        yield session


async def _read_session(request: Request) -> AsyncIterator[ReadSession]:
    async with get_database(request).read() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(_app_settings)]
ClockDep = Annotated[Clock, Depends(_clock)]
SessionDep = Annotated[WriteSession, Depends(_write_session, scope="function")]
ReadSessionDep = Annotated[ReadSession, Depends(_read_session, scope="function")]
