"""The Decision 766 indicators over a million dossiers on PostgreSQL: `GET /api/v1/indicators`
for a province's quarter (and an agency's, the country's, the provinces' ranking) beside a plain
indexed `COUNT(*)` of the same rows, measured in the same run.

    uv run python benchmarks/indicators.py \
        [--database-url postgresql://postgres@127.0.0.1:5432/portalsim_indicators_bench] \
        [--dossiers 1000000] [--repeat 15]

The database is emptied, migrated and loaded with the catalogue, then with `--dossiers`
dossiers spread over the 2026 calendar year and over every agency (COPY, a few seconds per
100,000): a mix of channels, statuses, due dates met and missed, online payments, electronic
results, digitised inputs, and complaints for 1% of them. The app runs in-process and is called
through httpx's ASGI transport, so the figures are the portal's work and the database's, with
no network between. Each figure is the median of `--repeat` calls after one warm-up call.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information
import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url
from sync_throughput import (
    SECRET_KEY,
    check_bench_url,
    prepare_database,
    server_facts,
    server_url,
)

from app.core.calendar import VIETNAM_TZ
from app.core.config import Settings
from app.main import create_app

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/portalsim_indicators_bench"
YEAR_START = datetime(2026, 1, 1, tzinfo=VIETNAM_TZ)
NOW = datetime(2026, 12, 31, 17, 0, tzinfo=VIETNAM_TZ)  # the portal's clock: the year's end
QUARTER = ("2026-04-01", "2026-06-30")
COPY_BATCH = 100_000
COLUMNS = (
    "code",
    "procedure_code",
    "agency_code",
    "owner_id",
    "status",
    "channel",
    "processing_time",
    "processing_unit",
    "applicant",
    "form",
    "submitted_at",
    "accepted_at",
    "due_at",
    "finished_at",
    "returned_at",
    "updated_at",
    "supplement_requests",
    "digitised",
    "vneid_verified",
    "paid_online",
    "electronic_result",
)


class FixedClock:
    """The portal's clock for the run: the end of the year the dossiers fill."""

    mode = "fixed"
    speed = 1.0

    def now(self) -> datetime:
        return NOW


@dataclass(frozen=True)
class Figure:
    name: str
    portal_ms: float
    count_ms: float
    rows: int

    @property
    def ratio(self) -> float:
        return self.portal_ms / self.count_ms if self.count_ms else float("inf")


# -- the data ----------------------------------------------------------------------------------


def dossier_rows(
    count: int, agencies: Sequence[str], procedures: Sequence[str], owner: int, seed: int = 1
) -> Any:
    """`count` dossiers, in COPY's column order: submitted uniformly over the year, most
    accepted within hours, finished within a few days of their due date, a tenth still open."""
    rng = random.Random(seed)
    year_seconds = (NOW - YEAR_START).total_seconds()
    for number in range(count):
        agency = agencies[number % len(agencies)]
        submitted = YEAR_START + timedelta(seconds=rng.random() * year_seconds)
        refused = rng.random() < 0.02
        accepted = None if refused else submitted + timedelta(hours=rng.uniform(0.1, 8))
        due = None if accepted is None else accepted + timedelta(days=rng.choice((1, 3, 5, 10)))
        finished: datetime | None = submitted + timedelta(hours=1) if refused else None
        status = 3 if refused else 4
        if due is not None and rng.random() < 0.9:
            candidate = due + timedelta(days=rng.gauss(-1.0, 1.5))
            if candidate < NOW:
                finished, status = max(candidate, accepted or candidate), 10
        online = rng.random() < 0.55
        yield (
            f"{agency}-B{number:08d}",
            procedures[number % len(procedures)],
            agency,
            owner,
            status,
            2 if online else 1,
            3,
            "working_day",
            "{}",
            "{}",
            submitted.astimezone(UTC),
            accepted.astimezone(UTC) if accepted else None,
            due.astimezone(UTC) if due else None,
            finished.astimezone(UTC) if finished else None,
            finished.astimezone(UTC) if status == 10 and finished else None,
            NOW.astimezone(UTC),
            2 if rng.random() < 0.01 else 0,
            online,
            False,
            1 if online and rng.random() < 0.4 else 0,
            status == 10 and rng.random() < 0.7,
        )


