"""Both servers, run as `portalsim serve` and `portalsim gateway` run them, under either HTTP
server (uvicorn, granian), close connections that send no complete request head in time (idle,
half a header, a byte a second) and connections left idle after a response; and the app's own
refusals in front of the routes (app/core/edge.py) reach the client whole under either. Real
processes on loopback ports; the only time bound asserted is a generous "closed before
WAIT_SECONDS"."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import get_args

import httpx
import pytest

from app import cli
from app.core.config import MIN_CONNECTION_TIMEOUT, Settings
from app.core.http_server import ServerName
from tests.support.servers import free_port

TIMEOUT = "1"  # both timeouts, in seconds, as the flags give them
WAIT_SECONDS = 15.0  # a closed connection is noticed well within this, even on a busy machine
READY_SECONDS = 120.0  # a cold start on a loaded 2-core machine
REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
PORTALSIM = str(Path(sys.executable).with_name("portalsim"))


@asynccontextmanager
async def running(command: list[str], env: dict[str, str], port: int) -> AsyncIterator[int]:
    """`portalsim <command> --port <port>` with both timeouts at TIMEOUT, until /healthz
    answers; stopped (SIGINT, as Ctrl-C) at the end."""
    process = await asyncio.create_subprocess_exec(
        PORTALSIM,
        *command,
        "--port",
        str(port),
        "--header-timeout",
        TIMEOUT,
        "--keep-alive-timeout",
        TIMEOUT,
        env=os.environ | env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(int(READY_SECONDS * 10)):
                if process.returncode is not None:
                    errors = await process.stderr.read() if process.stderr else b""
                    pytest.fail(f"{command} ended: {errors.decode(errors='replace')}")
                try:
                    if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                pytest.fail(f"{command} did not answer on port {port}")
        yield port
    finally:
        process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(process.wait(), timeout=30)
        except TimeoutError:
            process.kill()
            await process.wait()


async def read_until_closed(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    while chunk := await reader.read(65_536):
        received += chunk
    return received


async def idle(port: int) -> bytes:
    """A connection that sends nothing."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        return await read_until_closed(reader)
    finally:
        writer.close()


async def half_a_header(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(REQUEST[: len(REQUEST) // 2])
        await writer.drain()
        return await read_until_closed(reader)
    finally:
        writer.close()


async def slowloris(port: int) -> bytes:
    """A header sent a byte at a time, each well inside the timeout, never finished."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    endless_header = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 10_000
    closed = asyncio.create_task(read_until_closed(reader))
    try:
        for byte in endless_header:
            if closed.done():
                break
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.2)
        return await closed
    except ConnectionError:  # the server closed it while a byte was on its way
        return b""
    finally:
        writer.close()


async def kept_alive(port: int) -> bytes:
    """A connection idle after one full request and its response."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(REQUEST)
        await writer.drain()
        return await read_until_closed(reader)
    finally:
        writer.close()


async def kept_alive_then_half_a_header(port: int) -> bytes:
    """A second request on a kept-alive connection, its head cut short."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(REQUEST)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        await reader.readexactly(length)
        writer.write(REQUEST[:10])
        await writer.drain()
        return head + await read_until_closed(reader)
    finally:
        writer.close()


CONNECTIONS: dict[str, Callable[[int], Awaitable[bytes]]] = {
    "idle": idle,
    "half a header": half_a_header,
    "a byte at a time": slowloris,
    "kept alive": kept_alive,
    "kept alive, then half a header": kept_alive_then_half_a_header,
}


@pytest.fixture(params=["portal", "gateway"])
async def server(
    request: pytest.FixtureRequest, http_server: str, settings: Settings, tmp_path: Path
) -> AsyncIterator[int]:
    env = {
        "DATABASE_URL": settings.database_url,  # the suite's, migrated and loaded already
        "GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.db'}",
        "SECRET_KEY": settings.secret_key,
        "DOCUMENT_DIR": str(tmp_path / "documents"),
        "PAYMENT_RECONCILE_INTERVAL_SECONDS": "0",
    }
    command = ["serve", "--no-migrate"] if request.param == "portal" else ["gateway"]
    command += ["--server", http_server]
    async with running(command, env, free_port()) as port:
        yield port


@pytest.fixture(params=get_args(cli.HttpServer))
def http_server(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_connections_without_a_request_in_time_are_closed(server: int) -> None:
    """Each kind of connection at once, so the test waits for the timeout once."""
    outcomes = await asyncio.wait_for(
        asyncio.gather(*(connect(server) for connect in CONNECTIONS.values())),
        timeout=WAIT_SECONDS,
    )
    received = dict(zip(CONNECTIONS, outcomes, strict=True))

    assert received["idle"] == b""
    assert received["half a header"] == b""
    assert received["a byte at a time"] == b""
    assert received["kept alive"].startswith(b"HTTP/1.1 200 OK\r\n")
    assert received["kept alive, then half a header"].startswith(b"HTTP/1.1 200 OK\r\n")


async def answer_to(port: int, head: bytes) -> tuple[bytes, dict[str, object]]:
    """The status line and JSON body of the answer to a request head (no body sent)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head)
        await writer.drain()
        status, _, rest = (await reader.readuntil(b"\r\n\r\n")).partition(b"\r\n")
        length = next(
            int(line.split(b":")[1])
            for line in rest.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        return status, json.loads(await reader.readexactly(length))
    finally:
        writer.close()


async def test_the_apps_refusals_in_front_of_the_routes_answer_whole(server: int) -> None:
    """Headers past 16 KiB (below any server's own limit) and a declared body past the largest
    accepted: the app's 431 and 413 with their error bodies, whichever server runs it."""
    big_headers = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: %s\r\n\r\n" % (
        b"a" * 17_000
    )
    status, body = await asyncio.wait_for(answer_to(server, big_headers), WAIT_SECONDS)
    assert status.startswith(b"HTTP/1.1 431 ")
    assert body["error"] == "headers_too_large"

    huge_body = (
        b"POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 999999999999\r\n\r\n"
    )
    status, body = await asyncio.wait_for(answer_to(server, huge_body), WAIT_SECONDS)
    assert status.startswith(b"HTTP/1.1 413 ")
    assert body["error"] == "payload_too_large"


def test_the_flags_least_value_is_the_settings() -> None:
    assert cli.MIN_CONNECTION_TIMEOUT == MIN_CONNECTION_TIMEOUT


def test_the_flags_servers_are_the_servers_run() -> None:
    assert get_args(cli.HttpServer) == get_args(ServerName)
