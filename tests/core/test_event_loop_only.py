"""Every endpoint and dependency of both apps runs on the event loop.

FastAPI runs a plain `def` endpoint or dependency in a worker thread: one hand-off to the thread
pool and back per call, which a profile of the dossier look-up showed as about a quarter of its
time. None of ours blocks, so none may be a plain `def`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from app.core.config import Settings
from app.gateway.main import create_gateway_app
from app.main import create_app


def _runs_on_the_loop(call: Callable[..., Any]) -> bool:
    if inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call):
        return True
    # A dependency may be an instance (fastapi.security's schemes): its __call__ decides.
    method = getattr(call, "__call__", None)  # noqa: B004  # the method itself is inspected
    return inspect.iscoroutinefunction(method) or inspect.isasyncgenfunction(method)


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    if dependant.call is not None:
        yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)


def _threaded_calls(app: FastAPI) -> list[str]:
    return sorted(
        {
            f"{route.path}: {call.__module__}.{call.__qualname__}"
            for route in app.routes
            if isinstance(route, APIRoute)
            for call in _calls(route.dependant)
            if not _runs_on_the_loop(call)
        }
    )


@pytest.mark.parametrize("build", [create_app, create_gateway_app], ids=["portal", "gateway"])
def test_no_endpoint_or_dependency_runs_in_the_thread_pool(
    build: Callable[[Settings], FastAPI], settings: Settings
) -> None:
    assert _threaded_calls(build(settings)) == []


def test_a_plain_def_dependency_is_named(settings: Settings) -> None:
    from fastapi import Depends

    def blocking() -> int:
        return 1

    app = create_app(settings)

    @app.get("/probe")
    async def probe(value: int = Depends(blocking)) -> int:
        return value

    assert _threaded_calls(app) == [f"/probe: {__name__}.{blocking.__qualname__}"]
