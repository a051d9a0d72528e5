"""The portal's commands of `portalsim` (serve, migrate, seed, gateway, agencies, reconcile);
the entry point, portalsim/cli.py, mounts them beside the load harness's (loadtest/cli.py).

Start-up time matters twice here: every command pays for what this module imports, and so does
every worker process of `serve --workers N`, which re-imports the entry script (which imports
this module) before it can answer uvicorn's health ping. So the module level holds only the
standard library, Typer, Rich's console and the settings; each command imports SQLAlchemy,
Alembic, uvicorn, httpx or the app when it runs.

A mistake someone can fix (a bad option value, unreadable settings, a database that is
unreachable or has no schema) ends in one line on stderr and exit code 2, never a traceback:
see `CommandGroup.invoke` and `_explain`.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.console import Console
from typer.core import TyperGroup

if TYPE_CHECKING:
    # Typer carries its own copy of Click; these are the classes its commands are made of.
    from pydantic import ValidationError
    from typer import _click as click

    from app.core.config import Settings


class CommandGroup(TyperGroup):
    """The command group: one line and exit code 2 for a mistake, and flags shown as flags.
    The entry point's group is one too, so the harness's commands answer the same way."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except typer.TyperException as exc:
            # Usage errors (a bad option value, a missing argument): Click's usage block and
            # boxed message become one line.
            where = getattr(getattr(exc, "ctx", None), "command_path", None) or ctx.command_path
            problem = exc.format_message().replace("Value error, ", "")  # from Literal choices
            _say(f"{where}: {problem} (see {where} --help)")
            raise typer.Exit(2) from None
        except Exception as exc:
            explained = _explain(exc)
            if explained is None:
                raise
            _say(explained)
            raise typer.Exit(2) from None

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _show_flags_as_flags(command, ctx)
        return command

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        _show_flags_as_flags(self, ctx)  # --install-completion and the others
        super().format_help(ctx, formatter)


def _show_flags_as_flags(command: click.Command, ctx: click.Context) -> None:
    """Typer's help prints every option's type, `<bool>` after a flag too, as if `--json` took
    a value; an empty metavar leaves a flag's type column blank (a flag has no value to name)."""
    help_option = command.get_help_option(ctx)
    for param in (*command.params, *([help_option] if help_option else [])):
        if getattr(param, "is_flag", False):
            param.metavar = ""


app = typer.Typer(
    cls=CommandGroup,
    help="portalsim: a mock of Vietnam's National Public Service Portal.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    # Markdown: a docstring's lines join into paragraphs (rich mode keeps each line break).
    rich_markup_mode="markdown",
)
console = Console(stderr=True)

# app.core.http_server's ServerName (that module imports uvicorn: not at start). granian by
# default: 1.38x uvicorn's rate on the hot paths, 1 and 2 workers (benchmarks/README.md).
HttpServer = Literal["uvicorn", "granian"]
DEFAULT_SERVER: HttpServer = "granian"
ServerOption = Annotated[
    HttpServer,
    typer.Option(
        help="the HTTP server: granian (Rust, on uvloop) or uvicorn (uvloop, httptools); "
        "benchmarks/README.md compares them on the hot paths"
    ),
]
AccessLog = Annotated[
    bool,
    typer.Option(
        "--access-log/--no-access-log",
        help="log a line per request (off by default: under load it costs CPU per request, "
        "and /metrics already counts requests by route and status)",
    ),
]
# app.core.config's MIN_CONNECTION_TIMEOUT, for the flags (that module is not imported at start).
MIN_CONNECTION_TIMEOUT = 0.1
HeaderTimeout = Annotated[
    float | None,
    typer.Option(
        min=MIN_CONNECTION_TIMEOUT,
        help="seconds a connection has to send a request's line and headers, from its opening "
        "or the request's first byte, before it is closed (default: settings' "
        "HTTP_HEADER_TIMEOUT_SECONDS, 10)",
    ),
]
KeepAliveTimeout = Annotated[
    float | None,
    typer.Option(
        min=MIN_CONNECTION_TIMEOUT,
        help="seconds a connection may sit idle after a response before it is closed "
        "(default: settings' HTTP_KEEP_ALIVE_TIMEOUT_SECONDS, 5)",
    ),
]
# The CPUs this process may run on (a container's or taskset's limit), for --workers' help.
CPUS = len(os.sched_getaffinity(0))


