"""The layer in front of the routes, called directly over ASGI: what it costs a request that
has nothing for it to guard, and that it still guards one that has."""

from __future__ import annotations

from fastapi.responses import PlainTextResponse
from starlette.types import Message, Receive, Scope, Send

from app.core.edge import Edge
from app.core.metrics import Metrics


def request_scope(headers: list[tuple[bytes, bytes]]) -> Scope:
    return {
        "type": "http",
        "method": "POST",
        "path": "/echo",
        "raw_path": b"/echo",
        "query_string": b"",
        "headers": [(b"host", b"portal"), *headers],
    }


async def test_a_request_without_a_body_keeps_the_servers_receive() -> None:
    readers: list[Receive] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        readers.append(receive)
        await receive()
        await PlainTextResponse("ok")(scope, receive, send)

    async def server_receive() -> Message:
        return {"type": "http.request", "body": b"abc", "more_body": False}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    edge = Edge(app, metrics=Metrics(), max_bytes=2)
    for announced in ([], [(b"content-length", b"0")]):
        await edge(request_scope(announced), server_receive, send)
        assert readers.pop() is server_receive
        assert sent[-2]["status"] == 200
    # A body announced by its length, by chunks or by its type is read through the guard,
    # which holds it to its limit (here 2 bytes).
    for announced in (
        [(b"content-length", b"2")],
        [(b"transfer-encoding", b"chunked")],
        [(b"content-type", b"text/plain")],
    ):
        await edge(request_scope(announced), server_receive, send)
        assert readers.pop() is not server_receive
        assert sent[-2]["status"] == 413, announced
