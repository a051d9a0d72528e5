"""The cost per request of the layer in front of the portal's routes (app/core/edge.py).

    uv run python benchmarks/edge_layer.py [--requests 20000] [--rounds 5]

A trivial FastAPI app (GET /ping, POST /echo with a small JSON body) is called directly over
ASGI, with a prepared scope and no HTTP client or server, so that the figures hold only the
app's own work. The same routes are timed bare and behind the layer as the portal builds it
(metrics, the fault-header refusal, the header, NUL and body guards), in alternating rounds.
Each round is timed in this process's CPU time, not wall time, so that other work on a shared
machine weighs less; each side's figure is its best round (as timeit reports), in µs per
request, and the layer's cost is the difference. Every answer must be 200, or the run stops.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel
from starlette.types import Message, Scope

from app.core.config import Settings
from app.core.edge import Edge
from app.core.fault_injection import FaultRefusal, fault_routes
from app.core.metrics import Metrics

JSON_BODY = b'{"name": "Nguy\\u1ec5n V\\u0103n A", "count": 3}'
HEADERS = [
    (b"host", b"127.0.0.1:8000"),
    (b"user-agent", b"python-httpx/0.28"),
    (b"accept", b"*/*"),
    (b"accept-encoding", b"gzip, deflate"),
    (b"connection", b"keep-alive"),
]


class Echo(BaseModel):
    name: str
    count: int


def trivial_app() -> FastAPI:
    app = FastAPI()

    @app.get("/ping")
    async def ping() -> PlainTextResponse:
        return PlainTextResponse("pong")

    @app.post("/echo")
    async def echo(item: Echo) -> PlainTextResponse:
        return PlainTextResponse(item.name)

    return app


def layered_app() -> FastAPI:
    """The trivial app behind the layer, configured as create_app does with default settings."""
    app = trivial_app()
    defaults = Settings.model_fields
    app.add_middleware(
        Edge,
        metrics=Metrics(),
        faults=FaultRefusal(fault_routes(app.routes, ())),
        max_bytes=defaults["request_max_bytes"].default,
        json_max_bytes=defaults["json_max_bytes"].default,
    )
    return app


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: str
    body: bytes
    headers: list[tuple[bytes, bytes]]


CASES = (
    Case("GET /ping (no body)", "GET", "/ping", b"", HEADERS),
    Case(
        "POST /echo (JSON body)",
        "POST",
        "/echo",
        JSON_BODY,
        [
            *HEADERS,
            (b"content-type", b"application/json"),
            (b"content-length", str(len(JSON_BODY)).encode()),
        ],
    ),
)


async def time_requests(app: FastAPI, case: Case, requests: int) -> float:
    """CPU seconds taken by `requests` calls of the case, each with a fresh scope."""
    template: Scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": case.method,
        "scheme": "http",
        "path": case.path,
        "raw_path": case.path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": case.headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    request: Message = {"type": "http.request", "body": case.body, "more_body": False}
    statuses: list[int] = []

    async def receive() -> Message:
        return request

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    started = time.process_time()
    for _ in range(requests):
        await app(dict(template), receive, send)
    elapsed = time.process_time() - started
    if set(statuses) != {200} or len(statuses) != requests:
        raise SystemExit(f"{case.name}: answers other than 200: {sorted(set(statuses))}")
    return elapsed


async def main(requests: int, rounds: int) -> None:
    sides: dict[str, Callable[[], FastAPI]] = {"bare": trivial_app, "layer": layered_app}
    apps = {name: build() for name, build in sides.items()}
    for case in CASES:
        for app in apps.values():  # warm-up: FastAPI builds its middleware stack on first call
            await time_requests(app, case, 200)
        figures: dict[str, list[float]] = {name: [] for name in apps}
        for _ in range(rounds):
            for name, app in apps.items():
                elapsed = await time_requests(app, case, requests)
                figures[name].append(elapsed / requests * 1e6)
        bare, layer = (min(figures[name]) for name in ("bare", "layer"))
        print(
            f"{case.name}: bare {bare:.1f} µs, with the layer {layer:.1f} µs; "
            f"the layer costs {layer - bare:.1f} µs per request (ratio {layer / bare:.2f})"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000, help="requests per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per side")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.requests, arguments.rounds))
