"""The portalsim command on the mistakes a newcomer makes: each one is a single line saying what
to do, with exit code 2, never a traceback; and what its output and help look like.

Synchronous tests: the commands run their own event loops, as they do from a shell."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from app.cli import _agencies
from app.core.config import DEMO_SECRET_KEY, DEMO_VNPAY_HASH_SECRET, Settings, get_settings
from app.core.http_server import WORKER_HEALTHCHECK_SECONDS
from portalsim.cli import app
from tests.support.servers import record_serving

runner = CliRunner()
UNREACHABLE = "postgresql://portalsim:hunter2-secret@127.0.0.1:1/nowhere"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """A clean environment for the settings: no faults, the test secret, cache cleared."""
    for name in ("PORTAL_FAULTS", "PORTAL_FAULTS_ENABLED", "DEPLOYMENT", "VNPAY_HASH_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GATEWAY_FAULTS", "")
    monkeypatch.setenv("SECRET_KEY", "portalsim-test-secret-of-at-least-32-bytes")
    monkeypatch.setenv("VNPAY_HASH_SECRET", "portalsim-test-vnpay-secret-of-32-bytes")
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


@pytest.fixture
def served(env: pytest.MonkeyPatch) -> dict[str, Any]:
    """What the command would serve, whichever server (run_server's arguments)."""
    return record_serving(env)


@pytest.fixture
def uvicorn_served(env: pytest.MonkeyPatch) -> dict[str, Any]:
    """uvicorn.run replaced by a recorder of its arguments."""
    calls: dict[str, Any] = {}

    def fake_run(target: str, **kwargs: Any) -> None:
        calls.update(kwargs, target=target)

    env.setattr("uvicorn.run", fake_run)
    return calls


@pytest.fixture
def granian_served(env: pytest.MonkeyPatch) -> dict[str, Any]:
    """granian's server replaced by a recorder of its arguments (and of `serve()` called)."""
    calls: dict[str, Any] = {}

    class RecordingServer:
        def __init__(self, target: str, **kwargs: Any) -> None:
            calls.update(kwargs, target=target)

        def serve(self) -> None:
            calls["serving"] = True

    env.setattr("granian.server.Server", RecordingServer)
    return calls


def _one_line(*args: str) -> str:
    """The command's only line of output, after checking it failed with exit code 2."""
    result = runner.invoke(app, list(args), prog_name="portalsim")
    assert result.exit_code == 2, (result.output, result.exception)
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


# --- a database that is not there yet, or cannot be reached -----------------------------------


def test_agencies_on_a_database_not_created_yet_says_what_to_run(
    scratch_settings: Settings, env: pytest.MonkeyPatch
) -> None:
    env.setenv("DATABASE_URL", scratch_settings.database_url)
    line = _one_line("agencies")
    assert "run `portalsim migrate`" in line
    if scratch_settings.is_sqlite:  # and the look did not create an empty file
        assert not Path(scratch_settings.database_url.split("///", 1)[1]).exists()


def test_reconcile_on_a_database_without_schema_says_what_to_run(
    scratch_settings: Settings, env: pytest.MonkeyPatch
) -> None:
    env.setenv("DATABASE_URL", scratch_settings.database_url)
    assert "run `portalsim migrate`" in _one_line("reconcile")


def test_agencies_on_an_empty_catalogue_says_to_seed(
    scratch_settings: Settings, env: pytest.MonkeyPatch
) -> None:
    env.setenv("DATABASE_URL", scratch_settings.database_url)
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    assert "is empty: run `portalsim seed`" in _one_line("agencies")


@pytest.mark.parametrize(
    "command",
    [["agencies"], ["migrate"], ["seed"], ["reconcile"], ["serve", "--no-migrate"]],
)
def test_an_unreachable_postgresql_is_one_line_without_the_password(
    served: dict[str, Any], env: pytest.MonkeyPatch, command: list[str]
) -> None:
    env.setenv("DATABASE_URL", UNREACHABLE)
    line = _one_line(*command)
    assert line.startswith("cannot reach the database at postgresql://portalsim:***@127.0.0.1:1/")
    assert "hunter2" not in line
    assert served == {}


@pytest.mark.parametrize("command", ["agencies", "migrate", "seed", "reconcile", "serve"])
def test_a_database_url_of_another_kind_is_refused_by_the_settings(
    served: dict[str, Any], env: pytest.MonkeyPatch, command: str
) -> None:
    env.setenv("DATABASE_URL", "mysql://root@localhost/portal")
    assert _one_line(command) == (
        "DATABASE_URL: 'mysql://root@localhost/portal' is not a database URL portalsim can "
        "use: give sqlite:///PATH or postgresql://USER@HOST:PORT/DATABASE"
    )
    assert served == {}


def test_a_database_url_with_a_bad_port_is_refused_by_the_settings(
    served: dict[str, Any], env: pytest.MonkeyPatch
) -> None:
    env.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:pg/portal")
    assert _one_line("serve").startswith("DATABASE_URL: 'postgresql://postgres@127.0.0.1:pg/")
    assert served == {}


@pytest.mark.postgres_only
def test_a_postgresql_database_not_created_is_one_line(
    base_settings: Settings, env: pytest.MonkeyPatch
) -> None:
    url = make_url(base_settings.database_url).set(database="portalsim_no_such_database")
    env.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
    assert _one_line("agencies").endswith(
        'portalsim_no_such_database: database "portalsim_no_such_database" does not exist'
    )


def test_a_database_path_that_cannot_be_made_is_one_line(
    tmp_path: Path, env: pytest.MonkeyPatch
) -> None:
    (tmp_path / "var").write_text("a file, not a folder", encoding="utf-8")
    env.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'var' / 'portalsim.db'}")
    assert _one_line("migrate").startswith(f"{tmp_path / 'var'}: ")


