"""Throughput of the status-sync contract (DongBoHoSoMC, CapNhatTienDoHoSoMC) on PostgreSQL.

    uv run python benchmarks/sync_throughput.py \
        [--database-url postgresql://postgres@127.0.0.1:5432/portalsim_bench] \
        [--items 3000] [--seconds-limit 120]

The database is emptied, migrated and loaded with the catalogue; the app runs in-process and is
called through httpx's ASGI transport, so the figures are the portal's processing and the
database, with no network in between. Every reply is checked: a failed item aborts the run.
The baseline is raw single-row INSERTs with asyncpg, one autocommitted statement per row, into
a scratch table of the same database. See benchmarks/README.md for how to read the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information
import httpx
from fastapi import FastAPI
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url

from app.catalogue.repository import CatalogueRepository
from app.catalogue.service import CatalogueService
from app.core import migrations
from app.core.calendar import VIETNAM_TZ, WorkingCalendar
from app.core.config import Settings
from app.core.db import Database
from app.core.security import sync_credentials
from app.main import create_app
from app.sync.contract import MAX_BATCH, format_contract_date

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/portalsim_bench"
BATCH_SIZES = (1, 50, 500)
WARM_UP_ITEMS = 5  # one small call before each timed size
DOSSIERS_PER_DAY = 40  # one commune's one-stop desk: codes NNNN restart every working day
SECRET_KEY = "portalsim-benchmark-secret-of-at-least-32-bytes"
Service = Literal["DongBoHoSoMC", "CapNhatTienDoHoSoMC"]
RECORDS: Service = "DongBoHoSoMC"
STEPS: Service = "CapNhatTienDoHoSoMC"

FAMILY_NAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng")
MIDDLE_NAMES = ("Văn", "Thị", "Đức", "Minh", "Thanh", "Ngọc", "Hữu", "Quốc")
GIVEN_NAMES = ("An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hùng", "Lan", "Long", "Mai", "Nam")
OFFICERS = ("Nguyễn Thị Hạnh", "Trần Văn Phúc", "Lê Minh Tâm")


class BenchmarkFailed(Exception):
    """The portal answered something other than what the benchmark expected."""


@dataclass(frozen=True)
class Procedure:
    code: str
    name: str
    field: str
    processing_time: int
    processing_unit: Literal["working_day", "working_hour"]
    fees: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Dossier:
    """One dossier of the run: its code, its owner and the instants of its history."""

    number: int
    code: str
    submitted_at: datetime
    accepted_at: datetime
    due_at: datetime
    resolved_at: datetime


@dataclass(frozen=True)
class Measure:
    service: str
    batch_size: int
    calls: int
    items: int
    seconds: float
    requested: int

    @property
    def rate(self) -> float:
        return self.items / self.seconds if self.seconds else 0.0

    @property
    def cut_short(self) -> bool:
        return self.items < self.requested


# -- the database ----------------------------------------------------------------------------


def server_url(database_url: str, database: str) -> str:
    """The URL of another database of the same server, in the plain form asyncpg takes."""
    url = make_url(database_url).set(drivername="postgresql", database=database)
    return url.render_as_string(hide_password=False)


async def prepare_database(settings: Settings) -> None:
    """Create the database if missing, empty it, migrate it to head and load the catalogue."""
    name = make_url(settings.database_url).database or ""
    admin = await asyncpg.connect(server_url(settings.database_url, "postgres"))
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            # Identifiers cannot be parameters; the name was checked to be a plain word.
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    bench = await asyncpg.connect(server_url(settings.database_url, name))
    try:
        await bench.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        await bench.close()
    await migrate_and_load(settings)


async def migrate_and_load(settings: Settings) -> None:
    """Migrate the (empty) database to head and load the catalogue (seed 0, 3 communes)."""
    await asyncio.to_thread(migrations.upgrade, settings)
    database = Database.from_settings(settings)
    try:
        async with database.write() as session:
            await CatalogueService(CatalogueRepository(session)).load(
                seed=0, communes_per_province=3
            )
    finally:
        await database.dispose()


async def server_facts(database_url: str) -> str:
    """The server's version and the settings that decide what a commit costs."""
    connection = await asyncpg.connect(database_url)
    try:
        version = await connection.fetchval("SHOW server_version")
        fsync = await connection.fetchval("SHOW fsync")
        synchronous_commit = await connection.fetchval("SHOW synchronous_commit")
    finally:
        await connection.close()
    return f"PostgreSQL {version} (fsync {fsync}, synchronous_commit {synchronous_commit})"


