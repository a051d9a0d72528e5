"""Guards in front of every route: requests a database or the disk must never see."""

from __future__ import annotations

from typing import Literal

from fastapi import params
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.bodies import MultipartTextCheck, json_deeper_than, urlencoded_text_problem
from app.core.errors import (
    DomainError,
    HeadersTooLarge,
    JsonTooDeep,
    PayloadTooLarge,
    error_body,
)

# What a body carries is at most four levels deep (a sync batch: envelope, data, item, a fee);
# 32 leaves room for back offices' extra fields, and keeps every recursive walk over a parsed
# body (Python's own limit is 1,000 frames) far from trouble.
MAX_JSON_DEPTH = 32
# Browsers and back-office clients send well under 2 KiB of headers. 16 KiB is h11's own
# default limit, 100 headers Apache's (LimitRequestFields).
MAX_HEADERS = 100
MAX_HEADER_BYTES = 16 * 1024


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


class HeaderLimitMiddleware:
    """431 for more than MAX_HEADERS headers or MAX_HEADER_BYTES of them in all, before
    anything reads them. uvicorn's default parser (httptools) accepts any number and size, so
    the limit must hold here, whatever server runs the app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            problem = _header_problem(scope["headers"])
            if problem is not None:
                refusal = HeadersTooLarge(problem, field="headers")
                await _answer(refusal, scope, receive, send)
                return
        await self.app(scope, receive, send)


def _header_problem(headers: list[tuple[bytes, bytes]]) -> str | None:
    if len(headers) > MAX_HEADERS:
        return f"the request has {len(headers)} headers; at most {MAX_HEADERS} are accepted"
    size = sum(len(name) + len(value) for name, value in headers)
    if size > MAX_HEADER_BYTES:
        return f"the request's headers hold {size} bytes; at most {MAX_HEADER_BYTES} are accepted"
    return None


class BodySizeLimitMiddleware:
    """Every request body, held to what the route that reads it needs, and refused with the
    error body before a parser holds it whole or reads it wrong:

    - a route that takes documents may receive `max_bytes` of multipart: it streams through
      (Starlette spools each file to disk past 1 MiB), its names and text checked as it passes;
    - any other body is read whole by its parser and costs a few times its size in memory, so
      it may hold `json_max_bytes` (at most `max_bytes`); JSON nested deeper than
      MAX_JSON_DEPTH is refused before it is parsed, and an urlencoded form's text must decode.

    Sizes are checked on Content-Length before anything is read, and counted as the body
    streams (chunked bodies). The route is known once the app reads the body (the router has
    matched it by then), so the checks run as it reads; body parsers wrap what is raised there
    into errors of their own, so whatever the app answers after a refusal, the client gets
    the refusal."""

    def __init__(self, app: ASGIApp, max_bytes: int, json_max_bytes: int | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.json_max_bytes = (
            max_bytes if json_max_bytes is None else min(json_max_bytes, max_bytes)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = _BodyReading(scope, receive, self.max_bytes, self.json_max_bytes)
        if body.declared > self.max_bytes:  # no route takes as much: not worth routing
            await _answer(body.too_large(self.max_bytes), scope, receive, send)
            return
        passing = False  # the app's answer began before any refusal: it goes through
        answered = False  # the refusal was sent in place of the app's answer

        async def guarded_send(message: Message) -> None:
            nonlocal passing, answered
            if body.refusal is None or passing:
                passing = True
                await send(message)
            elif not answered:
                answered = True
                await _answer(body.refusal, scope, receive, send)

        try:
            await self.app(scope, body.receive, guarded_send)
        except Exception:
            if body.refusal is None or passing:
                raise
        if body.refusal is not None and not (passing or answered):
            await _answer(body.refusal, scope, receive, send)


class _BodyReading:
    """One request's body as the app reads it, and the first refusal it met."""

    def __init__(self, scope: Scope, receive: Receive, max_bytes: int, json_max_bytes: int) -> None:
        self.scope = scope
        self._receive = receive
        self.max_bytes = max_bytes
        self.json_max_bytes = json_max_bytes
        headers = dict(scope.get("headers", ()))
        declared = headers.get(b"content-length", b"")
        self.declared = int(declared) if declared.isdigit() else 0
        self.content_type = headers.get(b"content-type", b"").decode("latin-1")
        self.refusal: DomainError | None = None
        self._planned = False
        self._limit = max_bytes
        self._received = 0
        self._whole: Literal["json", "urlencoded"] | None = None
        self._multipart: MultipartTextCheck | None = None

    def too_large(self, limit: int) -> PayloadTooLarge:
        detail = f"the request body is larger than {limit} bytes"
        if limit < self.max_bytes:
            detail += ", the limit of any body but a document upload"
        return PayloadTooLarge(detail, field="body")

    async def receive(self) -> Message:
        if self.refusal is not None:
            raise self.refusal
        try:
            if not self._planned:
                self._plan()
            if self._whole is not None:
                return await self._read_whole()
            message = await self._receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                self._count(chunk)
                if self._multipart is not None:
                    self._multipart.feed(chunk, last=not message.get("more_body", False))
                    if self._multipart.problem is not None:
                        raise self._multipart.problem
            return message
        except DomainError as refusal:
            self.refusal = refusal
            raise

    def _plan(self) -> None:
        self._planned = True
        media = self.content_type.split(";", 1)[0].strip().lower()
        takes_form = _takes_form(self.scope.get("route"))
        if takes_form and media == "multipart/form-data":
            self._multipart = MultipartTextCheck(self.content_type)
        else:
            self._limit = self.json_max_bytes
            if takes_form and media == "application/x-www-form-urlencoded":
                self._whole = "urlencoded"
            elif not takes_form and _is_json(media):
                self._whole = "json"
        if self.declared > self._limit:
            raise self.too_large(self._limit)

    def _count(self, chunk: bytes) -> None:
        self._received += len(chunk)
        if self._received > self._limit:
            raise self.too_large(self._limit)

    async def _read_whole(self) -> Message:
        """The whole body in one message, once checked; later reads go straight through."""
        chunks: list[bytes] = []
        while True:
            message = await self._receive()
            if message["type"] != "http.request":
                return message
            chunk = message.get("body", b"")
            self._count(chunk)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if self._whole == "json" and json_deeper_than(body, MAX_JSON_DEPTH):
            raise JsonTooDeep(
                f"the JSON body nests arrays and objects deeper than {MAX_JSON_DEPTH} levels",
                field="body",
            )
        if self._whole == "urlencoded" and (problem := urlencoded_text_problem(body)):
            raise problem
        self._whole = None
        return {"type": "http.request", "body": body, "more_body": False}


def _takes_form(route: object) -> bool:
    # FastAPI reads a form (multipart or urlencoded) exactly for routes whose body is Form/File.
    return (
        isinstance(route, APIRoute)
        and route.body_field is not None
        and isinstance(route.body_field.field_info, params.Form)
    )


def _is_json(media: str) -> bool:
    # What FastAPI parses as JSON: application/json and application/*+json.
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


async def _answer(error: DomainError, scope: Scope, receive: Receive, send: Send) -> None:
    response = JSONResponse(error.body(), status_code=error.status_code)
    await response(scope, receive, send)
