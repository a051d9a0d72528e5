"""Engines, the two kinds of session, and their transactions.

Reads and writes go through distinct session types. `ReadSession` runs in a read-only
transaction; `WriteSession` in the request's write transaction. What writes (a repository's
insert, a service's change of state) asks for a `WriteSession` in its signature, so mypy
rejects a write through a read session; the database refuses it as well, should one slip
past: PostgreSQL's read connections set `default_transaction_read_only`, SQLite's set
`PRAGMA query_only`.

SQLite allows one writer at a time. A request that reads and then writes inside a deferred
transaction can fail with "database is locked" when another writer commits in between (the busy
timeout cannot help a snapshot that is already stale), so write transactions on SQLite begin
with `BEGIN IMMEDIATE`. Within one process they also queue behind an `asyncio.Lock` first: the
busy handler that otherwise arbitrates sleeps and retries, so under load a late writer could
overtake one that had waited for a second or more (a p99 of 1.4-2.3 s in
benchmarks/hot_paths.py), while the lock serves writers in the order they came. Reads use
their own engine with ordinary deferred transactions and run concurrently under WAL.

PostgreSQL's reads run in autocommit: at READ COMMITTED each statement sees its own snapshot
inside a transaction too, so BEGIN and COMMIT bought nothing but two round trips per request.

The hottest reads (a dossier by code, the agency's inbox) take a `ReadConnection` instead: a
pooled connection of the same read engine, Core statements on it and no ORM session around
them (a session and its transaction object cost about a tenth of a look-up). It is read-only
in the database exactly as a `ReadSession` is. On SQLite it opens no transaction either: each
of its statements reads its own snapshot, as every read statement does on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson
from sqlalchemy import event, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from app.core.config import Settings

SQLITE_BUSY_TIMEOUT_MS = 30_000


class ReadSession(AsyncSession):
    """A session in a read-only transaction."""


class WriteSession(AsyncSession):
    """A session in a write transaction: the only kind that repositories write through."""


class ReadConnection(AsyncConnection):
    """A pooled connection of the read engine, outside any ORM session: Core reads only."""

    __slots__ = ()


# The kind of session a repository or service holds; its writing methods require WriteSession.
SessionT = TypeVar("SessionT", bound=AsyncSession)


# An execution option of read connections: on SQLite, no BEGIN (three calls through aiosqlite's
# thread) around their statements, each of which then reads its own snapshot, as every read
# statement does on PostgreSQL.
EACH_STATEMENT_ITS_OWN = "portalsim_each_statement_its_own"


def _sqlite_pragmas(
    *, foreign_keys: bool, query_only: bool
) -> Callable[[DBAPIConnection, ConnectionPoolEntry], None]:
    def on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        # Hand transaction control to SQLAlchemy's "begin" hook below instead of the driver's
        # implicit BEGIN, so that write sessions can ask for BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA query_only={'ON' if query_only else 'OFF'}")
        cursor.close()

    return on_connect


def create_engine(
    settings: Settings,
    *,
    sqlite_begin: str = "BEGIN",
    sqlite_foreign_keys: bool = True,
    read_only: bool = False,
) -> AsyncEngine:
    """An async engine for the settings' database. The sqlite_* options matter on SQLite only:
    migrations turn foreign keys off, because batch mode rebuilds tables that others refer to.
    `read_only` engines refuse writes in the database itself (and on PostgreSQL autocommit).

    The pool keeps DATABASE_POOL_SIZE connections open: a connection beyond it (overflow) is
    closed when it is returned, so a pool smaller than the requests in flight opens and closes
    connections all the time (61 new PostgreSQL sessions a second under 32 connections, each
    a backend fork, when the pool was 10)."""
    # JSON columns (a dossier's form and applicant, sync items) are read on every look-up and
    # inbox page: orjson parses them several times faster than the standard library, to the
    # same values. Writes keep SQLAlchemy's serializer (orjson refuses non-string keys).
    kwargs: dict[str, Any] = {"echo": settings.database_echo, "json_deserializer": orjson.loads}
    if make_url(settings.database_url).database not in (None, "", ":memory:"):
        # (an in-memory SQLite database lives in one connection: SQLAlchemy pools it alone)
        kwargs |= {
            "pool_size": settings.database_pool_size,
            "max_overflow": settings.database_max_overflow,
            "pool_timeout": settings.database_pool_timeout,
        }
    if not settings.is_sqlite:
        if read_only:
            kwargs |= {
                "isolation_level": "AUTOCOMMIT",
                "connect_args": {"server_settings": {"default_transaction_read_only": "on"}},
            }
        return create_async_engine(settings.async_database_url, **kwargs)
    engine = create_async_engine(
        settings.async_database_url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        **kwargs,
    )
    event.listen(
        engine.sync_engine,
        "connect",
        _sqlite_pragmas(foreign_keys=sqlite_foreign_keys, query_only=read_only),
    )

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        if not conn.get_execution_options().get(EACH_STATEMENT_ITS_OWN):
            conn.exec_driver_sql(sqlite_begin)

    return engine


ON_ROLLBACK = "portalsim.on_rollback"


@dataclass
class Database:
    """The engines and sessions of one app instance (or of one CLI command)."""

    write_engine: AsyncEngine
    read_engine: AsyncEngine
    _write_sessions: async_sessionmaker[WriteSession] = field(init=False, repr=False)
    _read_sessions: async_sessionmaker[ReadSession] = field(init=False, repr=False)
    _connection_reads: AsyncEngine = field(init=False, repr=False)
    # One writer at a time on SQLite, in arrival order (see the module's docstring).
    _write_turn: asyncio.Lock | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._write_sessions = async_sessionmaker(
            self.write_engine, class_=WriteSession, expire_on_commit=False
        )
        self._read_sessions = async_sessionmaker(
            self.read_engine, class_=ReadSession, expire_on_commit=False
        )
        # The same pool as the read sessions'.
        self._connection_reads = self.read_engine.execution_options(
            **{EACH_STATEMENT_ITS_OWN: True}
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        if settings.is_sqlite:
            return cls(
                write_engine=create_engine(settings, sqlite_begin="BEGIN IMMEDIATE"),
                read_engine=create_engine(settings, read_only=True),
                _write_turn=asyncio.Lock(),
            )
        return cls(
            write_engine=create_engine(settings),
            read_engine=create_engine(settings, read_only=True),
        )

    @asynccontextmanager
    async def write(self) -> AsyncIterator[WriteSession]:
        """A write transaction: committed when the block ends, rolled back if it raises (the
        commit included), and then the effects registered with `on_rollback` are undone."""
        async with self._write_turn or nullcontext(), self._write_sessions() as session:
            try:
                async with session.begin():
                    yield session
            except BaseException:
                for undo in session.info.pop(ON_ROLLBACK, []):
                    await undo()
                raise

    @asynccontextmanager
    async def read(self) -> AsyncIterator[ReadSession]:
        async with self._read_sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read_connection(self) -> AsyncIterator[ReadConnection]:
        """A read connection for a few Core statements, given back to the pool after them."""
        connection = ReadConnection(self._connection_reads)
        async with connection:
            yield connection

    async def dispose(self) -> None:
        await self.write_engine.dispose()
        await self.read_engine.dispose()


def on_rollback(session: WriteSession, undo: Callable[[], Awaitable[None]]) -> None:
    """Run `undo` if this transaction does not commit: for effects outside the database, such as
    a document already written to disk."""
    session.info.setdefault(ON_ROLLBACK, []).append(undo)
