"""Guards in front of every route: requests a database or the disk must never see."""

from __future__ import annotations

from typing import Literal

from fastapi import params
from fastapi.routing import APIRoute
from starlette.types import Message, Receive, Scope

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


def url_has_nul(scope: Scope) -> bool:
    """Whether the URL holds a NUL byte (`%00`), refused before any route sees it
    (NUL_REFUSAL): PostgreSQL cannot compare text with U+0000 and would fail such a look-up
    with a 500."""
    raw = scope.get("raw_path") or scope["path"].encode()
    query: bytes = scope.get("query_string", b"")
    return any(b"%00" in part.lower() or b"\x00" in part for part in (raw, query)) or (
        "\x00" in scope["path"]
    )


NUL_REFUSAL = error_body("invalid_characters", "NUL characters (%00) are not allowed in URLs")


def header_refusal(count: int, size: int) -> HeadersTooLarge | None:
    """431 for more than MAX_HEADERS headers or MAX_HEADER_BYTES of them in all (`size`: names
    and values), before anything reads them. uvicorn's default parser (httptools) accepts any
    number and size, so the limit must hold in the app, whatever server runs it."""
    if count > MAX_HEADERS:
        problem = f"the request has {count} headers; at most {MAX_HEADERS} are accepted"
    elif size > MAX_HEADER_BYTES:
        problem = (
            f"the request's headers hold {size} bytes; at most {MAX_HEADER_BYTES} are accepted"
        )
    else:
        return None
    return HeadersTooLarge(problem, field="headers")


def body_too_large(limit: int, max_bytes: int) -> PayloadTooLarge:
    """413 for a body past `limit`; `max_bytes` is the limit of a document upload."""
    detail = f"the request body is larger than {limit} bytes"
    if limit < max_bytes:
        detail += ", the limit of any body but a document upload"
    return PayloadTooLarge(detail, field="body")


class BodyReading:
    """One request's body as the app reads it (`receive` in place of the server's), held to
    what the route that reads it needs, and the first refusal it met:

    - a route that takes documents may receive `max_bytes` of multipart: it streams through
      (Starlette spools each file to disk past 1 MiB), its names and text checked as it passes;
    - any other body is read whole by its parser and costs a few times its size in memory, so
      it may hold `json_max_bytes` (at most `max_bytes`); JSON nested deeper than
      MAX_JSON_DEPTH is refused before it is parsed, and an urlencoded form's text must decode.

    Sizes are checked on Content-Length (`declared`) before anything is read, and counted as
    the body streams (chunked bodies). The route is known once the app reads the body (the
    router has matched it by then), so the checks run as it reads. Body parsers wrap what is
    raised here into errors of their own: whoever holds `refusal` answers it instead of the
    app (app/core/edge.py)."""

    def __init__(
        self,
        scope: Scope,
        receive: Receive,
        *,
        declared: int,
        content_type: str,
        max_bytes: int,
        json_max_bytes: int,
    ) -> None:
        self.scope = scope
        self._receive = receive
        self.max_bytes = max_bytes
        self.json_max_bytes = json_max_bytes
        self.declared = declared
        self.content_type = content_type
        self.refusal: DomainError | None = None
        self._planned = False
        self._limit = max_bytes
        self._received = 0
        self._whole: Literal["json", "urlencoded"] | None = None
        self._multipart: MultipartTextCheck | None = None

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
            raise body_too_large(self._limit, self.max_bytes)

    def _count(self, chunk: bytes) -> None:
        self._received += len(chunk)
        if self._received > self._limit:
            raise body_too_large(self._limit, self.max_bytes)

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