def _say(message: str) -> None:
    """One line on stderr, whatever the terminal's width."""
    console.print(message, style="red", markup=False, soft_wrap=True, highlight=False)


def _refuse(message: str) -> typer.Exit:
    """Print why a command cannot go on, on one line; raise the returned exit (code 2)."""
    _say(message)
    return typer.Exit(2)


def get_settings() -> Settings:
    """`app.core.config.get_settings` (cached there), imported on first call: pydantic-settings
    costs half a second, which `portalsim --help` need not pay."""
    from app.core.config import get_settings as cached_settings

    return cached_settings()


def _settings() -> Settings:
    """The settings, or one line naming each problem and exit 2 (not a validation traceback)."""
    from pydantic import ValidationError

    try:
        return get_settings()
    except ValidationError as exc:
        raise _refuse(_settings_problems(exc)) from None


def _settings_problems(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]).upper() or "settings"
        problems.append(f"{where}: {error['msg'].removeprefix('Value error, ')}")
    return "; ".join(problems)


def _shown_url(url: str) -> str:
    """A database URL fit to print: its password masked."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return url


def _from_database(traceback: TracebackType | None) -> bool:
    """Whether an exception came up through the database drivers (or SQLAlchemy, Alembic)."""
    drivers = ("asyncpg", "aiosqlite", "sqlite3", "sqlalchemy", "alembic")
    while traceback is not None:
        if str(traceback.tb_frame.f_globals.get("__name__", "")).startswith(drivers):
            return True
        traceback = traceback.tb_next
    return False


def _explain(exc: Exception) -> str | None:
    """One line for a mistake someone can fix, or None for anything else (a bug: let it show).

    Settings that do not validate, and the database's usual refusals: unreachable, no such
    database, wrong credentials, no schema yet."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError) and exc.title == "Settings":
        return _settings_problems(exc)
    if isinstance(exc, OSError) and exc.filename and exc.strerror:
        # A path in the settings that cannot be made or written, e.g. DOCUMENT_DIR, var/.
        return f"{exc.filename}: {exc.strerror}"
    if not _from_database(exc.__traceback__):
        return None
    from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

    try:
        where = _shown_url(get_settings().database_url)
    except ValidationError:
        where = "DATABASE_URL"
    if isinstance(exc, ArgumentError | NoSuchModuleError):
        return f"DATABASE_URL {where}: {exc}"
    reason = str(exc.orig if isinstance(exc, DBAPIError) else exc).strip().splitlines()
    first = reason[0] if reason else type(exc).__name__
    if "no such table" in first or ("relation" in first and "does not exist" in first):
        return (
            f"the database at {where} has no schema: run `portalsim migrate` "
            "(or `make serve`) first"
        )
    if isinstance(exc, OSError | TimeoutError):
        return f"cannot reach the database at {where}: {first or 'timed out'}"
    if isinstance(exc, DBAPIError):
        return f"cannot use the database at {where}: {first}"
    return None


NATIONAL_ACCOUNTS = 3_600_000
AgencyLevel = Literal["central", "province", "commune"]


async def _load_catalogue(settings: Settings, *, only_if_empty: bool) -> dict[str, int] | None:
    from app.catalogue.repository import CatalogueRepository
    from app.catalogue.service import CatalogueService
    from app.core.db import Database

    database = Database.from_settings(settings)
    try:
        async with database.write() as session:
            repository = CatalogueRepository(session)
            if only_if_empty and await repository.get_procedure_count() > 0:
                return None
            return await CatalogueService(repository).load(
                seed=settings.catalogue_seed,
                communes_per_province=settings.communes_per_province,
            )
    finally:
        await database.dispose()


async def _schema_revision(settings: Settings) -> str | None:
    from app.core import migrations
    from app.core.db import Database

    database = Database.from_settings(settings)
    try:
        async with database.read_engine.connect() as connection:
            return await migrations.current_revision(connection)
    finally:
        await database.dispose()


def _sqlite_path(settings: Settings) -> Path | None:
    """The file of a SQLite database (None for PostgreSQL or an in-memory database)."""
    if not settings.is_sqlite or "///" not in settings.database_url:
        return None
    return Path(settings.database_url.split("///", 1)[1])