async def load_dossiers(database_url: str, count: int, console: Console) -> tuple[int, str]:
    """Fill the database; the province with the most agencies and its first agency."""
    connection = await asyncpg.connect(database_url)
    try:
        agencies = [r["code"] for r in await connection.fetch("SELECT code FROM agencies")]
        procedures = [r["code"] for r in await connection.fetch("SELECT code FROM procedures")]
        owner = await connection.fetchval(
            "INSERT INTO accounts (kind, identifier, full_name, created_at) "
            "VALUES ('citizen', '001090000001', 'Nguyễn Văn An', now()) RETURNING id"
        )
        rows = dossier_rows(count, agencies, procedures, owner)
        started = time.perf_counter()
        done = 0
        while done < count:
            batch = [
                row for _, row in zip(range(min(COPY_BATCH, count - done)), rows, strict=False)
            ]
            await connection.copy_records_to_table("dossiers", records=batch, columns=COLUMNS)
            done += len(batch)
            console.print(f"  {done:,} dossiers ({time.perf_counter() - started:.0f} s)")
        await connection.execute(
            "INSERT INTO dossier_complaints (dossier_id, agency_code, account_id, content, "
            "filed_at) SELECT id, agency_code, owner_id, 'Chậm', submitted_at + interval '2 days' "
            "FROM dossiers WHERE id % 100 = 0"
        )
        await connection.execute("ANALYZE")
        province, agency = await connection.fetchrow(
            "SELECT province_code, min(code) FROM agencies WHERE province_code IS NOT NULL "
            "GROUP BY province_code ORDER BY count(*) DESC, province_code LIMIT 1"
        )
        return int(province), str(agency)
    finally:
        await connection.close()


# -- the measures ------------------------------------------------------------------------------


async def median_ms(call: Callable[[], Awaitable[Any]], repeat: int) -> float:
    await call()  # warm-up: plans and caches, as on a portal that has been serving
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


