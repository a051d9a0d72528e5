"""The raw ceilings of benchmarks/hot_paths.py: a minimal FastAPI app, one statement per request.

    uv run python benchmarks/raw_ceiling.py [--host 127.0.0.1] [--port 8100] [--workers 1]
        [--server uvicorn|granian]

It reads the portal's own variables (DATABASE_URL, DATABASE_POOL_SIZE, DATABASE_MAX_OVERFLOW)
and is served as `portalsim serve --server X` serves the portal (app/core/http_server.py's
run_server, the settings' default timeouts), so that a portal route and its ceiling differ
only by the portal's code. Its tables are scratch tables in the portal's
database, made and filled by `prepare_scratch` and `fill_inbox` (hot_paths.py calls them);
RAW_PAYLOADS names a JSON file of prebuilt answers, {"search": {q: body}, "procedures":
{code: body}}, the portal's own replies captured at set-up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

import aiosqlite
import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information
from fastapi import Body, FastAPI, Header, HTTPException, Request
from pydantic import BaseModel

ROWS = "bench_hot_rows"  # written by raw INSERT and UPDATE, read by raw SELECT
INBOX = "bench_hot_inbox"  # as many rows as the portal's inbox, read a page at a time
SQLITE_BUSY_TIMEOUT_MS = 30_000  # the portal's (app/core/db.py)
SQLITE_READERS = 4

Row = dict[str, Any]


class StatusIn(BaseModel):
    to_status: int


class Rows(Protocol):
    async def insert(self, code: str, payload: str) -> int: ...
    async def get(self, row_id: int) -> Row | None: ...
    async def update(self, row_id: int, status: int) -> Row | None: ...
    async def page(self, size: int) -> tuple[list[Row], int]: ...
    async def close(self) -> None: ...


def _row(record: Sequence[Any]) -> Row:
    return {
        "id": record[0],
        "code": record[1],
        "status": record[2],
        "payload": json.loads(record[3]),
    }


class PostgresRows:
    """asyncpg, one pooled connection per statement, each statement its own transaction."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool

    @classmethod
    async def open(cls, url: str, size: int, overflow: int) -> PostgresRows:
        # As many connections as SQLAlchemy's pool may hold: pool_size kept, overflow on top.
        return cls(await asyncpg.create_pool(url, min_size=size, max_size=size + overflow))

    async def insert(self, code: str, payload: str) -> int:
        row_id: int = await self.pool.fetchval(
            f"INSERT INTO {ROWS} (code, status, payload) VALUES ($1, 1, $2) RETURNING id",
            code,
            payload,
        )
        return row_id

    async def get(self, row_id: int) -> Row | None:
        found = await self.pool.fetchrow(
            f"SELECT id, code, status, payload FROM {ROWS} WHERE id = $1", row_id
        )
        return _row(found) if found else None

    async def update(self, row_id: int, status: int) -> Row | None:
        found = await self.pool.fetchrow(
            f"UPDATE {ROWS} SET status = $2, updated_at = now() WHERE id = $1 "
            "RETURNING id, code, status, payload",
            row_id,
            status,
        )
        return _row(found) if found else None

    async def page(self, size: int) -> tuple[list[Row], int]:
        # The inbox's answer the plain way: how many, then the first page by key.
        async with self.pool.acquire() as connection:
            total = await connection.fetchval(f"SELECT count(*) FROM {INBOX}")
            found = await connection.fetch(
                f"SELECT id, code, status, payload FROM {INBOX} ORDER BY id LIMIT $1", size
            )
        return [_row(r) for r in found], total

    async def close(self) -> None:
        await self.pool.close()


