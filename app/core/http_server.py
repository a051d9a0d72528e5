"""How both servers (the portal and the mock gateway) run under uvicorn: its httptools protocol,
with a deadline on each request's head.

uvicorn times out only a connection that sits idle after a response (`timeout_keep_alive`), and
any byte received cancels that timer: a connection that never sends a full request head (a
forgotten socket, a slowloris client trickling a byte a second) is held for ever, with its file
descriptor. Its own option for that, `--timeout-request-start`, was planned and never built
(encode/uvicorn#157). So the head gets a deadline here: counted from the connection's opening, or
from the first byte of a request that does not arrive whole, the request line and headers must
be complete within HTTP_HEADER_TIMEOUT_SECONDS, or the connection is closed. A request whose head
arrives in one read, the usual case, arms no timer at all.

granian (hyper underneath) has that deadline built in (`http1_settings.header_read_timeout`),
counted the same way, but one timer for both waits: a connection idle after a response is
closed when the next request's head is late, and granian has no keep-alive timeout of its own.
So under granian both waits get the shorter of the two timeouts, and neither bound is exceeded.
`run_server` starts either server with the same options.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any, Literal, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

ServerName = Literal["uvicorn", "granian"]
# How long uvicorn's supervisor waits for a worker's health ping before it kills the worker as
# hung. Its default, 5 s, is less than a cold worker took to import the app on a busy 2-core
# machine (4.8-5.9 s), so workers were killed at start and replacements killed under load.
WORKER_HEALTHCHECK_SECONDS = 60
# The loop and the parser are named, not "auto": auto falls back to the pure-Python ones without
# a word when they are missing, and a load run would then measure those.
UVICORN_OPTIONS: dict[str, Any] = {
    "timeout_worker_healthcheck": WORKER_HEALTHCHECK_SECONDS,
    "log_level": "info",
    "loop": "uvloop",
    "http": "httptools",
}
# granian takes its header timeout in whole milliseconds, at most a minute.
GRANIAN_MAX_TIMEOUT = 60.0


class HeadDeadlineProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol; closes a connection whose request head is not complete
    within `header_timeout` seconds."""

    def __init__(self, *args: Any, header_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = header_timeout
        self.head_deadline: asyncio.TimerHandle | None = None
        self.reading_head = False  # between a request's first byte and the end of its headers

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_deadline()  # a connection that never sends a byte is timed from here

    def data_received(self, data: bytes) -> None:
        super().data_received(data)  # cancels the keep-alive timer, parses what arrived
        # No request under way after what arrived: a head cut short, or bytes that begin none
        # (blank lines). A head is awaited, and gets a deadline unless it has one already.
        if self.cycle is None or self.cycle.response_complete:
            self._arm_head_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.reading_head:  # the next request's head began during this one, not complete
            self._arm_head_deadline()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.reading_head = True

    def on_headers_complete(self) -> None:
        self.reading_head = False
        self._cancel_head_deadline()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_deadline()
        super().connection_lost(exc)

    def _arm_head_deadline(self) -> None:
        if self.head_deadline is None and not self.transport.is_closing():
            self.head_deadline = self.loop.call_later(self.header_timeout, self._head_too_slow)

    def _cancel_head_deadline(self) -> None:
        if self.head_deadline is not None:
            self.head_deadline.cancel()
            self.head_deadline = None

    def _head_too_slow(self) -> None:
        self.head_deadline = None
        if not self.transport.is_closing():
            self.transport.close()


def uvicorn_options(*, header_timeout: float, keep_alive_timeout: float) -> dict[str, Any]:
    """uvicorn's options as `serve` and `gateway` run it, with the connections' timeouts."""
    # uvicorn takes a protocol class; a partial of one builds the same instances with the
    # deadline bound, and pickles, so that each worker process gets it.
    protocol = partial(HeadDeadlineProtocol, header_timeout=header_timeout)
    return UVICORN_OPTIONS | {
        "http": cast("type[asyncio.Protocol]", protocol),
        "timeout_keep_alive": keep_alive_timeout,
    }


def run_server(
    server: ServerName,
    factory: str,
    *,
    host: str,
    port: int,
    workers: int = 1,
    access_log: bool = False,
    header_timeout: float,
    keep_alive_timeout: float,
) -> None:
    """Serve the ASGI app that `factory` ("module:function") builds, until SIGINT or SIGTERM,
    each worker building its own. Under granian, the shorter timeout is at most
    GRANIAN_MAX_TIMEOUT (the commands refuse more in one line)."""
    if server == "uvicorn":
        import uvicorn

        uvicorn.run(
            factory,
            factory=True,
            host=host,
            port=port,
            workers=workers,
            access_log=access_log,
            **uvicorn_options(header_timeout=header_timeout, keep_alive_timeout=keep_alive_timeout),
        )
        return
    from granian.constants import HTTPModes, Interfaces, Loops
    from granian.http import HTTP1Settings
    from granian.server import Server

    granian_timeout_ms = max(1, round(min(header_timeout, keep_alive_timeout) * 1000))
    Server(
        factory,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        loop=Loops.uvloop,  # named, as uvicorn's: never a silent fallback
        http=HTTPModes.http1,
        websockets=False,  # the apps have no websocket route
        http1_settings=HTTP1Settings(header_read_timeout=granian_timeout_ms),
        log_access=access_log,
        factory=True,
        # A worker that dies is replaced, as uvicorn's supervisor does; by default granian
        # shuts the whole server down.
        respawn_failed_workers=True,
    ).serve()
