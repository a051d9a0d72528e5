"""`portalsim gateway`: serves the factory with uvicorn; a bad GATEWAY_FAULTS stops it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from app import cli
from app.core.config import get_settings

runner = CliRunner()


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    calls: dict[str, Any] = {}

    def fake_run(target: str, **kwargs: Any) -> None:
        calls.update(kwargs, target=target)

    monkeypatch.setattr("uvicorn.run", fake_run)
    monkeypatch.setenv("GATEWAY_FAULTS", "")
    get_settings.cache_clear()
    yield calls
    get_settings.cache_clear()


def test_gateway_serves_the_factory(served: dict[str, Any]) -> None:
    result = runner.invoke(cli.app, ["gateway", "--port", "18001"])
    assert result.exit_code == 0, result.output
    assert served["target"] == "app.gateway.main:create_gateway_app"
    assert served["factory"] is True
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