class SqliteRows:
    """aiosqlite with the portal's pragmas: one writer (SQLite has one), readers under WAL."""

    def __init__(self, writer: aiosqlite.Connection, readers: list[aiosqlite.Connection]) -> None:
        self.writer = writer
        self.write_turn = asyncio.Lock()
        self.readers: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        for reader in readers:
            self.readers.put_nowait(reader)
        self.all = [writer, *readers]

    @classmethod
    async def open(cls, path: str) -> SqliteRows:
        connections = []
        for _ in range(1 + SQLITE_READERS):
            connection = await aiosqlite.connect(
                path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, isolation_level=None
            )
            for pragma in (
                "journal_mode=WAL",
                f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
                "synchronous=NORMAL",
            ):
                await connection.execute(f"PRAGMA {pragma}")
            connections.append(connection)
        return cls(connections[0], connections[1:])

    async def _read(self, sql: str, *args: Any) -> list[Any]:
        reader = await self.readers.get()
        try:
            async with reader.execute(sql, args) as cursor:
                return list(await cursor.fetchall())
        finally:
            self.readers.put_nowait(reader)

    async def insert(self, code: str, payload: str) -> int:
        async with self.write_turn:
            cursor = await self.writer.execute(
                f"INSERT INTO {ROWS} (code, status, payload) VALUES (?, 1, ?) RETURNING id",
                (code, payload),
            )
            found = await cursor.fetchone()
            await cursor.close()
        assert found is not None
        return int(found[0])

    async def get(self, row_id: int) -> Row | None:
        found = await self._read(
            f"SELECT id, code, status, payload FROM {ROWS} WHERE id = ?", row_id
        )
        return _row(found[0]) if found else None

    async def update(self, row_id: int, status: int) -> Row | None:
        async with self.write_turn:
            cursor = await self.writer.execute(
                f"UPDATE {ROWS} SET status = ?, updated_at = CURRENT_TIMESTAMP WHERE id = ? "
                "RETURNING id, code, status, payload",
                (status, row_id),
            )
            found = await cursor.fetchone()
            await cursor.close()
        return _row(found) if found else None

    async def page(self, size: int) -> tuple[list[Row], int]:
        reader = await self.readers.get()
        try:
            async with reader.execute(f"SELECT count(*) FROM {INBOX}") as cursor:
                counted = await cursor.fetchone()
            sql = f"SELECT id, code, status, payload FROM {INBOX} ORDER BY id LIMIT ?"
            async with reader.execute(sql, (size,)) as cursor:
                found = list(await cursor.fetchall())
        finally:
            self.readers.put_nowait(reader)
        return [_row(r) for r in found], int(counted[0]) if counted else 0

    async def close(self) -> None:
        for connection in self.all:
            await connection.close()


def sqlite_path(url: str) -> str | None:
    """The file of a sqlite:///PATH URL, None for any other URL."""
    scheme, _, rest = url.partition("://")
    if scheme.split("+", 1)[0] != "sqlite":
        return None
    return rest[1:] if rest.startswith("/") else rest


def plain_postgres(url: str) -> str:
    """The URL as asyncpg takes it (no SQLAlchemy driver suffix)."""
    scheme, _, rest = url.partition("://")
    return f"postgresql://{rest}" if scheme.startswith("postgres") else url


async def open_rows() -> Rows:
    url = os.environ["DATABASE_URL"]
    path = sqlite_path(url)
    if path is not None:
        return await SqliteRows.open(path)
    size = int(os.environ.get("DATABASE_POOL_SIZE", "10"))
    overflow = int(os.environ.get("DATABASE_MAX_OVERFLOW", "10"))
    return await PostgresRows.open(plain_postgres(url), size, overflow)


def create_app() -> FastAPI:
    payloads_file = os.environ.get("RAW_PAYLOADS")
    payloads: dict[str, dict[str, Any]] = (
        json.loads(Path(payloads_file).read_text()) if payloads_file else {}
    )
    search: dict[str, Any] = payloads.get("search", {})
    procedures: dict[str, Any] = payloads.get("procedures", {})
    holder: dict[str, Rows] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        holder["rows"] = await open_rows()
        try:
            yield
        finally:
            await holder["rows"].close()

    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/raw/rows", status_code=201)
    async def insert(
        body: dict[str, Any] = Body(...),
        idempotency_key: str = Header(alias="Idempotency-Key"),
    ) -> dict[str, Any]:
        row_id = await holder["rows"].insert(idempotency_key, json.dumps(body))
        return {"id": row_id, "code": idempotency_key, "status": 1}

    @app.get("/raw/rows/{row_id}")
    async def get(row_id: int) -> Row:
        found = await holder["rows"].get(row_id)
        if found is None:
            raise HTTPException(404)
        return found

    @app.post("/raw/rows/{row_id}/status")
    async def update(row_id: int, body: StatusIn) -> Row:
        found = await holder["rows"].update(row_id, body.to_status)
        if found is None:
            raise HTTPException(404)
        return found

    @app.get("/raw/inbox")
    async def inbox(size: int = 20) -> dict[str, Any]:
        items, total = await holder["rows"].page(size)
        return {"items": items, "total": total, "page": 1, "size": size}

    @app.get("/raw/procedures")
    async def search_procedures(request: Request) -> Any:
        found = search.get(request.query_params.get("q", ""))
        if found is None:
            raise HTTPException(404)
        return found

    @app.get("/raw/procedures/{code}")
    async def procedure(code: str) -> Any:
        found = procedures.get(code)
        if found is None:
            raise HTTPException(404)
        return found

    return app