def _require_schema(settings: Settings) -> None:
    """Stop, in one line saying what to run first, unless the database exists and has a
    schema. Checked before connecting: SQLite would create an empty file on connection."""
    path = _sqlite_path(settings)
    if path is not None and not path.exists():
        raise _refuse(
            f"no database at {path}: run `portalsim migrate` and `portalsim seed` "
            "(or `make serve`) first"
        )
    if asyncio.run(_schema_revision(settings)) is None:
        raise _refuse(
            f"the database at {_shown_url(settings.database_url)} has no schema: run "
            "`portalsim migrate` and `portalsim seed` (or `make serve`) first"
        )


@app.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="target revision")] = "head",
    downgrade: Annotated[
        bool, typer.Option("--downgrade", help="downgrade to REVISION instead")
    ] = False,
) -> None:
    """Bring the database schema to a revision (head by default)."""
    from alembic.util import CommandError

    from app.core import migrations

    settings = _settings()
    try:
        if downgrade:
            migrations.downgrade(settings, revision)
        else:
            migrations.upgrade(settings, revision)
    except CommandError as exc:  # an unknown or ambiguous revision
        raise _refuse(f"revision {revision!r}: {exc}") from None
    console.print(f"[green]schema at {revision}[/green] ({_shown_url(settings.database_url)})")


@app.command()
def seed(
    accounts: Annotated[
        int,
        typer.Option(
            min=0, help=f"citizen and business accounts (national: {NATIONAL_ACCOUNTS:,})"
        ),
    ] = 0,
    catalogue: Annotated[
        bool, typer.Option(help="load the provinces, agencies and procedures")
    ] = True,
    batch: Annotated[int, typer.Option(min=1_000, help="accounts per transaction")] = 100_000,
) -> None:
    """Load the deterministic catalogue and accounts. Safe to re-run: nothing is duplicated."""
    from app.core import migrations

    settings = _settings()
    migrations.upgrade(settings)
    if catalogue:
        counts = asyncio.run(_load_catalogue(settings, only_if_empty=False))
        console.print(f"catalogue: {counts}")
    if accounts:
        started = time.perf_counter()
        asyncio.run(_seed_accounts(settings, accounts, batch))
        console.print(f"accounts: {accounts:,} in {time.perf_counter() - started:.1f} s")


