"""`portalsim gateway`: serves the factory; a bad GATEWAY_FAULTS stops it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from app import cli
from app.core.config import get_settings
from tests.support.servers import record_serving

runner = CliRunner()


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    calls = record_serving(monkeypatch)
    monkeypatch.setenv("GATEWAY_FAULTS", "")
    get_settings.cache_clear()
    yield calls
    get_settings.cache_clear()


def test_gateway_serves_the_factory(served: dict[str, Any]) -> None:
    result = runner.invoke(cli.app, ["gateway", "--port", "18001"])
    assert result.exit_code == 0, result.output
    assert served["target"] == "app.gateway.main:create_gateway_app"
    assert served["port"] == 18001
    assert served["host"] == get_settings().gateway_host


def test_gateway_refuses_bad_faults(
    served: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATEWAY_FAULTS", "latency=2")
    get_settings.cache_clear()
    result = runner.invoke(cli.app, ["gateway"])
    assert result.exit_code == 2
    assert "outside [0, 1]" in result.output
    assert served == {}
