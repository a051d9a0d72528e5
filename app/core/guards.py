"""Guards in front of every route: requests a database or the disk must never see."""

from __future__ import annotations

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import PayloadTooLarge, error_body


class RejectNulMiddleware:
    """Refuses a URL with a NUL byte (`%00`) before any route sees it: PostgreSQL cannot compare
    text with U+0000 and would fail such a look-up with a 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _has_nul(scope):
            response = JSONResponse(
                error_body("invalid_characters", "NUL characters (%00) are not allowed in URLs"),
                status_code=400,
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _has_nul(scope: Scope) -> bool:
    raw = scope.get("raw_path") or scope["path"].encode()
    query: bytes = scope.get("query_string", b"")
    return any(b"%00" in part.lower() or b"\x00" in part for part in (raw, query)) or (
        "\x00" in scope["path"]
    )


class BodySizeLimitMiddleware:
    """Refuses a request body over `max_bytes` with 413: by its Content-Length before anything is
    read, and by counting while it streams (chunked bodies), so that nothing is spooled to disk
    or parsed past the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", ())).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            response = JSONResponse(
                error_body("payload_too_large", self._detail(), "body"), status_code=413
            )
            await response(scope, receive, send)
            return
        received = 0
        too_large = False

        async def counting_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                too_large = True
                raise PayloadTooLarge(self._detail(), field="body")
            return message

        async def replacing_send(message: Message) -> None:
            # Body parsers may wrap the exception into an error of their own; whatever the app
            # answers once the limit was crossed, the client gets the 413.
            if not too_large:
                await send(message)
            elif message["type"] == "http.response.start":
                response = JSONResponse(
                    error_body("payload_too_large", self._detail(), "body"), status_code=413
                )
                await response(scope, receive, send)

        await self.app(scope, counting_receive, replacing_send)

    def _detail(self) -> str:
        return f"the request body is larger than {self.max_bytes} bytes"