async def _seed_accounts(settings: Settings, total: int, batch: int) -> None:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from app.accounts.repository import AccountRepository
    from app.accounts.service import seed_accounts
    from app.core.db import Database

    database = Database.from_settings(settings)
    now = datetime.now(UTC)
    columns = (
        TextColumn("accounts"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("accounts", total=total)
            for start in range(0, total, batch):
                stop = min(start + batch, total)
                # One transaction per batch: an interrupted run keeps what it loaded.
                async with database.write() as session:
                    await seed_accounts(
                        AccountRepository(session),
                        start=start,
                        stop=stop,
                        seed=settings.catalogue_seed,
                        now=now,
                    )
                progress.update(task, completed=stop)
    finally:
        await database.dispose()


def _warn_of_demo_secrets(settings: Settings) -> None:
    """One line when a server starts on public demo secrets (a shared deployment refuses them
    when the settings are read)."""
    from app.core.config import demo_secrets

    names = demo_secrets(settings)
    if names:
        console.print(
            f"warning: {' and '.join(names)} {'is' if len(names) == 1 else 'are'} the public "
            "demo value: fine on this machine; set your own and DEPLOYMENT=shared on anything "
            "others can reach",
            style="yellow",
            markup=False,
            soft_wrap=True,
            highlight=False,
        )


def _connection_timeouts(
    settings: Settings,
    server: HttpServer,
    header_timeout: float | None,
    keep_alive_timeout: float | None,
) -> tuple[float, float]:
    """The connections' header and keep-alive timeouts: the flags', else the settings'; one
    line and exit 2 for timeouts granian cannot take (its one timer serves both)."""
    from app.core.http_server import GRANIAN_MAX_TIMEOUT

    header = header_timeout or settings.http_header_timeout_seconds
    keep_alive = keep_alive_timeout or settings.http_keep_alive_timeout_seconds
    if server == "granian" and min(header, keep_alive) > GRANIAN_MAX_TIMEOUT:
        raise _refuse(
            f"--header-timeout {header:g} and --keep-alive-timeout {keep_alive:g} (or their "
            f"settings): granian closes both kinds of wait with one timer of at most "
            f"{GRANIAN_MAX_TIMEOUT:g} s; lower one, or serve with --server uvicorn"
        )
    return header, keep_alive


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default: settings' HOST")] = None,
    port: Annotated[
        int | None, typer.Option(min=0, max=65_535, help="default: settings' PORT")
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, help=f"worker processes (this machine has {CPUS} CPUs)")
    ] = 1,
    server: ServerOption = DEFAULT_SERVER,
    access_log: AccessLog = False,
    header_timeout: HeaderTimeout = None,
    keep_alive_timeout: KeepAliveTimeout = None,
    migrate_first: Annotated[
        bool | None,
        typer.Option(
            "--migrate/--no-migrate",
            help="bring the schema to head first (default: yes on SQLite, no on PostgreSQL)",
        ),
    ] = None,
) -> None:
    """Serve the portal; on a fresh database, also create the schema and load the catalogue."""
    from app.core import migrations
    from app.core.faults import FaultSyntaxError

    settings = _settings()
    header, keep_alive = _connection_timeouts(settings, server, header_timeout, keep_alive_timeout)
    if settings.portal_faults_enabled:
        from app.main import portal_fault_rules

        try:
            portal_fault_rules(settings)
        except FaultSyntaxError as exc:
            raise _refuse(f"PORTAL_FAULTS: {exc}") from None
    if migrate_first if migrate_first is not None else settings.is_sqlite:
        migrations.upgrade(settings)
    revision = asyncio.run(_schema_revision(settings))
    if revision != migrations.head_revision():
        raise _refuse(
            f"the schema of {_shown_url(settings.database_url)} is at {revision or 'nothing'}, "
            "not at head: run `portalsim migrate` (or serve with --migrate)"
        )
    counts = asyncio.run(_load_catalogue(settings, only_if_empty=True))
    if counts:
        console.print(f"loaded the catalogue: {counts}")
    if settings.clock_mode == "accelerated":
        # Workers are separate processes that read settings from the environment: they must
        # agree on the start and the anchor (or the file that will name it).
        now = datetime.now(UTC).isoformat()
        if settings.clock_anchor is None and settings.clock_anchor_file is None:
            os.environ["CLOCK_ANCHOR"] = now
        if settings.clock_start is None:
            os.environ["CLOCK_START"] = now
        from app.core import config

        config.get_settings.cache_clear()  # a single worker builds its app in this process
    _warn_of_demo_secrets(settings)
    from app.core.http_server import run_server

    run_server(
        server,
        "app.main:create_app",
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        access_log=access_log,
        header_timeout=header,
        keep_alive_timeout=keep_alive,
    )


@app.command()
def gateway(
    host: Annotated[str | None, typer.Option(help="default: settings' GATEWAY_HOST")] = None,
    port: Annotated[
        int | None, typer.Option(min=0, max=65_535, help="default: settings' GATEWAY_PORT")
    ] = None,
    server: ServerOption = DEFAULT_SERVER,
    access_log: AccessLog = False,
    header_timeout: HeaderTimeout = None,
    keep_alive_timeout: KeepAliveTimeout = None,
) -> None:
    """Serve the mock VNPay payment gateway, creating its ledger (GATEWAY_DATABASE_URL) first."""
    from app.core.faults import FaultSyntaxError
    from app.gateway.faults import parse_faults

    settings = _settings()
    header, keep_alive = _connection_timeouts(settings, server, header_timeout, keep_alive_timeout)
    try:
        parse_faults(settings.gateway_faults)
    except FaultSyntaxError as exc:
        raise _refuse(f"GATEWAY_FAULTS: {exc}") from None
    _warn_of_demo_secrets(settings)
    from app.core.http_server import run_server

    run_server(
        server,
        "app.gateway.main:create_gateway_app",
        host=host or settings.gateway_host,
        port=port or settings.gateway_port,
        access_log=access_log,
        header_timeout=header,
        keep_alive_timeout=keep_alive,
    )


