"""Serving an app for real on a loopback port, for tests that cross the network stack."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

STARTUP_CHECKS = 200  # bounded: 200 polls of 10 ms each at most


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@asynccontextmanager
async def served(app: FastAPI, port: int) -> AsyncIterator[None]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(STARTUP_CHECKS):
            if server.started:
                break
            await asyncio.sleep(0.01)
        assert server.started, f"server on port {port} did not start"
        yield
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)


def record_serving(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """`portalsim serve` and `gateway` in-process without serving: `run_server` replaced by a
    recorder of its arguments (`server`, `target`, host, port, workers, access_log and the
    timeouts), empty until a command gets as far as serving."""
    calls: dict[str, Any] = {}

    def record(server: str, factory: str, **kwargs: Any) -> None:
        calls.update(kwargs, server=server, target=factory)

    monkeypatch.setattr("app.core.http_server.run_server", record)
    return calls
