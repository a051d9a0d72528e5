"""`portalsim serve` and PORTAL_FAULTS: a malformed value, or one set without
PORTAL_FAULTS_ENABLED, stops it before anything starts, with one line saying why."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from app.core.config import Settings, get_settings
from portalsim.cli import app
from tests.support.servers import record_serving

runner = CliRunner()


@pytest.fixture
def served(scratch_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The server replaced by a recorder; the settings from a scratch database."""
    calls = record_serving(monkeypatch)
    monkeypatch.setenv("DATABASE_URL", scratch_settings.database_url)
    monkeypatch.setenv("GATEWAY_FAULTS", "")
    for name in ("PORTAL_FAULTS", "PORTAL_FAULTS_ENABLED", "PORTAL_FAULTS_SEED"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield calls
    get_settings.cache_clear()


def _refused(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


@pytest.mark.parametrize(
    ("faults", "problem"),
    [
        (
            "POST /api/v1/dossiers: latency=0.5:200, error=1.5",
            "PORTAL_FAULTS: at character 47: error: probability 1.5 is outside [0, 1]",
        ),
        (
            "GET /api/v1/procedure: latency=1:50",
            "PORTAL_FAULTS: at character 1: no route /api/v1/procedure (did you mean "
            "/api/v1/procedures?)",
        ),
    ],
)
def test_serve_refuses_malformed_faults(
    served: dict[str, Any], monkeypatch: pytest.MonkeyPatch, faults: str, problem: str
) -> None:
    monkeypatch.setenv("PORTAL_FAULTS_ENABLED", "true")
    monkeypatch.setenv("PORTAL_FAULTS", faults)
    assert _refused("serve") == problem
    assert served == {}


@pytest.mark.parametrize("command", ["serve", "gateway"])
def test_servers_refuse_faults_that_are_not_enabled(
    served: dict[str, Any], monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.setenv("PORTAL_FAULTS", "error=0.1")
    assert _refused(command) == (
        "settings: PORTAL_FAULTS is set but fault injection is off: set PORTAL_FAULTS_ENABLED=true"
    )
    assert served == {}


def test_serve_starts_with_valid_faults(
    served: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTAL_FAULTS_ENABLED", "true")
    monkeypatch.setenv("PORTAL_FAULTS", "GET /api/v1/dossiers/{code}: latency=0.2:100; error=0")
    result = runner.invoke(app, ["serve", "--migrate", "--port", "18000"])
    assert result.exit_code == 0, result.output
    assert served["target"] == "app.main:create_app"
    assert served["port"] == 18000