@app.command()
def agencies(
    as_json: Annotated[
        bool, typer.Option("--json", help="print a JSON array with every field")
    ] = False,
    wide: Annotated[
        bool,
        typer.Option(
            "--wide",
            help="add each back-office key and sync password, never cut: one agency a line, "
            "however wide (the sync username is the code)",
        ),
    ] = False,
    level: Annotated[AgencyLevel | None, typer.Option(help="only agencies of this level")] = None,
    province: Annotated[int | None, typer.Option(min=1, help="province code")] = None,
) -> None:
    """List every agency: code, level, province, name; --wide or --json add its keys."""
    settings = _settings()
    _require_schema(settings)
    rows = asyncio.run(_agencies(settings, level, province))
    if not rows and level is None and province is None:
        raise _refuse(
            f"the catalogue of {_shown_url(settings.database_url)} is empty: run "
            "`portalsim seed` (or `make serve`) first"
        )
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    _print_agencies(rows, wide=wide)


def _print_agencies(rows: list[dict[str, Any]], *, wide: bool) -> None:
    """Codes, keys and passwords are copied by hand or by script: never cut or folded. The
    narrow table fits 80 columns by wrapping names; the wide one is as wide as its rows."""
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("code", no_wrap=True)
    table.add_column("level", no_wrap=True)
    table.add_column("prov", no_wrap=True, justify="right")
    table.add_column("name", no_wrap=wide, overflow="fold", ratio=1)
    if wide:
        table.add_column("key", no_wrap=True)
        table.add_column("sync password", no_wrap=True)
    for row in rows:
        cells = [row["code"], row["level"], str(row["province_code"] or ""), row["name"]]
        if wide:
            cells += [row["key"], row["sync_password"]]
        table.add_row(*cells)
    out = Console(highlight=False)
    if wide:
        # As wide as the table needs, whatever the terminal: a terminal wraps a long line
        # visually, but copying it (or piping it) keeps every key whole.
        width = Console(width=100_000).measure(table).maximum
        out = Console(highlight=False, width=width)
    out.print(table)
    if not wide:
        console.print(
            "keys and sync passwords: --wide or --json (the sync username is the code)",
            style="dim",
            markup=False,
            soft_wrap=True,
            highlight=False,
        )


async def _agencies(
    settings: Settings, level: str | None, province: int | None
) -> list[dict[str, Any]]:
    from app.catalogue.repository import CatalogueRepository
    from app.core.db import Database
    from app.core.security import agency_key, sync_credentials

    database = Database.from_settings(settings)
    try:
        async with database.read() as session:
            found = await CatalogueRepository(session).all_agencies(
                level=level, province_code=province
            )
    finally:
        await database.dispose()
    return [
        {
            "code": a.code,
            "name": a.name,
            "level": a.level,
            "province_code": a.province_code,
            "key": agency_key(settings, a.code),
            "sync_username": sync_credentials(settings, a.code)[0],
            "sync_password": sync_credentials(settings, a.code)[1],
        }
        for a in found
    ]


@app.command()
def reconcile(
    after_minutes: Annotated[
        float | None,
        typer.Option(
            min=0,
            help="only payments pending at least this long (default: settings' "
            "PAYMENT_RECONCILE_AFTER_MINUTES, 5)",
        ),
    ] = None,
) -> None:
    """Settle pending payments from the gateway's ledger (querydr), expire abandoned ones and
    refund payments of dossiers stopped or refused; prints what it found."""
    settings = _settings()
    if after_minutes is not None:
        settings = settings.model_copy(update={"payment_reconcile_after_minutes": after_minutes})
    _require_schema(settings)
    report = asyncio.run(_reconcile(settings))
    typer.echo(json.dumps(dict(sorted(report.items())), ensure_ascii=False))


async def _reconcile(settings: Settings) -> dict[str, int]:
    # Imported here, not at module level: they pull in the whole app (see the docstring).
    from app.catalogue.cache import CatalogueCache
    from app.core.calendar import calendar_from_settings
    from app.core.clock import clock_from_settings
    from app.core.db import Database
    from app.main import document_store_from_settings
    from app.payments.gateway_client import GatewayClient, gateway_http_client
    from app.payments.reconciler import reconcile_once
    from app.services import Services

    database = Database.from_settings(settings)
    try:
        async with gateway_http_client() as http:
            services = Services(
                settings=settings,
                database=database,
                calendar=calendar_from_settings(settings),
                clock=clock_from_settings(settings),
                document_store=document_store_from_settings(settings),
                gateway=GatewayClient(settings, http),
                catalogue_cache=CatalogueCache(database, settings.catalogue_cache_seconds),
            )
            return dict(await reconcile_once(services))
    finally:
        await database.dispose()


if __name__ == "__main__":
    app()
