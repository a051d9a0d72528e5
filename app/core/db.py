"""Engines, sessions and the one-transaction-per-request dependency.

SQLite allows one writer at a time. A request that reads and then writes inside a deferred
transaction can fail with "database is locked" when another writer commits in between (the busy
timeout cannot help a snapshot that is already stale), so write sessions on SQLite begin with
`BEGIN IMMEDIATE` and wait their turn, while read sessions use a separate engine with ordinary
deferred transactions and run concurrently under WAL. PostgreSQL needs no such split; both
session factories then share one engine.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from app.core.config import Settings

if TYPE_CHECKING:
    from app.core.dependencies import ReadSessionDep as ReadSessionDep
    from app.core.dependencies import SessionDep as SessionDep
    from app.core.dependencies import get_database as get_database

SQLITE_BUSY_TIMEOUT_MS = 30_000


def _sqlite_pragmas(foreign_keys: bool) -> Callable[[DBAPIConnection, ConnectionPoolEntry], None]:
    def on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        # Hand transaction control to SQLAlchemy's "begin" hook below instead of the driver's
        # implicit BEGIN, so that write sessions can ask for BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return on_connect


def create_engine(
    settings: Settings, *, sqlite_begin: str = "BEGIN", sqlite_foreign_keys: bool = True
) -> AsyncEngine:
    """An async engine for the settings' database. The sqlite_* options matter on SQLite only:
    migrations turn foreign keys off, because batch mode rebuilds tables that others refer to."""
    kwargs: dict[str, Any] = {"echo": settings.database_echo}
    if not settings.is_sqlite:
        kwargs |= {
            "pool_size": settings.database_pool_size,
            "max_overflow": settings.database_max_overflow,
        }
        return create_async_engine(settings.async_database_url, **kwargs)
    engine = create_async_engine(
        settings.async_database_url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        **kwargs,
    )
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas(sqlite_foreign_keys))

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql(sqlite_begin)

    return engine


@dataclass
class Database:
    """The engines and session factories of one app instance."""

    write_engine: AsyncEngine
    read_engine: AsyncEngine
    write_sessions: async_sessionmaker[AsyncSession]
    read_sessions: async_sessionmaker[AsyncSession]

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        if settings.is_sqlite:
            write_engine = create_engine(settings, sqlite_begin="BEGIN IMMEDIATE")
            read_engine = create_engine(settings)
        else:
            write_engine = read_engine = create_engine(settings)
        return cls(
            write_engine=write_engine,
            read_engine=read_engine,
            write_sessions=async_sessionmaker(write_engine, expire_on_commit=False),
            read_sessions=async_sessionmaker(read_engine, expire_on_commit=False),
        )

    async def dispose(self) -> None:
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()


ON_ROLLBACK = "portalsim.on_rollback"


def on_rollback(session: AsyncSession, undo: Callable[[], Awaitable[None]]) -> None:
    """Run `undo` if this transaction does not commit: for effects outside the database, such as
    a document already written to disk."""
    session.info.setdefault(ON_ROLLBACK, []).append(undo)


def __getattr__(name: str) -> object:
    """The request-scoped names, from `app.core.dependencies` on first use (it imports FastAPI,
    which the CLI's database commands need not pay for)."""
    if name in _REQUEST_SCOPED:
        from app.core import dependencies

        return getattr(dependencies, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_REQUEST_SCOPED = frozenset({"get_database", "SessionDep", "ReadSessionDep"})
