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
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.core.config import Settings


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


def server_options(
    settings: Settings,
    *,
    header_timeout: float | None = None,
    keep_alive_timeout: float | None = None,
) -> dict[str, Any]:
    """uvicorn's options for the connections' timeouts: the settings', unless given."""
    # uvicorn takes a protocol class; a partial of one builds the same instances with the
    # deadline bound, and pickles, so that each worker process gets it.
    protocol = partial(
        HeadDeadlineProtocol,
        header_timeout=header_timeout or settings.http_header_timeout_seconds,
    )
    return {
        "http": cast("type[asyncio.Protocol]", protocol),
        "timeout_keep_alive": keep_alive_timeout or settings.http_keep_alive_timeout_seconds,
    }
