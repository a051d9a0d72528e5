"""The one pure-ASGI layer in front of the routes, of the portal and of the gateway.

`Edge` does, in one call per request and in this order:
1. times the request and records its method, route template and status in the metrics,
   whatever answers it (the layer itself included);
2. refuses headers past the limits (431), then a URL with a NUL byte (400): nothing else reads
   a request before these;
3. applies the faults, when the app has them (the portal: `FaultInjection`, or `FaultRefusal`
   of the X-Portal-Faults header while injection is off), which may sleep or answer in place of
   the route;
4. sends a kept answer (`kept`, core/kept.py) to a GET that asked the same before, without
   routing it;
5. refuses a declared body past `max_bytes` (413) before routing, and hands the app a `receive`
   that holds the body to what its route needs (guards.BodyReading), answering its refusal in
   place of whatever the app answers after it.

Every check that reads headers reads them from one pass over them. A request that announces no
body (no Content-Length but 0, no Transfer-Encoding, no Content-Type) keeps the server's
`receive`: there is nothing to guard.
"""

from __future__ import annotations

import time

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import DomainError
from app.core.fault_injection import FAULT_HEADER, FaultInjection, FaultRefusal, fault_header
from app.core.guards import (
    NUL_REFUSAL,
    BodyReading,
    body_too_large,
    header_refusal,
    url_has_nul,
)
from app.core.kept import KeptAnswers
from app.core.metrics import Metrics


class _Headers:
    """What the layer reads from a request's headers, in one pass over them. A repeated
    Content-Length or Content-Type counts by its last value."""

    __slots__ = ("chunked", "content_type", "count", "faults", "length", "size")

    def __init__(self, headers: list[tuple[bytes, bytes]]) -> None:
        # Locals in the loop, attributes once after it: this runs for every request.
        size = 0
        length = content_type = b""
        chunked = False
        faults: list[bytes] = []
        for name, value in headers:
            size += len(name) + len(value)
            if name == b"content-length":
                length = value
            elif name == b"content-type":
                content_type = value
            elif name == b"transfer-encoding":
                chunked = True
            elif name == FAULT_HEADER:
                faults.append(value)
        self.count = len(headers)
        self.size = size
        self.length = length
        self.content_type = content_type
        self.chunked = chunked
        self.faults = faults


class Edge:
    """Pure ASGI (not BaseHTTPMiddleware), so that it adds no task per request. `max_bytes`:
    the largest body (a document upload); `json_max_bytes`: the largest of any other body
    (at most `max_bytes`)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        max_bytes: int,
        json_max_bytes: int | None = None,
        faults: FaultInjection | FaultRefusal | None = None,
        kept: KeptAnswers | None = None,
    ) -> None:
        self.app = app
        self.kept = kept
        self.metrics = metrics
        self.max_bytes = max_bytes
        self.json_max_bytes = (
            max_bytes if json_max_bytes is None else min(json_max_bytes, max_bytes)
        )
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what an exception out of the app becomes (the server answers 500)
        body: BodyReading | None = None
        passing = False  # the app's answer began before any body refusal: it goes through
        answered = False  # the body refusal was sent in place of the app's answer

        async def guarded_send(message: Message) -> None:
            nonlocal status, passing, answered
            if body is None or body.refusal is None or passing:
                passing = True
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)
            elif not answered:
                answered = True
                status = body.refusal.status_code
                await _answer(body.refusal, scope, receive, send)

        try:
            headers = _Headers(scope["headers"])
            refusal = header_refusal(headers.count, headers.size)
            if refusal is not None:
                await _answer(refusal, scope, receive, guarded_send)
                return
            if url_has_nul(scope):
                await JSONResponse(NUL_REFUSAL, status_code=400)(scope, receive, guarded_send)
                return
            if self.faults is not None:
                asked = fault_header(headers.faults) if headers.faults else None
                if asked is not None or not self.faults.idle:
                    fault = await self.faults.apply(scope, asked)
                    if fault is not None:
                        if fault.route is not None:
                            scope["route"] = fault.route.route  # the metrics' route label
                        response = JSONResponse(fault.body, status_code=fault.status_code)
                        await response(scope, receive, guarded_send)
                        return
            if self.kept is not None and (found := self.kept.find(scope)) is not None:
                scope["route"] = found.route
                await _send_json(found.body, guarded_send)
                return
            declared = int(headers.length) if headers.length.isdigit() else 0
            if declared > self.max_bytes:  # no route takes as much: not worth routing
                too_large = body_too_large(self.max_bytes, self.max_bytes)
                await _answer(too_large, scope, receive, guarded_send)
                return
            # Nothing to guard. A Content-Type alone still is: an empty form's charset is checked.
            if headers.length in (b"", b"0") and not headers.chunked and not headers.content_type:
                await self.app(scope, receive, guarded_send)
                return
            body = BodyReading(
                scope,
                receive,
                declared=declared,
                content_type=headers.content_type.decode("latin-1"),
                max_bytes=self.max_bytes,
                json_max_bytes=self.json_max_bytes,
            )
            try:
                await self.app(scope, body.receive, guarded_send)
            except Exception:
                if body.refusal is None or passing:
                    raise
            if body.refusal is not None and not (passing or answered):
                status = body.refusal.status_code
                await _answer(body.refusal, scope, receive, send)
        finally:
            self.metrics.observe_request(scope, status, time.perf_counter() - started)


async def _send_json(body: bytes, send: Send) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _answer(error: DomainError, scope: Scope, receive: Receive, send: Send) -> None:
    response = JSONResponse(error.body(), status_code=error.status_code)
    await response(scope, receive, send)