def test_migrate_to_an_unknown_revision_is_one_line(
    scratch_settings: Settings, env: pytest.MonkeyPatch
) -> None:
    env.setenv("DATABASE_URL", scratch_settings.database_url)
    assert _one_line("migrate", "nosuchrevision").startswith("revision 'nosuchrevision': ")


def test_serve_on_a_schema_behind_head_is_exit_2(
    served: dict[str, Any], scratch_settings: Settings, env: pytest.MonkeyPatch
) -> None:
    env.setenv("DATABASE_URL", scratch_settings.database_url)
    assert runner.invoke(app, ["migrate", "base"]).exit_code == 0
    assert "not at head: run `portalsim migrate`" in _one_line("serve", "--no-migrate")
    assert served == {}


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["agencies", "--level", "mayor"], "portalsim agencies: Invalid value for '--level'"),
        (["agencies", "--province", "zero"], "portalsim agencies: Invalid value for '--province'"),
        (["serve", "--port", "70000"], "portalsim serve: Invalid value for '--port'"),
        (["seed", "--batch", "10"], "portalsim seed: Invalid value for '--batch'"),
        (["report"], "portalsim report: Missing argument"),
        (["agencie"], "portalsim: No such command 'agencie'. Did you mean 'agencies'"),
    ],
)
def test_a_bad_option_value_is_one_line(served: dict[str, Any], args: list[str], says: str) -> None:
    assert _one_line(*args).startswith(says)
    assert served == {}


def test_a_bug_is_not_dressed_up_as_a_mistake(env: pytest.MonkeyPatch) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("a bug")

    env.setattr("app.cli._settings", broken)
    result = runner.invoke(app, ["agencies"])
    assert isinstance(result.exception, RuntimeError)


# --- the agencies table and the help ---------------------------------------------------------