# -- scratch tables, made by the benchmark before this app starts ----------------------------


async def prepare_scratch(url: str, payload: str, rows: int) -> None:
    """Empty scratch tables; ROWS gets `rows` rows of `payload` (a dossier as the portal shows
    it) so that raw SELECT and UPDATE walk a table of real-sized rows."""
    path = sqlite_path(url)
    if path is not None:
        async with aiosqlite.connect(path, isolation_level=None) as db:
            await db.execute("PRAGMA journal_mode=WAL")
            for table in (ROWS, INBOX):
                await db.execute(f"DROP TABLE IF EXISTS {table}")
                await db.execute(
                    f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, code TEXT UNIQUE, "
                    "status INTEGER NOT NULL, payload TEXT NOT NULL, updated_at TIMESTAMP)"
                )
            await db.execute("BEGIN")
            await db.executemany(
                f"INSERT INTO {ROWS} (code, status, payload) VALUES (?, 1, ?)",
                ((f"prefill-{n}", payload) for n in range(rows)),
            )
            await db.execute("COMMIT")
        return
    connection = await asyncpg.connect(plain_postgres(url))
    try:
        for table in (ROWS, INBOX):
            await connection.execute(
                f"DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (id bigserial PRIMARY KEY, "
                "code text UNIQUE, status int NOT NULL, payload jsonb NOT NULL, "
                "updated_at timestamptz)"
            )
        await connection.execute(
            f"INSERT INTO {ROWS} (code, status, payload) "
            "SELECT 'prefill-' || n, 1, $1::jsonb FROM generate_series(1, $2) AS n",
            payload,
            rows,
        )
        await connection.execute(f"ANALYZE {ROWS}")
    finally:
        await connection.close()


async def fill_inbox(url: str, payload: str, rows: int) -> None:
    """INBOX with exactly `rows` rows: as many as the portal's inbox holds."""
    path = sqlite_path(url)
    if path is not None:
        async with aiosqlite.connect(path, isolation_level=None) as db:
            await db.execute("BEGIN IMMEDIATE")
            await db.execute(f"DELETE FROM {INBOX}")
            await db.executemany(
                f"INSERT INTO {INBOX} (code, status, payload) VALUES (?, 1, ?)",
                ((f"inbox-{n}", payload) for n in range(rows)),
            )
            await db.execute("COMMIT")
        return
    connection = await asyncpg.connect(plain_postgres(url))
    try:
        await connection.execute(f"TRUNCATE {INBOX}")
        await connection.execute(
            f"INSERT INTO {INBOX} (code, status, payload) "
            "SELECT 'inbox-' || n, 1, $1::jsonb FROM generate_series(1, $2) AS n",
            payload,
            rows,
        )
        await connection.execute(f"ANALYZE {INBOX}")
    finally:
        await connection.close()


async def drop_scratch(url: str) -> None:
    path = sqlite_path(url)
    if path is not None:
        async with aiosqlite.connect(path, isolation_level=None) as db:
            for table in (ROWS, INBOX):
                await db.execute(f"DROP TABLE IF EXISTS {table}")
        return
    connection = await asyncpg.connect(plain_postgres(url))
    try:
        await connection.execute(f"DROP TABLE IF EXISTS {ROWS}, {INBOX}")
    finally:
        await connection.close()


def main() -> None:
    from app.core.config import Settings
    from app.core.http_server import run_server

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--server", choices=("uvicorn", "granian"), default="uvicorn")
    args = parser.parse_args()
    defaults = Settings.model_fields
    # As `portalsim serve --server X` runs the portal (app/cli.py), so both servers are alike.
    run_server(
        args.server,
        "raw_ceiling:create_app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        header_timeout=defaults["http_header_timeout_seconds"].default,
        keep_alive_timeout=defaults["http_keep_alive_timeout_seconds"].default,
    )


if __name__ == "__main__":
    main()