# -- what a commune's back office sends --------------------------------------------------------


def working_days(calendar: WorkingCalendar, first: date) -> Iterator[date]:
    day = first
    while True:
        if calendar.is_working_day(day):
            yield day
        day += timedelta(days=1)


def schedule(
    calendar: WorkingCalendar, agency: str, procedure: Procedure, count: int
) -> list[Dossier]:
    """`count` dossiers received at the agency's desk, DOSSIERS_PER_DAY per working day, in
    the working days that end a few weeks before today (all of them resolved by now)."""
    days_needed = math.ceil(count / DOSSIERS_PER_DAY)
    # Working days are about 5 in 7 (fewer around Tết): start far enough back to fit them all.
    first = datetime.now(VIETNAM_TZ).date() - timedelta(days=days_needed * 7 // 4 + 60)
    slots_per_half_day = DOSSIERS_PER_DAY // 2
    if procedure.processing_unit == "working_day":
        processing = calendar.working_day_length * procedure.processing_time
    else:
        processing = timedelta(hours=procedure.processing_time)
    # Resolved halfway through the time the procedure allows, and at least half an hour on.
    to_resolve = max(processing / 2, timedelta(minutes=30))
    dossiers: list[Dossier] = []
    days = working_days(calendar, first)
    day = first
    for number in range(count):
        slot = number % DOSSIERS_PER_DAY
        if slot == 0:
            day = next(days)
        # Morning desk from 07:35, afternoon desk from 13:05, one citizen every 11 minutes.
        opens = (
            timedelta(hours=7, minutes=35)
            if slot < slots_per_half_day
            else timedelta(hours=13, minutes=5)
        )
        local = datetime(day.year, day.month, day.day, tzinfo=VIETNAM_TZ) + opens
        submitted = local + timedelta(minutes=11 * (slot % slots_per_half_day))
        accepted = submitted + timedelta(minutes=8)
        due = calendar.due_at(accepted, procedure.processing_time, procedure.processing_unit)
        resolved = calendar.add(calendar.clock_start(accepted), to_resolve)
        dossiers.append(
            Dossier(
                number=number,
                code=f"{agency}-{day:%y%m%d}-{slot + 1:04d}",
                submitted_at=submitted,
                accepted_at=accepted,
                due_at=due,
                resolved_at=resolved,
            )
        )
    return dossiers


def applicant_name(number: int) -> str:
    family = FAMILY_NAMES[number % len(FAMILY_NAMES)]
    middle = MIDDLE_NAMES[(number // 7) % len(MIDDLE_NAMES)]
    given = GIVEN_NAMES[(number // 3) % len(GIVEN_NAMES)]
    return f"{family} {middle} {given}"


def record(agency: str, procedure: Procedure, dossier: Dossier) -> dict[str, Any]:
    """DongBoHoSoMC: the dossier accepted and being processed (TrangThaiHoSo 4)."""
    return {
        "MaHoSo": dossier.code,
        "MaTTHC": procedure.code,
        "TenTTHC": procedure.name,
        "MaLinhVuc": procedure.field,
        "ChuHoSo": applicant_name(dossier.number),
        "LoaiDoiTuong": 1,
        # Hà Nội (001), a woman born in the 20th century (1), in 1990 (90), then 6 digits.
        "SoDinhDanh": f"001190{dossier.number:06d}",
        "NgayNopHoSo": format_contract_date(dossier.submitted_at),
        "NgayTiepNhan": format_contract_date(dossier.accepted_at),
        "NgayHenTra": format_contract_date(dossier.due_at),
        "TrangThaiHoSo": 4,
        "KenhThucHien": 2 if dossier.number % 4 == 0 else 1,
        "DonViXuLy": agency,
        "HoSoCoThanhPhanSoHoa": 1,
        "TaiKhoanDuocXacThucVoiVNeID": dossier.number % 2,
        "DuocThanhToanTrucTuyen": 0,
        "DanhSachLePhi": [{"MaPhiLePhi": code, "Gia": amount} for code, amount in procedure.fees],
    }


def step(dossier: Dossier) -> dict[str, Any]:
    """CapNhatTienDoHoSoMC: the dossier resolved (TrangThai 9)."""
    return {
        "MaHoSo": dossier.code,
        "TrangThai": 9,
        "ThoiDiemXuLy": format_contract_date(dossier.resolved_at),
        "NguoiXuLy": OFFICERS[dossier.number % len(OFFICERS)],
        "ChucDanh": "Công chức Văn phòng - Thống kê",
        "PhongBanXuLy": "Bộ phận Tiếp nhận và Trả kết quả",
        "NoiDungXuLy": "Đã xử lý xong, chuyển Bộ phận Một cửa trả kết quả",
        "NgayBatDau": format_contract_date(dossier.accepted_at),
        "NgayKetThucTheoQuyDinh": format_contract_date(dossier.due_at),
    }


# -- talking to the portal -------------------------------------------------------------------


class Portal:
    """The sync contract of an in-process app, seen by one commune's back office."""

    def __init__(self, client: httpx.AsyncClient, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self.agency = ""
        self.session = ""

    async def get(self, path: str, **params: str | int) -> Any:
        response = await self.client.get(path, params=params)
        if response.status_code != 200:
            raise BenchmarkFailed(f"GET {path} {params}: {response.status_code} {response.text}")
        return response.json()

    async def pick(self) -> tuple[str, Procedure]:
        """A commune-level procedure and the first commune agency that receives it."""
        page = await self.get("/api/v1/procedures", agency_level="commune", size=1)
        if not page["items"]:
            raise BenchmarkFailed("the catalogue has no commune-level procedure")
        found = page["items"][0]
        procedure = Procedure(
            code=found["code"],
            name=found["name"],
            field=found["field"],
            processing_time=found["processing_time"],
            processing_unit=found["processing_unit"],
            fees=tuple((fee["code"], fee["amount"]) for fee in found["fees"]),
        )
        agencies = await self.get("/api/v1/agencies", procedure=procedure.code, size=1)
        if not agencies["items"]:
            raise BenchmarkFailed(f"no agency receives procedure {procedure.code}")
        agency = agencies["items"][0]
        if agency["level"] != "commune" or procedure.field not in agency["field_codes"]:
            raise BenchmarkFailed(f"agency {agency['code']} does not handle {procedure.code}")
        return agency["code"], procedure

    async def log_in(self, agency: str) -> None:
        username, password = sync_credentials(self.settings, agency)
        response = await self.client.post(
            "/api/v1/sync/login", json={"username": username, "password": password}
        )
        body = response.json()
        if response.status_code != 200 or body.get("error_code") != 0:
            raise BenchmarkFailed(f"log-in as {agency}: {response.status_code} {body}")
        self.agency, self.session = agency, body["session"]

    def body(self, service: Service, items: Sequence[dict[str, Any]]) -> bytes:
        envelope = {"session": self.session, "madonvi": self.agency, "service": service}
        return json.dumps({**envelope, "data": list(items)}, ensure_ascii=False).encode()

    async def sync(self, service: Service, body: bytes, codes: Sequence[str]) -> None:
        """One call; BenchmarkFailed unless the call and every item went as expected."""
        response = await self.client.post(
            "/api/v1/sync", content=body, headers={"content-type": "application/json"}
        )
        check(service, response, codes)


def check(service: Service, response: httpx.Response, codes: Sequence[str]) -> None:
    try:
        reply = response.json()
    except ValueError as exc:
        raise BenchmarkFailed(f"{service}: HTTP {response.status_code}, not JSON") from exc
    if response.status_code != 200 or reply.get("error_code") != 0:
        raise BenchmarkFailed(f"{service}: HTTP {response.status_code} {reply}")
    results = reply.get("results", [])
    if len(results) != len(codes):
        raise BenchmarkFailed(f"{service}: {len(results)} results for {len(codes)} items")
    outcome, status = ("created", 4) if service == RECORDS else ("applied", 9)
    for code, result in zip(codes, results, strict=True):
        if (
            result["MaHoSo"] != code
            or result["error_code"] != 0
            or result["result"] != outcome
            or result["TrangThaiHoSo"] != status
        ):
            raise BenchmarkFailed(
                f"{service}: item {code} answered {result}; expected result {outcome!r}, "
                f"error_code 0 and TrangThaiHoSo {status}"
            )


async def timed_pass(
    portal: Portal,
    service: Service,
    batch_size: int,
    dossiers: Sequence[Dossier],
    warm_up: Sequence[Dossier],
    procedure: Procedure,
    seconds_limit: float,
) -> Measure:
    """One small call, then calls of `batch_size` items until all are sent or time is up."""

    def items(group: Sequence[Dossier]) -> list[dict[str, Any]]:
        if service == RECORDS:
            return [record(portal.agency, procedure, d) for d in group]
        return [step(d) for d in group]

    await portal.log_in(portal.agency)  # a fresh session: it outlives any one size
    try:
        await portal.sync(service, portal.body(service, items(warm_up)), [d.code for d in warm_up])
    except BenchmarkFailed as failure:
        raise BenchmarkFailed(f"warm-up call before batch size {batch_size}: {failure}") from None
    # Bodies are encoded before the clock starts: the client's JSON is not the portal's work.
    batches = [dossiers[at : at + batch_size] for at in range(0, len(dossiers), batch_size)]
    bodies = [(portal.body(service, items(b)), [d.code for d in b]) for b in batches]
    sent = calls = 0
    start = time.perf_counter()
    deadline = start + seconds_limit
    for body, codes in bodies:
        if time.perf_counter() >= deadline:
            break
        try:
            await portal.sync(service, body, codes)
        except BenchmarkFailed as failure:
            where = f"batch size {batch_size}, call {calls + 1}"
            raise BenchmarkFailed(f"{where}: {failure}") from None
        sent += len(codes)
        calls += 1
    seconds = time.perf_counter() - start
    return Measure(service, batch_size, calls, sent, seconds, len(dossiers))


# -- the baseline ----------------------------------------------------------------------------


async def raw_inserts(database_url: str, rows: int, seconds_limit: float, payload: str) -> Measure:
    """Single-row INSERTs, each its own transaction (asyncpg autocommits outside one)."""
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            "DROP TABLE IF EXISTS bench_rows; "
            "CREATE TABLE bench_rows (id bigserial PRIMARY KEY, code text UNIQUE, "
            "payload jsonb, at timestamptz)"
        )
        insert = "INSERT INTO bench_rows (code, payload, at) VALUES ($1, $2::jsonb, $3)"
        now = datetime.now(VIETNAM_TZ)
        await connection.execute(insert, "warm-up", payload, now)
        done = 0
        start = time.perf_counter()
        deadline = start + seconds_limit
        while done < rows and time.perf_counter() < deadline:
            await connection.execute(insert, f"row-{done:07d}", payload, now)
            done += 1
        seconds = time.perf_counter() - start
        return Measure("raw INSERT (asyncpg, autocommit)", 1, done, done, seconds, rows)
    finally:
        try:
            await connection.execute("DROP TABLE IF EXISTS bench_rows")
        finally:
            await connection.close()


# -- the run ---------------------------------------------------------------------------------


async def run_sync_passes(
    app: FastAPI, settings: Settings, items: int, seconds_limit: float
) -> tuple[list[Measure], str, Procedure]:
    # An exception in the app becomes the 500 it would be over the network, and then a
    # BenchmarkFailed with the reply, rather than a traceback from inside the transport.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://portal.bench") as client:
        portal = Portal(client, settings)
        agency, procedure = await portal.pick()
        portal.agency = agency
        per_size = items + WARM_UP_ITEMS
        everyone = schedule(app.state.calendar, agency, procedure, per_size * len(BATCH_SIZES))
        plans = {
            size: (
                everyone[k * per_size : k * per_size + WARM_UP_ITEMS],
                everyone[k * per_size + WARM_UP_ITEMS : (k + 1) * per_size],
            )
            for k, size in enumerate(BATCH_SIZES)
        }
        measures: list[Measure] = []
        created: dict[int, list[Dossier]] = {}
        for size, (warm_up, dossiers) in plans.items():
            measure = await timed_pass(
                portal, RECORDS, size, dossiers, warm_up, procedure, seconds_limit
            )
            measures.append(measure)
            created[size] = list(dossiers[: measure.items])
        for size, (warm_up, _) in plans.items():
            measures.append(
                await timed_pass(
                    portal, STEPS, size, created[size], warm_up, procedure, seconds_limit
                )
            )
        return measures, agency, procedure


def report(
    console: Console,
    measures: Sequence[Measure],
    baseline: Measure,
    *,
    server: str,
    agency: str,
    procedure: Procedure,
    seconds_limit: float,
) -> None:
    console.print(f"CPUs: {os.cpu_count()}   Python {sys.version.split()[0]}")
    console.print(server)
    console.print(f"Agency {agency}, procedure {procedure.code} ({procedure.field})")
    table = Table(title="Status sync throughput (in-process ASGI, one client, sequential calls)")
    table.add_column("service", no_wrap=True)
    for column in ("batch", "calls", "items", "seconds", "items/s", "ms/call", "× raw insert"):
        table.add_column(column, justify="right", no_wrap=True)
    for measure in [*measures, baseline]:
        ratio = measure.rate / baseline.rate if baseline.rate else float("nan")
        table.add_row(
            measure.service,
            str(measure.batch_size),
            str(measure.calls),
            f"{measure.items}{'*' if measure.cut_short else ''}",
            f"{measure.seconds:.2f}",
            f"{measure.rate:,.0f}",
            f"{1000 * measure.seconds / measure.calls:,.1f}" if measure.calls else "-",
            f"{ratio:.2f}",
        )
    console.print(table)
    if any(m.cut_short for m in [*measures, baseline]):
        console.print(f"* stopped by the time limit ({seconds_limit:g} s) before all items")


async def main(database_url: str, items: int, seconds_limit: float) -> None:
    # Piped output gets a fixed width, so that the table is not wrapped at 80 columns.
    console = Console(width=None if sys.stdout.isatty() else 120)
    with tempfile.TemporaryDirectory(prefix="portalsim-bench-") as documents:
        settings = Settings(
            database_url=database_url,
            secret_key=SECRET_KEY,
            document_dir=Path(documents),
            _env_file=None,
        )
        console.print(f"Preparing {make_url(database_url).database} (empty, migrate, catalogue)")
        await prepare_database(settings)
        server = await server_facts(database_url)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            console.print(f"Syncing up to {items} items per batch size {BATCH_SIZES}")
            measures, agency, procedure = await run_sync_passes(app, settings, items, seconds_limit)
        payload = json.dumps(
            record(agency, procedure, schedule(app.state.calendar, agency, procedure, 1)[0]),
            ensure_ascii=False,
        )
        console.print(f"Baseline: up to {items} single-row INSERTs")
        baseline = await raw_inserts(database_url, items, seconds_limit, payload)
    report(
        console,
        measures,
        baseline,
        server=server,
        agency=agency,
        procedure=procedure,
        seconds_limit=seconds_limit,
    )


def check_bench_url(parser: argparse.ArgumentParser, database_url: str) -> None:
    """A PostgreSQL database named *bench*: the run drops its public schema, so never one that
    is not a benchmark's own (nor the test suite's)."""
    url = make_url(database_url)
    name = url.database or ""
    if not url.drivername.startswith("postgres"):
        parser.error("the benchmark runs on PostgreSQL: give a postgresql:// URL")
    if "bench" not in name or not name.replace("_", "").isalnum() or "test" in name:
        parser.error(f"{name!r}: the run empties its database, so it must be named *bench*")


def arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--items", type=int, default=3000, help="items per batch size and pass")
    parser.add_argument(
        "--seconds-limit", type=float, default=120.0, help="time limit of each timed loop"
    )
    args = parser.parse_args(argv)
    check_bench_url(parser, args.database_url)
    if not 1 <= args.items <= 300_000:
        # Every dossier of the run has its own SoDinhDanh, numbered in 6 digits.
        parser.error("--items is from 1 to 300000")
    if args.seconds_limit <= 0:
        parser.error("--seconds-limit must be positive")
    return args


if __name__ == "__main__":
    assert max(BATCH_SIZES) <= MAX_BATCH
    options = arguments()
    try:
        asyncio.run(main(options.database_url, options.items, options.seconds_limit))
    except BenchmarkFailed as failure:
        Console(stderr=True).print(f"[bold red]Benchmark aborted:[/] {failure}")
        sys.exit(1)