async def measure(
    client: httpx.AsyncClient,
    connection: Any,
    name: str,
    params: dict[str, Any],
    count_sql: str,
    count_args: Sequence[Any],
    repeat: int,
    path: str = "/api/v1/indicators",
) -> Figure:
    async def portal() -> None:
        response = await client.get(path, params=params)
        if response.status_code != 200:
            raise SystemExit(f"{name}: {response.status_code} {response.text[:300]}")

    async def plain_count() -> int:
        return int(await connection.fetchval(count_sql, *count_args))

    rows = await plain_count()
    # Alternate the two, so that drift on a shared machine hits both alike.
    portal_samples, count_samples = [], []
    for _ in range(3):
        portal_samples.append(await median_ms(portal, max(1, repeat // 3)))
        count_samples.append(await median_ms(plain_count, max(1, repeat // 3)))
    return Figure(name, statistics.median(portal_samples), statistics.median(count_samples), rows)


def window(first: str, last: str) -> tuple[datetime, datetime]:
    start = datetime.fromisoformat(first).replace(tzinfo=VIETNAM_TZ)
    end = datetime.fromisoformat(last).replace(tzinfo=VIETNAM_TZ) + timedelta(days=1)
    return start, end


async def main(database_url: str, dossiers: int, repeat: int) -> None:
    console = Console(width=None if sys.stdout.isatty() else 120)
    with tempfile.TemporaryDirectory(prefix="portalsim-bench-") as documents:
        settings = Settings(
            database_url=database_url,
            secret_key=SECRET_KEY,
            document_dir=Path(documents),
            payment_reconcile_interval_seconds=0,
            _env_file=None,
        )
        name = make_url(database_url).database
        console.print(f"Preparing {name} (empty, migrate, catalogue) and {dossiers:,} dossiers")
        await prepare_database(settings)
        plain_url = server_url(database_url, name or "")
        province, agency = await load_dossiers(plain_url, dossiers, console)
        server = await server_facts(plain_url)
        app = create_app(settings)
        app.state.clock = FixedClock()
        start, end = window(*QUARTER)
        quarter = {"from": QUARTER[0], "to": QUARTER[1]}
        received = (
            "SELECT count(*) FROM dossiers WHERE agency_code = ANY($1) "
            "AND submitted_at >= $2 AND submitted_at < $3"
        )
        connection = await asyncpg.connect(plain_url)
        try:
            province_agencies = [
                r["code"]
                for r in await connection.fetch(
                    "SELECT code FROM agencies WHERE province_code = $1", province
                )
            ]
            every_agency = [r["code"] for r in await connection.fetch("SELECT code FROM agencies")]
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(
                    transport=transport, base_url="http://bench"
                ) as client:
                    figures = [
                        await measure(
                            client,
                            connection,
                            f"province {province}, a quarter ({len(province_agencies)} agencies)",
                            {"scope": "province", "code": province, **quarter},
                            received,
                            (province_agencies, start, end),
                            repeat,
                        ),
                        await measure(
                            client,
                            connection,
                            f"agency {agency}, a quarter",
                            {"scope": "agency", "code": agency, **quarter},
                            received,
                            ([agency], start, end),
                            repeat,
                        ),
                        await measure(
                            client,
                            connection,
                            "the country, a quarter",
                            quarter,
                            received,
                            (every_agency, start, end),
                            repeat,
                        ),
                        await measure(
                            client,
                            connection,
                            "ranking of the 34 provinces, a quarter",
                            quarter,
                            received,
                            (every_agency, start, end),
                            repeat,
                            path="/api/v1/indicators/ranking",
                        ),
                        await measure(
                            client,
                            connection,
                            f"the dashboard page of province {province}, a quarter",
                            quarter,
                            received,
                            (province_agencies, start, end),
                            repeat,
                            path=f"/dashboard/provinces/{province}",
                        ),
                        await measure(
                            client,
                            connection,
                            "the national dashboard page, a quarter",
                            quarter,
                            received,
                            (every_agency, start, end),
                            repeat,
                            path="/dashboard",
                        ),
                    ]
        finally:
            await connection.close()
    table = Table(title=f"Indicators over {dossiers:,} dossiers (median of {repeat} calls)")
    table.add_column("GET (the API, or a dashboard page) for")
    table.add_column("rows counted", justify="right")
    table.add_column("portal, ms", justify="right")
    table.add_column("plain COUNT(*), ms", justify="right")
    table.add_column("ratio", justify="right")
    for figure in figures:
        table.add_row(
            figure.name,
            f"{figure.rows:,}",
            f"{figure.portal_ms:.1f}",
            f"{figure.count_ms:.1f}",
            f"{figure.ratio:.1f}x",
        )
    console.print(table)
    console.print(
        f"{server}. The COUNT(*) counts the scope's dossiers received in the quarter, through "
        "the same index; the portal's call makes five queries (received, finished, open at the "
        "end, sync statistics, the catalogue), renders JSON and goes through the ASGI stack."
    )


def arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--dossiers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15, help="calls per figure")
    args = parser.parse_args(argv)
    check_bench_url(parser, args.database_url)
    if not 1_000 <= args.dossiers <= 20_000_000:
        parser.error("--dossiers is from 1000 to 20000000")
    if not 3 <= args.repeat <= 300:
        parser.error("--repeat is from 3 to 300")
    return args


if __name__ == "__main__":
    options = arguments()
    asyncio.run(main(options.database_url, options.dossiers, options.repeat))