def test_the_agencies_table_fits_80_columns_without_cutting_codes(
    settings: Settings, env: pytest.MonkeyPatch
) -> None:
    env.setenv("DATABASE_URL", settings.database_url)
    env.setenv("COLUMNS", "80")
    result = runner.invoke(app, ["agencies", "--level", "province", "--province", "1"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    codes = [line.split()[0] for line in lines if line.startswith("000.00.")]
    assert len(codes) == 14
    assert all(len(code) == len("000.00.01.H01") for code in codes)
    assert "keys and sync passwords: --wide or --json" in result.output


def test_the_wide_agencies_table_keeps_every_key_and_password_whole(
    settings: Settings, env: pytest.MonkeyPatch
) -> None:
    env.setenv("DATABASE_URL", settings.database_url)
    env.setenv("COLUMNS", "80")
    result = runner.invoke(app, ["agencies", "--wide", "--level", "commune"])
    assert result.exit_code == 0, result.output
    rows = asyncio.run(_agencies(settings, "commune", None))
    lines = result.output.splitlines()
    for row in rows:
        (line,) = (line for line in lines if line.startswith(row["code"]))
        assert row["key"] in line
        assert row["sync_password"] in line
        assert row["name"] in line


@pytest.mark.parametrize("args", [["--help"], ["agencies", "--help"], ["migrate", "--help"]])
def test_help_shows_flags_as_flags(env: pytest.MonkeyPatch, args: list[str]) -> None:
    env.setenv("COLUMNS", "120")
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output
    assert "--help" in result.output
    if args[0] == "agencies":
        assert "--json" in result.output
        assert "--wide" in result.output
        assert "<central|province|commune>" in result.output  # a value's type still shows


# --- demo secrets -----------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["serve", "gateway"])
def test_servers_warn_of_demo_secrets_in_one_line(
    served: dict[str, Any], settings: Settings, env: pytest.MonkeyPatch, command: str
) -> None:
    env.setenv("DATABASE_URL", settings.database_url)
    env.setenv("SECRET_KEY", DEMO_SECRET_KEY)
    env.setenv("VNPAY_HASH_SECRET", DEMO_VNPAY_HASH_SECRET)
    result = runner.invoke(app, [command, "--port", "18000"])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert warnings == [
        "warning: SECRET_KEY and VNPAY_HASH_SECRET are the public demo value: fine on this "
        "machine; set your own and DEPLOYMENT=shared on anything others can reach"
    ]
    assert served["port"] == 18000


def test_servers_with_their_own_secrets_do_not_warn(
    served: dict[str, Any], settings: Settings, env: pytest.MonkeyPatch
) -> None:
    env.setenv("DATABASE_URL", settings.database_url)
    env.setenv("DEPLOYMENT", "shared")
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output
    assert served["target"] == "app.main:create_app"


@pytest.mark.parametrize("command", ["serve", "gateway", "agencies", "migrate"])
@pytest.mark.parametrize(
    ("demo", "names"),
    [
        ({"SECRET_KEY": DEMO_SECRET_KEY}, "SECRET_KEY is the public demo value"),
        (
            {"SECRET_KEY": "portalsim-compose-demo-secret-not-for-any-real-use"},
            "SECRET_KEY is the public demo value",
        ),
        ({"VNPAY_HASH_SECRET": DEMO_VNPAY_HASH_SECRET}, "VNPAY_HASH_SECRET is the public demo"),
    ],
)
def test_a_shared_deployment_refuses_demo_secrets(
    served: dict[str, Any],
    env: pytest.MonkeyPatch,
    command: str,
    demo: dict[str, str],
    names: str,
) -> None:
    env.setenv("DEPLOYMENT", "shared")
    for name, value in demo.items():
        env.setenv(name, value)
    line = _one_line(command)
    assert line.startswith(f"settings: {names}")
    assert "DEPLOYMENT=shared: set your own" in line
    assert served == {}


def test_deployment_is_local_or_shared(served: dict[str, Any], env: pytest.MonkeyPatch) -> None:
    env.setenv("DEPLOYMENT", "public")
    assert _one_line("serve").startswith("DEPLOYMENT: Input should be 'local' or 'shared'")
    assert served == {}


# --- start-up ---------------------------------------------------------------------------------


def test_uvicorn_gives_workers_time_to_start(
    uvicorn_served: dict[str, Any], settings: Settings, env: pytest.MonkeyPatch
) -> None:
    env.setenv("DATABASE_URL", settings.database_url)
    result = runner.invoke(app, ["serve", "--server", "uvicorn", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert uvicorn_served["workers"] == 2
    # uvicorn's default, 5 s, killed cold workers on this machine: several times that.
    assert uvicorn_served["timeout_worker_healthcheck"] == WORKER_HEALTHCHECK_SECONDS >= 30


@pytest.mark.parametrize("command", ["serve", "gateway"])
@pytest.mark.parametrize(("flag", "logged"), [([], False), (["--access-log"], True)])
def test_servers_run_for_load_unless_asked_otherwise(
    uvicorn_served: dict[str, Any],
    granian_served: dict[str, Any],
    settings: Settings,
    env: pytest.MonkeyPatch,
    command: str,
    flag: list[str],
    logged: bool,
) -> None:
    from granian.constants import HTTPModes, Interfaces, Loops
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    env.setenv("DATABASE_URL", settings.database_url)
    env.setenv("GATEWAY_DATABASE_URL", f"sqlite:///{settings.document_dir.parent / 'gw.db'}")
    result = runner.invoke(app, [command, "--server", "uvicorn", *flag])
    assert result.exit_code == 0, result.output
    assert uvicorn_served["access_log"] is logged
    # Named, so that a missing one fails at start instead of falling back to pure Python.
    assert uvicorn_served["loop"] == "uvloop"
    assert issubclass(uvicorn_served["http"].func, HttpToolsProtocol)
    assert granian_served == {}

    uvicorn_served.clear()
    result = runner.invoke(app, [command, "--server", "granian", *flag])
    assert result.exit_code == 0, result.output
    assert granian_served["serving"]
    assert granian_served["log_access"] is logged
    assert granian_served["loop"] == Loops.uvloop
    assert (granian_served["interface"], granian_served["http"]) == (
        Interfaces.ASGI,
        HTTPModes.http1,
    )
    assert granian_served["factory"]
    # A worker that dies is replaced, as uvicorn's supervisor does, not the end of the server.
    assert granian_served["respawn_failed_workers"]
    assert uvicorn_served == {}


@pytest.mark.parametrize("command", ["serve", "gateway"])
def test_granian_serves_unless_asked_otherwise(
    served: dict[str, Any], settings: Settings, env: pytest.MonkeyPatch, command: str
) -> None:
    env.setenv("DATABASE_URL", settings.database_url)
    env.setenv("GATEWAY_DATABASE_URL", f"sqlite:///{settings.document_dir.parent / 'gw.db'}")
    result = runner.invoke(app, [command])
    assert result.exit_code == 0, result.output
    assert served["server"] == "granian"


@pytest.mark.parametrize("server", ["uvicorn", "granian"])
def test_serve_runs_the_portal_with_its_workers_under_either_server(
    uvicorn_served: dict[str, Any],
    granian_served: dict[str, Any],
    settings: Settings,
    env: pytest.MonkeyPatch,
    server: str,
) -> None:
    env.setenv("DATABASE_URL", settings.database_url)
    result = runner.invoke(app, ["serve", "--server", server, "--workers", "2", "--port", "8123"])
    assert result.exit_code == 0, result.output
    ran = uvicorn_served if server == "uvicorn" else granian_served
    assert ran["target"] == "app.main:create_app"
    assert ran["workers"] == 2
    assert ran["port"] == 8123


@pytest.mark.parametrize(
    ("flags", "timer_ms"),
    [
        ([], 5_000),  # the settings': header 10 s, keep-alive 5 s
        (["--header-timeout", "2", "--keep-alive-timeout", "3"], 2_000),
        (["--header-timeout", "0.25"], 250),
    ],
)
def test_granian_closes_both_waits_by_the_shorter_timeout(
    granian_served: dict[str, Any],
    settings: Settings,
    env: pytest.MonkeyPatch,
    flags: list[str],
    timer_ms: int,
) -> None:
    env.setenv("GATEWAY_DATABASE_URL", f"sqlite:///{settings.document_dir.parent / 'gw.db'}")
    result = runner.invoke(app, ["gateway", "--server", "granian", *flags])
    assert result.exit_code == 0, result.output
    assert granian_served["http1_settings"].header_read_timeout == timer_ms


def test_granian_refuses_timeouts_past_its_limit_in_one_line(
    granian_served: dict[str, Any], settings: Settings, env: pytest.MonkeyPatch
) -> None:
    env.setenv("DATABASE_URL", settings.database_url)
    line = _one_line(
        "serve", "--server", "granian", "--header-timeout", "90", "--keep-alive-timeout", "75"
    )
    assert "granian" in line
    assert "60 s" in line
    assert "--server uvicorn" in line
    assert granian_served == {}


def test_an_unknown_server_is_one_line(served: dict[str, Any]) -> None:
    line = _one_line("gateway", "--server", "nginx")
    assert "--server" in line
    assert "nginx" in line
    assert served == {}


def test_serve_help_says_how_many_cpus_there_are() -> None:
    import os

    result = runner.invoke(app, ["serve", "--help"], env={"COLUMNS": "240"})
    assert f"this machine has {len(os.sched_getaffinity(0))} CPUs" in " ".join(
        result.output.split()
    )
    assert "--access-log" in result.output


HEAVY = (
    "sqlalchemy",
    "alembic",
    "fastapi",
    "uvicorn",
    "granian",
    "httpx",
    "locust",
    "gevent",
    "vietnam_provinces",
    "holidays",
    "scipy",
    "app.main",
)


def _imported_after(statement: str, modules: tuple[str, ...]) -> list[str]:
    """Which of `modules` a fresh interpreter holds after running `statement`."""
    probe = f"import sys; {statement}; print(' '.join(m for m in {modules!r} if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    return done.stdout.split()


def test_the_command_imports_no_heavy_module_before_a_command_needs_it() -> None:
    """Every command, and every worker of `serve --workers N` (it re-imports the entry script),
    paid 5.5 s for `import app.cli` when it imported the app, Alembic and Locust up front. The
    entry point imports the portal's commands and the harness's."""
    assert _imported_after("import portalsim.cli", HEAVY) == []


def test_the_portal_imports_nothing_of_the_harness() -> None:
    """The harness drives the portal, never the reverse: its commands live with it."""
    assert _imported_after("import app.cli; import app.main", ("loadtest",)) == []


def test_the_app_imports_no_catalogue_data_or_load_harness() -> None:
    """A worker imports the app before it serves: the catalogue's generator and its province
    data are for `seed`, Locust and SciPy for load runs."""
    heavy = ("vietnam_provinces", "app.catalogue.generator", "locust", "gevent", "scipy")
    assert _imported_after("import app.main", heavy) == []
